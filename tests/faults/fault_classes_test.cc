// One test per fault class: each injects the fault into a small run of the
// engine's test saga (tests/testing/tally_saga.h: desk -> vault -> ledger) and
// checks, in the trace, the effect the fault model promises (and, where it
// makes the point, that a run without the fault does not show it).
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "faults/world.h"
#include "tests/testing/tally_saga.h"

namespace sagasim::faults {
namespace {

using nlohmann::json;
using testing::tally_saga;

struct StringSink : sim::TraceSink {
  std::string text;
  void write(std::string_view line) override { text.append(line); }
};

struct Traced {
  sim::RunResult result;
  std::vector<json> steps;  // every step line (no header or footer)

  std::vector<json> where(const std::function<bool(const json&)>& pred) const {
    std::vector<json> out;
    for (const auto& s : steps)
      if (pred(s)) out.push_back(s);
    return out;
  }
  std::vector<json> kind(const std::string& k) const {
    return where([&](const json& s) { return s["kind"] == k; });
  }
  int64_t ms(const json& s) const { return s["t_us"].get<int64_t>() / 1000; }
};

json scenario(json faults, json topology = json::object(), double interarrival_ms = 30) {
  json t = {{"partitions", 3}, {"instances", {{"desk", 1}, {"vault", 2}, {"ledger", 1}}}};
  for (auto& [k, v] : topology.items()) t[k] = v;
  return {{"format_version", 1},
          {"name", "fault-test"},
          {"topology", t},
          {"broker",
           {{"produce_latency", {{"dist", "uniform"}, {"min_ms", 0.5}, {"max_ms", 2}}},
            {"ack_latency", {{"dist", "uniform"}, {"min_ms", 0.5}, {"max_ms", 2}}},
            {"delivery_latency", {{"dist", "uniform"}, {"min_ms", 1}, {"max_ms", 4}}},
            {"request_timeout_ms", 1000},
            {"session_timeout_ms", 3000},
            {"rebalance_delay_ms", 200}}},
          {"saga", {{"name", "tally"}, {"timeout_ms", 3000}, {"liveness_bound_ms", 30000}}},
          {"workload", {{"accounts", {40, 60, 30, 50}}, {"asks", {{"count", 80}, {"interarrival_ms", interarrival_ms}}}}},
          {"faults", faults}};
}

Traced run(const json& spec_json, uint64_t seed = 1) {
  const RunSpec spec = make_run_spec(sim::parse_scenario(spec_json, "test", tally_saga()));
  StringSink sink;
  Traced t;
  t.result = faults::run(spec, RunConfig{seed, false, &sink});
  std::istringstream in(sink.text);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line);
    if (j.contains("step")) t.steps.push_back(std::move(j));
  }
  for (const auto& i : t.result.invariants)
    EXPECT_TRUE(i.pass) << i.name << ": " << i.violations.front().entity << " " << i.violations.front().message;
  return t;
}

bool starts_with(const json& s, const std::string& key, const std::string& prefix) {
  return s.contains(key) && s[key].get<std::string>().rfind(prefix, 0) == 0;
}

// event_id -> how many times it was appended to a log
std::map<std::string, int> appends(const Traced& t) {
  std::map<std::string, int> n;
  for (const auto& s : t.kind("publish")) ++n[s["event_id"].get<std::string>()];
  return n;
}
int max_appends(const Traced& t) {
  int m = 0;
  for (const auto& [id, n] : appends(t)) m = std::max(m, n);
  return m;
}

TEST(FaultClasses, LostCommitYieldsARedeliveryWithTheSameEventId) {
  // The crash falls inside the window of lost commits: what vault-1 handled since it began comes back.
  const json crash = {{"class", "crash"}, {"target", "vault-1"}, {"point", "before_handle"}, {"at_ms", 1450}, {"downtime_ms", 1000}};
  const Traced with = run(scenario({{{"class", "lost_commit"}, {"target", "vault"}, {"at_ms", 0}, {"duration_ms", 1500}}, crash}));
  const Traced without = run(scenario({crash}));
  EXPECT_GT(with.result.faults_fired.at("lost_commit"), 0u);
  auto dup = [](const json& s) { return s["kind"] == "handle" && s["detail"] == "duplicate" && starts_with(s, "actor", "vault"); };
  const auto dups = with.where(dup);
  ASSERT_FALSE(dups.empty());
  // The duplicate is an event the vault had already processed, under the same id.
  const std::string id = dups.front()["event_id"];
  EXPECT_FALSE(with.where([&](const json& s) {
                     return s["kind"] == "handle" && s["detail"] == "processed" && s["event_id"] == id;
                   }).empty());
  EXPECT_TRUE(without.where(dup).empty());
}

