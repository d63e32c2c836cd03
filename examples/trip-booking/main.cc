// trip-sim: the trip saga on sagasim's simulated Kafka, with faults.
//
//   trip-sim run scenarios/trip.json [--seed N] [--swarm] [--broken] [--trace FILE]
//   trip-sim sweep scenarios/trip.json --seeds A..B [--swarm] [--broken]
//   trip-sim shrink scenarios/trip.json --seed N [--swarm] [--broken] --out FILE
//
// Exit codes: 0 every invariant holds, 1 one failed (the command that
// reproduces it is printed), 2 bad input.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include <sagasim/core/error.h>
#include <sagasim/faults/shrink.h>
#include <sagasim/faults/world.h>

#include "trip_saga.h"

namespace {

struct FileSink : sagasim::sim::TraceSink {
  explicit FileSink(const std::string& path) : out(path, std::ios::binary) {
    if (!out) throw sagasim::InputError(path, "", "cannot write the trace here");
  }
  void write(std::string_view line) override { out.write(line.data(), static_cast<std::streamsize>(line.size())); }
  std::ofstream out;
};

int usage() {
  std::cerr << "usage: trip-sim run SCENARIO [--seed N] [--swarm] [--broken] [--trace FILE]\n"
               "       trip-sim sweep SCENARIO --seeds A..B [--swarm] [--broken]\n"
               "       trip-sim shrink SCENARIO --seed N [--swarm] [--broken] --out FILE\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sagasim;
  if (argc < 3) return usage();
  const std::string command = argv[1], path = argv[2];
  uint64_t first = 0, last = 0;
  bool swarm = false, broken = false, seeded = false;
  std::string trace, out;
  try {
    for (int i = 3; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw InputError(a, "", "needs a value");
        return argv[++i];
      };
      if (a == "--swarm") swarm = true;
      else if (a == "--broken") broken = true;
      else if (a == "--trace") trace = value();
      else if (a == "--out") out = value();
      else if (a == "--seed") first = last = std::stoull(value()), seeded = true;
      else if (a == "--seeds") {
        const std::string v = value();
        const size_t dots = v.find("..");
        if (dots == std::string::npos) throw InputError("--seeds", "", "expected A..B");
        first = std::stoull(v.substr(0, dots));
        last = std::stoull(v.substr(dots + 2));
        seeded = true;
      } else {
        return usage();
      }
    }
    const auto saga = trip::trip_saga(broken ? trip::Bug::KeepsLateReservation : trip::Bug::None);
    const faults::RunSpec spec = faults::make_run_spec(sim::load_scenario_file(path, saga));
    if (!seeded) first = last = spec.scenario.seed.value_or(1);
    if (command == "shrink") {
      // The harness's own shrinker, on this saga: faults, trips, instances, partitions.
      if (out.empty()) throw InputError("--out", "", "shrink needs --out FILE");
      const faults::ShrinkResult r = faults::shrink(spec, faults::ShrinkOptions{.seed = first, .swarm = swarm});
      std::ofstream f(out);
      f << r.scenario.dump(2) << "\n";
      if (!f) throw InputError(out, "", "cannot write the shrunk scenario");
      fmt::print("shrunk {} trips, {} faults -> {} trips, {} faults in {} runs; still fails {}\n", r.orders_before,
                 r.faults_before, r.orders_after, r.faults_after, r.runs, r.invariant);
      fmt::print("replay: trip-sim run {} --seed {}{}\n", out, first, broken ? " --broken" : "");
      return 0;
    }
    if (command != "run" && command != "sweep") return usage();

    int failed = 0;
    for (uint64_t seed = first; seed <= last; ++seed) {
      std::unique_ptr<FileSink> sink;
      if (command == "run" && !trace.empty()) sink = std::make_unique<FileSink>(trace);
      const sim::RunResult r = faults::run(spec, faults::RunConfig{seed, swarm, sink.get()});
      const bool show = command == "run" || !r.ok();
      if (show) {
        std::string paths;
        for (const auto& [p, n] : r.paths) paths += fmt::format("{}{} {}", paths.empty() ? "" : " · ", p, n);
        fmt::print("seed {}: {} trips, {} booked, {} cancelled, {} pending · {} · trace {}\n", seed, r.orders,
                   r.confirmed, r.cancelled, r.pending, paths, r.trace_hash);
        for (const auto& i : r.invariants) {
          fmt::print("  {:<32} {}\n", i.name, i.pass ? "pass" : "FAIL");
          for (size_t k = 0; k < i.violations.size() && k < 3; ++k)
            fmt::print("      {} {}\n", i.violations[k].entity, i.violations[k].message);
        }
      }
      if (!r.ok()) {
        ++failed;
        fmt::print("reproduce: trip-sim run {} --seed {}{}{}\n", path, seed, swarm ? " --swarm" : "", broken ? " --broken" : "");
        if (command == "sweep") break;
      }
    }
    if (command == "sweep" && failed == 0) fmt::print("sweep: seeds {}..{}{}: every invariant holds\n", first, last, swarm ? " (swarm)" : "");
    return failed ? 1 : 0;
  } catch (const InputError& e) {
    std::cerr << "trip-sim: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {  // std::stoull on a bad number
    std::cerr << "trip-sim: " << e.what() << "\n";
    return 2;
  }
}
