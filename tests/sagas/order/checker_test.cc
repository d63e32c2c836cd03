// Every check must be able to fail: each test builds a state that breaks one
// invariant and expects exactly that invariant to report it.
#include "sagas/order/checker.h"
#include "sagas/order/order_saga.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

#include "core/memory_store.h"
#include "core/service.h"

namespace sagasim::inv {
namespace {

using namespace saga;

Baseline baseline() {
  Baseline b;
  b.money_cents = 1000;
  b.stock = {{"sku-1", 5}};
  b.balances = {{"c-1", 1000}};
  return b;
}

// A consistent world: o-1 confirmed (charged 300, reserved 2), o-2 cancelled and compensated.
SagaState healthy() {
  SagaState s;
  s.orders["o-1"] = Order{"o-1", "c-1", {{"sku-1", 2, 150}}, 300, OrderStatus::Confirmed, "", 0, 5000000, 1000};
  s.orders["o-2"] = Order{"o-2", "c-1", {{"sku-1", 1, 100}}, 100, OrderStatus::Cancelled, "timeout", 0, 5000000, 5000000};
  s.accounts["c-1"] = Account{"c-1", 700};
  s.payments["o-1"] = Payment{"o-1", "c-1", 300, PaymentStatus::Charged};
  s.payments["o-2"] = Payment{"o-2", "c-1", 100, PaymentStatus::Refunded};
  s.stock["sku-1"] = StockItem{"sku-1", 3, 2};
  s.reservations["o-1"] = Reservation{"o-1", {{"sku-1", 2, 150}}, ReservationStatus::Held};
  s.reservations["o-2"] = Reservation{"o-2", {{"sku-1", 1, 100}}, ReservationStatus::Released};
  s.placed = {{"o-1", 0}, {"o-2", 0}};
  return s;
}

std::set<std::string> failing(const SagaState& s, FinalCheckOptions opt = {}) {
  std::set<std::string> out;
  for (const auto& v : check_final(s, baseline(), opt)) out.insert(v.invariant);
  return out;
}

EventPtr ev(std::string id, std::string type, std::string order) {
  auto e = std::make_shared<Event>();
  e->event_id = std::move(id);
  e->type = std::move(type);
  e->correlation_id = e->key = std::move(order);
  return e;
}

TEST(CheckFinal, AHealthyStatePasses) { EXPECT_TRUE(failing(healthy()).empty()); }

TEST(CheckFinal, MoneyThatAppearsOrVanishesFails) {
  auto s = healthy();
  s.accounts["c-1"].balance_cents = 800;  // a refund that was never charged
  EXPECT_EQ(failing(s), std::set<std::string>{std::string(kMoneyConserved)});
}

TEST(CheckFinal, StockThatDoesNotAddUpFails) {
  auto s = healthy();
  s.stock["sku-1"].available = 4;
  EXPECT_EQ(failing(s), std::set<std::string>{std::string(kStockConserved)});
  s = healthy();
  s.reservations["o-1"].status = ReservationStatus::Released;  // counter says reserved, no reservation holds it
  EXPECT_TRUE(failing(s).count(std::string(kStockConserved)));
}

TEST(CheckFinal, NegativeBalancesFail) {
  auto s = healthy();
  s.accounts["c-1"].balance_cents = -100;
  s.accounts["c-2"] = Account{"c-2", 800};
  EXPECT_EQ(failing(s), std::set<std::string>{std::string(kNeverNegative)});
}

TEST(CheckFinal, TwoDistinctChargesForOneOrderFail) {
  auto s = healthy();
  s.log.push_back({"payments", 0, 0, ev("e-1", "PaymentProcessed", "o-1")});
  s.log.push_back({"payments", 0, 1, ev("e-1", "PaymentProcessed", "o-1")});  // a redelivered copy is fine
  EXPECT_TRUE(failing(s).empty());
  s.log.push_back({"payments", 0, 2, ev("e-7", "PaymentProcessed", "o-1")});
  EXPECT_EQ(failing(s), std::set<std::string>{std::string(kEffectsAtMostOnce)});
}

EventPtr ev_at(std::string id, std::string type, std::string order, int64_t at_us) {
  auto e = std::make_shared<Event>(*ev(std::move(id), std::move(type), std::move(order)));
  e->occurred_at = Time{at_us};
  return e;
}

TEST(CheckFinal, ACompensationWithoutWhatItCompensatesFails) {
  auto s = healthy();
  s.log.push_back({"inventory", 0, 0, ev_at("e-3", "ItemsReleased", "o-2", 100)});
  EXPECT_EQ(failing(s), std::set<std::string>{std::string(kEffectsAtMostOnce)});
  s = healthy();
  s.log.push_back({"payments", 0, 0, ev_at("e-4", "PaymentRefunded", "o-1", 100)});
  EXPECT_EQ(failing(s), std::set<std::string>{std::string(kEffectsAtMostOnce)});
}

TEST(CheckFinal, ALogOrderSwappedByARetryIsNotAViolation) {
  // Reserved at t=100, released at t=200, but a retried publish put the
  // reservation later in the log: legal without an idempotent producer.
  auto s = healthy();
  s.log.push_back({"inventory", 0, 0, ev_at("e-3", "ItemsReleased", "o-2", 200)});
  s.log.push_back({"inventory", 0, 1, ev_at("e-2", "ItemsReserved", "o-2", 100)});
  EXPECT_TRUE(failing(s).empty());
}

TEST(CheckFinal, PendingOrLostOrdersFailLiveness) {
  auto s = healthy();
  s.placed.push_back({"o-3", 0});
  EXPECT_EQ(failing(s), std::set<std::string>{std::string(kTerminalWithinBound)});
  // Not judged when the run did not go quiet.
  EXPECT_TRUE(failing(s, {Duration::seconds(60), false}).empty());
  s = healthy();
  s.orders["o-2"].decided_at_us = 61000000;  // decided, but too late
  EXPECT_EQ(failing(s), std::set<std::string>{std::string(kTerminalWithinBound)});
}

TEST(CheckFinal, ConfirmedWithoutReservationFails) {
  auto s = healthy();
  s.reservations["o-1"].status = ReservationStatus::Released;
  s.stock["sku-1"] = StockItem{"sku-1", 5, 0};
  EXPECT_EQ(failing(s), std::set<std::string>{std::string(kConfirmedIffChargedAndReserved)});
}

TEST(CheckFinal, CancelledButStillChargedFails) {
  auto s = healthy();
  s.payments["o-2"].status = PaymentStatus::Charged;  // the refund never happened
  s.accounts["c-1"].balance_cents = 600;
  EXPECT_EQ(failing(s), std::set<std::string>{std::string(kCancelledCompensated)});
}

TEST(SafetyMonitor, CatchesAnUnbalancedCommitAtTheStepItHappens) {
  MemoryStore store;
  {
    Transaction setup(store, "setup");
    setup.put(kAccountsTable, "c-1", Account{"c-1", 1000});
    setup.commit();
  }
  SafetyMonitor m(baseline());
  Transaction charge(store, "payment-1");  // a correct charge: balance down, payment held
  charge.put(kAccountsTable, "c-1", Account{"c-1", 700});
  charge.put(kPaymentsTable, "o-1", Payment{"o-1", "c-1", 300, PaymentStatus::Charged});
  charge.commit();
  m.on_commit(charge.writes(), Time{1});
  EXPECT_TRUE(m.violations().empty());

  Transaction bad(store, "payment-1");  // a refund that forgets to mark the payment
  bad.put(kAccountsTable, "c-1", Account{"c-1", 1000});
  bad.commit();
  m.on_commit(bad.writes(), Time{2});
  ASSERT_EQ(m.violations().size(), 1u);
  EXPECT_EQ(m.violations()[0].invariant, kMoneyConserved);
  EXPECT_EQ(m.violations()[0].at_us, 2);
}

TEST(SafetyMonitor, CatchesIllegalTransitions) {
  MemoryStore store;
  SafetyMonitor m(baseline());
  Transaction t1(store, "inv");
  t1.put(kReservationsTable, "o-1", Reservation{"o-1", {{"sku-1", 9, 100}}, ReservationStatus::Rejected});
  t1.commit();
  m.on_commit(t1.writes(), Time{1});
  Transaction t2(store, "inv");
  t2.put(kReservationsTable, "o-1", Reservation{"o-1", {{"sku-1", 9, 100}}, ReservationStatus::Held});  // a second decision
  t2.commit();
  m.on_commit(t2.writes(), Time{2});
  ASSERT_EQ(m.violations().size(), 1u);
  EXPECT_EQ(m.violations()[0].invariant, kEffectsAtMostOnce);
  EXPECT_EQ(m.violations()[0].entity, "o-1");
}

TEST(SafetyMonitor, CatchesStockThatDoesNotAddUp) {
  MemoryStore store;
  SafetyMonitor m(baseline());
  Transaction t(store, "inv");
  t.put(kStockTable, "sku-1", StockItem{"sku-1", 4, 2});
  t.commit();
  m.on_commit(t.writes(), Time{1});
  ASSERT_EQ(m.violations().size(), 1u);
  EXPECT_EQ(m.violations()[0].invariant, kStockConserved);
}

// Each decision against the state committed before it: a decline with
// enough money, a charge without it, a reservation beyond the stock and a
// rejection with everything available are each caught; the justified ones
// (the boundary included: balance == amount pays) are not.
TEST(SafetyMonitor, JudgesEveryDecisionAgainstTheStateItWasMadeIn) {
  auto judge = [](auto&& build) {
    MemoryStore store;
    {
      Transaction setup(store, "setup");  // the opening state: c-1 has 1000 cents, sku-1 5 units
      setup.put(kAccountsTable, "c-1", Account{"c-1", 1000});
      setup.put(kStockTable, "sku-1", StockItem{"sku-1", 5, 0});
      setup.commit();
    }
    SafetyMonitor m(baseline());
    Transaction t(store, "svc-1");
    build(t);
    t.commit();
    m.on_commit(t.writes(), Time{1});
    std::vector<std::string> out;
    for (const auto& v : m.violations()) out.push_back(v.invariant + " " + v.entity);
    return out;
  };
  const std::vector<std::string> none;
  const std::vector<std::string> unjustified = {std::string(kDecisionsJustified) + " o-1"};
  EXPECT_EQ(judge([](Transaction& t) {
              t.put(kAccountsTable, "c-1", Account{"c-1", 0});
              t.put(kPaymentsTable, "o-1", Payment{"o-1", "c-1", 1000, PaymentStatus::Charged});
            }),
            none);  // exactly the balance: paid
  EXPECT_EQ(judge([](Transaction& t) { t.put(kPaymentsTable, "o-1", Payment{"o-1", "c-1", 1000, PaymentStatus::Declined}); }),
            unjustified);  // declined at exactly the balance
  EXPECT_EQ(judge([](Transaction& t) { t.put(kPaymentsTable, "o-1", Payment{"o-1", "c-1", 1001, PaymentStatus::Declined}); }),
            none);
  EXPECT_EQ(judge([](Transaction& t) {
              t.put(kAccountsTable, "c-1", Account{"c-1", 0});
              t.put(kPaymentsTable, "o-1", Payment{"o-1", "c-1", 1001, PaymentStatus::Charged});
            }),
            (std::vector<std::string>{std::string(kDecisionsJustified) + " o-1", std::string(kMoneyConserved) + " "}));
  EXPECT_EQ(judge([](Transaction& t) {
              t.put(kStockTable, "sku-1", StockItem{"sku-1", 0, 5});
              t.put(kReservationsTable, "o-1", Reservation{"o-1", {{"sku-1", 5, 100}}, ReservationStatus::Held});
            }),
            none);  // exactly the stock: reserved
  EXPECT_EQ(judge([](Transaction& t) {
              t.put(kReservationsTable, "o-1", Reservation{"o-1", {{"sku-1", 3, 100}, {"sku-1", 3, 100}},
                                                           ReservationStatus::Held});
            }),
            unjustified);  // two lines of one SKU add up to more than there is
  EXPECT_EQ(judge([](Transaction& t) {
              t.put(kReservationsTable, "o-1", Reservation{"o-1", {{"sku-1", 5, 100}}, ReservationStatus::Rejected});
            }),
            unjustified);
  EXPECT_EQ(judge([](Transaction& t) {
              t.put(kReservationsTable, "o-1", Reservation{"o-1", {{"sku-2", 1, 100}}, ReservationStatus::Rejected});
            }),
            none);  // an SKU nobody stocks is short
}

EventPtr typed(std::string id, std::string order, auto payload) {
  auto e = std::make_shared<Event>();
  e->event_id = std::move(id);
  e->type = std::string(decltype(payload)::kType);
  e->correlation_id = e->key = std::move(order);
  e->payload = std::make_shared<PayloadOf<decltype(payload)>>(std::move(payload));
  return e;
}

// Effects against intent: each record or event that does something other
// than what the order asked for is caught, naming the order.
TEST(CheckFinal, EffectsThatDifferFromTheOrderFail) {
  const std::set<std::string> caught{std::string(kEffectsMatchOrder)};
  {
    auto s = healthy();  // the reservation holds one unit where two were ordered
    s.reservations["o-1"].lines = {{"sku-1", 1, 150}};
    s.stock["sku-1"] = StockItem{"sku-1", 4, 1};
    EXPECT_EQ(failing(s), caught);
  }
  {
    auto s = healthy();  // charged 1 cent for a 300-cent order
    s.payments["o-1"].amount_cents = 1;
    s.accounts["c-1"].balance_cents = 999;
    EXPECT_EQ(failing(s), caught);
  }
  {
    auto s = healthy();  // an order whose amount is not its lines' price
    s.orders["o-1"].amount_cents = 1;
    s.payments["o-1"].amount_cents = 1;
    s.accounts["c-1"].balance_cents = 999;
    EXPECT_EQ(failing(s), caught);
  }
  {
    auto s = healthy();  // the order service recorded other lines than the client's PlaceOrder
    s.log.push_back({"order-requests", 0, 0, typed("e-1", "o-1", PlaceOrder{"o-1", "c-1", {{"sku-1", 3, 100}}, 300})});
    EXPECT_EQ(failing(s), caught);
    s.log.back().event = typed("e-1", "o-1", PlaceOrder{"o-1", "c-1", {{"sku-1", 2, 150}}, 300});
    EXPECT_TRUE(failing(s).empty());
  }
  {
    auto s = healthy();  // a charge that passes on fewer lines than the order has
    s.log.push_back({"payments", 0, 0, typed("e-2", "o-1", PaymentProcessed{"o-1", "c-1", 300, {}})});
    EXPECT_TRUE(failing(s).empty());  // orchestration: the charge carries no lines
    s.log.back().event = typed("e-2", "o-1", PaymentProcessed{"o-1", "c-1", 300, {{"sku-9", 2, 150}}});
    EXPECT_EQ(failing(s), caught);
  }
  {
    auto s = healthy();  // a refund of another amount than the charge, and a reservation event
    s.log.push_back({"payments", 0, 0, typed("e-4", "o-2", PaymentProcessed{"o-2", "c-1", 100, {{"sku-1", 1, 100}}})});
    s.log.push_back({"payments", 0, 1, typed("e-3", "o-2", PaymentRefunded{"o-2", 100})});
    EXPECT_TRUE(failing(s).empty());
    s.log.back().event = typed("e-3", "o-2", PaymentRefunded{"o-2", 50});
    EXPECT_EQ(failing(s), caught);
    s.log.back().event = typed("e-3", "o-2", ItemsReserved{"o-2", {{"sku-1", 2, 100}}});
    EXPECT_EQ(failing(s), caught);
  }
}

// Orchestration: the saga log must account for every decision and compensation.
TEST(CheckSagaLog, ACompleteLogPassesAndAMissingRefundFails) {
  auto s = healthy();
  using S = SagaStep;
  s.saga_logs["o-1"] = SagaLog{"o-1", {S::ChargeRequested, S::Charged, S::ReserveRequested, S::Reserved, S::Confirmed}};
  s.saga_logs["o-2"] = SagaLog{"o-2", {S::ChargeRequested, S::Charged, S::ReserveRequested, S::Cancelled,
                                       S::RefundRequested, S::Refunded}};
  EXPECT_TRUE(check_saga_log(s, {}).empty());
  s.saga_logs["o-2"].steps = {S::ChargeRequested, S::Charged, S::ReserveRequested, S::Cancelled};
  const auto v = check_saga_log(s, {});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].invariant, kSagaLogComplete);
  EXPECT_EQ(v[0].entity, "o-2");
  EXPECT_TRUE(check_saga_log(s, {.quiesced = false}).empty());  // judged only once quiet
  s.saga_logs.erase("o-1");
  EXPECT_EQ(check_saga_log(s, {}).size(), 2u);  // and an order without a log fails too
}