TEST(FaultClasses, ProducerRetryDuplicatesARecordUnlessIdempotent) {
  const json fault = {{{"class", "producer_retry"}, {"probability", 0.2}}};
  const Traced plain = run(scenario(fault, {{"idempotent_producer", false}}));
  const Traced idem = run(scenario(fault, {{"idempotent_producer", true}}));
  EXPECT_GT(plain.result.faults_fired.at("producer_retry"), 0u);
  EXPECT_GE(max_appends(plain), 2);  // the same event id twice in the log
  EXPECT_GT(idem.result.faults_fired.at("producer_retry"), 0u);
  EXPECT_GT(idem.result.producer_retries, 0u);
  EXPECT_EQ(max_appends(idem), 1);  // retried, but the broker dropped the copy
}

TEST(FaultClasses, RelayRepublishPublishesARowTwiceWithoutACrash) {
  const Traced t = run(scenario({{{"class", "relay_republish"}, {"probability", 0.2}}}));
  EXPECT_GT(t.result.faults_fired.at("relay_republish"), 0u);
  EXPECT_GE(max_appends(t), 2);
  EXPECT_TRUE(t.where([](const json& s) { return s["kind"] == "lifecycle" && s["detail"] == "crash"; }).empty());
  EXPECT_GT(t.result.duplicates_skipped, 0u);
}

int64_t worst_latency_ms(const Traced& t, const std::string& topic, int partition, int64_t from_ms, int64_t to_ms) {
  std::map<std::string, int64_t> published;
  for (const auto& s : t.kind("publish"))
    if (s["topic"] == topic && s["partition"] == partition && t.ms(s) >= from_ms && t.ms(s) < to_ms)
      published.emplace(s["event_id"], t.ms(s));
  int64_t worst = -1;
  for (const auto& s : t.kind("deliver"))
    if (auto it = published.find(s["event_id"]); it != published.end()) worst = std::max(worst, t.ms(s) - it->second);
  return worst;
}

TEST(FaultClasses, DelaySkewHoldsBackOnePartitionOnly) {
  const Traced t = run(scenario({{{"class", "delay_skew"}, {"topic", "answers"}, {"partition", 0}, {"at_ms", 200},
                                  {"duration_ms", 1500}, {"extra_ms", 800}}}));
  EXPECT_EQ(t.result.faults_fired.at("delay_skew"), 1u);
  EXPECT_GE(worst_latency_ms(t, "answers", 0, 200, 1700), 800);
  EXPECT_LT(worst_latency_ms(t, "answers", 1, 200, 1700), 100);
}

// Two records from one producer on one partition, logged in the opposite
// order to the one they were sent in (ids count up in creation order).
bool has_inversion(const Traced& t) {
  std::map<std::string, int64_t> last_id;  // producer/topic/partition -> highest id seen so far
  for (const auto& s : t.kind("publish")) {
    if (s["actor"] == "client") continue;
    const std::string lane = s["actor"].get<std::string>() + "/" + s["topic"].get<std::string>() + "/" +
                             std::to_string(s["partition"].get<int>());
    const int64_t id = std::stoll(s["event_id"].get<std::string>().substr(2));
    if (last_id.count(lane) && id < last_id[lane]) return true;
    last_id[lane] = std::max(last_id[lane], id);
  }
  return false;
}

TEST(FaultClasses, PartitionReorderNeedsANonIdempotentProducerWithSeveralRequestsInFlight) {
  const json fault = {{{"class", "partition_reorder"}, {"probability", 0.3}}};
  // Asks close together, so that a producer has several requests in flight
  // (probabilistic faults stop with the workload: it must outlast the groups' first rebalance).
  const Traced reordered = run(scenario(fault, {{"idempotent_producer", false}, {"max_in_flight", 5}}, 5));
  EXPECT_GT(reordered.result.faults_fired.at("partition_reorder"), 0u);
  EXPECT_TRUE(has_inversion(reordered));
  const Traced idem = run(scenario(fault, {{"idempotent_producer", true}}, 5));
  EXPECT_EQ(idem.result.faults_fired.count("partition_reorder"), 0u);  // cannot happen
  EXPECT_FALSE(has_inversion(idem));
}

