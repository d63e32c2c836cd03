#include "sim/scenario.h"

#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "tests/testing/tally_saga.h"

namespace sagasim::sim {
namespace {

// The generic scenario, read for the engine's test saga (tests/testing/);
// the order saga's own part is tested in tests/sagas/order/workload_test.cc.
using testing::tally_saga;

nlohmann::json valid() {
  return {{"format_version", 1},
          {"name", "t"},
          {"saga", {{"name", "tally"}}},
          {"workload", {{"accounts", {3, 5}}, {"asks", {{"count", 5}}}}}};
}

std::string error_of(const nlohmann::json& j) {
  try {
    parse_scenario(j, "x.json", tally_saga());
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(Scenario, NamesItsSagaOrIsRefusedWithTheKnownOnes) {
  nlohmann::json j = valid();
  j.erase("saga");
  EXPECT_EQ(error_of(j), "x.json at /saga: missing required field: every scenario names its saga, as \"saga\": "
                         "{\"name\": \"...\"} (known: tally)");
  j["saga"] = nlohmann::json::object();
  EXPECT_EQ(error_of(j), "x.json at /saga/name: missing required field: the saga this scenario runs (known: tally)");
  j["saga"]["name"] = "meteor";
  EXPECT_EQ(error_of(j), "x.json at /saga/name: unknown saga 'meteor' (known: tally)");
  j["saga"]["name"] = 3;
  EXPECT_EQ(error_of(j), "x.json at /saga/name: expected a string (known sagas: tally)");
  j["saga"] = "tally";
  EXPECT_EQ(error_of(j), "x.json at /saga: expected an object naming the saga (known: tally)");
}

TEST(Scenario, PicksItsSagaFromTheRegistryByName) {
  // Two sagas registered: the file's name picks one.
  class Other final : public SagaDefinition {
   public:
    std::string_view name() const override { return "other"; }
    std::vector<std::string> services(std::string_view) const override { return {"x"}; }
    std::vector<std::string> topics(std::string_view) const override { return {"t"}; }
    void parse_workload(JsonObject& root, Scenario&) const override { (void)root.find("workload"); }
    std::vector<std::string> invariants(std::string_view) const override { return {}; }
    std::unique_ptr<SagaRun> start(const Scenario&, const RunOptions&) const override { return nullptr; }
  };
  const SagaRegistry sagas{tally_saga(), std::make_shared<Other>()};
  EXPECT_EQ(sagas.known(), "other, tally");
  const Scenario s = parse_scenario(valid(), "x.json", sagas);
  EXPECT_EQ(s.saga, tally_saga());
  nlohmann::json j = valid();
  j["saga"]["name"] = "other";
  const Scenario o = parse_scenario(j, "x.json", sagas);
  EXPECT_EQ(o.saga->name(), "other");
  EXPECT_EQ(o.instances_of("x"), 1);
  // A saga's settings are typed and checked: another saga's scenario has none.
  EXPECT_THROW((void)o.settings<SagaSettings>(), InternalError);
  j["saga"]["name"] = "trip";
  try {
    parse_scenario(j, "x.json", sagas);
    ADD_FAILURE() << "accepted an unknown saga";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "x.json at /saga/name: unknown saga 'trip' (known: other, tally)");
  }
  EXPECT_THROW(SagaRegistry({tally_saga(), tally_saga()}), InternalError);
}

TEST(Scenario, AcceptsAMinimalFileWithDefaults) {
  const Scenario s = parse_scenario(valid(), "x.json", tally_saga());
  EXPECT_EQ(s.partitions, 3);
  EXPECT_EQ(s.instances_of("vault"), 1);
  EXPECT_EQ(s.instances_of("payment"), 0);
  EXPECT_EQ(s.topics, (std::vector<std::string>{"asks", "takes", "answers", "grants", "receipts"}));
  EXPECT_EQ(s.style, "");  // the test saga has no styles
  EXPECT_TRUE(s.idempotent_producer);
  EXPECT_EQ(s.liveness_bound, Duration::seconds(60));
  EXPECT_FALSE(s.seed.has_value());
}

TEST(Scenario, ErrorsNameTheFileAndTheJsonPath) {
  auto j = valid();
  j["topology"] = {{"partitions", "three"}};
  EXPECT_EQ(error_of(j), "x.json at /topology/partitions: expected an integer, got string \"three\"");

  j = valid();
  j["topology"] = {{"partitons", 3}};
  EXPECT_NE(error_of(j).find("x.json at /topology/partitons: unknown field"), std::string::npos);

  j = valid();
  j.erase("name");
  EXPECT_EQ(error_of(j), "x.json at /name: missing required field");

  j = valid();
  j["broker"] = {{"delivery_latency", {{"dist", "gamma"}}}};
  EXPECT_NE(error_of(j).find("at /broker/delivery_latency/dist: unknown distribution 'gamma'"), std::string::npos);

  j = valid();
  j["topology"] = {{"instances", {{"payment", 2}}}};
  EXPECT_NE(error_of(j).find("x.json at /topology/instances/payment"), std::string::npos) << error_of(j);

  j = valid();
  j["format_version"] = 2;
  EXPECT_NE(error_of(j).find("reads format_version 1"), std::string::npos);

  j = valid();
  j["faults"] = {{"class", "crash"}};
  EXPECT_EQ(error_of(j), "x.json at /faults: expected an array of faults");
}

TEST(Scenario, FilesReportMissingFilesAndSyntaxErrorsWithLineAndColumn) {
  EXPECT_THROW(load_scenario_file("/nonexistent/x.json", tally_saga()), InputError);
  const std::string path = ::testing::TempDir() + "/broken.json";
  {
    std::ofstream out(path);
    out << "{\n  \"name\": \"x\",\n  \"format_version\": 1,,\n}\n";
  }
  try {
    load_scenario_file(path, tally_saga());
    FAIL() << "accepted a broken file";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":3:"), std::string::npos) << e.what();
  }
}

// Found by fuzzing (tests/fuzz/regressions/scenario/): json::parse reports a number
// beyond a double as out_of_range.406, which escaped as a non-InputError.
TEST(Scenario, ANumberBeyondADoubleIsAnInputError) {
  const std::string path = ::testing::TempDir() + "/huge-number.json";
  {
    std::ofstream out(path);
    out << "{\"name\": \"x\", \"format_version\": 1, \"seed\": 5e555}\n";
  }
  try {
    load_scenario_file(path, tally_saga());
    FAIL() << "accepted a number beyond a double";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

// Resource limits (docs/scenario-format.md#limits): absurd sizes are refused
// while loading, naming the field, instead of exhausting memory later.
TEST(Scenario, AbsurdSizesAreRefusedUpFrontNamingTheField) {
  nlohmann::json j = valid();
  j["topology"]["partitions"] = 1000000;
  EXPECT_EQ(error_of(j), "x.json at /topology/partitions: 1000000 is out of range [1, 1024]");
  j = valid();
  j["name"] = std::string(257, 'n');
  EXPECT_EQ(error_of(j), "x.json at /name: 257 bytes long; the limit is 256");
  j = valid();
  j["faults"] = nlohmann::json::array();
  for (int i = 0; i <= kMaxFaults; ++i) j["faults"].push_back({{"class", "crash"}});
  EXPECT_EQ(error_of(j), "x.json at /faults: 10001 fault entries: more than the limit of 10000");
  j = valid();
  j["topology"]["partitions"] = kMaxPartitions;  // at the limit: accepted
  EXPECT_EQ(error_of(j), "(accepted)");
}

// Found by the bad-input catalogue: a 100,000-deep array in "description"
// overflowed the stack (copying the DOM recurses) instead of being an error.
TEST(Scenario, DeepNestingIsAnInputErrorNotAStackOverflow) {
  const std::string path = ::testing::TempDir() + "/deep.json";
  {
    std::ofstream out(path);
    out << "{\"format_version\": 1,\n \"description\": " << std::string(100000, '[') << std::string(100000, ']') << "}";
  }
  try {
    load_scenario_file(path, tally_saga());
    FAIL() << "accepted a 100,000-deep file";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), path + ":2:80: JSON nested deeper than 64 levels (byte 101)");
  }
}

}  // namespace
}  // namespace sagasim::sim
