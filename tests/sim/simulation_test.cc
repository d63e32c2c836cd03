#include "sim/simulation.h"
#include "sagas/order/order_saga.h"

#include <filesystem>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "sagas/order/state.h"
#include "tests/sim/small_scenario.h"

namespace sagasim::sim {
namespace {

struct StringSink : TraceSink {
  std::string text;
  void write(std::string_view line) override { text.append(line); }
};

Scenario small_scenario(int orders = 60, int payment_instances = 2) {
  return parse_scenario(test_support::small_scenario_json(orders, 2, 1, payment_instances), "test", saga::order_saga());
}

bool all_pass(const RunResult& r) {
  for (const auto& i : r.invariants)
    if (!i.pass) {
      ADD_FAILURE() << i.name << ": " << i.violations.front().entity << " " << i.violations.front().message;
      return false;
    }
  return true;
}

TEST(Simulation, SameSeedSameTraceByteForByte) {
  const Scenario s = small_scenario();
  StringSink a, b;
  const RunResult ra = run_scenario(s, {.seed = 5, .trace = &a});
  const RunResult rb = run_scenario(s, {.seed = 5, .trace = &b});
  EXPECT_EQ(ra.trace_hash, rb.trace_hash);
  EXPECT_EQ(a.text, b.text);
  EXPECT_GT(a.text.size(), 1000u);
  // Writing the trace or not does not change the hash.
  EXPECT_EQ(run_scenario(s, {.seed = 5}).trace_hash, ra.trace_hash);
  EXPECT_NE(run_scenario(s, {.seed = 6}).trace_hash, ra.trace_hash);
}

TEST(Simulation, TheTraceIsJsonLinesWithHeaderAndFooter) {
  StringSink sink;
  const RunResult r = run_scenario(small_scenario(10), {.seed = 2, .trace = &sink});
  std::istringstream in(sink.text);
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines.front()["kind"], "header");
  EXPECT_EQ(lines.front()["seed"], 2);
  EXPECT_EQ(lines.front()["scenario"], "small");
  EXPECT_EQ(lines.back()["kind"], "end");
  EXPECT_EQ(lines.back()["trace_hash"], r.trace_hash);
  EXPECT_EQ(lines.back()["steps"], r.steps);
  std::set<std::string> kinds;
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    kinds.insert(lines[i]["kind"].get<std::string>());
    EXPECT_EQ(lines[i]["step"], i);
  }
  for (const char* k : {"publish", "deliver", "handle", "state", "commit", "rebalance", "lifecycle"})
    EXPECT_TRUE(kinds.count(k)) << k;
}

TEST(Simulation, EveryOrderIsDecidedAndEveryInvariantHolds) {
  const RunResult r = run_scenario(small_scenario(), {.seed = 3});
  EXPECT_TRUE(all_pass(r));
  EXPECT_TRUE(r.quiesced);
  EXPECT_EQ(r.instances.total, 60);
  EXPECT_EQ(r.instances.undecided, 0);
  EXPECT_EQ(r.instances.completed + r.instances.compensated, 60);
  EXPECT_GT(r.instances.completed, 0);
  EXPECT_GT(r.instances.compensated, 0);
}

TEST(Simulation, TheHappyPathScenarioTakesBothCompensationPaths) {
  const Scenario s = load_scenario_file(std::string(SAGASIM_SOURCE_DIR) + "/scenarios/happy-path.json", saga::order_saga());
  for (uint64_t seed : {7, 8, 9}) {
    RunResult r = run_scenario(s, {.seed = seed});
    EXPECT_TRUE(all_pass(r)) << "seed " << seed;
    EXPECT_EQ(r.instances.undecided, 0);
    EXPECT_GT(r.paths["confirmed"], 0);
    EXPECT_GT(r.paths["payment_failed"], 0) << "seed " << seed;
    EXPECT_GT(r.paths["inventory_failed"], 0) << "seed " << seed;  // charged, then refunded
  }
}

TEST(Simulation, AnInstanceCrashCausesRedeliveryThatTheInboxAbsorbs) {
  const Scenario s = small_scenario(120, 1);
  Simulation sim(s, {.seed = 4});
  sim.start();
  sim.run_until(sim.epoch() + Duration::millis(600));
  // Crash right after a local commit, before its outbox rows are acknowledged
  // and so before the consumer offset is committed.
  while (sim.store("payment").unpublished("payment-1").empty()) sim.scheduler().step();
  sim.instance("payment-1").crash();
  // A second payment instance takes over after the session timeout; the first
  // one comes back later and rejoins.
  sim.add_instance("payment");
  sim.run_until(sim.scheduler().now() + Duration::seconds(2));
  sim.instance("payment-1").restart();
  sim.run_until_quiet(Time::max());
  const RunResult r = sim.finish();
  EXPECT_TRUE(all_pass(r));
  EXPECT_EQ(r.instances.undecided, 0);
  // Some of what payment-1 handled but had not committed came back.
  EXPECT_GT(r.duplicates_skipped, 0u);
}

}  // namespace
}  // namespace sagasim::sim

namespace sagasim::sim {
namespace {

TEST(TraceText, StringsAreEscapedAndInvalidUtf8IsReplaced) {
  fmt::memory_buffer out;
  const char raw[] = "quote\" back\\ nl\n tab\t ctl\x01 caf\xc3\xa9 bad\xff end\xe2\x82";
  append_json_string(out, std::string_view(raw, sizeof raw - 1));
  const std::string text(out.data(), out.size());
  const nlohmann::json parsed = nlohmann::json::parse(text);  // valid JSON text, valid UTF-8
  EXPECT_EQ(parsed.get<std::string>(), "quote\" back\\ nl\n tab\t ctl\x01 caf\xc3\xa9 bad\xef\xbf\xbd end\xef\xbf\xbd\xef\xbf\xbd");  // U+FFFD per bad byte
}

}  // namespace
}  // namespace sagasim::sim
