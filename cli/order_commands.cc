// The order saga's own commands in the sagasim binary: production mode on
// real Kafka (serve, place-orders, check; cli/live.h) and its event schemas
// (schema list | check | validate). Written for the order saga; the
// simulation commands (cli/main.h) serve every registered saga.
#include "cli/order_commands.h"

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/live.h"
#include "cli/schema.h"

namespace sagasim::cli {

namespace {

class OrderCommands final : public Command {
 public:
  void add_to(CLI::App& app) override {
    serve_ = app.add_subcommand(
        "serve", "Run one instance of a saga service on real Kafka, with its state in SQLite (production mode)");
    serve_->add_option("service", serve_args.service, "order, payment or inventory")
        ->required()
        ->check(CLI::IsMember({"order", "payment", "inventory"}));
    serve_->add_option("--db", serve_args.db,
                      "The service's SQLite database, created if missing; every instance of a service shares one file")
        ->required();
    serve_->add_option("--instance", serve_args.instance,
                      "This instance's name, unique within the service and stable across restarts (default SERVICE-1): "
                      "a restart relays what the previous run left in the outbox");
    add_kafka_options(*serve_, serve_args.kafka);
    add_workload_options(*serve_, serve_args.workload);
    serve_->add_option("--order-timeout-ms", serve_args.order_timeout_ms,
                      "order: cancel an order not decided this long after placement (default: the scenario's, else 30000)")
        ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}));
    serve_->add_option("--style", serve_args.style,
                      "choreography (default) or orchestration: the order service is then the orchestrator and payment "
                      "and inventory answer its commands; every service of a deployment must run the same style")
        ->check(CLI::IsMember({"choreography", "orchestration"}));
    serve_->add_option("--commit-interval-ms", serve_args.commit_interval_ms,
                      "How often the outbox is flushed and consumer offsets committed")
        ->check(CLI::Range(int64_t{1}, int64_t{60'000}));
    serve_->add_flag("--fsync,!--no-fsync", serve_args.fsync,
                    "Checkpoint the database (two fsyncs) before each offset commit, so that committed offsets "
                    "survive a power loss too (default). --no-fsync: a killed process still loses nothing; a "
                    "machine crash may lose the last commits of handled records whose offsets were committed");
    serve_->add_option("--metrics-port", serve_args.metrics_port,
                      "Serve Prometheus metrics at http://127.0.0.1:PORT/metrics (0: any free port, logged; default off)")
        ->check(CLI::Range(0, 65535));
    serve_->add_option("--pin", serve_args.pins,
                      "Read and write an event type at an older version, as the build before it did: TYPE=VERSION, "
                      "repeatable (e.g. OrderCreated=1, for one step of a rolling upgrade; docs/schema-evolution.md)");
    serve_->add_option("--log-level", serve_args.log_level, "debug (one line per record), info, warn or error")
        ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
    serve_->footer("Logs are JSON lines on stderr. SIGTERM or SIGINT: finish the current record, flush the outbox, commit "
                  "offsets, leave the group, exit 0 (a second signal exits at once).\n"
                  "Exit codes: 0 stopped cleanly, 1 a fatal Kafka or store error (logged), 2 bad input.");

    place_ = app.add_subcommand("place-orders", "Send PlaceOrder commands to a live deployment and time the sagas");
    add_kafka_options(*place_, place_args.kafka);
    add_workload_options(*place_, place_args.workload);
    place_->add_option("--count", place_args.count, "How many orders")->required()->check(CLI::Range(int64_t{1}, int64_t{100'000'000}));
    place_->add_option("--rate", place_args.rate, "Orders per second (0: as fast as possible)")->check(CLI::Range(0.0, 1e7));
    place_->add_option("--run-id", place_args.run_id, "Prefix of the order ids, unique per run: an id placed before is a duplicate and is never decided again (default: r<unix seconds>-<random>)");
    place_->add_option("--wait", place_args.wait_s,
                      "Then follow the orders topic up to this many seconds until every order is decided, and report "
                      "orders/s and saga latency percentiles")
        ->check(CLI::Range(0.0, 86400.0));
    place_->add_flag("--json", place_args.json, "Print one JSON object");
    place_->footer("Exit codes: 0 placed (and, with --wait, all decided), 1 a delivery failed or orders stayed undecided, "
                  "2 bad input.");

    check_ = app.add_subcommand(
        "check", "Check a live deployment's invariants: the saga topics from the beginning plus the three databases");
    add_kafka_options(*check_, check_args.kafka);
    check_->add_option("--db", check_args.dbs, "A service's database (give all three; each file names its service)")
        ->required();
    check_->add_option("--wait", check_args.wait_s,
                      "Wait up to this many seconds for the deployment to go quiet before judging: every placed order "
                      "decided, every outbox drained, no new record for a second (compensations follow decisions)")
        ->check(CLI::Range(0.0, 86400.0));
    check_->add_option("--liveness-bound-ms", check_args.liveness_bound_ms,
                      "An order must be decided within this long of being placed")
        ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}));
    check_->add_flag("--json", check_args.json, "Print one JSON object");
    check_->add_flag("--allow-poison", check_args.allow_poison,
                    "Records no service could read (each dead-lettered) are counted but do not fail records_readable: "
                    "for topics that also carry records written on purpose or by another producer");
    check_->add_option("--trace", check_args.trace,
                      "Write the live run as a sagasim trace (JSON Lines): a publish step per record, a state step per "
                      "decided order; open it with sagasim-viewer or `sagasim export`");
    check_->footer("Exit codes: 0 every invariant holds, 1 a violation (the order and its events are printed) or the "
                  "topics could not be read, 2 bad input.");

