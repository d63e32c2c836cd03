// The saga's invariants as RapidCheck properties over generated workloads,
// topologies and fault plans. On failure the shrunk case is written as a
// scenario file that `sagasim run` replays, and printed as a timeline.
//
// Budget: RapidCheck's default 100 cases per property; RC_PARAMS="max_success=100000"
// for a long run (docs/property-testing.md).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/memory_store.h"
#include "invariants/checker.h"
#include "saga_case.h"

namespace sagasim::props {
namespace {

bool passes(const sim::RunResult& r, std::initializer_list<std::string_view> names) {
  for (const auto& i : r.invariants)
    for (std::string_view n : names)
      if (i.name == n && !i.pass) return false;
  return true;
}

void expect(const Case& c, const CaseRun& o, std::initializer_list<std::string_view> names, const char* property) {
  if (!passes(o.result, names)) RC_FAIL(write_counterexample(c, o, property, saga::Mutant::None));
}

RC_GTEST_PROP(Saga, moneyAndStockAreConservedAtEveryStep, ()) {
  const Case c = *gen_case();
  const CaseRun o = run_case(c);
  expect(c, o, {inv::kMoneyConserved, inv::kStockConserved, inv::kNeverNegative}, "conservation");
}

RC_GTEST_PROP(Saga, everyOrderIsDecidedInTimeAndTheServicesAgree, ()) {
  const Case c = *gen_case();
  const CaseRun o = run_case(c);
  RC_ASSERT(o.result.quiesced);
  expect(c, o, {inv::kTerminalWithinBound, inv::kConfirmedIffChargedAndReserved}, "eventual-consistency");
}

RC_GTEST_PROP(Saga, aCancelledOrderIsRefundedAndReleased, ()) {
  const Case c = *gen_case();
  const CaseRun o = run_case(c);
  expect(c, o, {inv::kCancelledCompensated}, "compensation");
}

RC_GTEST_PROP(Saga, duplicatesChargeReserveRefundAndReleaseAtMostOnce, ()) {
  const Case c = *gen_duplicating_case();
  const CaseRun o = run_case(c);
  expect(c, o, {inv::kEffectsAtMostOnce, inv::kMoneyConserved, inv::kStockConserved}, "idempotency");
}

// A duplicate of any event, delivered again to every service that consumes
// its topic after the run, changes nothing: it is either recognised by the
// inbox or handled without a single write.
RC_GTEST_PROP(Saga, redeliveringAnyEventChangesNothing, ()) {
  const Case c = *gen_duplicating_case(8);
  const faults::RunSpec spec = faults::make_run_spec(sim::parse_scenario(to_scenario(c, "idempotency"), "case"));
  faults::World world(spec, faults::RunConfig{c.seed});
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

RC_GTEST_PROP(Saga, theSameCaseGivesTheSameTraceHash, ()) {
  const Case c = *gen_case(8, 3);
  const CaseRun a = run_case(c, saga::Mutant::None, false);
  const CaseRun b = run_case(c, saga::Mutant::None, false);
  RC_ASSERT(a.result.trace_hash == b.result.trace_hash);
  RC_ASSERT(a.result.deliveries == b.result.deliveries);
}

}  // namespace
}  // namespace sagasim::props
