// The simulator on the wire: records encoded by each producer's codec and
// decoded, schema checks included, by each consumer's; rolling upgrades with
// instances pinned to older event versions; a breaking change caught.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "core/trace_context.h"
#include "sagas/order/order_saga.h"

#include "sim/simulation.h"
#include "tests/sagas/order/small_scenario.h"

namespace sagasim::sim {
namespace {

struct StringSink : TraceSink {
  std::string text;
  void write(std::string_view line) override { text.append(line); }
};

nlohmann::json small(int orders = 80) { return test_support::small_scenario_json(orders, 3, 2, 2); }

const InvariantOutcome& outcome(const RunResult& r, std::string_view name) {
  for (const auto& i : r.invariants)
    if (i.name == name) return i;
  throw std::runtime_error("no invariant " + std::string(name));
}

std::string first_failure(const RunResult& r) {
  for (const auto& i : r.invariants)
    if (!i.pass) return i.name + ": " + i.violations.front().message;
  return "";
}

// Counts OrderCreated records in a trace by the schema_version they were written at.
std::map<int, int> order_created_versions(const std::string& trace) {
  std::map<int, int> out;
  std::istringstream in(trace);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.value("kind", "") == "publish" && j.value("type", "") == "OrderCreated")
      ++out[j["event"]["schema_version"].get<int>()];
  }
  return out;
}

TEST(Wire, IsTransparentForOneVersionAndForAFullyCompatibleMix) {
  for (const char* style : {"choreography", "orchestration"}) {
    nlohmann::json j = small();
    j["style"] = style;
    const RunResult off = run_scenario(parse_scenario(j, "t", saga::order_saga()), {.seed = 3});
    j["wire"] = true;
    const RunResult on = run_scenario(parse_scenario(j, "t", saga::order_saga()), {.seed = 3});
    // Mixed versions, no restarts: v1 and v2 of OrderCreated side by side.
    j["wire"] = {{"versions", {{"order-1", {{"pins", {{"OrderCreated", 1}}}}}, {"payment-2", {{"pins", {{"OrderCreated", 1}}}}}}}};
    StringSink sink;
    const RunResult mixed = run_scenario(parse_scenario(j, "t", saga::order_saga()), {.seed = 3, .trace = &sink});
    EXPECT_EQ(first_failure(off), "") << style;
    EXPECT_EQ(first_failure(on), "") << style;
    EXPECT_EQ(first_failure(mixed), "") << style;
    // The same steps in the same order: decoding changed nothing a handler sees.
    EXPECT_EQ(on.trace_hash, off.trace_hash) << style;
    EXPECT_EQ(mixed.trace_hash, off.trace_hash) << style;
    if (std::string(style) == "choreography") {
      const auto versions = order_created_versions(sink.text);
      EXPECT_GT(versions.count(1) ? versions.at(1) : 0, 0) << "order-1 writes v1";
      EXPECT_GT(versions.count(2) ? versions.at(2) : 0, 0) << "order-2 writes v2";
    }
  }
}

TEST(Wire, TheRollingUpgradeScenarioHoldsEveryInvariant) {
  const Scenario s = load_scenario_file(std::string(SAGASIM_SOURCE_DIR) + "/scenarios/rolling-upgrade.json", saga::order_saga());
  StringSink sink;
  const RunResult r = run_scenario(s, {.seed = *s.seed, .trace = &sink});
  EXPECT_EQ(first_failure(r), "");
  EXPECT_TRUE(outcome(r, "records_readable").pass);
  EXPECT_GT(r.instances.completed, 0);
  const auto versions = order_created_versions(sink.text);
  EXPECT_GT(versions.at(1), 0);
  EXPECT_GT(versions.at(2), 0);
  EXPECT_NE(sink.text.find(R"("actor":"payment-2","detail":"upgrade")"), std::string::npos);
  // Another seed, and the orchestration style, too.
  EXPECT_EQ(first_failure(run_scenario(s, {.seed = 99})), "");
  EXPECT_EQ(first_failure(run_scenario(with_style(s, "orchestration"), {.seed = 5})), "");
}

