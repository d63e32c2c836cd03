// sagasim: the command-line front end.
//
//   sagasim run SCENARIO.json [--seed N] [--trace FILE] [--json]
//
// Exit codes: 0 every invariant holds; 1 an invariant failed (the violation
// and the command that reproduces it are printed); 2 bad input (a message
// naming the file and the JSON path, or the argument).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "sim/simulation.h"

namespace {

using namespace sagasim;

constexpr const char* kVersion = "0.1.0";
constexpr int kExitViolation = 1;
constexpr int kExitBadInput = 2;

class FileSink final : public sim::TraceSink {
 public:
  explicit FileSink(const std::string& path) : path_(path), f_(std::fopen(path.c_str(), "wb")) {
    if (!f_) throw InputError(path, "", "cannot open the trace file for writing");
    std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
  }
  ~FileSink() override {
    if (f_) std::fclose(f_);
  }
  void write(std::string_view line) override {
    if (std::fwrite(line.data(), 1, line.size(), f_) != line.size()) failed_ = true;
  }
  void close() {
    if (std::fclose(f_) != 0) failed_ = true;
    f_ = nullptr;
    if (failed_) throw InputError(path_, "", "writing the trace failed (disk full or not writable?)");
  }

 private:
  std::string path_;
  std::FILE* f_;
  bool failed_ = false;
};

std::string thousands(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string shell_quote(const std::string& s) {
  if (s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:") == std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

int run_command(const std::string& path, std::optional<uint64_t> seed_opt, const std::string& trace_path, bool as_json) {
  const sim::Scenario scenario = sim::load_scenario_file(path);
  const uint64_t seed = seed_opt ? *seed_opt : scenario.seed.value_or(1);

  std::unique_ptr<FileSink> sink;
  if (!trace_path.empty()) sink = std::make_unique<FileSink>(trace_path);

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
    sim::Simulation world(scenario, sim::RunOptions{seed, sink.get(), kVersion});
    world.start();
    world.run_until_quiet(kSimEpoch + scenario.max_virtual);
    const auto t1 = Clock::now();
    r = world.finish();
    const auto t2 = Clock::now();
    loop_ms = ms_between(t0, t1);
    check_ms = ms_between(t1, t2);
  }
  const auto wall_ms = static_cast<int64_t>(ms_between(t0, Clock::now()) + 0.5);
  if (sink) sink->close();

  std::string reproduce = fmt::format("sagasim run {} --seed {}", shell_quote(path), seed);
  if (!r.ok()) reproduce += " --trace trace.jsonl";

  if (as_json) {
    nlohmann::ordered_json j;
    j["scenario"] = r.scenario;
    j["seed"] = r.seed;
    j["trace_hash"] = r.trace_hash;
    j["steps"] = r.steps;
    j["orders"] = {{"total", r.orders}, {"confirmed", r.confirmed}, {"cancelled", r.cancelled}, {"pending", r.pending}};
    j["paths"] = r.paths;
    nlohmann::ordered_json inv = nlohmann::ordered_json::object();
    nlohmann::ordered_json violations = nlohmann::ordered_json::array();
    for (const auto& i : r.invariants) {
      inv[i.name] = i.pass ? "pass" : "fail";
      for (const auto& v : i.violations) {
        if (violations.size() >= 100) break;
        violations.push_back({{"invariant", v.invariant}, {"order", v.order_id}, {"message", v.message},
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
    if (!trace_path.empty()) j["trace"] = trace_path;
    j["reproduce"] = reproduce;
    std::cout << j.dump(2) << "\n";
    return r.ok() ? 0 : kExitViolation;
  }

  std::string paths;
  for (const auto& [p, n] : r.paths) paths += fmt::format("{}{} {}", paths.empty() ? "" : " · ", p, thousands(static_cast<uint64_t>(n)));
  int failed = 0;
  for (const auto& i : r.invariants) failed += !i.pass;

  fmt::print("scenario    {}  ({})\n", r.scenario, path);
  if (!scenario.description.empty()) fmt::print("            {}\n", scenario.description);
  fmt::print("seed        {}\n", r.seed);
  fmt::print("orders      {}: {} confirmed, {} cancelled, {} pending\n", thousands(r.orders), thousands(r.confirmed),
             thousands(r.cancelled), thousands(r.pending));
  fmt::print("saga paths  {}\n", paths.empty() ? "none (no orders)" : paths);
  fmt::print("deliveries  {} ({} duplicates skipped by inboxes) · {} records appended · {} producer retries\n",
             thousands(r.deliveries), thousands(r.duplicates_skipped), thousands(r.appends), thousands(r.producer_retries));
  fmt::print("time        {} ms virtual{} · {} ms wall\n", thousands(static_cast<uint64_t>(r.virtual_ms)),
             r.quiesced ? "" : " (stopped at run.max_virtual_ms before going quiet)", wall_ms);
  std::string faults;
  for (const auto& [f, n] : r.faults_fired) faults += fmt::format("{}{} {}", faults.empty() ? "" : " · ", f, n);
  fmt::print("faults      {}\n", faults.empty() ? "none fired" : faults);
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
      fmt::print("      {}{}{} ({})\n", v.order_id, v.order_id.empty() ? "" : ": ", v.message, when);
    }
  }
  fmt::print("trace       hash {} · {} steps{}\n", r.trace_hash, thousands(r.steps),
             trace_path.empty() ? "" : " → " + trace_path);
  if (!r.ok()) fmt::print("reproduce   {}\n", reproduce);
  return r.ok() ? 0 : kExitViolation;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sagasim: deterministic simulation and testing of event-driven sagas on Kafka.\n"
               "Runs the Order/Payment/Inventory saga against a simulated Kafka broker on a\n"
               "virtual clock; the same seed always gives the same trace."};
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);

  CLI::App* run = app.add_subcommand("run", "Run a scenario on the simulated broker and check every invariant");
  std::string scenario_path, trace_path;
  std::optional<uint64_t> seed;
  bool as_json = false;
  run->add_option("scenario", scenario_path, "Scenario file (JSON; see docs/scenario-format.md)")->required();
  run->add_option("--seed", seed, "Root seed (default: the scenario's \"seed\", else 1)");
  run->add_option("--trace", trace_path, "Write the trace (JSON Lines) to this file");
  run->add_flag("--json", as_json, "Print one JSON object instead of the human summary");
  run->footer("Exit codes: 0 all invariants hold, 1 an invariant failed, 2 bad input.");

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
    if (run->parsed()) return run_command(scenario_path, seed, trace_path, as_json);
  } catch (const InputError& e) {
    std::cerr << "sagasim: " << e.what() << "\n";
    return kExitBadInput;
  }
  return 0;
}
