// The sagasim subcommands. Each returns the process exit code:
// 0 success, 1 an invariant failed (or a replay diverged), 2 bad input;
// cli::main turns anything else that escapes into 3 (a harness error).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faults/world.h"
#include "sim/registry.h"

namespace sagasim::cli {

inline constexpr const char* kVersion = "0.1.0";
inline constexpr int kExitViolation = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitInternalError = 3;  // a bug in the harness itself: not the saga's, not the input's

// The program the commands run in: its sagas and its name ("sagasim",
// "trip-sim"), which reproduce lines start with.
struct Program {
  const sim::SagaRegistry& sagas;
  std::string name = "sagasim";
};

struct RunArgs {
  std::string scenario;
  std::optional<uint64_t> seed;
  std::string trace;
  bool json = false;
  bool swarm = false;
  int swarm_version = 2;  // faults::kSwarmVersion; 1 re-runs a seed the way sagasim did before version 2
  std::string mutant;
  std::string style;  // --style: overrides the scenario's
};
int run_command(const Program& program, const RunArgs& args);

struct SweepArgs {
  std::string scenario;
  std::string seeds;  // "A..B"
  int jobs = 1;
  bool swarm = false;
  int swarm_version = 2;
  bool keep_going = false;
  bool json = false;
  std::string mutant;
  std::string style;
  std::string shard;     // "K/N" (else the scheduler's environment: cli/sweep_report.h)
  std::string duration;  // "10m": stop then; without seeds, run fresh ones from root_seed
  std::optional<uint64_t> root_seed;
  std::string out;       // seed records (JSON Lines) for `merge`
  bool require_coverage = false;  // fail when a planned fault class or a declared saga path was never seen
};
int sweep_command(const Program& program, const SweepArgs& args);

struct MergeArgs {
  std::vector<std::string> files;
  bool json = false;
  std::string junit;  // JUnit XML for CI dashboards
  bool require_coverage = false;
};
int merge_command(const Program& program, const MergeArgs& args);

struct MutantsArgs {
  std::string saga;  // only this saga's (default: every registered saga's)
  bool verbose = false;
};
int mutants_command(const Program& program, const MutantsArgs& args);

struct ShrinkArgs {
  std::string scenario;
  std::optional<uint64_t> seed;
  bool swarm = false;
  int swarm_version = 2;
  std::string mutant;
  std::string style;
  std::string out;
  int max_runs = 5000;
};
int shrink_command(const Program& program, const ShrinkArgs& args);

int replay_command(const Program& program, const std::string& trace_path);

struct ExportArgs {
  std::string trace;
  std::string perfetto;  // Chrome trace-event JSON output
};
int export_command(const ExportArgs& args);

// Production mode (serve, place, check): cli/live.h.

// Shared helpers.
// The scenario at `path` (its saga from the program's registry) in `style`
// (empty: the file's own), with its fault plan; InputError for an unknown
// style, or a mutant the saga does not have or that changes nothing in that style.
faults::RunSpec load_spec(const Program& program, const std::string& path, const std::string& style,
                          const std::string& mutant);
// InputError (naming --style) unless `style` is one of the saga's styles.
void check_style(const sim::SagaDefinition& saga, const std::string& style);
// A run's or a live check's instances in fixed words: {"noun", "total",
// "completed", "compensated", "undecided"}.
nlohmann::json instances_json(const sim::InstanceSummary& instances);
// " --style X" when one was given (for reproduce lines), else "".
std::string style_flag(const std::string& style);
// " --swarm" (and " --swarm-version N" when not the default), or "".
std::string swarm_flag(bool swarm, int version);
// " --mutant X" when one was given, else "".
std::string mutant_flag(const std::string& mutant);
std::string thousands(uint64_t v);
std::string shell_quote(const std::string& s);

}  // namespace sagasim::cli
