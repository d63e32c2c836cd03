// Production mode for any registered saga: `serve`, `place` and `check` run
// the saga's own SagaRun (sim/saga.h, "Production mode") on real Kafka, with
// each service's state in SQLite.
//
// The live workload is a scenario (the same file a simulated run uses, its
// saga named in it) or, without --scenario, the saga's built-in one
// (SagaDefinition::live_scenario). `serve SERVICE` writes the service's part
// of the opening state into its database once; `place` places instances over
// the same reference data; `check` computes the same opening state to judge
// against. Every command of one deployment is therefore given the same
// --scenario and --seed (the defaults agree), and `check` refuses a database
// whose opening state differs from its own.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/main.h"
#include "core/memory_store.h"
#include "kafka/client/admin.h"
#include "kafka/client/config.h"
#include "sim/saga.h"
#include "sim/scenario.h"

namespace sagasim::cli {

struct KafkaArgs {
  std::string properties;              // --kafka FILE
  std::vector<std::string> overrides;  // --kafka-set key=value
  int partitions = 3;                  // of each saga topic, when created
  int replication_factor = -1;         // -1: the broker's default.replication.factor
  // --namespace NS (or $SAGASIM_NAMESPACE): the deployment's namespace, put
  // with a dot before every topic and consumer group (and client.id) this
  // deployment uses: "team-a" -> "team-a.orders", group "team-a.payment".
  std::string ns;
  // "NS." or "" (no namespace).
  std::string prefix() const { return ns.empty() ? std::string() : ns + "."; }
};
inline constexpr const char* kNamespaceEnv = "SAGASIM_NAMESPACE";
void add_kafka_options(CLI::App& cmd, KafkaArgs& args);
// The client configuration; InputError naming the file:line or the override,
// or a namespace Kafka would refuse in a topic name (check_namespace).
kafka::Config load_kafka_config(const KafkaArgs& args);
// InputError (naming --namespace, or the environment variable) unless `ns`
// is empty or 1-200 characters of Kafka's topic alphabet [A-Za-z0-9._-].
void check_namespace(const std::string& ns);

// What names the live saga and its workload: --saga, --scenario, --seed,
// --style, --mutant.
struct LiveArgs {
  std::string saga;      // empty: the scenario's, else the program's only (or first) saga
  std::string scenario;  // empty: the saga's built-in live workload
  uint64_t seed = 1;
  std::string style;     // empty: the scenario's
  std::string mutant;    // a variant of the saga ("" as written)
};
void add_live_options(CLI::App& cmd, LiveArgs& args, const Program& program, bool with_mutant);

// The saga and scenario a production command runs.
struct LiveSetup {
  std::shared_ptr<const sim::SagaDefinition> saga;
  sim::Scenario scenario;  // style resolved
  sim::RunOptions options;  // seed, mutant
};
// InputError for an unknown saga or style, a bad scenario file, a saga
// without production mode, or a mutant that is not the saga's own variant
// (the runtime mutants break the simulator's runtime, not the Kafka one).
LiveSetup live_setup(const Program& program, const LiveArgs& args);

// The saga's topics (in the style) and their dead-letter topics, each with
// the namespace's prefix.
std::vector<kafka::NewTopic> saga_topics(const sim::SagaDefinition& saga, std::string_view style,
                                         const KafkaArgs& args);

// The opening state, as the run's open() commits it: one store per service,
// remembering which tables it wrote, so that `serve` can copy its service's
// records into the database and `check` can compare digests.
class OpeningCapture final : public Store {
 public:
  explicit OpeningCapture(std::string where) : where_(std::move(where)) {}
  RecordPtr get(std::string_view table, std::string_view key) const override { return store_.get(table, key); }
  bool inbox_contains(std::string_view id) const override { return store_.inbox_contains(id); }
  void commit(WriteSet& ws) override;  // InputError for events or timers: an opening state is records
  std::vector<OutboxEntry> unpublished(std::string_view owner) const override { return store_.unpublished(owner); }
  void mark_published(uint64_t seq) override { store_.mark_published(seq); }
  std::optional<Time> next_timer() const override { return store_.next_timer(); }
  std::vector<std::string> due_timers(Time now) const override { return store_.due_timers(now); }
  void scan(std::string_view table,
            const std::function<void(const std::string&, const RecordPtr&)>& fn) const override {
    store_.scan(table, fn);
  }

