// sagasim::cli::main (cli/main.h): the simulation commands for any
// registered saga, plus the Commands a program adds.
//
//   PROGRAM run SCENARIO.json [--seed N] [--trace FILE] [--json] [--swarm] [--mutant NAME] [--style S]
//   PROGRAM sweep SCENARIO.json --seeds A..B [--jobs N] [--swarm] [--keep-going] [--json] [--mutant NAME] [--style S]
//                 [--shard K/N] [--duration 10m [--root-seed N]] [--out RECORDS.jsonl]
//   PROGRAM merge RECORDS.jsonl... [--json] [--junit FILE]
//   PROGRAM replay TRACE.jsonl
//   PROGRAM export TRACE.jsonl --perfetto OUT.json
//   PROGRAM mutants [--saga NAME] [--verbose]
//   PROGRAM shrink SCENARIO.json --seed N [--swarm] [--mutant NAME] [--out FILE]
//
// Exit codes: 0 every invariant holds; 1 an invariant failed (the violation
// and the command that reproduces it are printed) or a replay diverged;
// 2 bad input (a message naming the file and the JSON path, or the argument);
// 3 an error in the harness itself (a bug to report; a scheduler may retry it).
#include "cli/main.h"

#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/live.h"
#include "core/error.h"

namespace sagasim::cli {

int main(int argc, char** argv) { return main(argc, argv, sim::SagaRegistry::global()); }

int main(int argc, char** argv, const sim::SagaRegistry& sagas, std::vector<std::unique_ptr<Command>> commands) {
  const std::string name = argc > 0 && argv[0] ? std::filesystem::path(argv[0]).filename().string() : "sagasim";
  const Program program{sagas, name.empty() ? "sagasim" : name};
  CLI::App app{fmt::format("{}: deterministic simulation and testing of event-driven sagas on Kafka.\n"
                           "Runs a saga ({}) against a simulated Kafka broker on a virtual clock, with\n"
                           "faults injected from a seed; the same seed always gives the same trace.\n"
                           "A scenario names its saga: \"saga\": {{\"name\": ...}}.",
                           program.name, sagas.known()),
               program.name};
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);
  app.footer("Exit codes: 0 all invariants hold, 1 an invariant failed or a replay diverged, 2 bad input,\n"
             "3 an error in the harness itself (any other code, or a signal, is a crash of the harness).");

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
  run->add_option("--swarm-version", run_args.swarm_version, "Swarm version (with --swarm): 2, the default, also draws the client's retries and whether the services' "
                  "producers are idempotent; 1 is the swarm of sagasim before those, to re-run a seed an older sweep reported")
      ->check(CLI::Range(1, 2));
  run->add_option("--mutant", run_args.mutant,
                  fmt::format("Run a deliberately broken variant of the saga (see `{} mutants`)", program.name));
  run->add_option("--style", run_args.style, "Run the saga in this style instead of the scenario's (order: choreography or orchestration)");
  run->footer("Exit codes: 0 all invariants hold, 1 an invariant failed, 2 bad input.");

  SweepArgs sweep_args;
  CLI::App* sweep = app.add_subcommand("sweep", "Run a scenario for many seeds and report failures and coverage");
  sweep->add_option("scenario", sweep_args.scenario, "Scenario file")->required();
  sweep->add_option("--seeds", sweep_args.seeds,
                    "Seeds to run, inclusive: A..B (for example 1..10000); required unless --duration");
  sweep->add_option("--jobs,-j", sweep_args.jobs, "Worker threads (each run is single-threaded)")
      ->check(CLI::Range(1, 256));
  sweep->add_flag("--swarm", sweep_args.swarm, "Swarm mode: every seed picks its own fault mix");
  sweep->add_option("--swarm-version", sweep_args.swarm_version, "Swarm version (with --swarm): 2, the default, also draws the client's retries and whether the services' "
                  "producers are idempotent; 1 is the swarm of sagasim before those, to re-run a seed an older sweep reported")
      ->check(CLI::Range(1, 2));
  sweep->add_flag("--keep-going", sweep_args.keep_going,
                  "Run every seed even after a failure (every failing seed is listed; the first violation of the "
                  "lowest 1,000)");
  sweep->add_flag("--json", sweep_args.json, "Print one JSON object instead of the human summary");
  sweep->add_option("--mutant", sweep_args.mutant,
                    fmt::format("Sweep a deliberately broken variant (see `{} mutants`)", program.name));
  sweep->add_option("--style", sweep_args.style, "Run the saga in this style instead of the scenario's");
  sweep->add_option("--shard", sweep_args.shard,
                    "Run shard K of N (K from 0): the seeds at positions K, K+N, K+2N... of the sweep, so N shards "
                    "cover it exactly once. Without it a scheduler's shard is read from the environment: "
                    "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (a Slurm job array), JOB_COMPLETION_INDEX/"
                    "SAGASIM_SHARD_COUNT (a Kubernetes Indexed Job) or SAGASIM_SHARD=K/N (docs/scaling.md)")
      ->type_name("K/N");
  sweep->add_option("--duration", sweep_args.duration,
                    "Stop after this long (90s, 10m, 2h). Without --seeds: run fresh seeds drawn from --root-seed "
                    "until then (a nightly run); every failing seed is printed and replays alone");
  sweep->add_option("--root-seed", sweep_args.root_seed,
                    "With --duration and no --seeds: the root the fresh seeds are drawn from (default: from the "
                    "clock; required when sharded, the same for every shard)")
      ->check(seed_check);
  sweep->add_option("--out", sweep_args.out,
                    fmt::format("Write seed records (JSON Lines): each failing seed as it fails, then a summary; "
                                "`{} merge` adds up the shards' files",
                                program.name))
      ->type_name("FILE");
  sweep->add_flag("--require-coverage", sweep_args.require_coverage,
                  "Fail (exit 1) when a fault class the plan can fire never fired, or a saga path the saga declares "
                  "was never taken: a sweep that did not exercise what it claims to is not a pass");
  sweep->footer("Exit codes: 0 no run failed, 1 a run failed (or --require-coverage was not met), 2 bad input, 3 an "
                "error in the harness.");

