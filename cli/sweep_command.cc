// sagasim sweep: one scenario, many seeds, N worker threads. Each run is the
// same single-threaded deterministic simulation `sagasim run` does; threads
// only share the seed counter and the tallies. A sweep may be one shard of
// many (--shard K/N, or a scheduler's environment: cli/sweep_report.h), run
// for a time instead of a range (--duration), and write seed records that
// `merge` adds up (--out).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <fstream>
#include <cmath>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "cli/sweep_report.h"
#include "faults/world.h"
#include "sim/random.h"

namespace sagasim::cli {

namespace {

std::pair<uint64_t, uint64_t> parse_seeds(const std::string& text) {
  const auto dots = text.find("..");
  auto number = [&](std::string_view s, const char* which) {
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size())
      throw InputError("--seeds", "", fmt::format("'{}': the {} seed is not a non-negative integer (want A..B, e.g. 1..10000)", text, which));
    return v;
  };
  if (dots == std::string::npos) {
    const uint64_t v = number(text, "only");
    return {v, v};
  }
  const uint64_t a = number(std::string_view(text).substr(0, dots), "first");
  const uint64_t b = number(std::string_view(text).substr(dots + 2), "last");
  if (a > b) throw InputError("--seeds", "", fmt::format("'{}': the first seed is greater than the last", text));
  if (b - a >= 100000000) throw InputError("--seeds", "", fmt::format("'{}': at most 100,000,000 seeds per sweep", text));
  return {a, b};
}

// "90", "90s", "10m", "2h": a positive number of seconds, minutes or hours.
std::chrono::seconds parse_duration(const std::string& text) {
  double n = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  const std::string_view unit(ptr, static_cast<size_t>(end - ptr));
  const double scale = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : 0;
  if (ec != std::errc() || scale == 0 || !(n > 0) || n * scale > 31 * 24 * 3600.0)
    throw InputError("--duration", "", fmt::format("'{}': want a time such as 90s, 10m or 2h (up to 31 days)", text));
  return std::chrono::seconds(static_cast<int64_t>(std::ceil(n * scale)));
}

void keep_lowest(std::vector<SweepFailure>& details, size_t n) {
  std::sort(details.begin(), details.end(), [](const SweepFailure& a, const SweepFailure& b) { return a.seed < b.seed; });
  if (details.size() > n) details.resize(n);
}

}  // namespace

