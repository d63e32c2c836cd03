#include "cli/sweep_report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"

namespace sagasim::cli {

namespace {

bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

uint64_t env_number(const char* name, const char* v) {
  uint64_t n = 0;
  if (!parse_u64(v, n))
    throw InputError(std::string("$") + name, "", fmt::format("'{}' is not a non-negative integer", v));
  return n;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

Shard parse_shard(const std::string& text, const std::string& where) {
  const auto slash = text.find('/');
  Shard s;
  if (slash == std::string::npos || !parse_u64(std::string_view(text).substr(0, slash), s.index) ||
      !parse_u64(std::string_view(text).substr(slash + 1), s.count))
    throw InputError(where, "", fmt::format("'{}': want K/N, shard K (counted from 0) of N, for example 0/4", text));
  if (s.count == 0 || s.count > 1000000)
    throw InputError(where, "", fmt::format("'{}': the shard count must be between 1 and 1,000,000", text));
  if (s.index >= s.count)
    throw InputError(where, "", fmt::format("'{}': shards of {} are numbered 0..{}", text, s.count, s.count - 1));
  s.source = where;
  return s;
}

std::optional<Shard> shard_from_environment() {
  if (const char* id = env("SLURM_ARRAY_TASK_ID")) {
    const char* count = env("SLURM_ARRAY_TASK_COUNT");
    if (!count)
      throw InputError("$SLURM_ARRAY_TASK_ID", "",
                       "is set but SLURM_ARRAY_TASK_COUNT is not: submit the sweep as a job array (sbatch --array)");
    const uint64_t task = env_number("SLURM_ARRAY_TASK_ID", id);
    const uint64_t min = env("SLURM_ARRAY_TASK_MIN") ? env_number("SLURM_ARRAY_TASK_MIN", env("SLURM_ARRAY_TASK_MIN")) : 0;
    const uint64_t n = env_number("SLURM_ARRAY_TASK_COUNT", count);
    if (task < min || n == 0 || task - min >= n)
      throw InputError("$SLURM_ARRAY_TASK_ID", "",
                       fmt::format("task {} of an array of {} from {}: use a contiguous array (--array=0-{})", task, n,
                                   min, n == 0 ? 0 : n - 1));
    return Shard{task - min, n, fmt::format("SLURM_ARRAY_TASK_ID={} of SLURM_ARRAY_TASK_COUNT={}", task, n)};
  }
  if (const char* index = env("JOB_COMPLETION_INDEX")) {
    const char* count = env("SAGASIM_SHARD_COUNT");
    if (!count)
      throw InputError("$JOB_COMPLETION_INDEX", "",
                       "is set but SAGASIM_SHARD_COUNT is not: set it to the Job's completions (docs/scaling.md)");
    Shard s = parse_shard(fmt::format("{}/{}", index, count), "$JOB_COMPLETION_INDEX/$SAGASIM_SHARD_COUNT");
    s.source = fmt::format("JOB_COMPLETION_INDEX={} of SAGASIM_SHARD_COUNT={}", index, count);
    return s;
  }
  if (const char* shard = env("SAGASIM_SHARD")) {
    Shard s = parse_shard(shard, "$SAGASIM_SHARD");
    s.source = fmt::format("SAGASIM_SHARD={}", shard);
    return s;
  }
  return std::nullopt;
}

std::string json_digest(const nlohmann::json& j) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : j.dump()) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return fmt::format("fnv1a64:{:016x}", h);
}

std::vector<std::string> SweepReport::classes_not_fired() const {
  std::vector<std::string> out;
  for (const auto& c : planned_classes)
    if (!faults_fired.count(c)) out.push_back(c);
  return out;
}

std::vector<std::string> SweepReport::paths_not_seen() const {
  std::vector<std::string> out;
  for (const auto& p : saga_paths)
    if (!paths.count(p)) out.push_back(p);
  return out;
}

int SweepReport::coverage_verdict(const std::string& program) const {
  const auto nf = classes_not_fired();
  const auto ns = paths_not_seen();
  if (nf.empty() && ns.empty()) return 0;
  std::string what;
  if (!nf.empty()) what += fmt::format("fault class(es) planned but never fired: {}", joined(nf));
  if (!ns.empty()) what += fmt::format("{}saga path(s) never seen: {}", what.empty() ? "" : "; ", joined(ns));
  fmt::print(stderr, "{}: coverage required (--require-coverage) and not reached in {} runs: {}\n", program,
             thousands(runs), what);
  return kExitViolation;
}

nlohmann::ordered_json SweepReport::failure_record(const SweepFailure& f, const Shard& shard) {
  nlohmann::ordered_json j;
  j["kind"] = "failure";
  j["seed"] = f.seed;
  j["violation"] = f.violation;
  j["reproduce"] = f.reproduce;
  j["shard"] = {{"index", shard.index}, {"count", shard.count}};
  return j;
}

nlohmann::ordered_json SweepReport::seeds_json() const {
  if (root) return {{"root", *root}};
  return {{"first", first}, {"last", last}};
}

nlohmann::ordered_json SweepReport::summary_record() const {
  nlohmann::ordered_json j;
  j["kind"] = "summary";
  j["format_version"] = 1;
  j["commit"] = commit;
  j["scenario"] = scenario;
  j["scenario_file"] = scenario_file;
  j["scenario_digest"] = scenario_digest;
  j["saga"] = saga;
  j["style"] = style;
  j["mutant"] = mutant;
  j["swarm"] = swarm;
  if (swarm) j["swarm_version"] = swarm_version;
  j["seeds"] = seeds_json();
  const Shard& s = shards.empty() ? Shard{} : shards.front();
  j["shard"] = {{"index", s.index}, {"count", s.count}, {"source", s.source}};
  j["runs"] = runs;
  j["planned"] = planned;
  j["stopped"] = stopped;
  j["runs_not_quiet"] = runs_not_quiet;
  j["wall_s"] = std::round(wall_s * 100) / 100;
  j["failing_seeds"] = failing_seeds;
  j["faults_fired"] = faults_fired;
  j["runs_with_fault"] = runs_with_fault;
  j["planned_classes"] = planned_classes;
  j["paths"] = paths;
  j["saga_paths"] = saga_paths;
  return j;
}

SweepReport SweepReport::from_summary(const nlohmann::json& j, const std::string& where) {
  SweepReport r;
  auto field = [&](const char* key) -> const nlohmann::json& {
    if (!j.contains(key)) throw InputError(where, std::string("/") + key, "missing required field of a summary record");
    return j.at(key);
  };
  try {
    if (field("format_version").get<int>() != 1)
      throw InputError(where, "/format_version", "this sagasim reads summary records of format_version 1");
    r.commit = field("commit").get<std::string>();
    r.scenario = field("scenario").get<std::string>();
    r.scenario_file = field("scenario_file").get<std::string>();
    r.scenario_digest = field("scenario_digest").get<std::string>();
    r.saga = field("saga").get<std::string>();
    r.style = field("style").get<std::string>();
    r.mutant = field("mutant").get<std::string>();
    r.swarm = field("swarm").get<bool>();
    // Records written before swarm had versions were version 1.
    if (r.swarm) r.swarm_version = j.contains("swarm_version") ? field("swarm_version").get<int>() : 1;
    const auto& seeds = field("seeds");
    if (seeds.contains("root")) {
      r.root = seeds.at("root").get<uint64_t>();
    } else {
      r.first = seeds.at("first").get<uint64_t>();
      r.last = seeds.at("last").get<uint64_t>();
    }
    const auto& sh = field("shard");
    Shard s{sh.at("index").get<uint64_t>(), sh.at("count").get<uint64_t>(), sh.at("source").get<std::string>()};
    if (s.count == 0 || s.index >= s.count) throw InputError(where, "/shard", "shard index out of range");
    r.shards = {s};
    r.runs = field("runs").get<uint64_t>();
    r.planned = field("planned").get<uint64_t>();
    r.stopped = field("stopped").get<std::string>();
    r.runs_not_quiet = field("runs_not_quiet").get<uint64_t>();
    r.wall_s = field("wall_s").get<double>();
    r.failing_seeds = field("failing_seeds").get<std::vector<uint64_t>>();
    r.faults_fired = field("faults_fired").get<std::map<std::string, uint64_t>>();
    r.runs_with_fault = field("runs_with_fault").get<std::map<std::string, uint64_t>>();
    r.planned_classes = field("planned_classes").get<std::vector<std::string>>();
    r.paths = field("paths").get<std::map<std::string, uint64_t>>();
    r.saga_paths = field("saga_paths").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where, "", fmt::format("a summary record with a field of the wrong type ({})", e.what()));
  }
  std::sort(r.failing_seeds.begin(), r.failing_seeds.end());
  return r;
}