    schema_ = app.add_subcommand("schema", "The saga's event schemas: list them, check a change's compatibility, "
                                                    "validate events");
    schema_->require_subcommand(1);
    schema_list_ = schema_->add_subcommand("list", "Every event type and version, with its topic and fields");
    schema_list_->add_flag("--markdown", schema_list_args.markdown,
                          "Print the full reference (docs/events.md is this output)");
    schema_check_ = schema_->add_subcommand(
        "check", "Compatibility of a schema change in Confluent Schema Registry's terms: BACKWARD (new consumers read "
                 "old data), FORWARD (old consumers read new data), FULL (both)");
    schema_check_->add_option("old", schema_check_args.old_schema,
                             "The schema before the change: a JSON Schema file, or a built-in one named Type.vN "
                             "(e.g. OrderCreated.v1)")
        ->required();
    schema_check_->add_option("new", schema_check_args.new_schema, "The schema after the change (file or Type.vN)")->required();
    schema_check_->add_option("--require", schema_check_args.require,
                             "Exit 1 unless the change is at least this compatible: BACKWARD, FORWARD, FULL or NONE")
        ->check(CLI::IsMember({"BACKWARD", "FORWARD", "FULL", "NONE"}));
    schema_check_->add_flag("--json", schema_check_args.json, "Print one JSON object");
    schema_check_->footer("Exit codes: 0 checked (and --require met), 1 --require not met, 2 bad input (a schema file "
                         "that is not JSON, or uses a keyword sagasim does not support: the message names the path).");
    schema_validate_ = schema_->add_subcommand(
        "validate", "Decode event envelopes (one JSON object per line) exactly as the services do, schema checks included");
    schema_validate_->add_option("events", schema_validate_args.events, "File of event envelopes, one per line")->required();
    schema_validate_->add_option("--pin", schema_validate_args.pins,
                                "Read as a build that knows TYPE only up to VERSION (TYPE=VERSION, repeatable)");
    schema_validate_->add_flag("--verbose,-v", schema_validate_args.verbose, "Print a line for every valid event too");
    schema_validate_->footer("Exit codes: 0 every event is valid, 1 some are not (each is printed with file:line and the "
                            "JSON path), 2 bad input.");

  }

  std::optional<int> run_if_parsed() override {
    if (serve_->parsed()) return serve_command(serve_args);
    if (place_->parsed()) return place_orders_command(place_args);
    if (check_->parsed()) return check_command(check_args);
    if (schema_list_->parsed()) return schema_list_command(schema_list_args);
    if (schema_check_->parsed()) return schema_check_command(schema_check_args);
    if (schema_validate_->parsed()) return schema_validate_command(schema_validate_args);
    return std::nullopt;
  }

 private:
  ServeArgs serve_args;
  PlaceOrdersArgs place_args;
  CheckArgs check_args;
  SchemaListArgs schema_list_args;
  SchemaCheckArgs schema_check_args;
  SchemaValidateArgs schema_validate_args;
  CLI::App* serve_ = nullptr;
  CLI::App* place_ = nullptr;
  CLI::App* check_ = nullptr;
  CLI::App* schema_ = nullptr;
  CLI::App* schema_list_ = nullptr;
  CLI::App* schema_check_ = nullptr;
  CLI::App* schema_validate_ = nullptr;
};

}  // namespace

std::unique_ptr<Command> order_commands() { return std::make_unique<OrderCommands>(); }

}  // namespace sagasim::cli
