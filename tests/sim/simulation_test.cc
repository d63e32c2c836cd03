// The simulator, run with the engine's own test saga (tests/testing/tally_saga.h),
// never with the built-in order saga: what is tested here is the engine.
#include "sim/simulation.h"

#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/testing/tally_saga.h"

namespace sagasim::sim {
namespace {

using testing::tally_saga;
using testing::tally_scenario;

struct StringSink : TraceSink {
  std::string text;
  void write(std::string_view line) override { text.append(line); }
};

Scenario small_scenario(int asks = 60, int vault_instances = 2) {
  return parse_scenario(tally_scenario(asks, 2, vault_instances), "test", tally_saga());
}

bool all_pass(const RunResult& r) {
  for (const auto& i : r.invariants)
    if (!i.pass) {
      ADD_FAILURE() << i.name << ": " << i.violations.front().entity << " " << i.violations.front().message;
      return false;
    }
  return true;
}

const InvariantOutcome* outcome(const RunResult& r, std::string_view name) {
  for (const auto& i : r.invariants)
    if (i.name == name) return &i;
  return nullptr;
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

TEST(Simulation, ProgressReportsOnlyReadTheRun) {
  const Scenario s = small_scenario(120, 2);
  StringSink plain, reported;
  const RunResult r = run_scenario(s, {.seed = 3, .trace = &plain});
  Simulation sim(s, {.seed = 3, .trace = &reported});
  sim.start();
  std::vector<Simulation::Progress> seen;
  sim.run_until_quiet(sim.epoch() + s.max_virtual, 7, [&](const Simulation::Progress& p) { seen.push_back(p); });
  const RunResult with = sim.finish();
  EXPECT_EQ(with.trace_hash, r.trace_hash);
  EXPECT_EQ(reported.text, plain.text);
  // Every 7th step: as many reports as sevens in the steps the loop took.
  EXPECT_EQ(seen.size(), with.scheduler_events / 7);
  ASSERT_GT(seen.size(), 10u);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i].placed, seen[i - 1].placed);
    EXPECT_GE(seen[i].deliveries, seen[i - 1].deliveries);
    EXPECT_GE(seen[i].now, seen[i - 1].now);
  }
  EXPECT_EQ(seen.back().placements, 120u);
  EXPECT_EQ(sim.progress().placed, 120u);
  EXPECT_EQ(sim.progress().deliveries, with.deliveries);
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
  EXPECT_EQ(lines.front()["scenario"], "tally");
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

TEST(Simulation, EveryInstanceIsDecidedAndTheSagaSpeaksOfItInItsOwnWords) {
  RunResult r = run_scenario(small_scenario(), {.seed = 3});
  EXPECT_TRUE(all_pass(r));
  EXPECT_TRUE(r.quiesced);
  EXPECT_EQ(r.instances.noun, "asks");
  EXPECT_EQ(r.instances.total, 60);
  EXPECT_EQ(r.instances.undecided, 0);
  EXPECT_EQ(r.instances.completed + r.instances.compensated, 60);
  EXPECT_GT(r.paths["granted"], 0);
  EXPECT_GT(r.paths["refused"], 0);  // the accounts run dry
  // The saga's invariants in its order, then the engine's own checks.
  ASSERT_GE(r.invariants.size(), 7u);
  EXPECT_EQ(r.invariants.front().name, testing::kUnitsConserved);
  EXPECT_NE(outcome(r, inv::kBrokerGuarantees), nullptr);
}

TEST(Simulation, ATimeoutCompensatesWhatWasTakenAndNothingElse) {
  // The vault answers slower than the desk waits: every ask times out, and
  // the vault releases what it held when the Undo arrives.
  nlohmann::json j = tally_scenario(20);
  j["saga"]["timeout_ms"] = 5;
  j["broker"]["delivery_latency"] = {{"dist", "constant"}, {"ms", 4}};
  RunResult r = run_scenario(parse_scenario(j, "t", tally_saga()), {.seed = 1});
  EXPECT_TRUE(all_pass(r));
  EXPECT_EQ(r.instances.compensated, 20);
  EXPECT_GT(r.paths["timeout_released"] + r.paths["timeout"], 0);
}

TEST(Simulation, AnInstanceCrashCausesRedeliveryThatTheInboxAbsorbs) {
  const Scenario s = small_scenario(120, 1);
  Simulation sim(s, {.seed = 4});
  sim.start();
  sim.run_until(sim.epoch() + Duration::millis(600));
  // Crash right after a local commit, before its outbox rows are acknowledged
  // and so before the consumer offset is committed.
  while (sim.store("vault").unpublished("vault-1").empty()) sim.scheduler().step();
  sim.instance("vault-1").crash();
  // A second vault instance takes over after the session timeout; the first
  // one comes back later and rejoins.
  sim.add_instance("vault");
  sim.run_until(sim.scheduler().now() + Duration::seconds(2));
  sim.instance("vault-1").restart();
  sim.run_until_quiet(Time::max());
  const RunResult r = sim.finish();
  EXPECT_TRUE(all_pass(r));
  EXPECT_EQ(r.instances.undecided, 0);
  // Some of what vault-1 handled but had not committed came back.
  EXPECT_GT(r.duplicates_skipped, 0u);
}

// Crashes ledger-1 right after a local commit whose Recorded is still in its
// outbox, and restarts it: the grants it handled come back.
RunResult run_with_a_ledger_crash(const Scenario& s, const std::string& mutant) {
  Simulation sim(s, {.seed = 1, .mutant = mutant});
  sim.start();
  sim.run_until(sim.epoch() + Duration::millis(300));
  while (sim.store("ledger").unpublished("ledger-1").empty()) sim.scheduler().step();
  sim.instance("ledger-1").crash();
  sim.run_until(sim.scheduler().now() + Duration::millis(500));
  sim.instance("ledger-1").restart();
  sim.run_until_quiet(Time::max());
  return sim.finish();
}

// The same crash with a ledger that trusts nothing but luck (no inbox, no
// business-key check): the redelivered grants are counted twice, and the
// saga's final check says so. The engine delivers the duplicates; the saga's
// checks judge what it does with them.
TEST(Simulation, ARedeliveredEffectIsSeenByTheSagasChecks) {
  const Scenario s = small_scenario(120, 1);
  const RunResult as_written = run_with_a_ledger_crash(s, "");
  EXPECT_TRUE(all_pass(as_written));
  EXPECT_GT(as_written.duplicates_skipped, 0u);
  const RunResult broken = run_with_a_ledger_crash(s, std::string(testing::kLedgerNoDedupe));
  const InvariantOutcome* once = outcome(broken, testing::kRecordedOnce);
  ASSERT_NE(once, nullptr);
  EXPECT_FALSE(once->pass);
}

// The process model: every instance runs its own service object, built when
// it starts and thrown away when it crashes. A ledger that keeps its totals
// in memory is right while its one process lives, and wrong after a restart
// (its memory starts from nothing while the store does not).
TEST(Simulation, EachInstanceIsAProcessWhoseMemoryDiesWithIt) {
  const Scenario s = small_scenario(120, 2);
  {
    Simulation sim(s, {.seed = 1});
    sim.start();
    EXPECT_NE(&sim.instance("vault-1").service(), &sim.instance("vault-2").service());
    EXPECT_NE(&sim.instance("vault-1").service(), &sim.service("vault"));  // never the definition's own
    EXPECT_EQ(sim.instance("vault-1").service().name(), "vault");
  }
  const std::string mutant(testing::kLedgerCountsInMemory);
  Simulation steady(s, {.seed = 1, .mutant = mutant});  // one ledger process, never restarted
  steady.start();
  steady.run_until_quiet(Time::max());
  EXPECT_TRUE(all_pass(steady.finish()));
  const RunResult restarted = run_with_a_ledger_crash(s, mutant);
  const InvariantOutcome* once = outcome(restarted, testing::kRecordedOnce);
  ASSERT_NE(once, nullptr);
  EXPECT_FALSE(once->pass) << "a restart kept the ledger's memory";
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

// A step's line, written field by field by Trace::record: strings with and
// without characters to escape, at every position within and across the
// eight-byte words the writer checks at a time, read back as the same JSON.
TEST(TraceText, StepLinesReadBackAsTheirFields) {
  StringSink sink;
  Trace trace(&sink, kSimEpoch);
  const std::string tricky[] = {"", "a", "plain-ascii-id-0123456789", "\"", "abcdefg\"", "abcdefgh\\ij",
                                "0123456789abcde\n", "caf\xc3\xa9 au lait", "tab\there", std::string("nul\0byte", 8)};
  for (const std::string& a : tricky)
    for (const std::string& d : tricky) {
      sink.text.clear();
      trace.record(kSimEpoch + Duration{42}, Step{.kind = StepKind::Handle, .actor = a.empty() ? std::string_view("x") : std::string_view(a),
                                                  .topic = d, .partition = 3, .offset = 1234567890123, .key = a, .detail = d});
      ASSERT_FALSE(sink.text.empty());
      ASSERT_EQ(sink.text.back(), '\n');
      const nlohmann::json j = nlohmann::json::parse(sink.text);
      EXPECT_EQ(j["t_us"], 42);
      EXPECT_EQ(j["kind"], "handle");
      EXPECT_EQ(j["actor"], a.empty() ? "x" : a);
      EXPECT_EQ(j["partition"], 3);
      EXPECT_EQ(j["offset"], 1234567890123);
      EXPECT_EQ(j.value("topic", ""), d);
      EXPECT_EQ(j.value("key", ""), a);
      EXPECT_EQ(j.value("detail", ""), d);
    }
}

}  // namespace
}  // namespace sagasim::sim
