#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/trace_file.h"
#include "core/error.h"
#include "faults/world.h"

namespace sagasim::cli {

std::string thousands(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() &&
      s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:") == std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

faults::RunSpec load_spec(const Program& program, const std::string& path, const std::string& style,
                          const std::string& mutant) {
  faults::RunSpec spec = faults::load_run_spec(path, program.sagas);
  if (!style.empty()) {
    check_style(*spec.scenario.saga, style);
    spec = faults::make_run_spec(sim::with_style(spec.scenario, style));
  }
  sim::check_mutant(*spec.scenario.saga, mutant, spec.scenario.style);
  return spec;
}

void check_style(const sim::SagaDefinition& saga, const std::string& style) {
  const std::vector<std::string> styles = saga.styles();
  if (styles.empty()) throw InputError("--style", "", fmt::format("the {} saga has no styles to choose from", saga.name()));
  if (std::find(styles.begin(), styles.end(), style) == styles.end()) {
    std::string known;
    for (const auto& s : styles) known += (known.empty() ? "" : ", ") + s;
    throw InputError("--style", "", fmt::format("unknown style '{}' (known: {})", style, known));
  }
}

nlohmann::json instances_json(const sim::InstanceSummary& n) {
  return {{"noun", n.noun}, {"total", n.total}, {"completed", n.completed}, {"compensated", n.compensated},
          {"undecided", n.undecided}};
}

std::string style_flag(const std::string& style) { return style.empty() ? "" : " --style " + style; }
std::string swarm_flag(bool swarm, int version) {
  if (!swarm) return "";
  return version == faults::kSwarmVersion ? " --swarm" : fmt::format(" --swarm --swarm-version {}", version);
}
std::string mutant_flag(const std::string& mutant) { return mutant.empty() ? "" : " --mutant " + mutant; }

int mutants_command(const Program& program, const MutantsArgs& args) {
  std::vector<std::shared_ptr<const sim::SagaDefinition>> sagas = program.sagas.all();
  if (!args.saga.empty()) {
    auto s = program.sagas.find(args.saga);
    if (!s) throw InputError("--saga", "", fmt::format("unknown saga '{}' (known: {})", args.saga, program.sagas.known()));
    sagas = {s};
  }
  for (const auto& saga : sagas) {
    if (sagas.size() > 1) fmt::print("{}{}:\n", &saga == &sagas.front() ? "" : "\n", saga->name());
    for (const sim::VariantInfo& v : sim::all_mutants(*saga)) {
      if (!args.verbose) {
        fmt::print("{}{}\n", sagas.size() > 1 ? "  " : "", v.name);
        continue;
      }
      std::string styles;
      for (const auto& st : v.styles) styles += (styles.empty() ? "" : ", ") + st;
      const bool runtime = sim::runtime_mutant(v.name) != sim::RuntimeMutant::None;
      fmt::print("{}{:<34} {}{}{}\n", sagas.size() > 1 ? "  " : "", v.name, runtime ? "runtime: " : "", v.description,
                 styles.empty() || v.styles.size() == saga->styles().size() ? "" : " [" + styles + " only]");
    }
  }
  return 0;
}

// A long run's progress on stderr: a line rewritten in place on a terminal,
// one every 10 s otherwise, nothing for a run shorter than 2 s. Read from
// the simulation every kProgressSteps steps (≈ 0.1 s), never written to it.
constexpr uint64_t kProgressSteps = 1 << 16;
class ProgressLine {
 public:
  using Clock = std::chrono::steady_clock;
  ProgressLine(std::string noun, Clock::time_point start)
      : noun_(std::move(noun)), start_(start), terminal_(isatty(STDERR_FILENO) == 1) {}
  void update(const sim::Simulation::Progress& p) {
    const auto now = Clock::now();
    const double s = std::chrono::duration<double>(now - start_).count();
    if (s < 2 || (last_ && now - *last_ < (terminal_ ? std::chrono::milliseconds(500) : std::chrono::seconds(10))))
      return;
    last_ = now;
    std::string text = fmt::format("run: {}/{} {} placed · {} deliveries · {}/s · virtual {:.0f}s", thousands(p.placed),
                                   thousands(p.placements), noun_, thousands(p.deliveries),
                                   thousands(static_cast<uint64_t>(static_cast<double>(p.deliveries) / s)),
                                   static_cast<double>((p.now - kSimEpoch).ms()) / 1000.0);
    // The run ends soon after its last placement: placements measure it.
    if (p.placed > 0 && p.placed < p.placements)
      text += fmt::format(" · ETA {:.0f}s", s * static_cast<double>(p.placements - p.placed) / static_cast<double>(p.placed));
    if (terminal_) {
      std::cerr << "\r" << text << std::string(width_ > text.size() ? width_ - text.size() : 0, ' ') << std::flush;
      width_ = text.size();
    } else {
      std::cerr << text << "\n" << std::flush;
    }
  }
  void clear() {
    if (width_ > 0) std::cerr << "\r" << std::string(width_, ' ') << "\r" << std::flush;
    width_ = 0;
  }

 private:
  std::string noun_;
  Clock::time_point start_;
  bool terminal_;
  std::optional<Clock::time_point> last_;
  size_t width_ = 0;
};

int run_command(const Program& program, const RunArgs& args) {
  const std::string& mutant = args.mutant;
  const faults::RunSpec spec = load_spec(program, args.scenario, args.style, mutant);
  const uint64_t seed = args.seed ? *args.seed : spec.scenario.seed.value_or(1);

  std::unique_ptr<TraceFile> sink;
  if (!args.trace.empty()) sink = std::make_unique<TraceFile>(args.trace);

  // Timed in phases: the event loop (what "deliveries per second" measures)
  // and the final checks over the whole state and log.
  using Clock = std::chrono::steady_clock;
  auto ms_between = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  const auto t0 = Clock::now();
  sim::RunResult r;
  double loop_ms = 0, check_ms = 0;
  {
    faults::World world(spec, faults::RunConfig{seed, args.swarm, sink.get(), kVersion, mutant, args.swarm_version});
    world.start();
    ProgressLine line(spec.scenario.saga->instance_words().noun, t0);
    world.run(kProgressSteps, [&](const sim::Simulation::Progress& p) { line.update(p); });
    line.clear();
    const auto t1 = Clock::now();
    r = world.finish();
    const auto t2 = Clock::now();
    loop_ms = ms_between(t0, t1);
    check_ms = ms_between(t1, t2);
  }
  const auto wall_ms = static_cast<int64_t>(ms_between(t0, Clock::now()) + 0.5);
  if (sink) sink->close();

  std::string reproduce = fmt::format("{} run {} --seed {}{}{}{}", program.name, shell_quote(args.scenario), seed,
                                      style_flag(args.style), swarm_flag(args.swarm, args.swarm_version), mutant_flag(mutant));
  if (!r.ok()) reproduce += " --trace trace.jsonl";

  if (args.json) {
    nlohmann::ordered_json j;
    j["scenario"] = r.scenario;
    j["seed"] = r.seed;
    j["swarm"] = args.swarm;
    j["style"] = spec.scenario.style;
    if (!mutant.empty()) j["mutant"] = mutant;
    j["trace_hash"] = r.trace_hash;
    j["steps"] = r.steps;
    j["saga"] = std::string(spec.scenario.saga->name());
    const sim::InstanceSummary& n = r.instances;
    // In the saga's words ("orders": {"confirmed": ...}) and in fixed ones, for tools reading any saga.
    j[n.noun] = {{"total", n.total}, {n.completed_word, n.completed}, {n.compensated_word, n.compensated},
                 {n.undecided_word, n.undecided}};
    j["instances"] = instances_json(n);
    j["paths"] = r.paths;
    nlohmann::ordered_json inv = nlohmann::ordered_json::object();
    nlohmann::ordered_json violations = nlohmann::ordered_json::array();
    for (const auto& i : r.invariants) {
      inv[i.name] = i.pass ? "pass" : "fail";
      for (const auto& v : i.violations) {
        if (violations.size() >= 100) break;
        violations.push_back({{"invariant", v.invariant}, {"entity", v.entity}, {"message", v.message},
                              {"at_ms", v.at_us < 0 ? nlohmann::ordered_json(nullptr)
                                                    : nlohmann::ordered_json((v.at_us - kSimEpoch.us) / 1000)}});
      }
    }
    j["invariants"] = inv;
    j["violations"] = violations;
    j["faults_fired"] = r.faults_fired;
    j["deliveries"] = r.deliveries;
    j["appends"] = r.appends;
    j["duplicates_skipped"] = r.duplicates_skipped;
    j["producer_retries"] = r.producer_retries;
    j["scheduler_events"] = r.scheduler_events;
    j["virtual_ms"] = r.virtual_ms;
    j["wall_ms"] = wall_ms;
    j["loop_wall_ms"] = std::round(loop_ms * 10) / 10;
    j["check_wall_ms"] = std::round(check_ms * 10) / 10;
    j["deliveries_per_sec"] = loop_ms > 0 ? static_cast<int64_t>(static_cast<double>(r.deliveries) / loop_ms * 1000) : 0;
    j["quiesced"] = r.quiesced;
    if (!args.trace.empty()) j["trace"] = args.trace;
    j["reproduce"] = reproduce;
    std::cout << j.dump(2) << "\n";
    return r.ok() ? 0 : kExitViolation;
  }

  std::string paths;
  for (const auto& [p, n] : r.paths) paths += fmt::format("{}{} {}", paths.empty() ? "" : " · ", p, thousands(static_cast<uint64_t>(n)));
  int failed = 0;
  for (const auto& i : r.invariants) failed += !i.pass;

  fmt::print("scenario    {}  ({})\n", r.scenario, args.scenario);
  if (!spec.scenario.description.empty()) fmt::print("            {}\n", spec.scenario.description);
  if (const auto styles = spec.scenario.saga->styles(); !styles.empty() && spec.scenario.style != styles.front())
    fmt::print("style       {}\n", spec.scenario.style);
  fmt::print("seed        {}{}\n", r.seed, args.swarm ? " (swarm: this seed's own fault mix)" : "");
  if (!mutant.empty()) fmt::print("mutant      {} (a deliberately broken saga)\n", mutant);
  const sim::InstanceSummary& n = r.instances;
  fmt::print("{:<11} {}: {} {}, {} {}, {} {}\n", n.noun, thousands(n.total), thousands(n.completed), n.completed_word,
             thousands(n.compensated), n.compensated_word, thousands(n.undecided), n.undecided_word);
  fmt::print("saga paths  {}\n", paths.empty() ? fmt::format("none (no {})", n.noun) : paths);
  fmt::print("deliveries  {} ({} duplicates skipped by inboxes) · {} records appended · {} producer retries\n",
             thousands(r.deliveries), thousands(r.duplicates_skipped), thousands(r.appends), thousands(r.producer_retries));
  fmt::print("time        {} ms virtual{} · {} ms wall\n", thousands(static_cast<uint64_t>(r.virtual_ms)),
             r.quiesced ? "" : " (stopped at run.max_virtual_ms before going quiet)", wall_ms);
  std::string fired;
  for (const auto& [f, n] : r.faults_fired) fired += fmt::format("{}{} {}", fired.empty() ? "" : " · ", f, n);
  faults::RunConfig config{seed, args.swarm};
  config.swarm_version = args.swarm_version;
  const faults::FaultPlan plan = faults::effective_plan(spec, config);
  std::string silent;
  for (faults::FaultClass c : faults::all_fault_classes()) {
    bool planned = false;
    for (const auto& f : plan.faults) planned = planned || f.cls == c;
    if (planned && !r.faults_fired.count(std::string(faults::to_string(c))))
      silent += fmt::format("{}{}", silent.empty() ? "" : ", ", faults::to_string(c));
  }
  fmt::print("faults      {}\n", fired.empty() ? (plan.faults.empty() ? "none planned" : "none fired") : fired);
  if (!silent.empty()) fmt::print("            planned but never fired: {}\n", silent);
  if (failed == 0) fmt::print("invariants  all {} hold\n", r.invariants.size());
  else fmt::print("invariants  {} of {} FAIL\n", failed, r.invariants.size());
  for (const auto& i : r.invariants) {
    fmt::print("  {:<36} {}\n", i.name, i.pass ? "pass" : "FAIL");
    size_t shown = 0;
    for (const auto& v : i.violations) {
      if (++shown > 5) {
        fmt::print("      ... {} more\n", i.violations.size() - 5);
        break;
      }
      std::string when = v.at_us < 0 ? "at the end" : fmt::format("at {} ms", (v.at_us - kSimEpoch.us) / 1000);
      fmt::print("      {}{}{} ({})\n", v.entity, v.entity.empty() ? "" : ": ", v.message, when);
    }
  }
  fmt::print("trace       hash {} · {} steps{}\n", r.trace_hash, thousands(r.steps),
             args.trace.empty() ? "" : " → " + args.trace);
  if (!r.ok()) fmt::print("reproduce   {}\n", reproduce);
  return r.ok() ? 0 : kExitViolation;
}

}  // namespace sagasim::cli