// PerOrder keys "o-<n>" by position and anything else by hash; an id must
// find the same entry whichever way it was first stored, even after the
// vector has grown past an "o-<n>" that was stored in the hash map.
TEST(PerOrder, EveryIdFindsTheEntryItWasGivenWhereverItIsKept) {
  PerOrder<int> m;
  m["o-5000"] = 1;  // far beyond the (empty) vector: kept by hash
  m["x-1"] = 2;
  m["o-007"] = 3;   // a leading zero is not o-7
  for (int n = 1; n <= 6000; ++n)
    if (n != 5000) m["o-" + std::to_string(n)] = 10 + n;  // grows the vector past 5000
  EXPECT_EQ(m.size(), 6002u);
  ASSERT_NE(m.find("o-5000"), nullptr);
  EXPECT_EQ(*m.find("o-5000"), 1);
  m["o-5000"] += 1;  // the same entry, not a fresh one in the vector
  EXPECT_EQ(*m.find("o-5000"), 2);
  EXPECT_EQ(m.size(), 6002u);
  EXPECT_EQ(*m.find("o-7"), 17);
  EXPECT_EQ(*m.find("o-007"), 3);
  EXPECT_EQ(*m.find("x-1"), 2);
  EXPECT_EQ(m.find("o-6001"), nullptr);
  EXPECT_EQ(m.find("o-0"), nullptr);
  EXPECT_EQ(m.find("o-"), nullptr);
  std::map<std::string, int> seen;
  m.each([&](const std::string& id, int v) { EXPECT_TRUE(seen.emplace(id, v).second) << id; });
  EXPECT_EQ(seen.size(), 6002u);
  EXPECT_EQ(seen["o-5000"], 2);
  EXPECT_EQ(seen["o-6000"], 6010);
}

