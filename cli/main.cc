// sagasim: the command-line front end.
//
//   sagasim run SCENARIO.json [--seed N] [--trace FILE] [--json] [--swarm] [--style S]
//   sagasim sweep SCENARIO.json --seeds A..B [--jobs N] [--swarm] [--keep-going] [--json] [--style S]
//   sagasim replay TRACE.jsonl
//   sagasim export TRACE.jsonl --perfetto OUT.json
//   sagasim mutants
//   sagasim shrink SCENARIO.json --seed N [--swarm] [--mutant NAME] [--out FILE]
//   sagasim schema list [--markdown] | check OLD NEW [--require MODE] | validate EVENTS.jsonl
//
// Production mode, on real Kafka (cli/live.h):
//   sagasim serve order|payment|inventory --kafka FILE --db PATH [--instance ID]
//   sagasim place-orders --kafka FILE --count N --rate R [--wait SECONDS]
//   sagasim check --kafka FILE --db ORDER.db --db PAYMENT.db --db INVENTORY.db [--wait SECONDS]
//
// Exit codes: 0 every invariant holds; 1 an invariant failed (the violation
// and the command that reproduces it are printed) or a replay diverged;
// 2 bad input (a message naming the file and the JSON path, or the argument).
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/live.h"
#include "cli/schema.h"
#include "core/error.h"

