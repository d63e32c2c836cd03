// The order saga's workload: customers with balances, SKUs with stock and
// the orders placed over them, as the scenario's "workload" object states
// them (docs/scenario-format.md#workload), explicitly or as counts and ranges
// that the seed expands (materialize_workload). Explicit lists make a run
// independent of the generator: shrunk counterexamples are written that way.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "core/types.h"
#include "sagas/order/events.h"
#include "sim/random.h"
#include "sim/saga.h"

namespace sagasim::saga {

struct CustomerSpec {
  std::string id;
  int64_t balance_cents = 0;
};
struct SkuSpec {
  std::string sku;
  int64_t stock = 0;
};
struct OrderSpec {
  std::string id;
  Duration at;  // since the start of the run
  std::string customer;
  std::vector<OrderLine> lines;
};

struct Workload {
  std::vector<CustomerSpec> customers;
  std::vector<SkuSpec> skus;
  std::vector<OrderSpec> orders;

  int customer_count = 0;
  Range balance_cents;
  int sku_count = 0;
  Range stock;
  int order_count = 0;
  sim::DurationDist interarrival = sim::DurationDist::exponential_ms(10);
  Range lines_per_order{1, 3};
  Range quantity{1, 3};
  Range price_cents{100, 5000};
};

// Resource limits. A scenario beyond one is refused when it is loaded, with
// an InputError naming the file and the field, instead of running the machine
// out of memory halfway through materialising it. Measured (Release, 2026-11):
// about 4.7 KB of memory per order over a whole run (100,000 orders: 468 MB
// peak) and about 450 bytes per customer or SKU (10^6 of each: 887 MB), so a
// scenario at every limit at once needs several GB; the limits refuse the
// absurd (10^12 orders), not the merely large. docs/scenario-format.md#limits.
inline constexpr int64_t kMaxOrders = 1'000'000;       // generated count or explicit list
inline constexpr int64_t kMaxOrderLines = 10'000'000;  // orders × lines per order (generated: × lines.max)
inline constexpr int64_t kMaxLinesPerOrder = 100;
inline constexpr int64_t kMaxCustomers = 1'000'000;
inline constexpr int64_t kMaxSkus = 1'000'000;

// The scenario's "workload" ("customers", "skus", "orders") at `path`;
// InputError naming `source` and the JSON pointer of the first problem.
Workload parse_order_workload(const nlohmann::json& j, const std::string& path, const std::string& source);

// Expands generated workload parts into explicit lists, from the seed.
Workload materialize_workload(const Workload& w, uint64_t seed);

// The order saga's part of a scenario: "saga" settings and the workload.
struct OrderSettings final : sim::SagaSettings {
  Duration order_timeout = Duration::seconds(5);
  Workload workload;
};

}  // namespace sagasim::saga
