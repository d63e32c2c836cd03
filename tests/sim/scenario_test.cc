#include "sim/scenario.h"
#include "sagas/order/order_saga.h"
#include "sagas/order/workload.h"

#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"

namespace sagasim::sim {
namespace {

nlohmann::json valid() {
  return {{"format_version", 1},
          {"name", "t"},
          {"saga", {{"name", "order"}}},
          {"workload",
           {{"customers", {{"count", 2}, {"balance_cents", 100}}},
            {"skus", {{"count", 2}, {"stock", {{"min", 1}, {"max", 3}}}}},
            {"orders", {{"count", 5}}}}}};
}

std::string error_of(const nlohmann::json& j) {
  try {
    parse_scenario(j, "x.json", saga::order_saga());
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(Scenario, NamesItsSagaOrIsRefusedWithTheKnownOnes) {
  nlohmann::json j = valid();
  j.erase("saga");
  EXPECT_EQ(error_of(j), "x.json at /saga: missing required field: every scenario names its saga, as \"saga\": "
                         "{\"name\": \"...\"} (known: order)");
  j["saga"] = nlohmann::json::object();
  EXPECT_EQ(error_of(j), "x.json at /saga/name: missing required field: the saga this scenario runs (known: order)");
  j["saga"]["name"] = "meteor";
  EXPECT_EQ(error_of(j), "x.json at /saga/name: unknown saga 'meteor' (known: order)");
  j["saga"]["name"] = 3;
  EXPECT_EQ(error_of(j), "x.json at /saga/name: expected a string (known sagas: order)");
  j["saga"] = "order";
  EXPECT_EQ(error_of(j), "x.json at /saga: expected an object naming the saga (known: order)");
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
  const SagaRegistry sagas{saga::order_saga(), std::make_shared<Other>()};
  EXPECT_EQ(sagas.known(), "order, other");
  const Scenario s = parse_scenario(valid(), "x.json", sagas);
  EXPECT_EQ(s.saga, saga::order_saga());
  nlohmann::json j = valid();
  j["saga"]["name"] = "other";
  const Scenario o = parse_scenario(j, "x.json", sagas);
  EXPECT_EQ(o.saga->name(), "other");
  EXPECT_EQ(o.instances_of("x"), 1);
  // The order saga's settings are typed and checked: another saga's scenario has none.
  EXPECT_THROW((void)o.settings<saga::OrderSettings>(), InternalError);
  j["saga"]["name"] = "trip";
  try {
    parse_scenario(j, "x.json", sagas);
    ADD_FAILURE() << "accepted an unknown saga";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "x.json at /saga/name: unknown saga 'trip' (known: order, other)");
  }
  EXPECT_THROW(SagaRegistry({saga::order_saga(), saga::order_saga()}), InternalError);
}

TEST(Scenario, AcceptsAMinimalFileWithDefaults) {
  const Scenario s = parse_scenario(valid(), "x.json", saga::order_saga());
  EXPECT_EQ(s.partitions, 3);
  EXPECT_EQ(s.instances_of("order"), 1);
  EXPECT_EQ(s.style, "choreography");
  EXPECT_TRUE(s.idempotent_producer);
  EXPECT_EQ(s.settings<saga::OrderSettings>().order_timeout, Duration::seconds(5));
  EXPECT_EQ(s.settings<saga::OrderSettings>().workload.order_count, 5);
  EXPECT_FALSE(s.seed.has_value());
}

TEST(Scenario, ErrorsNameTheFileAndTheJsonPath) {
  auto j = valid();
  j["workload"]["orders"]["count"] = -3;
  EXPECT_EQ(error_of(j), "x.json at /workload/orders/count: -3 is out of range [0, 1000000]");

  j = valid();
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
  j["workload"]["skus"] = {{"count", 2}, {"stock", {{"min", 5}, {"max", 1}}}};
  EXPECT_EQ(error_of(j), "x.json at /workload/skus/stock: min 5 is greater than max 1");

  j = valid();
  j["format_version"] = 2;
  EXPECT_NE(error_of(j).find("reads format_version 1"), std::string::npos);

  j = valid();
  j["faults"] = {{"class", "crash"}};
  EXPECT_EQ(error_of(j), "x.json at /faults: expected an array of faults");
}

TEST(Scenario, ExplicitWorkloadsAreCheckedForDanglingReferences) {
  auto j = valid();
  j["workload"]["customers"] = {{{"id", "c-a"}, {"balance_cents", 10}}};
  j["workload"]["skus"] = {{{"sku", "s-1"}, {"stock", 1}}};
  j["workload"]["orders"] = nlohmann::json::parse(
      R"([{"id": "o-1", "customer": "c-b", "lines": [{"sku": "s-1", "quantity": 1, "price_cents": 5}]}])");
  EXPECT_EQ(error_of(j), "x.json at /workload/orders/0/customer: unknown customer 'c-b'");
  j["workload"]["orders"][0]["customer"] = "c-a";
  j["workload"]["orders"][0]["lines"][0]["sku"] = "s-9";
  EXPECT_EQ(error_of(j), "x.json at /workload/orders/0/lines/0/sku: unknown SKU 's-9'");
  j["workload"]["orders"][0]["lines"][0]["sku"] = "s-1";
  const Scenario s = parse_scenario(j, "x.json", saga::order_saga());
  ASSERT_EQ(s.settings<saga::OrderSettings>().workload.orders.size(), 1u);

  // Orders may name generated customers and SKUs, but only ones that will exist.
  auto g = valid();
  g["workload"]["orders"] = nlohmann::json::parse(
      R"([{"id": "o-1", "customer": "c-2", "lines": [{"sku": "sku-2", "quantity": 1, "price_cents": 5}]}])");
  EXPECT_EQ(error_of(g), "(accepted)");
  g["workload"]["orders"][0]["customer"] = "c-3";
  EXPECT_EQ(error_of(g), "x.json at /workload/orders/0/customer: unknown customer 'c-3' (generated customers are c-1..c-2)");
  EXPECT_EQ(s.settings<saga::OrderSettings>().workload.orders[0].lines[0].price_cents, 5);
}

TEST(Scenario, FilesReportMissingFilesAndSyntaxErrorsWithLineAndColumn) {
  EXPECT_THROW(load_scenario_file("/nonexistent/x.json", saga::order_saga()), InputError);
  const std::string path = ::testing::TempDir() + "/broken.json";
  {
    std::ofstream out(path);
    out << "{\n  \"name\": \"x\",\n  \"format_version\": 1,,\n}\n";
  }
  try {
    load_scenario_file(path, saga::order_saga());
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
    load_scenario_file(path, saga::order_saga());
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
  j["workload"]["orders"]["count"] = 1000000000000;
  EXPECT_EQ(error_of(j), "x.json at /workload/orders/count: 1000000000000 is out of range [0, 1000000]");
  j = valid();
  j["topology"]["partitions"] = 1000000;
  EXPECT_EQ(error_of(j), "x.json at /topology/partitions: 1000000 is out of range [1, 1024]");
  j = valid();
  j["workload"]["orders"]["count"] = 1000000;
  j["workload"]["orders"]["lines"] = {{"min", 1}, {"max", 100}};
  EXPECT_EQ(error_of(j),
            "x.json at /workload/orders/lines: 1000000 orders of up to 100 lines make up to 100000000 lines: more than "
            "the limit of 10000000");
  j = valid();
  j["name"] = std::string(257, 'n');
  EXPECT_EQ(error_of(j), "x.json at /name: 257 bytes long; the limit is 256");
  j = valid();
  j["faults"] = nlohmann::json::array();
  for (int i = 0; i <= kMaxFaults; ++i) j["faults"].push_back({{"class", "crash"}});
  EXPECT_EQ(error_of(j), "x.json at /faults: 10001 fault entries: more than the limit of 10000");
  j = valid();
  j["workload"]["orders"]["count"] = saga::kMaxOrders;  // at the limit: accepted
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
    load_scenario_file(path, saga::order_saga());
    FAIL() << "accepted a 100,000-deep file";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), path + ":2:80: JSON nested deeper than 64 levels (byte 101)");
  }
}

TEST(Scenario, GeneratedWorkloadsDependOnlyOnTheSeed) {
  const Scenario s = parse_scenario(valid(), "x.json", saga::order_saga());
  const saga::Workload a = saga::materialize_workload(s.settings<saga::OrderSettings>().workload, 1), b = saga::materialize_workload(s.settings<saga::OrderSettings>().workload, 1);
  const saga::Workload c = saga::materialize_workload(s.settings<saga::OrderSettings>().workload, 2);
  ASSERT_EQ(a.orders.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(a.orders[i].customer, b.orders[i].customer);
    EXPECT_EQ(a.orders[i].lines, b.orders[i].lines);
    EXPECT_EQ(a.orders[i].at, b.orders[i].at);
  }
  bool differs = false;
  for (size_t i = 0; i < 5; ++i) differs = differs || a.orders[i].at != c.orders[i].at;
  EXPECT_TRUE(differs);
  for (const auto& c2 : a.customers) EXPECT_EQ(c2.balance_cents, 100);
}

}  // namespace
}  // namespace sagasim::sim
