// A generated case runs from a scenario built directly (run_spec), not from
// its JSON written and parsed back; the JSON is written only for a
// counterexample. The two must be the very same run: the same trace, byte for
// byte (its header carries the scenario's text, so the trace hash covers
// it), and the same result, in both styles, with every kind of fault, the
// order instance away across the deadlines, and mutants.
#include <algorithm>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "saga_case.h"
#include "sagas/order/order_saga.h"

namespace sagasim::props {
namespace {

// The run through the JSON path: to_scenario, parse_scenario, make_run_spec.
CaseRun run_from_json(const Case& c, const std::string& mutant) {
  return props::run_case(to_scenario(c, "property-case"), saga::order_saga(), c.seed, mutant);
}

void same_run(const Case& c, const std::string& mutant) {
  RC_ASSERT(scenario_text(c, "property-case") ==
            to_scenario(c, "property-case").dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  const CaseRun direct = run_case(c, mutant);
  const CaseRun parsed = run_from_json(c, mutant);
  const sim::RunResult& a = direct.result;
  const sim::RunResult& b = parsed.result;
  RC_ASSERT(a.trace_hash == b.trace_hash);
  RC_ASSERT(direct.trace == parsed.trace);
  RC_ASSERT(a.scenario == b.scenario);
  RC_ASSERT(a.seed == b.seed);
  RC_ASSERT(a.steps == b.steps);
  RC_ASSERT(a.instances.total == b.instances.total);
  RC_ASSERT(a.instances.completed == b.instances.completed);
  RC_ASSERT(a.instances.compensated == b.instances.compensated);
  RC_ASSERT(a.instances.undecided == b.instances.undecided);
  RC_ASSERT(a.paths == b.paths);
  RC_ASSERT(a.faults_fired == b.faults_fired);
  RC_ASSERT(a.deliveries == b.deliveries);
  RC_ASSERT(a.appends == b.appends);
  RC_ASSERT(a.duplicates_skipped == b.duplicates_skipped);
  RC_ASSERT(a.producer_retries == b.producer_retries);
  RC_ASSERT(a.scheduler_events == b.scheduler_events);
  RC_ASSERT(a.virtual_ms == b.virtual_ms);
  RC_ASSERT(a.quiesced == b.quiesced);
  RC_ASSERT(a.invariants.size() == b.invariants.size());
  for (size_t i = 0; i < a.invariants.size(); ++i) {
    RC_ASSERT(a.invariants[i].name == b.invariants[i].name);
    RC_ASSERT(a.invariants[i].pass == b.invariants[i].pass);
    RC_ASSERT(a.invariants[i].violations.size() == b.invariants[i].violations.size());
    for (size_t k = 0; k < a.invariants[i].violations.size(); ++k) {
      RC_ASSERT(a.invariants[i].violations[k].entity == b.invariants[i].violations[k].entity);
      RC_ASSERT(a.invariants[i].violations[k].message == b.invariants[i].violations[k].message);
      RC_ASSERT(a.invariants[i].violations[k].at_us == b.invariants[i].violations[k].at_us);
    }
  }
}

RC_GTEST_PROP(SagaCase, aCaseBuiltDirectlyRunsExactlyAsItsScenarioFile, ()) { same_run(*gen_case(), ""); }

RC_GTEST_PROP(SagaCase, anOrchestratedCaseBuiltDirectlyRunsExactlyAsItsScenarioFile, ()) {
  same_run(*orchestrated(gen_case()), "");
}

RC_GTEST_PROP(SagaCase, aDuplicatingCaseBuiltDirectlyRunsExactlyAsItsScenarioFile, ()) {
  same_run(*gen_duplicating_case(), "");
}

// Mutants break invariants: the violations must match as well.
// Mutants break invariants: the violations must match as well. Each in a
// style it changes anything in.
RC_GTEST_PROP(SagaCase, aCaseUnderAMutantBuiltDirectlyRunsExactlyAsItsScenarioFile, ()) {
  const sim::VariantInfo mutant = *rc::gen::elementOf(sim::all_mutants(*saga::order_saga()));
  Case c = *gen_case();
  if (!mutant.styles.empty()) c.style = mutant.styles.front();
  same_run(c, mutant.name);
}

// The header text is written by hand: a name that needs escaping, the
// orchestration style and the extra faults of a case away across the
// deadlines must come out as nlohmann writes them.
TEST(SagaCase, TheScenarioTextIsTheJsonDumped) {
  Case c;
  c.partitions = 3;
  c.order_instances = 1;
  c.payment_instances = 1;
  c.inventory_instances = 2;
  c.idempotent = false;
  c.balances = {0, 12345};
  c.stock = {7};
  c.orders = {Order{1, {Line{0, 2, 100}, Line{3, 1, 1001}}, 20}, Order{0, {Line{1, 6, 1}}, 0}};
  c.faults = {Fault{0, 1, 10, 500, 1, 2, 3}, Fault{5, 7, 2500, 2000, 2, 0, 0}};
  c.seed = 18446744073709551615ULL;
  c.style = "orchestration";
  c.away_across_deadlines = true;
  const std::string name = "a \"quoted\"\tname\xc3\xa9 \xff";
  EXPECT_EQ(scenario_text(c, name), to_scenario(c, name).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  c.style = "choreography";
  EXPECT_EQ(scenario_text(c, "property-case"),
            to_scenario(c, "property-case").dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace
}  // namespace sagasim::props