TEST(Wire, ABreakingSchemaChangeFailsTheRun) {
  const Scenario s = load_scenario_file(std::string(SAGASIM_SOURCE_DIR) + "/scenarios/rolling-upgrade.json", saga::order_saga());
  const RunResult r = run_scenario(s, {.seed = *s.seed, .mutant = "breaking-schema-change"});
  const InvariantOutcome& o = outcome(r, "records_readable");
  ASSERT_FALSE(o.pass);
  EXPECT_NE(o.violations.front().message.find("could not read OrderCreated v3"), std::string::npos)
      << o.violations.front().message;
  EXPECT_NE(o.violations.front().message.find("/payload/amount_cents"), std::string::npos);
  // Orders placed before the order instances upgrade (on v1) go through;
  // from the upgrade on, payment cannot read a single one.
  EXPECT_GT(r.instances.completed, 0);
  EXPECT_LT(r.instances.completed, r.instances.total / 2);
  EXPECT_GT(o.violations.size(), 100u);
}

TEST(Wire, VersionsAreCheckedWithTheirPath) {
  auto error = [](nlohmann::json wire) {
    nlohmann::json j = small(5);
    j["wire"] = std::move(wire);
    try {
      run_scenario(parse_scenario(j, "x.json", saga::order_saga()), {.seed = 1});
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(error({{"versions", {{"payment-3", {{"pins", {{"OrderCreated", 1}}}}}}}}),
            "x.json at /wire/versions/payment-3: not an instance this scenario starts (instances are named SERVICE-N, "
            "N from 1 to the service's count in /topology/instances)");
  EXPECT_EQ(error({{"versions", {{"order-1", {{"pins", {{"OrderCreated", 7}}}}}}}}),
            "x.json at /wire/versions/order-1/pins/OrderCreated: OrderCreated has no schema for v7 (it has v1, v2); "
            "cannot pin it at 7");
  EXPECT_EQ(error({{"versions", {{"order-1", {{"pins", {{"Nonsense", 1}}}}}}}}),
            "x.json at /wire/versions/order-1/pins/Nonsense: 'Nonsense' is not an event type this saga knows");
  EXPECT_EQ(error({{"versions", {{"order-1", nlohmann::json::object()}}}}),
            "x.json at /wire/versions/order-1/pins: missing required field (an object: event type -> version, e.g. "
            "{\"OrderCreated\": 1})");
  EXPECT_EQ(error({{"speed", 1}}), "x.json at /wire/speed: unknown field (known here: versions)");
  EXPECT_EQ(error(true), "(no error)");
}

// The simulator's trace carries the same W3C traceparent that production
// sends as a Kafka header (kafka/runtime/record.h), so one saga is one trace id
// in both.
TEST(Trace, PublishStepsCarryTheTraceparentProductionSends) {
  StringSink sink;
  run_scenario(parse_scenario(small(5), "t", saga::order_saga()), {.seed = 1, .trace = &sink});
  std::istringstream in(sink.text);
  int publishes = 0;
  std::map<std::string, std::set<std::string>> traces_of_order;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.value("kind", "") != "publish") {
      EXPECT_FALSE(j.contains("traceparent"));
      continue;
    }
    ++publishes;
    const std::string tp = j.at("traceparent");
    ASSERT_EQ(tp.size(), 55u) << tp;
    const Event e = event_from_json(j.at("event"), nullptr, "trace");
    EXPECT_EQ(tp, traceparent_of(e));
    // The derived form, spelled out from its parts (core/trace_context.h).
    EXPECT_EQ(tp, "00-" + trace_id_of(e.correlation_id) + "-" + span_id_of(e.event_id) + "-01");
    traces_of_order[j.at("order")].insert(tp.substr(3, 32));
  }
  EXPECT_GT(publishes, 20);
  for (const auto& [order, ids] : traces_of_order) EXPECT_EQ(ids.size(), 1u) << order << ": one saga, one trace";
}

}  // namespace
}  // namespace sagasim::sim
