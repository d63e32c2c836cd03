// The saga's handlers, one service at a time, against the simulator's store:
// duplicates, reordering across topics and late successes.
#include <gtest/gtest.h>

#include "core/memory_store.h"
#include "sagas/order/inventory_service.h"
#include "sagas/order/order_service.h"
#include "sagas/order/payment_service.h"

namespace sagasim::saga {
namespace {

struct TestEnv : Env {
  Time t = kSimEpoch;
  int ids = 0;
  Time now() const override { return t; }
  std::string next_event_id() override { return "gen-" + std::to_string(++ids); }
};

template <class T>
Event event(std::string id, std::string order, T payload) {
  Event e;
  e.event_id = std::move(id);
  e.type = std::string(T::kType);
  e.key = order;
  e.correlation_id = order;
  e.payload = std::make_shared<PayloadOf<T>>(std::move(payload));
  return e;
}

struct Harness {
  MemoryStore store;
  TestEnv env;
  std::vector<EventPtr> published;

  Outcome deliver(Service& svc, Event e) {
    if (e.occurred_at == Time{}) e.occurred_at = env.t;  // sent just now
    Transaction txn(store, "test-1");
    const Outcome o = process_event(svc, env, txn, e);
    for (const auto& row : txn.writes().outbox) published.push_back(row.event);
    return o;
  }
  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const auto& e : published) out.push_back(e->type);
    return out;
  }
  template <class T>
  const T* get(std::string_view table, std::string_view key) const {
    return record_as<T>(store.get(table, key));
  }
};

const std::vector<OrderLine> kLines = {{"sku-1", 2, 100}, {"sku-2", 1, 300}};

struct PaymentTest : ::testing::Test {
  Harness h;
  PaymentService svc;
  void SetUp() override {
    Transaction txn(h.store, "setup");
    PaymentService::open_account(txn, "c-1", 1000);
    txn.commit();
  }
  int64_t balance() const { return h.get<Account>(kAccountsTable, "c-1")->balance_cents; }
};

TEST_F(PaymentTest, ARedeliveredOrderCreatedChargesOnce) {
  const Event created = event("e-1", "o-1", OrderCreated{"o-1", "c-1", kLines, 500});
  EXPECT_EQ(h.deliver(svc, created), Outcome::Processed);
  EXPECT_EQ(h.deliver(svc, created), Outcome::Duplicate);
  EXPECT_EQ(balance(), 500);
  EXPECT_EQ(h.types(), (std::vector<std::string>{"PaymentProcessed"}));
  EXPECT_EQ(h.published[0]->causation_id, "e-1");
  EXPECT_EQ(h.published[0]->correlation_id, "o-1");
}

TEST_F(PaymentTest, ARepublishedOrderCreatedWithANewIdStillChargesOnce) {
  h.deliver(svc, event("e-1", "o-1", OrderCreated{"o-1", "c-1", kLines, 500}));
  EXPECT_EQ(h.deliver(svc, event("e-2", "o-1", OrderCreated{"o-1", "c-1", kLines, 500})), Outcome::Ignored);
  EXPECT_EQ(balance(), 500);
}

TEST_F(PaymentTest, DeclinesWhenTheBalanceIsShort) {
  h.deliver(svc, event("e-1", "o-1", OrderCreated{"o-1", "c-1", kLines, 1001}));
  EXPECT_EQ(balance(), 1000);
  EXPECT_EQ(h.types(), (std::vector<std::string>{"PaymentFailed"}));
  EXPECT_EQ(h.get<Payment>(kPaymentsTable, "o-1")->status, PaymentStatus::Declined);
}

TEST_F(PaymentTest, RefundsOnCancellationExactlyOnce) {
  h.deliver(svc, event("e-1", "o-1", OrderCreated{"o-1", "c-1", kLines, 500}));
  h.deliver(svc, event("e-2", "o-1", OrderCancelled{"o-1", "out_of_stock"}));
  h.deliver(svc, event("e-3", "o-1", OrderCancelled{"o-1", "out_of_stock"}));  // a second cancel event
  EXPECT_EQ(balance(), 1000);
  EXPECT_EQ(h.types(), (std::vector<std::string>{"PaymentProcessed", "PaymentRefunded"}));
}

TEST_F(PaymentTest, ACancellationThatOvertakesTheOrderLeavesATombstone) {
  h.deliver(svc, event("e-2", "o-1", OrderCancelled{"o-1", "timeout"}));
  h.deliver(svc, event("e-1", "o-1", OrderCreated{"o-1", "c-1", kLines, 500}));
  EXPECT_EQ(balance(), 1000);
  EXPECT_TRUE(h.types().empty());
  EXPECT_EQ(h.get<Payment>(kPaymentsTable, "o-1")->status, PaymentStatus::Voided);
}

