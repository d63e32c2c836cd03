// The bug zoo against the property suite: every mutant must be caught within
// a bounded budget, its counterexample must shrink small, and the shrunk
// scenario file must fail the same invariant when replayed with --mutant.
// Prints one line per mutant (cases to detection, time, shrunk size) that
// docs/property-testing.md records.
#include <algorithm>
#include <chrono>
#include <fstream>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "saga_case.h"
#include "sagas/order/order_saga.h"
#include "sagas/order/workload.h"

namespace sagasim::props {
namespace {

struct Caught {
  bool failed = false;
  int cases = 0;
  std::string invariant;
};

std::string first_failing(const sim::RunResult& r) {
  for (const auto& i : r.invariants)
    if (!i.pass) return i.name;
  return "";
}

// Every mutant that changes anything in a style, in that style: the order
// saga's variants and the runtime's own mutants.
struct StyledMutant {
  sim::VariantInfo info;
  std::string style;
};
std::vector<StyledMutant> mutants_in(const std::string& style) {
  std::vector<StyledMutant> out;
  for (const auto& m : sim::all_mutants(*saga::order_saga()))
    if (m.styles.empty() || std::find(m.styles.begin(), m.styles.end(), style) != m.styles.end())
      out.push_back({m, style});
  return out;
}

class MutantTest : public ::testing::TestWithParam<StyledMutant> {};

TEST_P(MutantTest, IsCaughtAndShrinksToASmallReplayableScenario) {
  const std::string& mutant = GetParam().info.name;
  const std::string& style = GetParam().style;
  const std::string property =
      (style == "choreography" ? "mutant-" : "orchestration-mutant-") + std::string(GetParam().info.name);
  std::string last_invariant;
  const auto start = std::chrono::steady_clock::now();

  rc::detail::TestParams params;
  params.seed = 20261126;  // fixed: the budget and the table are reproducible
  params.maxSuccess = 300;
  params.maxSize = 100;
  const auto result = rc::detail::checkTestable(
      [&] {
        const Case c = *(style == "choreography" ? gen_case() : orchestrated(gen_case()));
        const CaseRun o = run_case(c, mutant);
        if (!o.result.ok()) {
          last_invariant = first_failing(o.result);
          RC_FAIL(write_counterexample(c, o, property, mutant));
        }
      },
      rc::detail::TestMetadata{}, params);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  rc::detail::FailureResult failure;
  ASSERT_TRUE(result.match(failure)) << GetParam().info.name << " survived " << params.maxSuccess << " cases in " << style;

  // The shrunk counterexample: small, and it replays.
  const std::string path = counterexample_path(property);
  const faults::RunSpec spec = faults::load_run_spec(path, saga::order_saga());
  const size_t orders = spec.scenario.settings<saga::OrderSettings>().workload.orders.size(), nfaults = spec.plan.faults.size();
  EXPECT_LE(orders, 6u) << path;
  EXPECT_LE(nfaults, 4u) << path;
  const sim::RunResult replay =
      faults::run(spec, faults::RunConfig{spec.scenario.seed.value_or(1), false, nullptr, "0.1.0", mutant});
  EXPECT_FALSE(replay.ok()) << path;
  EXPECT_EQ(first_failing(replay), last_invariant) << path;
  // Without the mutant the same scenario passes: the bug is the mutant's.
  EXPECT_TRUE(faults::run(spec, faults::RunConfig{spec.scenario.seed.value_or(1)}).ok()) << path;

  if (std::getenv("SAGASIM_SHOW_COUNTEREXAMPLES")) std::printf("%s\n", failure.description.c_str());
  std::printf("mutant-table | %-13s | %-34s | %4d | %6.2f s | %zu orders, %zu faults | %s\n", style.c_str(),
              GetParam().info.name.data(),
              failure.numSuccess + 1, secs, orders, nfaults, last_invariant.c_str());
}

std::string test_name(const ::testing::TestParamInfo<StyledMutant>& info) {
  std::string n(info.param.info.name);
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}
INSTANTIATE_TEST_SUITE_P(BugZoo, MutantTest, ::testing::ValuesIn(mutants_in("choreography")), test_name);
INSTANTIATE_TEST_SUITE_P(OrchestrationBugZoo, MutantTest, ::testing::ValuesIn(mutants_in("orchestration")), test_name);

}  // namespace
}  // namespace sagasim::props