void add_shard(SweepReport& total, const SweepReport& s, const std::string& where) {
  if (total.shards.empty()) {
    total = s;
    return;
  }
  auto same = [&](const auto& a, const auto& b, const char* what) {
    if (a != b)
      throw InputError(where, "", fmt::format("not a shard of the same sweep as the files before it: its {} is {}, "
                                              "theirs {}", what, nlohmann::json(b).dump(), nlohmann::json(a).dump()));
  };
  same(total.commit, s.commit, "commit");
  same(total.scenario_digest, s.scenario_digest, "scenario digest");
  same(total.saga, s.saga, "saga");
  same(total.style, s.style, "style");
  same(total.mutant, s.mutant, "mutant");
  same(total.swarm, s.swarm, "swarm flag");
  same(total.swarm_version, s.swarm_version, "swarm version");
  same(total.root.has_value(), s.root.has_value(), "kind of seed list (a range or --duration)");
  if (s.root) {
    same(*total.root, *s.root, "root seed");
  } else {
    same(total.first, s.first, "first seed");
    same(total.last, s.last, "last seed");
  }
  same(total.shards.front().count, s.shards.front().count, "shard count");
  for (const Shard& have : total.shards)
    if (have.index == s.shards.front().index)
      throw InputError(where, "", fmt::format("shard {}/{} is there twice", have.index, have.count));
  total.shards.push_back(s.shards.front());
  total.runs += s.runs;
  total.planned += s.planned;
  if (!s.stopped.empty() && total.stopped != "duration") total.stopped = s.stopped;  // an unfinished range says so
  total.runs_not_quiet += s.runs_not_quiet;
  total.wall_s = std::max(total.wall_s, s.wall_s);
  for (const auto& [k, v] : s.faults_fired) total.faults_fired[k] += v;
  for (const auto& [k, v] : s.runs_with_fault) total.runs_with_fault[k] += v;
  for (const auto& [k, v] : s.paths) total.paths[k] += v;
  std::set<std::string> classes(total.planned_classes.begin(), total.planned_classes.end());
  for (const auto& c : s.planned_classes)
    if (classes.insert(c).second) total.planned_classes.push_back(c);
  total.failing_seeds.insert(total.failing_seeds.end(), s.failing_seeds.begin(), s.failing_seeds.end());
  std::sort(total.failing_seeds.begin(), total.failing_seeds.end());
  total.failures.insert(total.failures.end(), s.failures.begin(), s.failures.end());
  std::sort(total.failures.begin(), total.failures.end(),
            [](const SweepFailure& a, const SweepFailure& b) { return a.seed < b.seed; });
  if (total.failures.size() > SweepReport::kDetailsKept) total.failures.resize(SweepReport::kDetailsKept);
}