struct InventoryTest : ::testing::Test {
  Harness h;
  InventoryService svc;
  void SetUp() override {
    Transaction txn(h.store, "setup");
    InventoryService::stock_item(txn, "sku-1", 3);
    InventoryService::stock_item(txn, "sku-2", 1);
    txn.commit();
  }
  std::pair<int64_t, int64_t> stock(const char* sku) const {
    const auto* s = h.get<StockItem>(kStockTable, sku);
    return {s->available, s->reserved};
  }
};

TEST_F(InventoryTest, ReservesAllLinesAtomicallyOrNone) {
  const std::vector<OrderLine> too_many = {{"sku-1", 1, 100}, {"sku-2", 2, 100}};
  h.deliver(svc, event("e-1", "o-1", PaymentProcessed{"o-1", "c-1", 300, too_many}));
  EXPECT_EQ(stock("sku-1"), std::make_pair(int64_t{3}, int64_t{0}));  // sku-1 untouched
  EXPECT_EQ(h.types(), (std::vector<std::string>{"InventoryFailed"}));
  h.deliver(svc, event("e-2", "o-2", PaymentProcessed{"o-2", "c-1", 300, kLines}));
  EXPECT_EQ(stock("sku-1"), std::make_pair(int64_t{1}, int64_t{2}));
  EXPECT_EQ(stock("sku-2"), std::make_pair(int64_t{0}, int64_t{1}));
}

TEST_F(InventoryTest, LinesNamingTheSameSkuAreSummed) {
  const std::vector<OrderLine> twice = {{"sku-1", 2, 100}, {"sku-1", 2, 100}};  // 4 > 3 in stock
  h.deliver(svc, event("e-1", "o-1", PaymentProcessed{"o-1", "c-1", 400, twice}));
  EXPECT_EQ(stock("sku-1"), std::make_pair(int64_t{3}, int64_t{0}));
  EXPECT_EQ(h.types(), (std::vector<std::string>{"InventoryFailed"}));
}

TEST_F(InventoryTest, AReservationThatLandsAfterTheCancelIsReleased) {
  h.deliver(svc, event("e-1", "o-1", PaymentProcessed{"o-1", "c-1", 500, kLines}));
  h.deliver(svc, event("e-2", "o-1", OrderCancelled{"o-1", "timeout"}));
  EXPECT_EQ(stock("sku-1"), std::make_pair(int64_t{3}, int64_t{0}));
  EXPECT_EQ(h.types(), (std::vector<std::string>{"ItemsReserved", "ItemsReleased"}));
}

TEST_F(InventoryTest, ACancelThatOvertakesThePaymentPreventsTheReservation) {
  h.deliver(svc, event("e-2", "o-1", OrderCancelled{"o-1", "timeout"}));
  h.deliver(svc, event("e-1", "o-1", PaymentProcessed{"o-1", "c-1", 500, kLines}));
  EXPECT_EQ(stock("sku-1"), std::make_pair(int64_t{3}, int64_t{0}));
  EXPECT_TRUE(h.types().empty());
}

struct OrderTest : ::testing::Test {
  Harness h;
  OrderService svc{Duration::seconds(5)};
  const Order* order() const { return h.get<Order>(kOrdersTable, "o-1"); }
  int fire_timers() {
    return fire_due_timers(svc, h.store, h.env, "test-1", [&](const WriteSet& ws) {
      for (const auto& row : ws.outbox) h.published.push_back(row.event);
    });
  }
};

TEST_F(OrderTest, PlaceOrderStartsTheSagaOncePerOrderId) {
  h.deliver(svc, event("e-1", "o-1", PlaceOrder{"o-1", "c-1", kLines, 500}));
  h.deliver(svc, event("e-9", "o-1", PlaceOrder{"o-1", "c-1", kLines, 500}));  // a client retry
  EXPECT_EQ(h.types(), (std::vector<std::string>{"OrderCreated"}));
  EXPECT_EQ(order()->status, OrderStatus::Pending);
  EXPECT_EQ(h.store.next_timer(), kSimEpoch + Duration::seconds(5));
}

