// The order saga's record-by-record checks (inv::LogMonitor, `sagasim
// monitor`): each check must be able to fail, report once, survive a
// save/restore, and say what check_final says about the same records.
#include <gtest/gtest.h>

#include "sagas/order/checker.h"
#include "sagas/order/events.h"

namespace sagasim::inv {
namespace {

using namespace saga;

constexpr Duration kBound = Duration::seconds(10);
constexpr int64_t kS = 1'000'000;  // a second in µs

template <class T>
EventPtr event(std::string id, std::string order, int64_t at_us, T payload) {
  auto e = std::make_shared<Event>();
  e->event_id = std::move(id);
  e->type = std::string(T::kType);
  e->correlation_id = e->key = std::move(order);
  e->occurred_at = Time{at_us};
  e->payload = std::make_shared<PayloadOf<T>>(std::move(payload));
  return e;
}

const std::vector<OrderLine> kLines = {{"sku-1", 2, 150}, {"sku-2", 1, 100}};

struct Feed {
  LogMonitor m{kBound};
  sim::LiveReport out;
  int64_t offset = 0;
  void add(std::string_view topic, EventPtr e) { m.on_record(LoggedEvent{topic, 0, offset++, std::move(e)}, out); }
  void place(const std::string& order, int64_t at) {
    add("order-requests", event("p-" + order, order, at, PlaceOrder{order, "c-1", kLines, 400}));
  }
  void confirm(const std::string& order, int64_t at, std::vector<OrderLine> reserved = kLines) {
    add("payments", event("pay-" + order, order, at, PaymentProcessed{order, "c-1", 400, kLines}));
    add("inventory", event("res-" + order, order, at, ItemsReserved{order, std::move(reserved)}));
    add("orders", event("ok-" + order, order, at, OrderConfirmed{order}));
  }
  std::vector<std::string> invariants() const {
    std::vector<std::string> v;
    for (const auto& lv : out.violations) v.push_back(lv.violation.invariant);
    return v;
  }
};

TEST(LogMonitor, AHealthyOrderIsNeverReported) {
  Feed f;
  f.place("o-1", 0);
  EXPECT_EQ(f.m.in_flight(), 1u);
  f.confirm("o-1", kS / 2);
  f.m.on_time(Time{100 * kS}, f.out);  // settled and forgotten
  EXPECT_TRUE(f.out.violations.empty());
  ASSERT_EQ(f.out.decided_after.size(), 1u);
  EXPECT_EQ(f.out.decided_after[0], Duration{kS / 2});
  EXPECT_EQ(f.m.in_flight(), 0u);
}

TEST(LogMonitor, AReservationOfOtherLinesIsReportedOnceNamingTheRecord) {
  Feed f;
  f.place("o-1", 0);
  f.confirm("o-1", kS, {{"sku-1", 2, 150}});
  ASSERT_EQ(f.invariants(), std::vector<std::string>{std::string(kEffectsMatchOrder)});
  const sim::LiveViolation& v = f.out.violations[0];
  EXPECT_EQ(v.violation.entity, "o-1");
  ASSERT_TRUE(v.at_fault);
  EXPECT_EQ(v.at_fault->type, "ItemsReserved");
  EXPECT_EQ(v.at_fault->offset, 2);
  EXPECT_EQ(v.records.size(), 3u);  // the PlaceOrder, the charge, the reservation so far
  // A redelivered copy of the same record is not a second report.
  f.add("inventory", event("res-o-1", "o-1", kS, ItemsReserved{"o-1", {{"sku-1", 2, 150}}}));
  EXPECT_EQ(f.out.violations.size(), 1u);
}

TEST(LogMonitor, AnEffectReadBeforeItsPlacementIsJudgedWhenThePlacementComes) {
  Feed f;
  f.add("payments", event("pay-o-1", "o-1", kS, PaymentProcessed{"o-1", "c-1", 999, kLines}));
  EXPECT_TRUE(f.out.violations.empty());
  f.place("o-1", 0);
  ASSERT_EQ(f.invariants(), std::vector<std::string>{std::string(kEffectsMatchOrder)});
  EXPECT_EQ(f.out.violations[0].at_fault->type, "PaymentProcessed");
}

TEST(LogMonitor, ASecondDistinctChargeIsReportedOnce) {
  Feed f;
  f.place("o-1", 0);
  f.confirm("o-1", kS);
  f.add("payments", event("pay-o-1-again", "o-1", 2 * kS, PaymentProcessed{"o-1", "c-1", 400, kLines}));
  f.add("payments", event("pay-o-1-third", "o-1", 3 * kS, PaymentProcessed{"o-1", "c-1", 400, kLines}));
  EXPECT_EQ(f.invariants(), std::vector<std::string>{std::string(kEffectsAtMostOnce)});
  EXPECT_EQ(f.out.violations[0].at_fault->event_id, "pay-o-1-again");
}

TEST(LogMonitor, AnOrderDecidedTwiceDifferentlyIsReported) {
  Feed f;
  f.place("o-1", 0);
  f.confirm("o-1", kS);
  f.add("orders", event("no-o-1", "o-1", 2 * kS, OrderCancelled{"o-1", "timeout"}));
  EXPECT_EQ(f.invariants(), std::vector<std::string>{std::string(kEffectsAtMostOnce)});
}

TEST(LogMonitor, AnUndecidedOrderIsReportedOnceWhenTheLogPassesItsBound) {
  Feed f;
  f.place("o-1", 0);
  f.m.on_time(Time{kBound.us}, f.out);
  EXPECT_TRUE(f.out.violations.empty());  // not past it yet
  f.m.on_time(Time{kBound.us + 1}, f.out);
  f.m.on_time(Time{kBound.us + kS}, f.out);
  ASSERT_EQ(f.invariants(), std::vector<std::string>{std::string(kTerminalWithinBound)});
  EXPECT_FALSE(f.out.violations[0].at_fault);
  // Its late decision is the same violation: not reported again.
  f.add("payments", event("pay", "o-1", 15 * kS, PaymentFailed{"o-1", "declined"}));
  f.add("orders", event("no", "o-1", 15 * kS, OrderCancelled{"o-1", "payment_declined"}));
  EXPECT_EQ(f.out.violations.size(), 1u);
}

TEST(LogMonitor, ALateDecisionIsReportedWhenNoDeadlineWasJudged) {
  Feed f;
  f.place("o-1", 0);
  f.add("orders", event("no", "o-1", 11 * kS, OrderCancelled{"o-1", "timeout"}));
  EXPECT_EQ(f.invariants(), std::vector<std::string>{std::string(kTerminalWithinBound)});
}

TEST(LogMonitor, ACancelledOrderStillChargedIsReportedOnceSettled) {
  Feed f;
  f.place("o-1", 0);
  f.add("payments", event("pay", "o-1", kS, PaymentProcessed{"o-1", "c-1", 400, kLines}));
  f.add("orders", event("no", "o-1", 2 * kS, OrderCancelled{"o-1", "out_of_stock"}));
  f.m.on_time(Time{2 * kS + kBound.us}, f.out);
  EXPECT_TRUE(f.out.violations.empty());  // the refund still has time
  f.m.on_time(Time{2 * kS + kBound.us + 1}, f.out);
  EXPECT_EQ(f.invariants(), std::vector<std::string>{std::string(kCancelledCompensated)});
}

TEST(LogMonitor, ARefundWithoutAChargeIsReportedOnceSettled) {
  Feed f;
  f.place("o-1", 0);
  f.add("payments", event("fail", "o-1", kS, PaymentFailed{"o-1", "declined"}));
  f.add("orders", event("no", "o-1", kS, OrderCancelled{"o-1", "payment_declined"}));
  f.add("payments", event("refund", "o-1", 2 * kS, PaymentRefunded{"o-1", 400}));
  f.m.on_time(Time{20 * kS}, f.out);
  EXPECT_EQ(f.invariants(), std::vector<std::string>{std::string(kEffectsAtMostOnce)});
  EXPECT_EQ(f.out.violations[0].violation.message, "refund without a charge");
}

TEST(LogMonitor, ARestoredMonitorReportsNothingTwiceAndMissesNothing) {
  Feed f;
  f.place("o-1", 0);
  f.confirm("o-1", kS, {{"sku-1", 2, 150}});
  f.place("o-2", kS);
  ASSERT_EQ(f.out.violations.size(), 1u);
  const nlohmann::json state = nlohmann::json::parse(f.m.save().dump());

  Feed g;
  g.m.restore(state, "state.json");
  EXPECT_EQ(g.m.in_flight(), 1u);
  g.add("inventory", event("res-o-1", "o-1", kS, ItemsReserved{"o-1", {{"sku-1", 2, 150}}}));  // re-read
  EXPECT_TRUE(g.out.violations.empty());
  g.confirm("o-2", 2 * kS, {{"sku-2", 1, 100}});  // new: reported
  EXPECT_EQ(g.invariants(), std::vector<std::string>{std::string(kEffectsMatchOrder)});
  EXPECT_EQ(g.m.save(), [&] {
    Feed h;
    h.m.restore(g.m.save(), "again");
    return h.m.save();
  }());
  EXPECT_THROW(g.m.restore(nlohmann::json{{"format", "other"}}, "x.json"), InputError);
}

// `sagasim monitor` writes its state with save_text(): the very text of
// save().dump(), over every part of the state (an effect waiting for its
// placement, what was reported, a settled order, an undecided one).
TEST(LogMonitor, SaveTextIsSavesText) {
  Feed f;
  f.place("o-1", 0);
  f.confirm("o-1", kS, {{"sku-1", 2, 150}});  // reported
  f.place("o-2", kS);                           // undecided
  f.add("payments", event("pay-o-3", "o-3", kS, PaymentProcessed{"o-3", "c-\"9\"", 400, kLines}));  // waits
  f.m.on_time(Time{12 * kS}, f.out);  // o-1 settles
  const std::string text = f.m.save_text();
  EXPECT_EQ(text, f.m.save().dump());
  EXPECT_NE(text.find("\"unmatched\":[{"), std::string::npos);
  EXPECT_NE(text.find("\"settled\":true"), std::string::npos);
  EXPECT_NE(text.find("\"reported\":[\""), std::string::npos);
  Feed g;
  g.m.restore(nlohmann::json::parse(text), "state.json");
  EXPECT_EQ(g.m.save_text(), text);
}

TEST(LogMonitor, SaysWhatCheckFinalSaysAboutTheSameRecords) {
  Feed f;
  f.place("o-1", 0);
  f.confirm("o-1", kS, {{"sku-1", 2, 150}});
  SagaState s;
  s.orders["o-1"] = Order{"o-1", "c-1", kLines, 400, OrderStatus::Confirmed, "", 0, 0, kS};
  s.log.push_back({"inventory", 0, 2, event("res-o-1", "o-1", kS, ItemsReserved{"o-1", {{"sku-1", 2, 150}}})});
  std::vector<Violation> final_ = check_final(s, Baseline{}, FinalCheckOptions{.quiesced = false});
  std::erase_if(final_, [](const Violation& v) { return v.invariant != kEffectsMatchOrder; });
  ASSERT_EQ(final_.size(), 1u);
  ASSERT_EQ(f.out.violations.size(), 1u);
  EXPECT_EQ(f.out.violations[0].violation.message, final_[0].message);
}

}  // namespace
}  // namespace sagasim::inv
