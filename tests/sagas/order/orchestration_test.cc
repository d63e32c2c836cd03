// The orchestration style, one service at a time: the orchestrator's
// commands, its saga log and its compensations (including for replies that
// land after the decision), and the participants' command handlers.
#include <gtest/gtest.h>

#include "core/memory_store.h"
#include "sagas/order/inventory_service.h"
#include "sagas/order/order_orchestrator.h"
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
    if (e.occurred_at == Time{}) e.occurred_at = env.t;
    Transaction txn(store, "test-1");
    const Outcome o = process_event(svc, env, txn, e);
    for (const auto& row : txn.writes().outbox) published.push_back(row.event);
    return o;
  }
  void fire_timers(Service& svc) {
    fire_due_timers(svc, store, env, "test-1", [&](const WriteSet& ws) {
      for (const auto& row : ws.outbox) published.push_back(row.event);
    });
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
  std::vector<SagaStep> log(std::string_view order) const { return get<SagaLog>(kSagaLogTable, order)->steps; }
};

const std::vector<OrderLine> kLines = {{"sku-1", 2, 100}, {"sku-2", 1, 300}};
using S = SagaStep;
using Types = std::vector<std::string>;

struct OrchestratorTest : ::testing::Test {
  Harness h;
  OrderOrchestrator svc{Duration::seconds(5)};
  void place() { h.deliver(svc, event("p-1", "o-1", PlaceOrder{"o-1", "c-1", kLines, 500})); }
  const Order& order() const { return *h.get<Order>(kOrdersTable, "o-1"); }
};

TEST_F(OrchestratorTest, DrivesTheHappyPathByCommandsAndLogsEveryStep) {
  place();
  EXPECT_EQ(h.types(), (Types{"ChargePayment"}));
  EXPECT_EQ(order().status, OrderStatus::Pending);
  h.deliver(svc, event("r-1", "o-1", PaymentProcessed{"o-1", "c-1", 500, {}}));
  EXPECT_EQ(h.types(), (Types{"ChargePayment", "ReserveItems"}));
  EXPECT_EQ(h.published[1]->payload_as<ReserveItems>().lines, kLines);
  h.deliver(svc, event("r-2", "o-1", ItemsReserved{"o-1", kLines}));
  EXPECT_EQ(order().status, OrderStatus::Confirmed);
  EXPECT_EQ(h.types(), (Types{"ChargePayment", "ReserveItems", "OrderConfirmed"}));
  EXPECT_EQ(h.log("o-1"), (std::vector<S>{S::ChargeRequested, S::Charged, S::ReserveRequested, S::Reserved, S::Confirmed}));
}

TEST_F(OrchestratorTest, AReplyHeardTwiceUnderANewIdChangesNothing) {
  place();
  h.deliver(svc, event("r-1", "o-1", PaymentProcessed{"o-1", "c-1", 500, {}}));
  EXPECT_EQ(h.deliver(svc, event("r-1", "o-1", PaymentProcessed{"o-1", "c-1", 500, {}})), Outcome::Duplicate);
  EXPECT_EQ(h.deliver(svc, event("r-9", "o-1", PaymentProcessed{"o-1", "c-1", 500, {}})), Outcome::Ignored);
  EXPECT_EQ(h.types(), (Types{"ChargePayment", "ReserveItems"}));
}

TEST_F(OrchestratorTest, OutOfStockCancelsAndRefundsTheChargeItHeardOf) {
  place();
  h.deliver(svc, event("r-1", "o-1", PaymentProcessed{"o-1", "c-1", 500, {}}));
  h.deliver(svc, event("r-2", "o-1", InventoryFailed{"o-1", "sku-1"}));
  EXPECT_EQ(order().status, OrderStatus::Cancelled);
  EXPECT_EQ(order().cancel_reason, "out_of_stock");
  EXPECT_EQ(h.types(), (Types{"ChargePayment", "ReserveItems", "OrderCancelled", "RefundPayment"}));
  h.deliver(svc, event("r-3", "o-1", PaymentRefunded{"o-1", 500}));
  EXPECT_EQ(h.log("o-1").back(), S::Refunded);
}

TEST_F(OrchestratorTest, ADeclinedPaymentCancelsWithNothingToUndo) {
  place();
  h.deliver(svc, event("r-1", "o-1", PaymentFailed{"o-1", "balance"}));
  EXPECT_EQ(order().cancel_reason, "payment_declined");
  EXPECT_EQ(h.types(), (Types{"ChargePayment", "OrderCancelled"}));
}

TEST_F(OrchestratorTest, ATimeoutUndoesWhatItHeardAndLateRepliesAreUndoneWhenTheyLand) {
  place();
  h.env.t = h.env.t + Duration::seconds(6);
  h.fire_timers(svc);
  EXPECT_EQ(order().cancel_reason, "timeout");
  // Nothing heard yet: nothing to refund, only the decision.
  EXPECT_EQ(h.types(), (Types{"ChargePayment", "OrderCancelled"}));
  // The charge lands late: refunded, never followed by a reservation.
  h.deliver(svc, event("r-1", "o-1", PaymentProcessed{"o-1", "c-1", 500, {}}));
  EXPECT_EQ(h.types(), (Types{"ChargePayment", "OrderCancelled", "RefundPayment"}));
  EXPECT_EQ(order().status, OrderStatus::Cancelled);
}

