// serve, place and check (cli/live.h) as a cli::Command: production mode on
// real Kafka for every saga of the program that has one.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/live.h"

namespace sagasim::cli {

namespace {

class LiveCommands final : public Command {
 public:
  explicit LiveCommands(const Program& program) : program_(program) {}

  void add_to(CLI::App& app) override {
    const std::string& prog = program_.name;
    serve_ = app.add_subcommand(
        "serve", "Run one instance of a saga service on real Kafka, with its state in SQLite or PostgreSQL (production mode)");
    serve_->add_option("service", serve_args_.service, "The service, one of the saga's (e.g. order, payment, inventory)")
        ->required();
    serve_->add_option("--db", serve_args_.db,
                       "The service's store, created if missing, shared by every instance of the service: a SQLite file "
                       "(the instances on one host), or a PostgreSQL URL postgresql://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE "
                       "(instances on any host; the service gets its own schema sagasim_SERVICE in that database)")
        ->required();
    serve_->add_option("--instance", serve_args_.instance,
                       "This instance's name, unique within the service and stable across restarts (default SERVICE-1): "
                       "a restart relays what the previous run left in the outbox");
    add_kafka_options(*serve_, serve_args_.kafka);
    add_live_options(*serve_, serve_args_.live, program_, true);
    serve_->add_option("--commit-interval-ms", serve_args_.commit_interval_ms,
                       "How often the outbox is flushed and consumer offsets committed")
        ->check(CLI::Range(int64_t{1}, int64_t{60'000}));
    serve_->add_flag("--fsync,!--no-fsync", serve_args_.fsync,
                     "SQLite: checkpoint the database (two fsyncs) before each offset commit, so that committed offsets "
                     "survive a power loss too (default). --no-fsync: a killed process still loses nothing; a "
                     "machine crash may lose the last commits of handled records whose offsets were committed");
    serve_->add_option("--metrics-port", serve_args_.metrics_port,
                       "Serve Prometheus metrics at http://127.0.0.1:PORT/metrics (0: any free port, logged; default off)")
        ->check(CLI::Range(0, 65535));
    serve_->add_option("--pin", serve_args_.pins,
                       "Read and write an event type at an older version, as the build before it did: TYPE=VERSION, "
                       "repeatable (e.g. OrderCreated=1, for one step of a rolling upgrade; docs/schema-evolution.md)");
    serve_->add_option("--log-level", serve_args_.log_level, "debug (one line per record), info, warn or error")
        ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
    serve_->footer("The saga's settings (such as the order saga's order_timeout_ms) come from --scenario. The service's "
                   "part of the opening state is written into a new database once.\n"
                   "Logs are JSON lines on stderr. SIGTERM or SIGINT: finish the current batch, flush the outbox, commit "
                   "offsets, leave the group, exit 0 (a second signal exits at once).\n"
                   "Exit codes: 0 stopped cleanly, 1 a fatal Kafka or store error (logged), 2 bad input.");

    place_ = app.add_subcommand("place", "Place saga instances (orders, trips...) on a live deployment and time the sagas");
    place_->alias("place-orders");
    add_kafka_options(*place_, place_args_.kafka);
    add_live_options(*place_, place_args_.live, program_, false);
    place_->add_option("--count", place_args_.count, "How many instances")
        ->required()
        ->check(CLI::Range(int64_t{1}, int64_t{100'000'000}));
    place_->add_option("--rate", place_args_.rate, "Instances per second (0: as fast as possible)")
        ->check(CLI::Range(0.0, 1e7));
    place_->add_option("--run-id", place_args_.run_id,
                       "Prefix of the instance ids, unique per run: an id placed before is a duplicate and is never "
                       "decided again (default: r<unix seconds>-<random>)");
    place_->add_option("--wait", place_args_.wait_s,
                       "Then follow the saga topics up to this many seconds until every instance is decided, and report "
                       "instances/s and saga latency percentiles")
        ->check(CLI::Range(0.0, 86400.0));
    place_->add_flag("--json", place_args_.json, "Print one JSON object");
    place_->footer("Give it the --scenario and --seed that `serve` had: it places over the same reference data.\n"
                   "Exit codes: 0 placed (and, with --wait, all decided), 1 a delivery failed or instances stayed "
                   "undecided, 2 bad input.");

    check_ = app.add_subcommand(
        "check", "Check a live deployment's invariants: the saga topics from the beginning plus every service's database");
    add_kafka_options(*check_, check_args_.kafka);
    add_live_options(*check_, check_args_.live, program_, false);
    check_->add_option("--db", check_args_.dbs,
                       "A service's database: a SQLite file (give one per service; each file names its service), or a "
                       "PostgreSQL URL (once: it holds every service's store that `serve` put there)")
        ->required();
    check_->add_option("--wait", check_args_.wait_s,
                       "Wait up to this many seconds for the deployment to go quiet before judging: every placed "
                       "instance decided, every outbox drained, no new record for a second (compensations follow "
                       "decisions)")
        ->check(CLI::Range(0.0, 86400.0));
    check_->add_option("--liveness-bound-ms", check_args_.liveness_bound_ms,
                       "An instance must be decided within this long of being placed (default 120000; a scenario's "
                       "bound is for simulated time)")
        ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}));
    check_->add_flag("--json", check_args_.json, "Print one JSON object");
    check_->add_flag("--allow-poison", check_args_.allow_poison,
                     "Records no service could read (each dead-lettered) are counted but do not fail records_readable: "
                     "for topics that also carry records written on purpose or by another producer");
    check_->add_option("--trace", check_args_.trace,
                       fmt::format("Write the live run as a {} trace (JSON Lines): a publish step per record, a state "
                                   "step per decision; open it with sagasim-viewer or `{} export`",
                                   prog, prog));
    check_->footer("Give it the --scenario, --seed and --style that `serve` had: it judges against the same opening "
                   "state (a database opened from another workload is refused).\n"
                   "Exit codes: 0 every invariant holds, 1 a violation (the instance and its events are printed) or "
                   "the topics could not be read, 2 bad input.");
  }

  std::optional<int> run_if_parsed() override {
    if (serve_->parsed()) return serve_command(program_, serve_args_);
    if (place_->parsed()) return place_command(program_, place_args_);
    if (check_->parsed()) return check_command(program_, check_args_);
    return std::nullopt;
  }

 private:
  const Program& program_;
  ServeArgs serve_args_;
  PlaceArgs place_args_;
  CheckArgs check_args_;
  CLI::App* serve_ = nullptr;
  CLI::App* place_ = nullptr;
  CLI::App* check_ = nullptr;
};

}  // namespace

std::unique_ptr<Command> live_commands(const Program& program) { return std::make_unique<LiveCommands>(program); }

}  // namespace sagasim::cli
