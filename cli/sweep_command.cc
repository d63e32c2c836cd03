// sagasim sweep: one scenario, many seeds, N worker threads. Each run is the
// same single-threaded deterministic simulation `sagasim run` does; threads
// only share the seed counter and the tallies.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "faults/world.h"

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

struct Failure {
  uint64_t seed;
  std::string first_violation;
};

// A sweep keeps every failing seed but the first violation of the lowest
// ones only, so that --keep-going over a long range of failing seeds stays
// small: 8 bytes per failing seed.
constexpr size_t kDetailsKept = 1000;

void keep_lowest(std::vector<Failure>& details, size_t n) {
  std::sort(details.begin(), details.end(), [](const Failure& a, const Failure& b) { return a.seed < b.seed; });
  if (details.size() > n) details.resize(n);
}

}  // namespace

int sweep_command(const Program& program, const SweepArgs& args) {
  const auto [first, last] = parse_seeds(args.seeds);
  const std::string& mutant = args.mutant;
  const faults::RunSpec spec = load_spec(program, args.scenario, args.style, mutant);
  const uint64_t total = last - first + 1;

  std::atomic<uint64_t> next{first};
  std::atomic<uint64_t> done{0};
  std::atomic<bool> stop{false};
  std::mutex mu;  // guards the tallies below
  std::map<std::string, uint64_t> faults_fired;
  std::map<std::string, uint64_t> paths;
  std::map<std::string, uint64_t> runs_with_fault;
  std::vector<uint64_t> failing_seeds;
  std::vector<Failure> failures;  // the lowest kDetailsKept failing seeds, with their first violation
  uint64_t runs_not_quiet = 0;

  auto worker = [&] {
    for (;;) {
      if (stop.load()) return;
      const uint64_t seed = next.fetch_add(1);
      if (seed > last || seed < first) return;
      const sim::RunResult r = faults::run(spec, faults::RunConfig{seed, args.swarm, nullptr, kVersion, mutant});
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& [f, n] : r.faults_fired) {
        faults_fired[f] += n;
        ++runs_with_fault[f];
      }
      for (const auto& [p, n] : r.paths) paths[p] += static_cast<uint64_t>(n);
      runs_not_quiet += !r.quiesced;
      if (!r.ok()) {
        std::string first_violation;
        for (const auto& i : r.invariants)
          if (!i.pass && first_violation.empty())
            first_violation = fmt::format("{}: {}{}{}", i.name, i.violations.front().entity,
                                          i.violations.front().entity.empty() ? "" : " ", i.violations.front().message);
        failing_seeds.push_back(seed);
        failures.push_back({seed, std::move(first_violation)});
        if (failures.size() >= 2 * kDetailsKept) keep_lowest(failures, kDetailsKept);
        if (!args.keep_going) stop.store(true);
      }
      done.fetch_add(1);
    }
  };

  const auto t0 = std::chrono::steady_clock::now();
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
    const double eta = rate > 0 ? static_cast<double>(total - d) / rate : 0;
    size_t failed;
    {
      std::lock_guard<std::mutex> lock(mu);
      failed = failing_seeds.size();
    }
    if (tty) {
      const int width = 30;
      const int filled = static_cast<int>(static_cast<double>(width) * static_cast<double>(d) / static_cast<double>(total));
      fmt::print(stderr, "\r[{}{}] {}/{} runs · {:.0f} runs/s · ETA {:.0f}s · {} failed   {}", std::string(filled, '#'),
                 std::string(width - filled, '.'), d, total, rate, eta, failed, final ? "\n" : "");
    } else if (final || secs - last_line >= 5) {
      last_line = secs;
      fmt::print(stderr, "sweep: {}/{} runs, {:.0f} runs/s, ETA {:.0f}s, {} failed\n", d, total, rate, eta, failed);
    }
  };
  while (done.load() < total && !stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    progress(false);
  }
  for (auto& t : threads) t.join();
  progress(true);
  const double secs = elapsed_s();
  const uint64_t runs = done.load();
  const double runs_per_s = secs > 0 ? static_cast<double>(runs) / secs : 0;
  keep_lowest(failures, kDetailsKept);
  std::sort(failing_seeds.begin(), failing_seeds.end());

  // Coverage: the classes the plan(s) could fire and the paths the saga has.
  std::vector<std::string> not_fired, not_seen;
  {
    const faults::FaultPlan plan = args.swarm ? (spec.plan.empty() ? faults::default_chaos_plan(spec.scenario) : spec.plan)
                                              : spec.plan;
    for (faults::FaultClass c : faults::all_fault_classes()) {
      bool planned = false;
      for (const auto& f : plan.faults) planned = planned || f.cls == c;
      if (planned && !faults_fired.count(std::string(faults::to_string(c))))
        not_fired.emplace_back(faults::to_string(c));
    }
    for (const std::string& p : spec.scenario.saga->paths(spec.scenario.style))
      if (!paths.count(p)) not_seen.push_back(p);
  }
  auto reproduce = [&](uint64_t seed) {
    return fmt::format("{} run {} --seed {}{}{}{} --trace trace.jsonl", program.name, shell_quote(args.scenario), seed,
                       style_flag(args.style), args.swarm ? " --swarm" : "",
                       mutant_flag(mutant));
  };

  if (args.json) {
    nlohmann::ordered_json j;
    j["scenario"] = spec.scenario.name;
    j["seeds"] = {{"first", first}, {"last", last}};
    j["swarm"] = args.swarm;
    j["jobs"] = args.jobs;
    j["runs"] = runs;
    j["failures"] = failing_seeds.size();
    nlohmann::ordered_json details = nlohmann::ordered_json::array();
    for (const auto& f : failures)
      details.push_back({{"seed", f.seed}, {"violation", f.first_violation}, {"reproduce", reproduce(f.seed)}});
    j["failing_seeds"] = failing_seeds;
    j["failure_details"] = details;  // the lowest 1,000 failing seeds
    j["faults_fired"] = faults_fired;
    j["runs_with_fault"] = runs_with_fault;
    j["classes_not_fired"] = not_fired;
    j["paths"] = paths;
    j["paths_not_seen"] = not_seen;
    j["runs_not_quiet"] = runs_not_quiet;
    j["wall_s"] = std::round(secs * 100) / 100;
    j["runs_per_s"] = std::round(runs_per_s * 10) / 10;
    std::cout << j.dump(2) << "\n";
  } else {
    fmt::print("sweep       {} seeds {}..{}{} on {} worker(s)\n", spec.scenario.name, first, last,
               args.swarm ? " (swarm)" : "", args.jobs);
    fmt::print("runs        {} in {:.1f} s · {:.1f} runs/s{}\n", thousands(runs), secs, runs_per_s,
               runs < total ? fmt::format(" (stopped at the first failure; --keep-going runs all {})", total) : "");
    std::string fired;
    for (const auto& [f, n] : faults_fired)
      fired += fmt::format("\n              {:<24} {:>10} times in {} runs", f, thousands(n), thousands(runs_with_fault[f]));
    fmt::print("faults      {}{}\n", fired.empty() ? "none fired" : "fired:", fired);
    if (!not_fired.empty()) {
      std::string s;
      for (const auto& c : not_fired) s += (s.empty() ? "" : ", ") + c;
      fmt::print("            planned but never fired: {}\n", s);
    }
    std::string ps;
    const std::string noun = spec.scenario.saga->instance_noun();
    for (const auto& [p, n] : paths) ps += fmt::format("\n              {:<28} {:>10} {}", p, thousands(n), noun);
    fmt::print("saga paths  {}\n", ps);
    if (!not_seen.empty()) {
      std::string s;
      for (const auto& p : not_seen) s += (s.empty() ? "" : ", ") + p;
      fmt::print("            never seen: {}\n", s);
    }
    if (runs_not_quiet) fmt::print("            {} run(s) hit run.max_virtual_ms before going quiet\n", runs_not_quiet);
    if (failing_seeds.empty()) {
      fmt::print("failures    none\n");
    } else {
      fmt::print("failures    {} (seeds{})\n", failing_seeds.size(), failing_seeds.size() > 20 ? ", first 20" : "");
      for (size_t i = 0; i < failures.size() && i < 20; ++i)
        fmt::print("  seed {}: {}\n    {}\n", failures[i].seed, failures[i].first_violation, reproduce(failures[i].seed));
    }
  }
  return failing_seeds.empty() ? 0 : kExitViolation;
}

}  // namespace sagasim::cli
