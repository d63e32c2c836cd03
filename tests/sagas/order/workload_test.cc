// The order saga's part of a scenario file: its workload's fields, errors
// and limits. The generic scenario is tested with the engine's test saga (tests/sim/).
#include "sim/scenario.h"
#include "sagas/order/order_saga.h"
#include "sagas/order/workload.h"

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

TEST(OrderWorkload, TheSettingsAreTypedWithDefaults) {
  const Scenario s = parse_scenario(valid(), "x.json", saga::order_saga());
  EXPECT_EQ(s.instances_of("order"), 1);
  EXPECT_EQ(s.style, "choreography");
  EXPECT_EQ(s.settings<saga::OrderSettings>().order_timeout, Duration::seconds(5));
  EXPECT_EQ(s.settings<saga::OrderSettings>().workload.order_count, 5);
}

TEST(OrderWorkload, ErrorsNameTheFileAndTheJsonPath) {
  auto j = valid();
  j["workload"]["orders"]["count"] = -3;
  EXPECT_EQ(error_of(j), "x.json at /workload/orders/count: -3 is out of range [0, 10000000]");
  j = valid();
  j["workload"]["skus"] = {{"count", 2}, {"stock", {{"min", 5}, {"max", 1}}}};
  EXPECT_EQ(error_of(j), "x.json at /workload/skus/stock: min 5 is greater than max 1");
}

TEST(OrderWorkload, AbsurdSizesAreRefusedUpFrontNamingTheField) {
  nlohmann::json j = valid();
  j["workload"]["orders"]["count"] = 1000000000000;
  EXPECT_EQ(error_of(j), "x.json at /workload/orders/count: 1000000000000 is out of range [0, 10000000]");
  j = valid();
  j["workload"]["orders"]["count"] = 1000000;
  j["workload"]["orders"]["lines"] = {{"min", 1}, {"max", 100}};
  EXPECT_EQ(error_of(j),
            "x.json at /workload/orders/lines: 1000000 orders of up to 100 lines make up to 100000000 lines: more than "
            "the limit of 30000000");
  j = valid();
  j["workload"]["orders"]["count"] = saga::kMaxOrders;  // at the limit: accepted
  EXPECT_EQ(error_of(j), "(accepted)");
}

TEST(OrderWorkload, ExplicitWorkloadsAreCheckedForDanglingReferences) {
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

TEST(OrderWorkload, GeneratedWorkloadsDependOnlyOnTheSeed) {
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

namespace sagasim::saga {
namespace {

// OrderDraws places the generated orders one at a time, as they are due; a
// run placing them so must be the run that placed the materialised list.
TEST(OrderDraws, DrawsTheOrdersMaterializeWorkloadLists) {
  Workload w;
  w.customer_count = 7;
  w.balance_cents = Range{100, 900};
  w.sku_count = 5;
  w.stock = Range{1, 50};
  w.order_count = 300;
  w.lines_per_order = Range{1, 4};
  const Workload all = materialize_workload(w, 42);
  ASSERT_EQ(all.orders.size(), 300u);

  sim::Prng rng = workload_rng(42);
  const Workload ref = materialize_reference(w, rng);
  EXPECT_TRUE(ref.orders.empty());
  ASSERT_EQ(ref.customers.size(), all.customers.size());
  EXPECT_EQ(ref.customers.back().balance_cents, all.customers.back().balance_cents);
  const OrderDraws draws(ref, rng);
  ASSERT_EQ(draws.count(), 300u);
  auto same = [&](size_t i) {
    const OrderSpec& o = draws.order(i);
    EXPECT_EQ(o.id, all.orders[i].id) << i;
    EXPECT_EQ(o.id, OrderDraws::id(i)) << i;
    EXPECT_EQ(o.at, all.orders[i].at) << i;
    EXPECT_EQ(o.customer, all.orders[i].customer) << i;
    EXPECT_EQ(o.lines, all.orders[i].lines) << i;
    EXPECT_EQ(draws.at(i), all.orders[i].at) << i;
  };
  for (size_t i = 0; i < 300; ++i) same(i);
  // Any order may be asked for again, or out of order: it is drawn again from the start.
  for (size_t i : {299u, 0u, 150u, 149u, 150u, 7u, 298u}) same(i);
  EXPECT_THROW(draws.order(300), InternalError);
}

}  // namespace
}  // namespace sagasim::saga