  MergeArgs merge_args;
  CLI::App* merge = app.add_subcommand(
      "merge", "Add up the seed records of a sweep's shards (sweep --out): one report, every failing seed, one exit code");
  merge->add_option("files", merge_args.files, "Seed record files (JSON Lines), one per shard")->required();
  merge->add_flag("--json", merge_args.json, "Print one JSON object instead of the human summary");
  merge->add_option("--junit", merge_args.junit,
                    "Also write JUnit XML (a test case per shard and per failing seed) for CI dashboards")
      ->type_name("FILE");
  merge->add_flag("--require-coverage", merge_args.require_coverage,
                  "Fail (exit 1) when, over all shards, a planned fault class never fired or a declared saga path "
                  "was never taken");
  merge->footer("Exit codes: 0 no run failed, 1 a run failed (or --require-coverage was not met), 2 bad input (unreadable records, shards of different "
                "sweeps, a shard missing or unfinished).");

  ShrinkArgs shrink_args;
  CLI::App* shrink = app.add_subcommand(
      "shrink", "Minimise a failing run to a small scenario file that fails the same invariant");
  shrink->add_option("scenario", shrink_args.scenario, "Scenario file that fails at the given seed")->required();
  shrink->add_option("--seed", shrink_args.seed, "The failing seed (default: the scenario's \"seed\", else 1)")
      ->check(seed_check);
  shrink->add_flag("--swarm", shrink_args.swarm, "The failure was found in swarm mode");
  shrink->add_option("--swarm-version", shrink_args.swarm_version, "The swarm version the failure was found with (1 or 2)")
      ->check(CLI::Range(1, 2));
  shrink->add_option("--mutant", shrink_args.mutant,
                     fmt::format("The failure was found with this mutant (see `{} mutants`)", program.name));
  shrink->add_option("--style", shrink_args.style, "The failure was found in this style (recorded in the shrunk file)");
  shrink->add_option("--out", shrink_args.out, "Where to write the result (default: SCENARIO.seedN.min.json)");
  shrink->add_option("--max-runs", shrink_args.max_runs, "Give up refining after this many trial runs")
      ->check(CLI::Range(1, 1000000));
  shrink->footer("Exit codes: 0 shrunk, 2 bad input (including a scenario that does not fail at that seed).");

  MutantsArgs mutants_args;
  CLI::App* mutants = app.add_subcommand(
      "mutants", "List the bug zoo: each saga's deliberately broken variants, then the runtime's own mutants (any saga)");
  mutants->add_option("--saga", mutants_args.saga, "Only this saga's (default: every registered saga's)");
  mutants->add_flag("--verbose,-v", mutants_args.verbose, "Say what each one breaks, and in which styles");

  std::string trace_path;
  CLI::App* replay = app.add_subcommand(
      "replay", "Re-run the scenario and seed recorded in a trace and confirm the identical trace hash");
  replay->add_option("trace", trace_path, fmt::format("Trace file written by `{} run --trace`", program.name))->required();
  replay->footer("Exit codes: 0 identical, 1 diverged (the first differing step is printed), 2 bad trace.");

  ExportArgs export_args;
  CLI::App* export_cmd = app.add_subcommand(
      "export", "Convert a trace to Chrome trace-event JSON, for the Perfetto UI and chrome://tracing");
  export_cmd->add_option("trace", export_args.trace, fmt::format("Trace file written by `{} run --trace`", program.name))->required();
  export_cmd->add_option("--perfetto", export_args.perfetto,
                         "Write Chrome trace-event JSON here: services and topics as processes, instances and "
                         "partitions as threads, handlings as slices, causation as flows")
      ->required();
  export_cmd->footer("Exit codes: 0 written, 2 bad trace (the message names file:line) or unwritable output.");

  // Production mode on real Kafka, for every saga (cli/live.h).
  commands.insert(commands.begin(), live_commands(program));
  for (const auto& c : commands) c->add_to(app);

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
    if (run->parsed()) return run_command(program, run_args);
    if (sweep->parsed()) return sweep_command(program, sweep_args);
    if (merge->parsed()) return merge_command(program, merge_args);
    if (replay->parsed()) return replay_command(program, trace_path);
    if (export_cmd->parsed()) return export_command(export_args);
    if (mutants->parsed()) return mutants_command(program, mutants_args);
    if (shrink->parsed()) return shrink_command(program, shrink_args);
    for (const auto& c : commands)
      if (auto code = c->run_if_parsed()) return *code;
  } catch (const InputError& e) {
    std::cerr << program.name << ": " << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << program.name << ": internal error (a bug in the harness, please report it): " << e.what() << "\n";
    return kExitInternalError;
  }
  return 0;
}

}  // namespace sagasim::cli
