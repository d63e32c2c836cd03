// What a sweep found, in one shape for the three places that speak of it:
// `sweep` (one machine, or one shard of many), its `--out` seed records
// (JSON Lines: a "failure" record per failing seed as it is found, then one
// "summary" record), and `merge`, which adds shards' summaries together.
// docs/scaling.md documents the records.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sagasim::cli {

// The commit the binary was built from ("unknown" outside a git checkout;
// "-dirty" when the work tree had changes): cmake/build_info.cmake.
const char* build_commit();

// Which seeds of a sweep one process runs: shard `index` of `count` takes
// the seeds whose position in the sweep is index modulo count (0-based), so
// the shards of any count are disjoint and their union is the whole sweep.
struct Shard {
  uint64_t index = 0;
  uint64_t count = 1;
  std::string source = "";  // "--shard", "SLURM_ARRAY_TASK_ID", ...; empty: unsharded
  bool sharded() const { return count > 1 || !source.empty(); }
  bool owns(uint64_t position) const { return position % count == index; }
};

// "K/N" (0 <= K < N), or InputError naming `where`.
Shard parse_shard(const std::string& text, const std::string& where);
// The shard a scheduler assigned through the environment, if any:
// SLURM_ARRAY_TASK_ID (minus SLURM_ARRAY_TASK_MIN) of SLURM_ARRAY_TASK_COUNT,
// JOB_COMPLETION_INDEX of SAGASIM_SHARD_COUNT (a Kubernetes Indexed Job),
// or SAGASIM_SHARD=K/N. InputError when a variable is there but malformed
// or its count is missing.
std::optional<Shard> shard_from_environment();

struct SweepFailure {
  uint64_t seed = 0;
  std::string violation;  // "invariant: entity message"
  std::string reproduce;  // the exact command that replays it
};

struct SweepReport {
  // What was swept.
  std::string scenario;         // its name
  std::string scenario_file;    // as given on the command line
  std::string scenario_digest;  // of the scenario as read (fnv1a64 of its JSON)
  std::string saga, style, mutant;
  bool swarm = false;
  int swarm_version = 0;  // with swarm: faults::swarm's version (1 or 2)
  std::string commit;
  // The seeds: a range first..last, or (--duration) seeds drawn from a root.
  uint64_t first = 0, last = 0;
  std::optional<uint64_t> root;
  std::vector<Shard> shards;  // one for a sweep; every merged shard for merge
  int jobs = 1;

  // What happened.
  uint64_t runs = 0;
  uint64_t planned = 0;  // runs this sweep (or these shards) would make without stopping
  // Why fewer than `planned` ran: "" (all ran), "first failure" (no
  // --keep-going) or "duration" (--duration ran out). Merged: the shards'.
  std::string stopped;
  uint64_t runs_not_quiet = 0;
  double wall_s = 0;
  std::map<std::string, uint64_t> faults_fired, runs_with_fault, paths;
  std::vector<std::string> planned_classes;  // fault classes the plan(s) can fire
  std::vector<std::string> saga_paths;       // paths the saga declares
  std::vector<uint64_t> failing_seeds;       // sorted
  std::vector<SweepFailure> failures;        // the lowest kDetailsKept, sorted by seed

  static constexpr size_t kDetailsKept = 1000;

  std::vector<std::string> classes_not_fired() const;
  std::vector<std::string> paths_not_seen() const;
  // --require-coverage: the exit code of a sweep whose runs all passed (0, or
  // 1 with a line on stderr naming what was never seen). A sweep that never
  // fired a class its plan has, or never took a path its saga declares, did
  // not test what it claims to.
  int coverage_verdict(const std::string& program) const;

  // {"first", "last"} of a range, or {"root"} of fresh seeds.
  nlohmann::ordered_json seeds_json() const;

  // The --out summary record, and back (InputError naming `where`).
  nlohmann::ordered_json summary_record() const;
  static SweepReport from_summary(const nlohmann::json& record, const std::string& where);
  static nlohmann::ordered_json failure_record(const SweepFailure& f, const Shard& shard);

  // `sweep --json` / `merge --json`.
  nlohmann::ordered_json to_json() const;
  // The human summary (stdout), after `first_line`; `noun` names the saga's instances.
  void print(const std::string& first_line, const std::string& noun) const;
};

// Folds `shard` (one shard's summary) into `total`; InputError when they are
// not shards of one sweep (another commit, scenario, mutant, seed range...).
void add_shard(SweepReport& total, const SweepReport& shard, const std::string& where);

// A stable digest of a JSON document (fnv1a64 of its dump): "fnv1a64:<16 hex>".
std::string json_digest(const nlohmann::json& j);

}  // namespace sagasim::cli
