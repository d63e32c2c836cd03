// A scenario: the topology, the broker's timing, the saga's settings, the
// workload and the fault plan (interpreted by faults/) of one simulated run, as data.
// docs/scenario-format.md documents the file format; scenarios/scenario.schema.json
// is its JSON Schema. load_scenario validates every field and throws
// InputError naming the file and the JSON pointer of the first problem.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "sim/broker.h"
#include "sim/registry.h"
#include "sim/saga.h"

namespace sagasim::sim {

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

  // The saga this scenario runs ("saga": {"name": ...}; always set) and its
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

  // The saga's own settings and workload, as its parse_settings and
  // parse_workload read them: reached through settings<T>() (checked).
  std::shared_ptr<SagaSettings> saga_settings;

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

  // The saga's settings as the type its definition stored (InternalError,
  // naming the saga and both types, when they are absent or of another type:
  // a scenario of one saga handed to another's code).
  template <class T>
  const T& settings() const {
    const T* t = dynamic_cast<const T*>(saga_settings.get());
    if (!t) settings_mismatch(typeid(T).name());
    return *t;
  }
  // For a definition's parse_settings / parse_workload: its settings object,
  // made on first use.
  template <class T>
  T& settings_to_fill() {
    if (!saga_settings) saga_settings = std::make_shared<T>();
    T* t = dynamic_cast<T*>(saga_settings.get());
    if (!t) settings_mismatch(typeid(T).name());
    return *t;
  }

 private:
  [[noreturn]] void settings_mismatch(const char* wanted) const;
};

// Resource limits of the generic part. A scenario beyond one is refused when
// it is loaded, with an InputError naming the file and the field, instead of
// running the machine out of memory halfway through (a saga's workload has
// limits of its own: sagas/order/workload.h). docs/scenario-format.md#limits.
inline constexpr int64_t kMaxPartitions = 1024;          // per topic
inline constexpr int64_t kMaxInstances = 64;             // per service
inline constexpr int64_t kMaxFaults = 10'000;            // entries in "faults"
inline constexpr size_t kMaxIdBytes = 256;               // name, ids, SKUs
inline constexpr size_t kMaxDescriptionBytes = 64 * 1024;
inline constexpr size_t kMaxScenarioFileBytes = 64 * 1024 * 1024;


// Reads a scenario. Its "saga": {"name": ...} picks the definition from
// `sagas`; a missing or unknown name is an InputError naming the known ones.
// The one-definition forms are a registry of that saga alone.
Scenario load_scenario_file(const std::string& path, const SagaRegistry& sagas);
Scenario load_scenario_file(const std::string& path, std::shared_ptr<const SagaDefinition> saga);
Scenario parse_scenario(const nlohmann::json& j, const std::string& source, const SagaRegistry& sagas);
Scenario parse_scenario(const nlohmann::json& j, const std::string& source, std::shared_ptr<const SagaDefinition> saga);

// The same scenario in another style (`--style`): re-read with "style" set,
// so that every check applies. The spec (hence the trace header and replay)
// records the style only when it differs from the file's.
Scenario with_style(const Scenario& scenario, const std::string& style);

// Readers for a definition's own settings and workload, with the same checks
// and messages as the generic part (InputError naming source and pointer).
// A `*_ms` field (a number of milliseconds, fractions allowed, up to a year).
Duration ms_field(JsonObject& o, const char* key, double default_ms);
// A latency distribution object ({"dist": "exponential", "mean_ms": 4, ...}).
DurationDist parse_dist(const nlohmann::json& j, const std::string& path, const std::string& source);
// A string field no longer than `max` bytes (ids end up in every event and
// every trace line; a megabyte id would multiply through the whole run).
std::string bounded_string(JsonObject& o, const char* key, size_t max,
                           std::optional<std::string> def = std::nullopt);
// An array no longer than `max` entries, checked before anything is built from it.
void check_count(const nlohmann::json& j, const std::string& path, const std::string& source, int64_t max,
                 const char* what);
// A non-empty id not seen before in `seen`.
void check_id(JsonObject& o, const std::string& id, const char* key, std::set<std::string>& seen);

}  // namespace sagasim::sim