json crash(const char* target, const char* point) {
  return {{"class", "crash"}, {"target", target}, {"point", point}, {"at_ms", 900}, {"downtime_ms", 700}};
}

// The record an instance was handling when it crashed, and when it restarted.
struct CrashInfo {
  std::string event_id;
  int64_t crash_ms = -1, restart_ms = -1;
};
CrashInfo crash_info(const Traced& t, const std::string& actor) {
  CrashInfo c;
  std::string last_delivered;
  for (const auto& s : t.steps) {
    if (s["actor"] != actor) continue;
    if (s["kind"] == "deliver") last_delivered = s["event_id"];
    if (s["kind"] == "lifecycle" && s["detail"] == "crash" && c.crash_ms < 0) {
      c.crash_ms = t.ms(s);
      c.event_id = last_delivered;
    }
    if (s["kind"] == "lifecycle" && s["detail"] == "start" && c.crash_ms >= 0 && c.restart_ms < 0) c.restart_ms = t.ms(s);
  }
  return c;
}

TEST(FaultClasses, CrashBeforeHandlingRedeliversTheRecordWhichIsThenProcessedOnce) {
  const Traced t = run(scenario({crash("vault-1", "before_handle")}));
  const CrashInfo c = crash_info(t, "vault-1");
  ASSERT_FALSE(c.event_id.empty());
  EXPECT_EQ(c.restart_ms - c.crash_ms, 700);
  EXPECT_GE(t.where([&](const json& s) { return s["kind"] == "deliver" && s["event_id"] == c.event_id; }).size(), 2u);
  EXPECT_EQ(t.where([&](const json& s) {
               return s["kind"] == "handle" && s["event_id"] == c.event_id && s["detail"] == "processed";
             }).size(),
            1u);
}

TEST(FaultClasses, CrashAfterTheLocalCommitPublishesTheOutboxOnlyAfterTheRestart) {
  const Traced t = run(scenario({crash("ledger-1", "after_commit_before_publish")}));
  const CrashInfo c = crash_info(t, "ledger-1");
  ASSERT_FALSE(c.event_id.empty());
  // What the committed handling emitted (caused by the record) went out after the restart...
  const auto caused = t.where([&](const json& s) { return s["kind"] == "publish" && s["causation"] == c.event_id; });
  ASSERT_FALSE(caused.empty());
  for (const auto& s : caused) EXPECT_GE(t.ms(s), c.restart_ms);
  // ...and the record itself came back and was recognised by the inbox.
  EXPECT_FALSE(t.where([&](const json& s) {
                  return s["kind"] == "handle" && s["event_id"] == c.event_id && s["detail"] == "duplicate";
                }).empty());
}

TEST(FaultClasses, CrashAfterPublishingBeforeTheOffsetCommitPublishesTwice) {
  const Traced t = run(scenario({crash("desk-1", "after_publish_before_commit")}));
  const CrashInfo c = crash_info(t, "desk-1");
  ASSERT_FALSE(c.event_id.empty());
  const auto caused = t.where([&](const json& s) { return s["kind"] == "publish" && s["causation"] == c.event_id; });
  ASSERT_GE(caused.size(), 2u);  // the in-flight send landed, and the relay sent it again after the restart
  EXPECT_EQ(caused[0]["event_id"], caused[1]["event_id"]);
  EXPECT_FALSE(t.where([&](const json& s) {
                  return s["kind"] == "handle" && s["event_id"] == c.event_id && s["detail"] == "duplicate";
                }).empty());
}

std::vector<std::string> rebalances(const Traced& t, const std::string& group) {
  std::vector<std::string> out;
  for (const auto& s : t.kind("rebalance"))
    if (s["actor"] == group) out.push_back(s["detail"]);
  return out;
}

