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
// out of memory halfway through. Measured (Release, 2026-12): about 1.1 KB of
// memory per order over a whole run (1,000,000 orders: 1.03 GiB peak; the
// services' own records are most of it) and about 450 bytes per customer or
// SKU (10^6 of each: 887 MB), so a scenario at the order limit needs about
// 11 GB; the limits refuse the absurd (10^12 orders), not the merely large.
// docs/scenario-format.md#limits.
inline constexpr int64_t kMaxOrders = 10'000'000;      // generated count or explicit list
inline constexpr int64_t kMaxOrderLines = 30'000'000;  // orders × lines per order (generated: × lines.max)
inline constexpr int64_t kMaxLinesPerOrder = 100;
inline constexpr int64_t kMaxCustomers = 1'000'000;
inline constexpr int64_t kMaxSkus = 1'000'000;

// The scenario's "workload" ("customers", "skus", "orders") at `path`;
// InputError naming `source` and the JSON pointer of the first problem.
Workload parse_order_workload(const nlohmann::json& j, const std::string& path, const std::string& source);

// Expands generated workload parts into explicit lists, from the seed.
Workload materialize_workload(const Workload& w, uint64_t seed);

// The generated customers and SKUs only (orders as given): `rng` is the
// workload's stream, from the seed (workload_rng), and is left where the
// generated orders' draws begin.
sim::Prng workload_rng(uint64_t seed);
Workload materialize_reference(const Workload& w, sim::Prng& rng);

// A workload's generated orders, drawn from the seed one at a time as they
// are due instead of kept in a list: the same draws as materialize_workload
// (which is built on it), so a run placing them this way is the same run.
// Costs nothing per order: a million orders need not sit in memory for the
// whole run. Any index may be asked for; asking for an earlier one than the
// last re-draws from the start (a run asks in order).
//
//   Prng rng = workload_rng(seed);
//   Workload ref = materialize_reference(w, rng);
//   OrderDraws draws(ref, rng);          // ref must outlive draws
//   OrderSpec first = draws.order(0);    // "o-1"
class OrderDraws {
 public:
  // `w`: with its customers and SKUs materialised; `start`: the workload's
  // stream after drawing them.
  OrderDraws(const Workload& w, const sim::Prng& start);
  size_t count() const { return count_; }
  Duration at(size_t i) const;  // when the i-th order (from 0) is placed
  const OrderSpec& order(size_t i) const;
  static std::string id(size_t i);  // the i-th order's id: "o-<i + 1>"

 private:
  struct Cursor {
    sim::Prng rng;
    size_t drawn = 0;  // orders drawn so far; the last is drawn - 1
    Duration t{0};
    OrderSpec last;  // filled only by the order cursor
  };
  // Draws the next order: every draw materialize_workload makes for it, in
  // its order; fills c.last when `fill`.
  void draw(Cursor& c, bool fill) const;
  void seek(Cursor& c, size_t i, bool fill) const;

  const Workload& w_;
  sim::Prng start_;
  size_t count_;
  mutable Cursor times_;   // placement times: looked ahead by the engine
  mutable Cursor orders_;  // the orders themselves, as they are placed
};

// The order saga's part of a scenario: "saga" settings and the workload.
struct OrderSettings final : sim::SagaSettings {
  Duration order_timeout = Duration::seconds(5);
  Workload workload;
};

}  // namespace sagasim::saga