// A PlaceOrder that contradicts itself is refused, naming the field (in
// production the record goes to the dead-letter topic with that reason);
// nothing is written and nothing is sent.
TEST_F(OrderTest, ACommandThatContradictsItselfIsRefusedNamingTheField) {
  auto refused = [&](Event e) -> std::string {
    try {
      h.deliver(svc, std::move(e));
    } catch (const InputError& err) {
      return err.what();
    }
    return "(accepted)";
  };
  EXPECT_EQ(refused(event("e-1", "o-2", PlaceOrder{"o-1", "c-1", kLines, 500})),
            "event e-1 at /payload/order_id: PlaceOrder for order 'o-1' sent under the key 'o-2'");
  Event e = event("e-2", "o-1", PlaceOrder{"o-1", "c-1", kLines, 500});
  e.correlation_id = "o-9";
  EXPECT_EQ(refused(e), "event e-2 at /correlation_id: 'o-9' is not the order's id 'o-1'");
  EXPECT_EQ(refused(event("e-3", "o-1", PlaceOrder{"o-1", "c-1", kLines, 1})),
            "event e-3 at /payload/amount_cents: 1 cents, but the lines cost 500");
  EXPECT_EQ(order(), nullptr);
  EXPECT_TRUE(h.published.empty());
  h.deliver(svc, event("e-4", "o-1", PlaceOrder{"o-1", "c-1", kLines, 500}));  // the same order, stated consistently
  ASSERT_NE(order(), nullptr);
  EXPECT_EQ(order()->amount_cents, 500);
}

TEST_F(OrderTest, TheDeadlineCountsFromPlacementNotFromHandling) {
  Event place = event("e-1", "o-1", PlaceOrder{"o-1", "c-1", kLines, 500});
  place.occurred_at = h.env.t;
  h.env.t = h.env.t + Duration::seconds(2);  // the command sat in the topic for 2 s
  h.deliver(svc, place);
  EXPECT_EQ(h.store.next_timer(), kSimEpoch + Duration::seconds(5));
}

TEST_F(OrderTest, ConfirmsOnReservationAndCancelsTheTimer) {
  h.deliver(svc, event("e-1", "o-1", PlaceOrder{"o-1", "c-1", kLines, 500}));
  h.env.t = h.env.t + Duration::seconds(1);
  h.deliver(svc, event("e-2", "o-1", ItemsReserved{"o-1", kLines}));
  EXPECT_EQ(order()->status, OrderStatus::Confirmed);
  EXPECT_EQ(order()->decided_at_us - order()->placed_at_us, 1000000);
  EXPECT_FALSE(h.store.next_timer().has_value());
}

TEST_F(OrderTest, TimesOutAndIgnoresALateSuccess) {
  h.deliver(svc, event("e-1", "o-1", PlaceOrder{"o-1", "c-1", kLines, 500}));
  h.env.t = h.env.t + Duration::seconds(4);
  EXPECT_EQ(fire_timers(), 0);
  h.env.t = h.env.t + Duration::seconds(1);
  EXPECT_EQ(fire_timers(), 1);
  EXPECT_EQ(order()->status, OrderStatus::Cancelled);
  EXPECT_EQ(order()->cancel_reason, "timeout");
  h.deliver(svc, event("e-2", "o-1", ItemsReserved{"o-1", kLines}));
  EXPECT_EQ(order()->status, OrderStatus::Cancelled);
  EXPECT_EQ(h.types(), (std::vector<std::string>{"OrderCreated", "OrderCancelled"}));
}

TEST_F(OrderTest, CancelsOnEitherFailure) {
  h.deliver(svc, event("e-1", "o-1", PlaceOrder{"o-1", "c-1", kLines, 500}));
  h.deliver(svc, event("e-2", "o-1", InventoryFailed{"o-1", "sku-1"}));
  EXPECT_EQ(order()->cancel_reason, "out_of_stock");
  h.deliver(svc, event("e-3", "o-1", PaymentFailed{"o-1", "balance"}));  // already decided
  EXPECT_EQ(order()->cancel_reason, "out_of_stock");
  EXPECT_EQ(h.types(), (std::vector<std::string>{"OrderCreated", "OrderCancelled"}));
}

TEST(Handlers, AMalformedPayloadIsAnInputErrorNotACrash) {
  Harness h;
  PaymentService svc;
  Event e = event("e-1", "o-1", OrderConfirmed{"o-1"});
  e.occurred_at = h.env.t;
  e.type = "OrderCreated";  // claims to be one, but is not
  EXPECT_THROW(h.deliver(svc, e), InputError);
  EXPECT_FALSE(h.store.inbox_contains("e-1"));  // nothing committed
}

}  // namespace
}  // namespace sagasim::saga