TEST(FaultClasses, JoinAddsAMemberThatLaterLeaves) {
  const Traced t = run(scenario({{{"class", "join"}, {"target", "vault"}, {"at_ms", 1000}, {"duration_ms", 1500}}}));
  const auto r = rebalances(t, "vault");
  ASSERT_EQ(r.size(), 3u);  // start, join, leave
  EXPECT_EQ(r[0].find("vault-3"), std::string::npos);
  EXPECT_NE(r[1].find("vault-3=[takes"), std::string::npos) << r[1];
  EXPECT_EQ(r[2].find("vault-3"), std::string::npos);
}

TEST(FaultClasses, LeaveMovesPartitionsAwayAndBack) {
  const Traced t = run(scenario({{{"class", "leave"}, {"target", "vault-2"}, {"at_ms", 1000}, {"duration_ms", 1500}}}));
  const auto r = rebalances(t, "vault");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_NE(r[0].find("vault-2="), std::string::npos);
  EXPECT_EQ(r[1].find("vault-2="), std::string::npos);  // gone: vault-1 owns everything
  EXPECT_NE(r[2].find("vault-2="), std::string::npos);  // back
}

TEST(FaultClasses, AStallPausesAnInstanceWithoutARebalance) {
  const Traced t = run(scenario({{{"class", "stall"}, {"target", "ledger-1"}, {"at_ms", 900}, {"duration_ms", 1200}}}));
  EXPECT_TRUE(t.where([&](const json& s) {
                 return s["kind"] == "deliver" && s["actor"] == "ledger-1" && t.ms(s) > 900 && t.ms(s) < 2100;
               }).empty());
  EXPECT_FALSE(t.where([&](const json& s) {
                  return s["kind"] == "deliver" && s["actor"] == "ledger-1" && t.ms(s) >= 2100;
                }).empty());
  EXPECT_EQ(rebalances(t, "ledger").size(), 1u);  // only the initial one
}

TEST(FaultClasses, ASessionTimeoutEvictsTheMemberWhichRejoinsLater) {
  const Traced t = run(scenario({{{"class", "session_timeout"}, {"target", "vault-1"}, {"at_ms", 800}, {"duration_ms", 4000}}}));
  const auto r = rebalances(t, "vault");
  ASSERT_GE(r.size(), 3u);
  EXPECT_EQ(r[1].find("vault-1="), std::string::npos) << r[1];  // evicted after the session timeout
  const auto evicted = t.where([](const json& s) { return s["kind"] == "rebalance" && s["actor"] == "vault"; });
  EXPECT_GE(t.ms(evicted[1]), 800 + 3000);
  EXPECT_FALSE(t.where([](const json& s) {
                  return s["kind"] == "lifecycle" && s["actor"] == "vault-1" && s["detail"] == "rejoin";
                }).empty());
  EXPECT_NE(r.back().find("vault-1="), std::string::npos);
}

// How many times `member=` appears in one rebalance line: an instance is one
// member of its group, never two.
int memberships(const std::string& rebalance, const std::string& member) {
  int n = 0;
  for (size_t at = rebalance.find(" " + member + "="); at != std::string::npos;
       at = rebalance.find(" " + member + "=", at + 1))
    ++n;
  return n;
}

// Found by the orchestration liveness property: a network partition lasting
// exactly the session timeout made the instance rejoin while the coordinator
// kept its old membership, so it was in the group twice; the zombie's
// partitions stalled and an order never reached the order service (found with the order saga).
TEST(FaultClasses, APauseOfExactlyOneSessionEvictsOnceAndRejoinsOnce) {
  const Traced t = run(scenario({{{"class", "network_partition"}, {"target", "ledger-1"}, {"at_ms", 800},
                                  {"duration_ms", 3000}}}));
  const auto rejoins = t.where([](const json& s) {
    return s["kind"] == "lifecycle" && s["actor"] == "ledger-1" && s["detail"] == "rejoin";
  });
  ASSERT_EQ(rejoins.size(), 1u);
  EXPECT_EQ(t.ms(rejoins[0]), 800 + 3000);
  // The eviction and the rejoin fall in the same instant, so the coordinator
  // settles them in one rebalance, with the instance in it once.
  const auto r = rebalances(t, "ledger");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(memberships(r[1], "ledger-1"), 1) << r[1];
}

