// Bad fault plans are rejected with the file, the JSON path and what is wrong.
#include <gtest/gtest.h>

#include "faults/plan.h"
#include "tests/testing/tally_saga.h"

namespace sagasim::faults {
namespace {

using nlohmann::json;

std::string error_of(json fault) {
  json j = {{"format_version", 1},
            {"name", "t"},
            {"saga", {{"name", "tally"}}},
            {"topology", {{"partitions", 2}, {"instances", {{"vault", 2}}}}},
            {"workload", {{"accounts", {1}}, {"asks", {{"count", 1}}}}},
            {"faults", json::array({{{"class", "stall"}, {"at_ms", 1}}, fault})}};
  try {
    parse_plan(sim::parse_scenario(j, "x.json", testing::tally_saga()));
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(FaultPlan, RejectsBadEntriesNamingTheJsonPath) {
  EXPECT_NE(error_of({{"class", "meteor"}, {"at_ms", 1}}).find("x.json at /faults/1/class: unknown fault class 'meteor'"),
            std::string::npos);
  EXPECT_EQ(error_of({{"class", "stall"}, {"at_ms", 1}, {"duration_ms", -5}}),
            "x.json at /faults/1/duration_ms: -5 is out of range [0.001, 31536000000]");
  EXPECT_EQ(error_of({{"class", "crash"}, {"target", "shipping"}, {"probability", 0.1}}),
            "x.json at /faults/1/target: unknown target 'shipping' (want a service, an instance such as vault-1)");
  EXPECT_EQ(error_of({{"class", "crash"}, {"target", "vault-3"}, {"probability", 0.1}}),
            "x.json at /faults/1/target: no instance 'vault-3': the topology starts 2 vault instance(s)");
  EXPECT_EQ(error_of({{"class", "join"}, {"target", "vault-1"}, {"at_ms", 1}}),
            "x.json at /faults/1/target: unknown service 'vault-1' (want desk, vault or ledger)");
  EXPECT_EQ(error_of({{"class", "lost_commit"}, {"probability", 1.5}}),
            "x.json at /faults/1/probability: 1.5 is out of range [0, 1]");
  EXPECT_EQ(error_of({{"class", "lost_commit"}, {"probability", -0.1}}),
            "x.json at /faults/1/probability: -0.1 is out of range [0, 1]");
  EXPECT_EQ(error_of({{"class", "partition_unavailable"}, {"topic", "shipments"}, {"at_ms", 1}}),
            "x.json at /faults/1/topic: no topic 'shipments' (topics: asks, takes, answers, grants, receipts)");
  EXPECT_EQ(error_of({{"class", "partition_unavailable"}, {"topic", "takes"}, {"partition", 2}, {"at_ms", 1}}),
            "x.json at /faults/1/partition: 2 is out of range [-1, 1]");
  EXPECT_EQ(error_of({{"class", "stall"}}), "x.json at /faults/1: needs at_ms (when it happens) or probability (how often)");
  EXPECT_EQ(error_of({{"class", "stall"}, {"at_ms", 1}, {"probability", 0.5}}),
            "x.json at /faults/1/probability: give either at_ms (scheduled) or probability, not both");
  EXPECT_NE(error_of({{"class", "session_timeout"}, {"at_ms", 1}, {"duration_ms", 500}}).find("does not outlast"),
            std::string::npos);
  EXPECT_NE(error_of({{"class", "crash"}, {"at_ms", 1}, {"point", "midway"}}).find("unknown crash point 'midway'"),
            std::string::npos);
  EXPECT_NE(error_of({{"class", "stall"}, {"at_ms", 1}, {"colour", "red"}}).find("/faults/1/colour: unknown field"),
            std::string::npos);
  EXPECT_EQ(error_of({{"class", "stall"}, {"at_ms", 1}}), "(accepted)");
}

TEST(FaultPlan, SwarmKeepsASeedDependentSubsetOfClasses) {
  json j = {{"format_version", 1},
            {"name", "t"},
            {"saga", {{"name", "tally"}}},
            {"broker", {{"request_timeout_ms", 1000}}},
            {"workload", {{"accounts", {1}}, {"asks", {{"count", 1}}}}}};
  const FaultPlan base = default_chaos_plan(sim::parse_scenario(j, "x.json", testing::tally_saga()));
  std::set<FaultClass> all;
  for (const auto& f : base.faults) all.insert(f.cls);
  EXPECT_EQ(all.size(), static_cast<size_t>(kFaultClassCount));
  std::set<std::vector<int>> mixes;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    const FaultPlan a = swarm(base, seed), b = swarm(base, seed);
    ASSERT_EQ(a.faults.size(), b.faults.size());  // the same seed, the same mix
    ASSERT_FALSE(a.faults.empty());
    std::vector<int> mix;
    for (const auto& f : a.faults) mix.push_back(static_cast<int>(f.cls));
    mixes.insert(mix);
    EXPECT_LT(a.faults.size(), base.faults.size() + 1);
  }
  EXPECT_GT(mixes.size(), 40u);  // seeds really differ

  // With librdkafka's default 30 s request timeout a single lost ack would
  // outlast the liveness bound, so the default plan leaves ack loss out.
  j["broker"]["request_timeout_ms"] = 30000;
  for (const auto& f : default_chaos_plan(sim::parse_scenario(j, "x.json", testing::tally_saga())).faults)
    EXPECT_TRUE(f.cls != FaultClass::ProducerRetry && f.cls != FaultClass::LeaderFailover &&
                f.cls != FaultClass::NetworkPartition);
}

}  // namespace
}  // namespace sagasim::faults