TEST_F(OrchestratorTest, AReservationThatLandsAfterTheTimeoutIsReleased) {
  place();
  h.deliver(svc, event("r-1", "o-1", PaymentProcessed{"o-1", "c-1", 500, {}}));
  h.env.t = h.env.t + Duration::seconds(6);
  h.fire_timers(svc);
  EXPECT_EQ(h.types(), (Types{"ChargePayment", "ReserveItems", "OrderCancelled", "RefundPayment"}));
  h.deliver(svc, event("r-2", "o-1", ItemsReserved{"o-1", kLines}));
  EXPECT_EQ(order().status, OrderStatus::Cancelled);
  EXPECT_EQ(h.types(), (Types{"ChargePayment", "ReserveItems", "OrderCancelled", "RefundPayment", "ReleaseItems"}));
}

TEST_F(OrchestratorTest, TheMutantThatIgnoresLateRepliesLeavesALateChargeInPlace) {
  OrderOrchestrator broken{Duration::seconds(5), Mutant::OrchestratorIgnoresLateReply};
  h.deliver(broken, event("p-1", "o-1", PlaceOrder{"o-1", "c-1", kLines, 500}));
  h.env.t = h.env.t + Duration::seconds(6);
  h.fire_timers(broken);
  h.deliver(broken, event("r-1", "o-1", PaymentProcessed{"o-1", "c-1", 500, {}}));
  EXPECT_EQ(h.types(), (Types{"ChargePayment", "OrderCancelled"}));
}

struct ParticipantsTest : ::testing::Test {
  Harness h;
  PaymentService payment{Mutant::None, Style::Orchestration};
  InventoryService inventory{Mutant::None, Style::Orchestration};
  void SetUp() override {
    Transaction txn(h.store, "setup");
    PaymentService::open_account(txn, "c-1", 1000);
    InventoryService::stock_item(txn, "sku-1", 5);
    InventoryService::stock_item(txn, "sku-2", 5);
    txn.commit();
  }
  int64_t balance() const { return h.get<Account>(kAccountsTable, "c-1")->balance_cents; }
};

TEST_F(ParticipantsTest, PaymentChargesOnCommandOnceAndRefundsOnce) {
  EXPECT_EQ(h.deliver(payment, event("c-1", "o-1", ChargePayment{"o-1", "c-1", 400})), Outcome::Processed);
  EXPECT_EQ(h.deliver(payment, event("c-2", "o-1", ChargePayment{"o-1", "c-1", 400})), Outcome::Ignored);
  EXPECT_EQ(balance(), 600);
  EXPECT_EQ(h.deliver(payment, event("c-3", "o-1", RefundPayment{"o-1", "timeout"})), Outcome::Processed);
  EXPECT_EQ(h.deliver(payment, event("c-4", "o-1", RefundPayment{"o-1", "timeout"})), Outcome::Ignored);
  EXPECT_EQ(balance(), 1000);
  EXPECT_EQ(h.types(), (Types{"PaymentProcessed", "PaymentRefunded"}));
}

TEST_F(ParticipantsTest, OrchestratedParticipantsLeaveCancellationsToTheOrchestrator) {
  // OrderCancelled is a fact for others here: no tombstone, no refund, no release.
  EXPECT_EQ(h.deliver(payment, event("x-1", "o-1", OrderCancelled{"o-1", "timeout"})), Outcome::Ignored);
  EXPECT_EQ(h.deliver(inventory, event("x-1", "o-1", OrderCancelled{"o-1", "timeout"})), Outcome::Ignored);
  EXPECT_EQ(h.get<Payment>(kPaymentsTable, "o-1"), nullptr);
  EXPECT_EQ(h.get<Reservation>(kReservationsTable, "o-1"), nullptr);
}

TEST_F(ParticipantsTest, InventoryReservesAllOrNoneOnCommandAndReleasesOnce) {
  EXPECT_EQ(h.deliver(inventory, event("c-1", "o-1", ReserveItems{"o-1", kLines})), Outcome::Processed);
  EXPECT_EQ(h.get<StockItem>(kStockTable, "sku-1")->reserved, 2);
  EXPECT_EQ(h.deliver(inventory, event("c-2", "o-1", ReleaseItems{"o-1", "timeout"})), Outcome::Processed);
  EXPECT_EQ(h.deliver(inventory, event("c-3", "o-1", ReleaseItems{"o-1", "timeout"})), Outcome::Ignored);
  EXPECT_EQ(h.get<StockItem>(kStockTable, "sku-1")->available, 5);
  EXPECT_EQ(h.deliver(inventory, event("c-4", "o-2", ReserveItems{"o-2", {{"sku-1", 9, 1}}})), Outcome::Processed);
  EXPECT_EQ(h.types(), (Types{"ItemsReserved", "ItemsReleased", "InventoryFailed"}));
  EXPECT_EQ(h.get<StockItem>(kStockTable, "sku-1")->reserved, 0);
}

}  // namespace
}  // namespace sagasim::saga