TEST(FaultClasses, AnUnavailablePartitionTakesNoWritesAndServesNoReads) {
  const Traced t = run(scenario({{{"class", "partition_unavailable"}, {"topic", "answers"}, {"partition", 1},
                                  {"at_ms", 700}, {"duration_ms", 1500}}}));
  auto on_p1 = [&](const char* kind, int64_t lo, int64_t hi) {
    return t.where([&](const json& s) {
      return s["kind"] == kind && s["topic"] == "answers" && s["partition"] == 1 && t.ms(s) > lo && t.ms(s) < hi;
    });
  };
  EXPECT_TRUE(on_p1("publish", 700, 2200).empty());
  EXPECT_TRUE(on_p1("deliver", 700, 2200).empty());
  EXPECT_FALSE(on_p1("publish", 2199, 100000).empty());
  EXPECT_GT(t.result.producer_retries, 0u);
}

TEST(FaultClasses, ALeaderFailoverStopsThePartitionAndForcesRetries) {
  const Traced t = run(scenario({{{"class", "leader_failover"}, {"topic", "answers"}, {"partition", 0}, {"at_ms", 900},
                                  {"election_ms", 500}}},
                                {{"idempotent_producer", false}}));
  EXPECT_EQ(t.result.faults_fired.at("leader_failover"), 1u);
  EXPECT_TRUE(t.where([&](const json& s) {
                 return s["kind"] == "publish" && s["topic"] == "answers" && s["partition"] == 0 && t.ms(s) > 900 &&
                        t.ms(s) < 1400;
               }).empty());
  EXPECT_GT(t.result.producer_retries, 0u);
}

TEST(FaultClasses, ANetworkPartitionCutsOneInstanceOff) {
  const Traced t = run(scenario({{{"class", "network_partition"}, {"target", "ledger-1"}, {"at_ms", 800},
                                  {"duration_ms", 2000}}}));
  auto by_ledger = [&](const char* kind, int64_t lo, int64_t hi) {
    return t.where([&](const json& s) {
      return s["kind"] == kind && s["actor"] == "ledger-1" && t.ms(s) > lo && t.ms(s) < hi;
    });
  };
  EXPECT_TRUE(by_ledger("deliver", 800, 2800).empty());
  EXPECT_TRUE(by_ledger("publish", 803, 2800).empty());  // requests already on the wire may land
  EXPECT_FALSE(by_ledger("deliver", 2799, 100000).empty());
}

TEST(FaultClasses, ALatencySpikeSlowsEveryTopic) {
  const Traced t = run(scenario({{{"class", "latency_spike"}, {"at_ms", 600}, {"duration_ms", 1000}, {"extra_ms", 300}}}));
  // Records appended during the spike take 300 ms more to be fetched...
  for (int p = 0; p < 3; ++p) EXPECT_GE(worst_latency_ms(t, "asks", p, 600, 1600), 300) << p;
  // ...and the first client publish after the spike began was itself 300 ms late.
  const auto late = t.where([&](const json& s) { return s["kind"] == "publish" && t.ms(s) >= 600; });
  ASSERT_FALSE(late.empty());
  EXPECT_GE(t.ms(late.front()), 600 + 300);
  EXPECT_LT(worst_latency_ms(t, "asks", 0, 2000, 100000), 50);
}

int timeouts(const Traced& t) {
  const auto& p = t.result.paths;
  return (p.count("timeout") ? p.at("timeout") : 0) + (p.count("timeout_released") ? p.at("timeout_released") : 0);
}

TEST(FaultClasses, ClockSkewMovesTheDesksTimeouts) {
  const Traced skewed = run(scenario({{{"class", "clock_skew"}, {"target", "desk"}, {"skew_ms", 2985}}}));
  const Traced exact = run(scenario(json::array()));
  EXPECT_GT(timeouts(skewed), 0);
  EXPECT_EQ(timeouts(exact), 0);
}

