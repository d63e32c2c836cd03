// The property API (properties/properties.h) tested on its own, with the
// engine's test saga (tests/testing/tally_saga.h) instead of the order saga:
// generated fault plans aimed at the saga's own services, instances and
// topics; a case run; holds(); and a counterexample written as a scenario
// that replays failing. The order saga's properties are in tests/sagas/order/.
#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "properties/properties.h"
#include "tests/testing/tally_saga.h"

namespace sagasim::props {
namespace {

using nlohmann::json;
using testing::tally_saga;

// A case: a request timeout well inside the liveness bound (librdkafka's
// 30 s default would let one lost ack outlast it), idempotence on or off.
json tally_case(int asks, int vaults, uint64_t accounts_seed, bool idempotent = true) {
  json j = testing::tally_scenario(asks, 2, vaults);
  j["name"] = "tally-case";
  j["topology"]["idempotent_producer"] = idempotent;
  j["broker"] = {{"request_timeout_ms", 500}, {"retry_backoff_ms", 50}, {"session_timeout_ms", 1000},
                 {"rebalance_delay_ms", 100}, {"delivery_latency", {{"dist", "uniform"}, {"min_ms", 1}, {"max_ms", 5}}}};
  j["workload"]["accounts"] = {2 + accounts_seed % 5, 4, 1 + accounts_seed % 3};
  return j;
}

Topology tally_topology(const json& scenario) {
  return topology_of(sim::parse_scenario(scenario, "case", tally_saga()));
}

TEST(EngineProperties, TheTopologyIsTheSagasOwn) {
  const Topology t = tally_topology(tally_case(5, 2, 1));
  ASSERT_EQ(t.services.size(), 3u);
  EXPECT_EQ(t.services[1], (std::pair<std::string, int>{"vault", 2}));
  EXPECT_EQ(t.topics, (std::vector<std::string>{"asks", "takes", "answers", "grants", "receipts"}));
  EXPECT_EQ(t.partitions, 2);
}

// Every generated fault names something the test saga has, so every fault
// plan the generators make is a valid scenario for it.
RC_GTEST_PROP(EngineProperties, generatedFaultsAimAtTheSagasOwnServicesAndTopics, ()) {
  const json scenario = tally_case(3, *rc::gen::inRange(1, 4), 1);
  const Topology topology = tally_topology(scenario);
  const auto faults = *gen_faults(6);
  std::set<std::string> names = {"desk", "vault", "ledger"};
  for (int i = 1; i <= 3; ++i) names.insert({"desk-" + std::to_string(i), "vault-" + std::to_string(i),
                                             "ledger-" + std::to_string(i)});
  for (const json& f : faults_json(topology, faults)) {
    if (f.contains("target")) RC_ASSERT(names.count(f["target"].get<std::string>()) == 1u);
    if (f.contains("topic")) {
      const std::string topic = f["topic"];
      RC_ASSERT(std::find(topology.topics.begin(), topology.topics.end(), topic) != topology.topics.end());
    }
  }
  json j = scenario;
  j["faults"] = faults_json(topology, faults);
  (void)sim::parse_scenario(j, "case", tally_saga());  // accepted (InputError would fail the property)
}

// The engine keeps every guarantee for any saga: under any generated fault
// plan, the test saga as written keeps all its invariants and the broker's.
RC_GTEST_PROP(EngineProperties, theTestSagaAsWrittenHoldsUnderAnyFaultPlan, ()) {
  json scenario = tally_case(*rc::gen::inRange(1, 12), *rc::gen::inRange(1, 3), *rc::gen::inRange<uint64_t>(0, 100),
                             *rc::gen::arbitrary<bool>());
  scenario["faults"] = faults_json(tally_topology(scenario), *gen_faults(4));
  const uint64_t seed = *rc::gen::inRange<uint64_t>(1, 1000000);
  const CaseRun run = run_case(scenario, tally_saga(), seed);
  if (!holds(run.result, {})) RC_FAIL(write_counterexample(scenario, run, "tally", "tally {path} --seed {seed}"));
}

// A broken variant of the test saga is caught by the properties, and its
// counterexample file replays failing (the same scenario, seed and mutant).
TEST(EngineProperties, ABrokenSagaIsCaughtAndItsCounterexampleReplays) {
  const std::string mutant(testing::kLedgerNoDedupe);
  bool caught = false;
  json failing;
  uint64_t failing_seed = 0;
  for (uint64_t seed = 1; seed <= 200 && !caught; ++seed) {
    json scenario = tally_case(10, 2, seed);
    scenario["faults"] = {{{"class", "crash"}, {"target", "ledger"}, {"point", "after_commit_before_publish"},
                           {"probability", 0.3}, {"downtime_ms", 100}}};
    const CaseRun run = run_case(scenario, tally_saga(), seed, mutant);
    EXPECT_TRUE(holds(run.result, {testing::kUnitsConserved, testing::kDecided}));  // only the ledger is broken
    if (!holds(run.result, {testing::kRecordedOnce})) {
      caught = true;
      failing = scenario;
      failing_seed = seed;
      const std::string report = write_counterexample(scenario, run, "tally-ledger-no-dedupe", "tally {path} --seed {seed}");
      EXPECT_NE(report.find(std::string(testing::kRecordedOnce)), std::string::npos) << report;
      std::ifstream in(counterexample_path("tally-ledger-no-dedupe"));
      ASSERT_TRUE(in.good());
      const json written = json::parse(in);
      EXPECT_FALSE(holds(run_case(written, tally_saga(), failing_seed, mutant).result, {testing::kRecordedOnce}));
    }
  }
  ASSERT_TRUE(caught) << "ledger-no-dedupe survived 200 seeds with ledger crashes";
  // The same case with the saga as written passes.
  EXPECT_TRUE(holds(run_case(failing, tally_saga(), failing_seed).result, {}));
}

}  // namespace
}  // namespace sagasim::props