  // Puts every record into `txn`, table by table in name order, keys in order.
  void copy_into(Transaction& txn) const;
  // opening_digest over the tables written.
  std::string digest() const;
  const std::vector<std::string>& tables() const { return tables_; }

 private:
  std::string where_;
  MemoryStore store_;
  std::vector<std::string> tables_;  // written to, in name order
};

class LiveOpening final : public sim::OpeningState {
 public:
  OpeningCapture& store(std::string_view service) override;

 private:
  std::map<std::string, std::unique_ptr<OpeningCapture>, std::less<>> stores_;
};

// A digest of a store's records in `tables` (table, key, JSON, in order):
// "<16 hex>/<records>". `serve` keeps its service's in the database's meta
// table (kOpeningDigestKey); `check` compares it with its own.
std::string opening_digest(const Store& store, const std::vector<std::string>& tables);
inline constexpr std::string_view kOpeningDigestKey = "opening_digest";

// "TYPE=VERSION" (a --pin option's value); InputError naming the option.
std::pair<std::string, int> parse_pin(const std::string& pin, std::string_view option);

struct ServeArgs {
  std::string service;
  std::string db;
  std::string instance;  // default "<service>-1"
  KafkaArgs kafka;
  LiveArgs live;
  int64_t commit_interval_ms = 100;
  bool fsync = true;  // make the database durable before each offset commit
  int metrics_port = -1;
  std::string log_level = "info";
  std::vector<std::string> pins;  // --pin TYPE=VERSION: run as an older build (rolling upgrade)
};
int serve_command(const Program& program, const ServeArgs& args);

struct PlaceArgs {
  KafkaArgs kafka;
  LiveArgs live;
  int64_t count = 0;
  double rate = 0;          // instances per second; 0: as fast as the producer takes them
  std::string run_id;       // id prefix; default: from the clock
  double wait_s = 0;        // then wait this long for every instance's decision
  bool json = false;
};
int place_command(const Program& program, const PlaceArgs& args);

struct CheckArgs {
  KafkaArgs kafka;
  LiveArgs live;
  std::vector<std::string> dbs;
  double wait_s = 0;               // wait for every instance to be decided
  int64_t liveness_bound_ms = 120'000;
  bool json = false;
  std::string trace;  // write the live run as a sagasim trace here
  bool allow_poison = false;  // dead-lettered records do not fail records_readable
  // The scope: judge only the instances placed by these runs (ids
  // "<run>-...", as `place --run-id` makes them) and/or whose first record's
  // Kafka timestamp is in [since, until) (RFC 3339 UTC). Empty: every one.
  std::vector<std::string> run_ids;
  std::string since, until;
};
int check_command(const Program& program, const CheckArgs& args);

struct MonitorArgs {
  KafkaArgs kafka;
  LiveArgs live;
  std::string state;                    // progress: offsets, the checks' state, counts
  std::string group = "sagasim-monitor";  // its own consumer group (committed offsets, for lag tools)
  int64_t liveness_bound_ms = 120'000;
  int metrics_port = -1;
  int64_t checkpoint_interval_ms = 1000;
  int64_t watermark_interval_ms = 500;  // how often the log's read-up-to time is asked of the broker
  std::string log_level = "info";
};
int monitor_command(const Program& program, const MonitorArgs& args);

// serve, place (alias place-orders), check and monitor, for every saga of the program
// that has a production mode. cli::main adds them.
std::unique_ptr<Command> live_commands(const Program& program);

}  // namespace sagasim::cli
