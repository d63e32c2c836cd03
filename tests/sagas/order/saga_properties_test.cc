// The saga's invariants as RapidCheck properties over generated workloads,
// topologies and fault plans. On failure the shrunk case is written as a
// scenario file that `sagasim run` replays, and printed as a timeline.
//
// Budget: RapidCheck's default 100 cases per property; RC_PARAMS="max_success=100000"
// for a long run (docs/property-testing.md).
#include <algorithm>
#include <sstream>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/memory_store.h"
#include "sagas/order/order_saga.h"
#include "sagas/order/checker.h"
#include "saga_case.h"

namespace sagasim::props {
namespace {

// Every property also judges the simulated broker's own Kafka guarantees
// (broker_kafka_guarantees): a simulator that quietly became gentler — a
// partition resumed anywhere but its committed offset, a redelivery dropped,
// a retried record appended twice under idempotence — would make every other
// property pass for the wrong reason.
bool passes(const sim::RunResult& r, std::initializer_list<std::string_view> names) {
  for (const auto& i : r.invariants) {
    if (i.name == inv::kBrokerGuarantees && !i.pass) return false;
    for (std::string_view n : names)
      if (i.name == n && !i.pass) return false;
  }
  return true;
}

void expect(const Case& c, const CaseRun& o, std::initializer_list<std::string_view> names, const char* property) {
  if (!passes(o.result, names)) RC_FAIL(write_counterexample(c, o, property, ""));
}

// Each property is written once and checked in both styles: the same
// invariants must hold whether the services react to each other's events
// (choreography) or an orchestrator directs them (orchestration).
rc::Gen<Case> in_style(rc::Gen<Case> cases, const char* style) {
  return std::string_view(style) == "orchestration" ? orchestrated(std::move(cases)) : cases;
}
std::string named(const char* property, const char* style) {
  return std::string_view(style) == "orchestration" ? std::string("orchestration-") + property : property;
}

void conservation(const char* style) {
  const Case c = *in_style(gen_case(), style);
  const CaseRun o = run_case(c);
  expect(c, o, {inv::kMoneyConserved, inv::kStockConserved, inv::kNeverNegative}, named("conservation", style).c_str());
}

void eventual_consistency(const char* style) {
  const Case c = *in_style(gen_case(), style);
  const CaseRun o = run_case(c);
  RC_ASSERT(o.result.quiesced);
  expect(c, o, {inv::kTerminalWithinBound, inv::kConfirmedIffChargedAndReserved},
         named("eventual-consistency", style).c_str());
}

void compensation(const char* style) {
  const Case c = *in_style(gen_case(), style);
  const CaseRun o = run_case(c);
  expect(c, o, {inv::kCancelledCompensated}, named("compensation", style).c_str());
}

void idempotency(const char* style) {
  const Case c = *in_style(gen_duplicating_case(), style);
  const CaseRun o = run_case(c);
  expect(c, o, {inv::kEffectsAtMostOnce, inv::kMoneyConserved, inv::kStockConserved}, named("idempotency", style).c_str());
}

// A duplicate of any event, delivered again to every service that consumes
// its topic after the run, changes nothing: it is either recognised by the
// inbox or handled without a single write.
void redelivery(const char* style) {
  const Case c = *in_style(gen_duplicating_case(8), style);
  const faults::RunSpec spec = faults::make_run_spec(sim::parse_scenario(to_scenario(c, "idempotency"), "case", saga::order_saga()));
  faults::World world(spec, faults::RunConfig{c.seed});
  world.sim().broker().set_retention(false);  // every record is replayed below
  world.start();
  world.run();
  sim::Simulation& sim = world.sim();
  for (const char* name : {"order", "payment", "inventory"}) {
    Service& service = sim.service(name);
    Store& store = sim.store(name);
    for (std::string_view topic : service.subscriptions()) {
      const sim::TopicId t = sim.broker().topic_id(topic);
      for (int32_t p = 0; p < sim.broker().partitions(t); ++p)
        for (size_t off = 0; off < sim.broker().log_size(t, PartitionId{p}); ++off) {
          const EventPtr& e = sim.broker().record(t, PartitionId{p}, Offset{static_cast<int64_t>(off)});
          Transaction txn(store, "property");
          const sagasim::Outcome outcome = process_event(service, sim.instance(std::string(name) + "-1"), txn, *e, CommitPolicy::Defer);
          if (outcome == sagasim::Outcome::Processed)
            RC_FAIL(fmt::format("{} changed state on a redelivery of {} ({} for {})", name, e->event_id, e->type,
                                e->correlation_id));
        }
    }
  }
}

void determinism(const char* style) {
  const Case c = *in_style(gen_case(8, 3), style);
  const CaseRun a = run_case(c, "", false);
  const CaseRun b = run_case(c, "", false);
  RC_ASSERT(a.result.trace_hash == b.result.trace_hash);
  RC_ASSERT(a.result.deliveries == b.result.deliveries);
}

// On the wire, every record is encoded by its producer's codec and decoded by
// its consumer's, schema checks included, and a random set of instances runs
// the old build of OrderCreated (v1): a rolling upgrade frozen halfway. v1
// and v2 are FULL compatible, so the run must be the very same run: the same
// steps, every record readable, every invariant as off the wire.
//
// The steps of a trace without its header (which carries the scenario, so
// differs) and without the envelopes of published records (which show the
// version each producer wrote).
std::vector<nlohmann::json> steps_of(const std::string& trace) {
  std::vector<nlohmann::json> out;
  std::istringstream in(trace);
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (j.value("kind", "") == "header" || j.value("kind", "") == "end") continue;
    j.erase("event");
    out.push_back(std::move(j));
  }
  return out;
}

void wire(const char* style) {
  const Case c = *in_style(gen_case(8, 3), style);
  const auto old_build = *rc::gen::container<std::vector<bool>>(
      static_cast<size_t>(c.order_instances + c.payment_instances + c.inventory_instances), rc::gen::arbitrary<bool>())
      .as("instances on OrderCreated v1 (order..., payment..., inventory...)");
  nlohmann::json scenario = to_scenario(c, named("wire", style));
  nlohmann::json versions = nlohmann::json::object();
  size_t k = 0;
  for (const auto& [service, n] : {std::pair<const char*, int>{"order", c.order_instances},
                                   {"payment", c.payment_instances}, {"inventory", c.inventory_instances}})
    for (int i = 1; i <= n; ++i, ++k)
      if (old_build[k]) versions[fmt::format("{}-{}", service, i)] = {{"pins", {{"OrderCreated", 1}}}};
  scenario["wire"] = versions.empty() ? nlohmann::json(true) : nlohmann::json{{"versions", versions}};
  const CaseRun off = run_case(c);
  const CaseRun on = props::run_case(scenario, saga::order_saga(), c.seed);
  if (!holds(on.result, {inv::kRecordsReadable}))
    RC_FAIL(props::write_counterexample(scenario, on, named("wire", style), "sagasim run {path} --seed {seed}"));
  RC_ASSERT(steps_of(on.trace) == steps_of(off.trace));
  for (size_t i = 0; i < on.result.invariants.size(); ++i) RC_ASSERT(on.result.invariants[i].pass == off.result.invariants[i].pass);
}

RC_GTEST_PROP(Saga, onTheWireWithMixedVersionsTheRunIsTheSame, ()) { wire("choreography"); }
RC_GTEST_PROP(Orchestration, onTheWireWithMixedVersionsTheRunIsTheSame, ()) { wire("orchestration"); }

RC_GTEST_PROP(Saga, moneyAndStockAreConservedAtEveryStep, ()) { conservation("choreography"); }
RC_GTEST_PROP(Saga, everyOrderIsDecidedInTimeAndTheServicesAgree, ()) { eventual_consistency("choreography"); }
RC_GTEST_PROP(Saga, aCancelledOrderIsRefundedAndReleased, ()) { compensation("choreography"); }
RC_GTEST_PROP(Saga, duplicatesChargeReserveRefundAndReleaseAtMostOnce, ()) { idempotency("choreography"); }
RC_GTEST_PROP(Saga, redeliveringAnyEventChangesNothing, ()) { redelivery("choreography"); }
RC_GTEST_PROP(Saga, theSameCaseGivesTheSameTraceHash, ()) { determinism("choreography"); }

RC_GTEST_PROP(Orchestration, moneyAndStockAreConservedAtEveryStep, ()) { conservation("orchestration"); }
RC_GTEST_PROP(Orchestration, everyOrderIsDecidedInTimeAndTheServicesAgree, ()) { eventual_consistency("orchestration"); }
RC_GTEST_PROP(Orchestration, aCancelledOrderIsRefundedAndReleased, ()) { compensation("orchestration"); }
RC_GTEST_PROP(Orchestration, duplicatesChargeReserveRefundAndReleaseAtMostOnce, ()) { idempotency("orchestration"); }
RC_GTEST_PROP(Orchestration, redeliveringAnyEventChangesNothing, ()) { redelivery("orchestration"); }
RC_GTEST_PROP(Orchestration, theSameCaseGivesTheSameTraceHash, ()) { determinism("orchestration"); }

// The orchestrator's durable saga log is the truth about every order once
// the run is quiet (invariant saga_log_complete, orchestration only): a
// decided order's log records the decision, and every charge or reservation
// it heard of for a cancelled order was asked to be undone and heard back.
RC_GTEST_PROP(Orchestration, theSagaLogAccountsForEveryStepOfEveryOrder, ()) {
  const Case c = *orchestrated(gen_case());
  const CaseRun o = run_case(c);
  RC_ASSERT(o.result.quiesced);
  RC_ASSERT(std::any_of(o.result.invariants.begin(), o.result.invariants.end(),
                        [](const auto& i) { return i.name == inv::kSagaLogComplete; }));
  expect(c, o, {inv::kSagaLogComplete}, "orchestration-saga-log");
}

// The check catches an orchestrator that forgets to compensate, and passes
// the same run without the bug.
TEST(Orchestration, TheSagaLogCheckCatchesAnOrchestratorThatSkipsRefunds) {
  const faults::RunSpec spec =
      faults::load_run_spec(std::string(SAGASIM_SOURCE_DIR) + "/scenarios/orchestrator-crash-restart.json", saga::order_saga());
  auto saga_log = [](const sim::RunResult& r) {
    for (const auto& i : r.invariants)
      if (i.name == inv::kSagaLogComplete) return i;
    return sim::InvariantOutcome{"(missing)", false, {}};
  };
  const sim::RunResult broken = faults::run(spec, faults::RunConfig{1, false, nullptr, "0.1.0", "orchestrator-skips-refund"});
  const sim::InvariantOutcome b = saga_log(broken);
  EXPECT_FALSE(b.pass);
  ASSERT_FALSE(b.violations.empty());
  EXPECT_NE(b.violations[0].message.find("the refund was not asked for"), std::string::npos) << b.violations[0].message;
  const sim::RunResult fixed = faults::run(spec, faults::RunConfig{1});
  EXPECT_TRUE(saga_log(fixed).pass);
  EXPECT_TRUE(fixed.ok());
}

}  // namespace
}  // namespace sagasim::props