int sweep_command(const Program& program, const SweepArgs& args) {
  const std::string& mutant = args.mutant;
  const bool timed = !args.duration.empty();
  if (args.seeds.empty() && !timed)
    throw InputError("--seeds", "", "give the seeds to run (--seeds A..B), or a time to run fresh seeds for (--duration)");
  uint64_t first = 0, last = 0;
  if (!args.seeds.empty()) std::tie(first, last) = parse_seeds(args.seeds);
  const std::optional<std::chrono::seconds> duration =
      timed ? std::optional<std::chrono::seconds>(parse_duration(args.duration)) : std::nullopt;

  // Which shard: --shard, else the scheduler's environment, else all of it.
  Shard shard = args.shard.empty() ? shard_from_environment().value_or(Shard{}) : parse_shard(args.shard, "--shard");
  // Fresh seeds (--duration without --seeds) come from a root seed: seed i of
  // the sweep is splitmix64 of root + i, so a failing one replays alone and
  // shards with one root draw disjoint seeds.
  std::optional<uint64_t> root;
  if (timed && args.seeds.empty()) {
    if (args.root_seed) {
      root = *args.root_seed;
    } else if (shard.sharded()) {
      throw InputError("--root-seed", "",
                       "a sharded --duration sweep needs one --root-seed for every shard, so that they draw "
                       "disjoint seeds (any number; the nightly date is a good one)");
    } else {
      root = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
             (static_cast<uint64_t>(getpid()) << 40);
    }
  } else if (args.root_seed) {
    throw InputError("--root-seed", "", "only for --duration without --seeds (a range names its seeds itself)");
  }
  auto seed_at = [&](uint64_t position) {
    if (!root) return first + position;
    uint64_t state = *root + position;
    return sim::splitmix64(state);
  };
  // The positions this shard runs: shard.index, + count, ... (all of a range
  // unless time runs out first; unbounded for fresh seeds).
  const uint64_t range = root ? UINT64_MAX : last - first + 1;
  const uint64_t planned = root ? 0 : (range > shard.index ? (range - shard.index - 1) / shard.count + 1 : 0);

  const faults::RunSpec spec = load_spec(program, args.scenario, args.style, mutant);

  SweepReport report;
  report.scenario = spec.scenario.name;
  report.scenario_file = args.scenario;
  report.scenario_digest = json_digest(spec.scenario.spec);
  report.saga = std::string(spec.scenario.saga->name());
  report.style = spec.scenario.style;
  report.mutant = mutant;
  report.swarm = args.swarm;
  report.swarm_version = args.swarm ? args.swarm_version : 0;
  report.commit = build_commit();
  report.first = first;
  report.last = last;
  report.root = root;
  report.shards = {shard};
  report.jobs = args.jobs;
  report.planned = planned;
  {
    const faults::FaultPlan plan = args.swarm ? (spec.plan.empty() ? faults::default_chaos_plan(spec.scenario) : spec.plan)
                                              : spec.plan;
    for (faults::FaultClass c : faults::all_fault_classes()) {
      bool in_plan = false;
      for (const auto& f : plan.faults) in_plan = in_plan || f.cls == c;
      if (in_plan) report.planned_classes.emplace_back(faults::to_string(c));
    }
    report.saga_paths = spec.scenario.saga->paths(spec.scenario.style);
  }
  auto reproduce = [&](uint64_t seed) {
    return fmt::format("{} run {} --seed {}{}{}{} --trace trace.jsonl", program.name, shell_quote(args.scenario), seed,
                       style_flag(args.style), swarm_flag(args.swarm, args.swarm_version), mutant_flag(mutant));
  };

  // Seed records: failures as they are found (a sweep killed at its deadline
  // keeps them), the summary at the end.
  std::ofstream out;
  if (!args.out.empty()) {
    out.open(args.out, std::ios::trunc);
    if (!out) throw InputError(args.out, "", "cannot write the seed records (--out)");
  }

  if (shard.sharded() || root) {
    std::string seeds = root ? fmt::format("fresh seeds from --root-seed {}{}", *root,
                                           duration ? fmt::format(" for {} s", duration->count()) : "")
                             : fmt::format("{} of the {} seeds {}..{}", thousands(planned), thousands(range), first, last);
    fmt::print(stderr, "sweep: shard {}/{}{}: {}\n", shard.index, shard.count,
               shard.source.empty() ? "" : fmt::format(" (from {})", shard.source), seeds);
  }

  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = duration ? t0 + *duration : std::chrono::steady_clock::time_point::max();
  std::atomic<uint64_t> next{0};  // the next of this shard's positions, counted from 0
  std::atomic<uint64_t> done{0};
  std::atomic<bool> stop{false};
  std::mutex mu;  // guards the report and the records file
  std::vector<SweepFailure> failures;

  auto worker = [&] {
    for (;;) {
      if (stop.load()) return;
      if (duration && std::chrono::steady_clock::now() >= deadline) return;
      const uint64_t j = next.fetch_add(1);
      if (!root && j >= planned) return;
      const uint64_t seed = seed_at(shard.index + j * shard.count);
      const sim::RunResult r =
          faults::run(spec, faults::RunConfig{seed, args.swarm, nullptr, kVersion, mutant, args.swarm_version});
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& [f, n] : r.faults_fired) {
        report.faults_fired[f] += n;
        ++report.runs_with_fault[f];
      }
      for (const auto& [p, n] : r.paths) report.paths[p] += static_cast<uint64_t>(n);
      report.runs_not_quiet += !r.quiesced;
      if (!r.ok()) {
        std::string first_violation;
        for (const auto& i : r.invariants)
          if (!i.pass && first_violation.empty())
            first_violation = fmt::format("{}: {}{}{}", i.name, i.violations.front().entity,
                                          i.violations.front().entity.empty() ? "" : " ", i.violations.front().message);
        SweepFailure f{seed, std::move(first_violation), reproduce(seed)};
        if (out.is_open()) out << SweepReport::failure_record(f, shard).dump() << "\n" << std::flush;
        report.failing_seeds.push_back(seed);
        failures.push_back(std::move(f));
        if (failures.size() >= 2 * SweepReport::kDetailsKept) keep_lowest(failures, SweepReport::kDetailsKept);
        if (!args.keep_going) stop.store(true);
      }
      done.fetch_add(1);
    }
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < args.jobs; ++i) threads.emplace_back(worker);

  // Progress on stderr: a redrawn bar on a terminal, a line every 5 s otherwise.
  const bool tty = isatty(STDERR_FILENO) != 0;
  auto elapsed_s = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  double last_line = 0;
  auto progress = [&](bool final) {
    const uint64_t d = done.load();
    const double secs = elapsed_s();
    const double rate = secs > 0 ? static_cast<double>(d) / secs : 0;
    // Left: by the count of a range, or by the clock for a timed sweep.
    const double left = duration ? std::max(0.0, static_cast<double>(duration->count()) - secs)
                                 : (rate > 0 ? static_cast<double>(planned - std::min(planned, d)) / rate : 0);
    const double fraction = duration ? std::min(1.0, secs / static_cast<double>(duration->count()))
                                     : planned ? static_cast<double>(d) / static_cast<double>(planned) : 1.0;
    size_t failed;
    {
      std::lock_guard<std::mutex> lock(mu);
      failed = report.failing_seeds.size();
    }
    const std::string of = root ? "" : fmt::format("/{}", planned);
    if (tty) {
      const int width = 30;
      const int filled = static_cast<int>(static_cast<double>(width) * fraction);
      fmt::print(stderr, "\r[{}{}] {}{} runs · {:.0f} runs/s · {} {:.0f}s · {} failed   {}", std::string(filled, '#'),
                 std::string(width - filled, '.'), d, of, rate, duration ? "left" : "ETA", left, failed,
                 final ? "\n" : "");
    } else if (final || secs - last_line >= 5) {
      last_line = secs;
      fmt::print(stderr, "sweep: {}{} runs, {:.0f} runs/s, {} {:.0f}s, {} failed\n", d, of, rate,
                 duration ? "left" : "ETA", left, failed);
    }
  };
  auto finished = [&] {
    if (stop.load()) return true;
    if (duration && std::chrono::steady_clock::now() >= deadline) return true;
    return !root && done.load() >= planned;
  };
  while (!finished()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    progress(false);
  }
  for (auto& t : threads) t.join();
  progress(true);

  report.wall_s = elapsed_s();
  report.runs = done.load();
  if (root) report.planned = report.runs;  // fresh seeds: as many as the time allowed
  if (!root && report.runs < planned) report.stopped = stop.load() ? "first failure" : "duration";
  keep_lowest(failures, SweepReport::kDetailsKept);
  report.failures = std::move(failures);
  std::sort(report.failing_seeds.begin(), report.failing_seeds.end());
  if (out.is_open()) {
    out << report.summary_record().dump() << "\n";
    out.close();
    if (!out) throw InputError(args.out, "", "writing the seed records failed");
  }

  if (args.json) {
    std::cout << report.to_json().dump(2) << "\n";
  } else {
    const std::string seeds = root ? fmt::format("fresh seeds from root {}", *root)
                                   : fmt::format("seeds {}..{}", first, last);
    const std::string of_shard = shard.sharded() ? fmt::format(", shard {}/{}", shard.index, shard.count) : "";
    report.print(fmt::format("sweep       {} {}{}{} on {} worker(s)", spec.scenario.name, seeds, of_shard,
                             args.swarm ? " (swarm)" : "", args.jobs),
                 spec.scenario.saga->instance_noun());
  }
  if (!report.failing_seeds.empty()) return kExitViolation;
  return args.require_coverage ? report.coverage_verdict(program.name) : 0;
}

}  // namespace sagasim::cli