int main(int argc, char** argv) {
  using namespace sagasim;
  using namespace sagasim::cli;
  CLI::App app{"sagasim: deterministic simulation and testing of event-driven sagas on Kafka.\n"
               "Runs the Order/Payment/Inventory saga against a simulated Kafka broker on a\n"
               "virtual clock, with faults injected from a seed; the same seed always gives the\n"
               "same trace."};
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);
  app.footer("Exit codes: 0 all invariants hold, 1 an invariant failed or a replay diverged, 2 bad input.");

  // CLI11 would read "--seed -1" as 2^64-1 and saturate "--seed
  // 99999999999999999999": a seed must be the exact decimal integer it says.
  const CLI::Validator seed_check(
      [](std::string& v) -> std::string {
        if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
          return "'" + v + "' is not a non-negative decimal integer";
        if (v.size() > 20 || (v.size() == 20 && v > "18446744073709551615"))
          return "'" + v + "' is larger than the largest seed, 18446744073709551615";
        return "";
      },
      "SEED");

  RunArgs run_args;
  CLI::App* run = app.add_subcommand("run", "Run a scenario on the simulated broker and check every invariant");
  run->add_option("scenario", run_args.scenario, "Scenario file (JSON; see docs/scenario-format.md)")->required();
  run->add_option("--seed", run_args.seed, "Root seed (default: the scenario's \"seed\", else 1)")->check(seed_check);
  run->add_option("--trace", run_args.trace, "Write the trace (JSON Lines) to this file");
  run->add_flag("--json", run_args.json, "Print one JSON object instead of the human summary");
  run->add_flag("--swarm", run_args.swarm,
                "Swarm mode: the seed picks a random subset of the fault classes at random intensities");
  run->add_option("--mutant", run_args.mutant, "Run a deliberately broken variant of the saga (see `sagasim mutants`)");
  run->add_option("--style", run_args.style, "Run the saga in this style instead of the scenario's: choreography or orchestration");
  run->footer("Exit codes: 0 all invariants hold, 1 an invariant failed, 2 bad input.");

  SweepArgs sweep_args;
  CLI::App* sweep = app.add_subcommand("sweep", "Run a scenario for many seeds and report failures and coverage");
  sweep->add_option("scenario", sweep_args.scenario, "Scenario file")->required();
  sweep->add_option("--seeds", sweep_args.seeds, "Seeds to run, inclusive: A..B (for example 1..10000)")->required();
  sweep->add_option("--jobs,-j", sweep_args.jobs, "Worker threads (each run is single-threaded)")
      ->check(CLI::Range(1, 256));
  sweep->add_flag("--swarm", sweep_args.swarm, "Swarm mode: every seed picks its own fault mix");
  sweep->add_flag("--keep-going", sweep_args.keep_going,
                  "Run every seed even after a failure (every failing seed is listed; the first violation of the "
                  "lowest 1,000)");
  sweep->add_flag("--json", sweep_args.json, "Print one JSON object instead of the human summary");
  sweep->add_option("--mutant", sweep_args.mutant, "Sweep a deliberately broken variant (see `sagasim mutants`)");
  sweep->add_option("--style", sweep_args.style, "Run the saga in this style instead of the scenario's: choreography or orchestration");
  sweep->footer("Exit codes: 0 no run failed, 1 a run failed, 2 bad input.");

  ShrinkArgs shrink_args;
  CLI::App* shrink = app.add_subcommand(
      "shrink", "Minimise a failing run to a small scenario file that fails the same invariant");
  shrink->add_option("scenario", shrink_args.scenario, "Scenario file that fails at the given seed")->required();
  shrink->add_option("--seed", shrink_args.seed, "The failing seed (default: the scenario's \"seed\", else 1)")
      ->check(seed_check);
  shrink->add_flag("--swarm", shrink_args.swarm, "The failure was found in swarm mode");
  shrink->add_option("--mutant", shrink_args.mutant, "The failure was found with this mutant (see `sagasim mutants`)");
  shrink->add_option("--style", shrink_args.style, "The failure was found in this style (recorded in the shrunk file)");
  shrink->add_option("--out", shrink_args.out, "Where to write the result (default: SCENARIO.seedN.min.json)");
  shrink->add_option("--max-runs", shrink_args.max_runs, "Give up refining after this many trial runs")
      ->check(CLI::Range(1, 1000000));
  shrink->footer("Exit codes: 0 shrunk, 2 bad input (including a scenario that does not fail at that seed).");

  CLI::App* mutants = app.add_subcommand("mutants", "List the bug zoo: deliberately broken saga variants, one per line");

  std::string trace_path;
  CLI::App* replay = app.add_subcommand(
      "replay", "Re-run the scenario and seed recorded in a trace and confirm the identical trace hash");
  replay->add_option("trace", trace_path, "Trace file written by `sagasim run --trace`")->required();
  replay->footer("Exit codes: 0 identical, 1 diverged (the first differing step is printed), 2 bad trace.");

  ExportArgs export_args;
  CLI::App* export_cmd = app.add_subcommand(
      "export", "Convert a trace to Chrome trace-event JSON, for the Perfetto UI and chrome://tracing");
  export_cmd->add_option("trace", export_args.trace, "Trace file written by `sagasim run --trace`")->required();
  export_cmd->add_option("--perfetto", export_args.perfetto,
                         "Write Chrome trace-event JSON here: services and topics as processes, instances and "
                         "partitions as threads, handlings as slices, causation as flows")
      ->required();
  export_cmd->footer("Exit codes: 0 written, 2 bad trace (the message names file:line) or unwritable output.");

  ServeArgs serve_args;
  CLI::App* serve = app.add_subcommand(
      "serve", "Run one instance of a saga service on real Kafka, with its state in SQLite (production mode)");
  serve->add_option("service", serve_args.service, "order, payment or inventory")
      ->required()
      ->check(CLI::IsMember({"order", "payment", "inventory"}));
  serve->add_option("--db", serve_args.db,
                    "The service's SQLite database, created if missing; every instance of a service shares one file")
      ->required();
  serve->add_option("--instance", serve_args.instance,
                    "This instance's name, unique within the service and stable across restarts (default SERVICE-1): "
                    "a restart relays what the previous run left in the outbox");
  add_kafka_options(*serve, serve_args.kafka);
  add_workload_options(*serve, serve_args.workload);
  serve->add_option("--order-timeout-ms", serve_args.order_timeout_ms,
                    "order: cancel an order not decided this long after placement (default: the scenario's, else 30000)")
      ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}));
  serve->add_option("--style", serve_args.style,
                    "choreography (default) or orchestration: the order service is then the orchestrator and payment "
                    "and inventory answer its commands; every service of a deployment must run the same style")
      ->check(CLI::IsMember({"choreography", "orchestration"}));
  serve->add_option("--commit-interval-ms", serve_args.commit_interval_ms,
                    "How often the outbox is flushed and consumer offsets committed")
      ->check(CLI::Range(int64_t{1}, int64_t{60'000}));
  serve->add_flag("--fsync,!--no-fsync", serve_args.fsync,
                  "Checkpoint the database (two fsyncs) before each offset commit, so that committed offsets "
                  "survive a power loss too (default). --no-fsync: a killed process still loses nothing; a "
                  "machine crash may lose the last commits of handled records whose offsets were committed");
  serve->add_option("--metrics-port", serve_args.metrics_port,
                    "Serve Prometheus metrics at http://127.0.0.1:PORT/metrics (0: any free port, logged; default off)")
      ->check(CLI::Range(0, 65535));
  serve->add_option("--pin", serve_args.pins,
                    "Read and write an event type at an older version, as the build before it did: TYPE=VERSION, "
                    "repeatable (e.g. OrderCreated=1, for one step of a rolling upgrade; docs/schema-evolution.md)");
  serve->add_option("--log-level", serve_args.log_level, "debug (one line per record), info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  serve->footer("Logs are JSON lines on stderr. SIGTERM or SIGINT: finish the current record, flush the outbox, commit "
                "offsets, leave the group, exit 0 (a second signal exits at once).\n"
                "Exit codes: 0 stopped cleanly, 1 a fatal Kafka or store error (logged), 2 bad input.");

  PlaceOrdersArgs place_args;
  CLI::App* place = app.add_subcommand("place-orders", "Send PlaceOrder commands to a live deployment and time the sagas");
  add_kafka_options(*place, place_args.kafka);
  add_workload_options(*place, place_args.workload);
  place->add_option("--count", place_args.count, "How many orders")->required()->check(CLI::Range(int64_t{1}, int64_t{100'000'000}));
  place->add_option("--rate", place_args.rate, "Orders per second (0: as fast as possible)")->check(CLI::Range(0.0, 1e7));
  place->add_option("--run-id", place_args.run_id, "Prefix of the order ids, unique per run: an id placed before is a duplicate and is never decided again (default: r<unix seconds>-<random>)");
  place->add_option("--wait", place_args.wait_s,
                    "Then follow the orders topic up to this many seconds until every order is decided, and report "
                    "orders/s and saga latency percentiles")
      ->check(CLI::Range(0.0, 86400.0));
  place->add_flag("--json", place_args.json, "Print one JSON object");
  place->footer("Exit codes: 0 placed (and, with --wait, all decided), 1 a delivery failed or orders stayed undecided, "
                "2 bad input.");

  CheckArgs check_args;
  CLI::App* check = app.add_subcommand(
      "check", "Check a live deployment's invariants: the saga topics from the beginning plus the three databases");
  add_kafka_options(*check, check_args.kafka);
  check->add_option("--db", check_args.dbs, "A service's database (give all three; each file names its service)")
      ->required();
  check->add_option("--wait", check_args.wait_s,
                    "Wait up to this many seconds for the deployment to go quiet before judging: every placed order "
                    "decided, every outbox drained, no new record for a second (compensations follow decisions)")
      ->check(CLI::Range(0.0, 86400.0));
  check->add_option("--liveness-bound-ms", check_args.liveness_bound_ms,
                    "An order must be decided within this long of being placed")
      ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}));
  check->add_flag("--json", check_args.json, "Print one JSON object");
  check->add_flag("--allow-poison", check_args.allow_poison,
                  "Records no service could read (each dead-lettered) are counted but do not fail records_readable: "
                  "for topics that also carry records written on purpose or by another producer");
  check->add_option("--trace", check_args.trace,
                    "Write the live run as a sagasim trace (JSON Lines): a publish step per record, a state step per "
                    "decided order; open it with sagasim-viewer or `sagasim export`");
  check->footer("Exit codes: 0 every invariant holds, 1 a violation (the order and its events are printed) or the "
                "topics could not be read, 2 bad input.");

  CLI::App* schema = app.add_subcommand("schema", "The saga's event schemas: list them, check a change's compatibility, "
                                                  "validate events");
  schema->require_subcommand(1);
  SchemaListArgs schema_list_args;
  CLI::App* schema_list = schema->add_subcommand("list", "Every event type and version, with its topic and fields");
  schema_list->add_flag("--markdown", schema_list_args.markdown,
                        "Print the full reference (docs/events.md is this output)");
  SchemaCheckArgs schema_check_args;
  CLI::App* schema_check = schema->add_subcommand(
      "check", "Compatibility of a schema change in Confluent Schema Registry's terms: BACKWARD (new consumers read "
               "old data), FORWARD (old consumers read new data), FULL (both)");
  schema_check->add_option("old", schema_check_args.old_schema,
                           "The schema before the change: a JSON Schema file, or a built-in one named Type.vN "
                           "(e.g. OrderCreated.v1)")
      ->required();
  schema_check->add_option("new", schema_check_args.new_schema, "The schema after the change (file or Type.vN)")->required();
  schema_check->add_option("--require", schema_check_args.require,
                           "Exit 1 unless the change is at least this compatible: BACKWARD, FORWARD, FULL or NONE")
      ->check(CLI::IsMember({"BACKWARD", "FORWARD", "FULL", "NONE"}));
  schema_check->add_flag("--json", schema_check_args.json, "Print one JSON object");
  schema_check->footer("Exit codes: 0 checked (and --require met), 1 --require not met, 2 bad input (a schema file "
                       "that is not JSON, or uses a keyword sagasim does not support: the message names the path).");
  SchemaValidateArgs schema_validate_args;
  CLI::App* schema_validate = schema->add_subcommand(
      "validate", "Decode event envelopes (one JSON object per line) exactly as the services do, schema checks included");
  schema_validate->add_option("events", schema_validate_args.events, "File of event envelopes, one per line")->required();
  schema_validate->add_option("--pin", schema_validate_args.pins,
                              "Read as a build that knows TYPE only up to VERSION (TYPE=VERSION, repeatable)");
  schema_validate->add_flag("--verbose,-v", schema_validate_args.verbose, "Print a line for every valid event too");
  schema_validate->footer("Exit codes: 0 every event is valid, 1 some are not (each is printed with file:line and the "
                          "JSON path), 2 bad input.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitBadInput;
  }

  try {
    if (run->parsed()) return run_command(run_args);
    if (sweep->parsed()) return sweep_command(sweep_args);
    if (replay->parsed()) return replay_command(trace_path);
    if (export_cmd->parsed()) return export_command(export_args);
    if (mutants->parsed()) return mutants_command();
    if (shrink->parsed()) return shrink_command(shrink_args);
    if (serve->parsed()) return serve_command(serve_args);
    if (place->parsed()) return place_orders_command(place_args);
    if (check->parsed()) return check_command(check_args);
    if (schema_list->parsed()) return schema_list_command(schema_list_args);
    if (schema_check->parsed()) return schema_check_command(schema_check_args);
    if (schema_validate->parsed()) return schema_validate_command(schema_validate_args);
  } catch (const InputError& e) {
    std::cerr << "sagasim: " << e.what() << "\n";
    return kExitBadInput;
  }
  return 0;
}