// The final checks read a simulated run's stores in place and a database's
// through a loaded SagaState: both must say the same, word for word and in
// the same order.
TEST(CheckFinal, TheStoresReadInPlaceSayWhatTheirLoadedCopySays) {
  SagaState s = healthy();
  s.orders["o-1"].status = OrderStatus::Cancelled;  // cancelled, yet charged and reserved
  s.orders["o-1"].cancel_reason = "timeout";
  s.orders["o-3"] = Order{"o-3", "c-1", {{"sku-1", 1, 100}}, 150, OrderStatus::Pending, "", 0, 5000000, 0};
  s.payments["o-3"] = Payment{"o-3", "c-2", 90, PaymentStatus::Declined};  // not the order's terms
  s.placed.push_back({"o-3", 0});
  s.placed.push_back({"o-4", 0});  // never reached the order service
  s.log.push_back({"order-requests", 0, 0, ev("e-1", std::string(PlaceOrder::kType), "o-1")});
  s.log.push_back({"payments", 0, 0, ev("e-2", std::string(PaymentRefunded::kType), "o-3")});  // refund, no charge
  s.log.push_back({"payments", 0, 1, ev("e-3", std::string(PaymentRefunded::kType), "o-3")});

  MemoryStore order_store, payment_store, inventory_store;
  auto put_all = [](Store& store, std::string_view table, const auto& rows) {
    for (const auto& [key, value] : rows) {
      Transaction t(store, "test");
      t.put(table, key, std::decay_t<decltype(value)>(value));
      t.commit();
    }
  };
  put_all(order_store, kOrdersTable, s.orders);
  put_all(payment_store, kAccountsTable, s.accounts);
  put_all(payment_store, kPaymentsTable, s.payments);
  put_all(inventory_store, kStockTable, s.stock);
  put_all(inventory_store, kReservationsTable, s.reservations);

  struct Facts final : RunFacts {
    const SagaState& s;
    explicit Facts(const SagaState& state) : s(state) {}
    void each_placed(const std::function<void(const std::string&, int64_t)>& fn) const override {
      for (const auto& p : s.placed) fn(p.order_id, p.placed_at_us);
    }
    std::optional<int64_t> created_at(const std::string&) const override { return std::nullopt; }
    std::optional<int64_t> decided_at(const std::string&) const override { return std::nullopt; }
  };
  LogFold fold;
  for (size_t i = 0; i < s.log.size(); ++i) fold.add(s.log[i], LogFold::Position{0, 0, static_cast<int64_t>(i)});

  const std::vector<Violation> loaded = check_final(s, baseline(), {});
  const auto in_place = view_of(order_store, payment_store, inventory_store);
  const std::vector<Violation> read = check_final(*in_place, Facts(s), baseline(), {}, fold);
  std::set<std::string> kinds;
  for (const auto& v : loaded) kinds.insert(v.invariant);
  EXPECT_EQ(kinds, (std::set<std::string>{std::string(kEffectsAtMostOnce), std::string(kEffectsMatchOrder),
                                          std::string(kTerminalWithinBound), std::string(kConfirmedIffChargedAndReserved),
                                          std::string(kCancelledCompensated)}));
  ASSERT_EQ(read.size(), loaded.size());
  for (size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(read[i].invariant, loaded[i].invariant) << i;
    EXPECT_EQ(read[i].entity, loaded[i].entity) << i;
    EXPECT_EQ(read[i].message, loaded[i].message) << i;
  }
}

}  // namespace
}  // namespace sagasim::inv
