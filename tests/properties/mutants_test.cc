// The bug zoo against the property suite: every mutant must be caught within
// a bounded budget, its counterexample must shrink small, and the shrunk
// scenario file must fail the same invariant when replayed with --mutant.
// Prints one line per mutant (cases to detection, time, shrunk size) that
// docs/property-testing.md records.
#include <chrono>
#include <fstream>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "saga_case.h"

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

class MutantTest : public ::testing::TestWithParam<saga::MutantInfo> {};

TEST_P(MutantTest, IsCaughtAndShrinksToASmallReplayableScenario) {
  const saga::Mutant mutant = GetParam().mutant;
  const std::string property = "mutant-" + std::string(GetParam().name);
  std::string last_invariant;
  const auto start = std::chrono::steady_clock::now();

  rc::detail::TestParams params;
  params.seed = 20261126;  // fixed: the budget and the table are reproducible
  params.maxSuccess = 300;
  params.maxSize = 100;
  const auto result = rc::detail::checkTestable(
      [&] {
        const Case c = *gen_case();
        const CaseRun o = run_case(c, mutant);
        if (!o.result.ok()) {
          last_invariant = first_failing(o.result);
          RC_FAIL(write_counterexample(c, o, property, mutant));
        }
      },
      rc::detail::TestMetadata{}, params);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  rc::detail::FailureResult failure;
  ASSERT_TRUE(result.match(failure)) << GetParam().name << " survived " << params.maxSuccess << " cases";

  // The shrunk counterexample: small, and it replays.
  const std::string path = counterexample_path(property);
  const faults::RunSpec spec = faults::load_run_spec(path);
  const size_t orders = spec.scenario.workload.orders.size(), nfaults = spec.plan.faults.size();
  EXPECT_LE(orders, 6u) << path;
  EXPECT_LE(nfaults, 4u) << path;
  const sim::RunResult replay =
      faults::run(spec, faults::RunConfig{spec.scenario.seed.value_or(1), false, nullptr, "0.1.0", mutant});
  EXPECT_FALSE(replay.ok()) << path;
  EXPECT_EQ(first_failing(replay), last_invariant) << path;
  // Without the mutant the same scenario passes: the bug is the mutant's.
  EXPECT_TRUE(faults::run(spec, faults::RunConfig{spec.scenario.seed.value_or(1)}).ok()) << path;

  if (std::getenv("SAGASIM_SHOW_COUNTEREXAMPLES")) std::printf("%s\n", failure.description.c_str());
  std::printf("mutant-table | %-34s | %4d | %6.2f s | %zu orders, %zu faults | %s\n", GetParam().name.data(),
              failure.numSuccess + 1, secs, orders, nfaults, last_invariant.c_str());
}

INSTANTIATE_TEST_SUITE_P(BugZoo, MutantTest, ::testing::ValuesIn(saga::all_mutants().begin(), saga::all_mutants().end()),
                         [](const ::testing::TestParamInfo<saga::MutantInfo>& info) {
                           std::string n(info.param.name);
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace sagasim::props