TEST(FaultClasses, AClientRetrySendsTheCommandAgainUnderANewIdOrTheSameOne) {
  // Every ask placed in the first 600 ms goes again 500 ms later.
  auto retry = [](bool same_id) {
    json f = {{"class", "client_retry"}, {"at_ms", 0}, {"duration_ms", 600}, {"after_ms", 500}};
    if (same_id) f["same_id"] = true;
    return run(scenario({f}));
  };
  const Traced fresh = retry(false), same = retry(true), none = run(scenario(json::array()));
  auto asks = [](const Traced& t) {
    std::map<std::string, std::set<std::string>> ids;  // ask key -> event ids the client published
    int published = 0;
    for (const auto& s : t.kind("publish"))
      if (s["actor"] == "client") {
        ids[s["order"].get<std::string>()].insert(s["event_id"].get<std::string>());
        ++published;
      }
    return std::pair{ids, published};
  };
  const auto [fresh_ids, fresh_n] = asks(fresh);
  const auto [same_ids, same_n] = asks(same);
  const auto [none_ids, none_n] = asks(none);
  const uint64_t resent = fresh.result.faults_fired.at("client_retry");
  EXPECT_GT(resent, 5u);
  EXPECT_EQ(same.result.faults_fired.at("client_retry"), resent);
  EXPECT_EQ(fresh_n, none_n + static_cast<int>(resent));
  EXPECT_EQ(same_n, none_n + static_cast<int>(resent));
  // A rebuilt command: the same ask under two ids. The same record: one id, twice in the log.
  size_t two_ids = 0;
  for (const auto& [key, ids] : fresh_ids) two_ids += ids.size() == 2;
  EXPECT_EQ(two_ids, resent);
  for (const auto& [key, ids] : same_ids) EXPECT_EQ(ids.size(), 1u) << key;
  EXPECT_GE(max_appends(same), 2);
  // Only commands sent inside the window are retried.
  EXPECT_TRUE(fresh.where([](const json& s) {
                     return s["kind"] == "fault" && s["detail"].get<std::string>().starts_with("client_retry") &&
                            s["t_us"].get<int64_t>() >= 1'100'000;
                   }).empty());
}

// The runtime's own mutants break the simulator's instance runtime, whatever
// the saga: under crashes each is caught on the test saga too.
TEST(RuntimeMutants, ApplyToEverySaga) {
  const RunSpec crashes = make_run_spec(
      sim::parse_scenario(scenario({{{"class", "crash"}, {"point", "before_handle"}, {"probability", 0.05}, {"downtime_ms", 300}},
                                    {{"class", "crash"}, {"point", "after_commit_before_publish"}, {"probability", 0.05},
                                     {"downtime_ms", 300}}}),
                          "test", tally_saga()));
  // The one desk away across its asks' deadlines while the vaults are stalled:
  // only the timeouts decide them, the moment the desk is back.
  json away = scenario({{{"class", "stall"}, {"target", "vault"}, {"at_ms", 0}, {"duration_ms", 9000}},
                        {{"class", "leave"}, {"target", "desk-1"}, {"at_ms", 700}, {"duration_ms", 4000}}},
                       {{"instances", {{"desk", 1}, {"vault", 1}, {"ledger", 1}}}}, 30);
  away["workload"]["asks"]["count"] = 8;
  const RunSpec outage = make_run_spec(sim::parse_scenario(away, "test", tally_saga()));
  // Lost acks to idempotent producers: their retries must be dropped by sequence.
  const RunSpec retries = make_run_spec(sim::parse_scenario(
      scenario({{{"class", "producer_retry"}, {"probability", 0.1}}}, {{"idempotent_producer", true}}), "test",
      tally_saga()));
  for (const sim::VariantInfo& m : sim::runtime_mutants()) {
    const RunSpec& spec = m.name == "timers-not-rearmed"         ? outage
                          : m.name == "broker-forgets-sequences" ? retries
                                                                 : crashes;
    // A broken broker must be seen by its own self-check, whatever else fails.
    const bool broker = m.name.starts_with("broker-");
    bool caught = false;
    for (uint64_t seed = 1; seed <= 20 && !caught; ++seed) {
      const sim::RunResult r = faults::run(spec, RunConfig{.seed = seed, .mutant = m.name});
      caught = broker ? std::any_of(r.invariants.begin(), r.invariants.end(),
                                    [](const auto& i) { return i.name == inv::kBrokerGuarantees && !i.pass; })
                      : !r.ok();
    }
    EXPECT_TRUE(caught) << m.name << " passed 20 seeds of the test saga" << (broker ? "'s broker self-check" : "");
  }
  for (const RunSpec* spec : {&crashes, &outage, &retries})
    for (uint64_t seed = 1; seed <= 5; ++seed) EXPECT_TRUE(faults::run(*spec, RunConfig{.seed = seed}).ok()) << seed;
}

}  // namespace
}  // namespace sagasim::faults
