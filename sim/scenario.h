// A scenario: the topology, the broker's timing, the saga's settings, the
// workload and the fault plan (interpreted by faults/) of one simulated run, as data.
// docs/scenario-format.md documents the file format; scenarios/scenario.schema.json
// is its JSON Schema. load_scenario validates every field and throws
// InputError naming the file and the JSON pointer of the first problem.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "services/events.h"
#include "sim/broker.h"
#include "sim/saga.h"

namespace sagasim::sim {

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
  std::vector<saga::OrderLine> lines;
};

struct Workload {
  // Either explicit lists, or counts and ranges that the seed turns into
  // lists (materialize_workload). Explicit lists make a run independent of
  // the workload generator: shrunk counterexamples are written that way.
  std::vector<CustomerSpec> customers;
  std::vector<SkuSpec> skus;
  std::vector<OrderSpec> orders;

  int customer_count = 0;
  Range balance_cents;
  int sku_count = 0;
  Range stock;
  int order_count = 0;
  DurationDist interarrival = DurationDist::exponential_ms(10);
  Range lines_per_order{1, 3};
  Range quantity{1, 3};
  Range price_cents{100, 5000};
};

// One instance of a rolling upgrade: it runs code that knows some event types
// only up to an older version (PayloadRegistry::pin), until `upgrade_at`, when
// it is restarted on the current code (never, when absent).
struct VersionPin {
  std::string instance;  // "order-2"
  std::vector<std::pair<std::string, int>> pins;  // {"OrderCreated", 1}
  std::optional<Duration> upgrade_at;
  std::string path;  // "/wire/versions/order-2", for messages
};

struct Scenario {
  std::string source;  // the file it came from, for messages
  std::string name;
  std::string description;
  std::optional<uint64_t> seed;  // the default seed; --seed overrides

  // The saga this scenario runs (default: the built-in order saga) and its
  // style ("" when the saga has none; else one of saga->styles()).
  std::shared_ptr<const SagaDefinition> saga;
  std::string style;

  int32_t partitions = 3;
  // Every service of the saga with its starting instance count, in the
  // saga's service order; and its topics, in creation order.
  std::vector<std::pair<std::string, int>> instances;
  std::vector<std::string> topics;
  bool idempotent_producer = true;
  int max_in_flight = 5;  // max.in.flight.requests.per.connection
  BrokerConfig broker;

  Duration liveness_bound = Duration::seconds(60);
  Duration max_virtual = Duration::seconds(3600);

  // The built-in order saga's settings (sim/order_saga.h); other sagas keep
  // theirs in `settings`.
  Duration order_timeout = Duration::seconds(5);
  Workload workload;
  std::shared_ptr<const SagaSettings> settings;

  // On the wire: every record is encoded by its producer's codec and decoded,
  // schema checks and upcasting included, by each consumer's. Off, events are
  // shared by pointer (faster; the same services, the same trace hash for the
  // same run). `versions` (a rolling upgrade) implies it.
  bool wire = false;
  std::vector<VersionPin> versions;

  // The fault plan, validated and interpreted by faults/ (faults/plan.h).
  nlohmann::json faults = nlohmann::json::array();
  // The file's JSON as read, so a trace can carry the exact scenario it ran.
  nlohmann::json spec;

  // Starting instances of `service` (0 if the saga has no such service).
  int instances_of(std::string_view service) const;
  std::vector<std::string> services() const;
};

// Resource limits. A scenario beyond one is refused when it is loaded, with
// an InputError naming the file and the field, instead of running the machine
// out of memory halfway through materialising it. Measured (Release, 2026-11):
// about 4.7 KB of memory per order over a whole run (100,000 orders: 468 MB
// peak) and about 450 bytes per customer or SKU (10^6 of each: 887 MB), so a
// scenario at every limit at once needs several GB; the limits refuse the
// absurd (10^12 orders), not the merely large. docs/scenario-format.md#limits.
inline constexpr int64_t kMaxOrders = 1'000'000;         // generated count or explicit list
inline constexpr int64_t kMaxOrderLines = 10'000'000;    // orders × lines per order (generated: × lines.max)
inline constexpr int64_t kMaxLinesPerOrder = 100;
inline constexpr int64_t kMaxCustomers = 1'000'000;
inline constexpr int64_t kMaxSkus = 1'000'000;
inline constexpr int64_t kMaxPartitions = 1024;          // per topic
inline constexpr int64_t kMaxInstances = 64;             // per service
inline constexpr int64_t kMaxFaults = 10'000;            // entries in "faults"
inline constexpr size_t kMaxIdBytes = 256;               // name, ids, SKUs
inline constexpr size_t kMaxDescriptionBytes = 64 * 1024;
inline constexpr size_t kMaxScenarioFileBytes = 64 * 1024 * 1024;


// The built-in order saga (choreography or orchestration), the default.
std::shared_ptr<const SagaDefinition> order_saga();

// Without `saga`: the built-in order saga.
Scenario load_scenario_file(const std::string& path, std::shared_ptr<const SagaDefinition> saga = nullptr);
Scenario parse_scenario(const nlohmann::json& j, const std::string& source,
                        std::shared_ptr<const SagaDefinition> saga = nullptr);

// The same scenario in another style (`--style`): re-read with "style" set,
// so that every check applies. The spec (hence the trace header and replay)
// records the style only when it differs from the file's.
Scenario with_style(const Scenario& scenario, const std::string& style);

// A `*_ms` field (a number of milliseconds, fractions allowed, up to a year)
// as a Duration, for definitions reading their own settings.
Duration ms_field(JsonObject& o, const char* key, double default_ms);
// The built-in order saga's workload ("customers", "skus", "orders").
Workload parse_order_workload(const nlohmann::json& j, const std::string& path, const std::string& source);

// Expands generated workload parts into explicit lists, from the seed.
Workload materialize_workload(const Workload& w, uint64_t seed);

}  // namespace sagasim::sim