nlohmann::ordered_json SweepReport::to_json() const {
  nlohmann::ordered_json j;
  j["scenario"] = scenario;
  j["seeds"] = seeds_json();
  j["swarm"] = swarm;
  if (!mutant.empty()) j["mutant"] = mutant;
  j["jobs"] = jobs;
  if (shards.size() == 1 && shards.front().sharded()) {
    j["shard"] = {{"index", shards.front().index}, {"count", shards.front().count}, {"source", shards.front().source}};
  } else if (shards.size() > 1) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const Shard& s : shards) list.push_back({{"index", s.index}, {"count", s.count}});
    j["shards"] = list;
  }
  j["commit"] = commit;
  j["runs"] = runs;
  if (!stopped.empty()) j["stopped"] = stopped;
  j["failures"] = failing_seeds.size();
  j["failing_seeds"] = failing_seeds;
  nlohmann::ordered_json details = nlohmann::ordered_json::array();
  for (const auto& f : failures) details.push_back({{"seed", f.seed}, {"violation", f.violation}, {"reproduce", f.reproduce}});
  j["failure_details"] = details;  // the lowest 1,000 failing seeds
  j["faults_fired"] = faults_fired;
  j["runs_with_fault"] = runs_with_fault;
  j["classes_not_fired"] = classes_not_fired();
  j["paths"] = paths;
  j["paths_not_seen"] = paths_not_seen();
  j["coverage_complete"] = classes_not_fired().empty() && paths_not_seen().empty();
  j["runs_not_quiet"] = runs_not_quiet;
  j["wall_s"] = std::round(wall_s * 100) / 100;
  j["runs_per_s"] = wall_s > 0 ? std::round(static_cast<double>(runs) / wall_s * 10) / 10 : 0.0;
  return j;
}

void SweepReport::print(const std::string& first_line, const std::string& noun) const {
  const double runs_per_s = wall_s > 0 ? static_cast<double>(runs) / wall_s : 0;
  fmt::print("{}\n", first_line);
  fmt::print("runs        {} in {:.1f} s · {:.1f} runs/s{}\n", thousands(runs), wall_s, runs_per_s,
             runs >= planned    ? std::string()
             : stopped == "duration"
                 ? fmt::format(" of {} (stopped when --duration ran out)", thousands(planned))
                 : fmt::format(" (stopped at the first failure; --keep-going runs all {})", thousands(planned)));
  std::string fired;
  for (const auto& [f, n] : faults_fired)
    fired += fmt::format("\n              {:<24} {:>10} times in {} runs", f, thousands(n),
                         thousands(runs_with_fault.count(f) ? runs_with_fault.at(f) : 0));
  fmt::print("faults      {}{}\n", fired.empty() ? "none fired" : "fired:", fired);
  if (const auto nf = classes_not_fired(); !nf.empty()) fmt::print("            planned but never fired: {}\n", joined(nf));
  std::string ps;
  for (const auto& [p, n] : paths) ps += fmt::format("\n              {:<28} {:>10} {}", p, thousands(n), noun);
  fmt::print("saga paths  {}\n", ps);
  if (const auto ns = paths_not_seen(); !ns.empty()) fmt::print("            never seen: {}\n", joined(ns));
  if (runs_not_quiet) fmt::print("            {} run(s) hit run.max_virtual_ms before going quiet\n", runs_not_quiet);
  if (failing_seeds.empty()) {
    fmt::print("failures    none\n");
  } else {
    fmt::print("failures    {} (seeds{})\n", failing_seeds.size(), failing_seeds.size() > 20 ? ", first 20" : "");
    for (size_t i = 0; i < failures.size() && i < 20; ++i)
      fmt::print("  seed {}: {}\n    {}\n", failures[i].seed, failures[i].violation, failures[i].reproduce);
  }
}

}  // namespace sagasim::cli
