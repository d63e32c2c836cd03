// serve, place, check and monitor (cli/live.h) as a cli::Command: production mode on
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
    check_->add_option("--run-id", check_args_.run_ids,
                       "Judge only the instances of this run: ids starting with RUN- (`place` prints its run id; "
                       "`place --run-id RUN` sets it). Repeatable. Money and stock conservation stay the whole "
                       "deployment's");
    check_->add_option("--since", check_args_.since,
                       "Judge only the instances whose first record's Kafka timestamp is at or after this time, "
                       "RFC 3339 UTC (2026-05-01T12:00:00Z)");
    check_->add_option("--until", check_args_.until,
                       "... and before this time (RFC 3339 UTC)");
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
                   "Without --run-id/--since/--until it judges every instance ever placed on the topics; on a "
                   "long-lived cluster, scope it to a run or a time window.\n"
                   "Exit codes: 0 every invariant holds, 1 a violation (the instance and its events are printed) or "
                   "the topics could not be read, 2 bad input.");

    monitor_ = app.add_subcommand(
        "monitor", "Apply the saga's invariants to a live deployment continuously: every record of its topics as it "
                   "arrives, the liveness bound as time passes; violations as JSON lines and Prometheus counters");
    add_kafka_options(*monitor_, monitor_args_.kafka);
    add_live_options(*monitor_, monitor_args_.live, program_, false);
    monitor_->add_option("--state", monitor_args_.state,
                         "Where the monitor keeps its progress (JSON, replaced atomically): the offsets read and what "
                         "its checks remember, including what they reported. Created if missing; a restart with the "
                         "same file resumes there, reporting nothing twice and missing nothing")
        ->required();
    monitor_->add_option("--group", monitor_args_.group,
                         "Its own consumer group, never a service's: it commits its offsets there so consumer-group "
                         "tools show its lag (it reads every partition itself; the state file is what it resumes from)");
    monitor_->add_option("--liveness-bound-ms", monitor_args_.liveness_bound_ms,
                         "An instance must be decided within this long of being placed (default 120000); also when "
                         "it has settled and its compensations are judged, and (twice it) when it is forgotten")
        ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}));
    monitor_->add_option("--metrics-port", monitor_args_.metrics_port,
                         "Serve Prometheus metrics at http://127.0.0.1:PORT/metrics (0: any free port, logged; "
                         "default off): violations per invariant, instances in flight, decision latency, lag")
        ->check(CLI::Range(0, 65535));
    monitor_->add_option("--checkpoint-interval-ms", monitor_args_.checkpoint_interval_ms,
                         "How often the state file is written when nothing was reported (a report writes it at once; default "
                         "1000). A write takes longer the more instances are remembered: the interval stretches to 20 "
                         "times the last write, so writing costs at most about 5 % of the monitor's time")
        ->check(CLI::Range(int64_t{10}, int64_t{600'000}));
    monitor_->add_option("--watermark-interval-ms", monitor_args_.watermark_interval_ms,
                         "How often it asks the broker how far each partition goes, to know how far in time the log "
                         "has been read (deadlines are judged up to there, never past records it has not seen)")
        ->check(CLI::Range(int64_t{10}, int64_t{60'000}));
    monitor_->add_option("--log-level", monitor_args_.log_level, "Of its own logs on stderr: debug, info, warn or error")
        ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
    monitor_->footer(
        fmt::format("Give it the --scenario, --seed and --style that `serve` had. It reads the topics from the start "
                    "(or where --state left off) and runs until SIGTERM or SIGINT (saves its state, exit 0).\n"
                    "stdout: one JSON line per violation: {{\"msg\":\"violation\",\"id\",\"invariant\",\"entity\" "
                    "(and the saga's word for it, e.g. \"order\"),\"message\",\"at_fault\" (the record that broke "
                    "it, null when a deadline did),\"records\" (the instance's records: topic, partition, offset, "
                    "type, event_id)}}. stderr: its own JSON logs.\n"
                    "Judged from the records alone (no database): the saga's effects at most once and as ordered, "
                    "decisions within the bound, compensations complete once settled, records readable. "
                    "Conservation needs the stores: `{} check`. Alert on it with Prometheus: "
                    "deploy/prometheus/sagasim-alerts.yml.\n"
                    "Exit codes: 0 stopped by a signal, 1 a fatal Kafka error or an unwritable state file (logged), "
                    "2 bad input.",
                    prog));
  }

  std::optional<int> run_if_parsed() override {
    if (serve_->parsed()) return serve_command(program_, serve_args_);
    if (place_->parsed()) return place_command(program_, place_args_);
    if (check_->parsed()) return check_command(program_, check_args_);
    if (monitor_->parsed()) return monitor_command(program_, monitor_args_);
    return std::nullopt;
  }

 private:
  const Program& program_;
  ServeArgs serve_args_;
  PlaceArgs place_args_;
  CheckArgs check_args_;
  MonitorArgs monitor_args_;
  CLI::App* serve_ = nullptr;
  CLI::App* place_ = nullptr;
  CLI::App* check_ = nullptr;
  CLI::App* monitor_ = nullptr;
};

}  // namespace

std::unique_ptr<Command> live_commands(const Program& program) { return std::make_unique<LiveCommands>(program); }

}  // namespace sagasim::cli
