// A scenario with its fault plan, and one run of it: what the CLI, the sweep
// and the tests drive. (sim::run_scenario is the fault-free core.)
//
//   RunSpec spec = load_run_spec("scenarios/chaos.json", sagas);   // InputError on bad input
//   sim::RunResult r = run(spec, {.seed = 42, .swarm = true});
#pragma once

#include <memory>
#include <string>

#include "faults/injector.h"
#include "faults/plan.h"
#include "sim/simulation.h"

namespace sagasim::faults {

struct RunSpec {
  sim::Scenario scenario;
  FaultPlan plan;
  // scenario.spec as JSON text, dumped once by make_run_spec for every run's
  // trace header ("" in a spec built by hand: each run then dumps it).
  std::string spec_text;
};

// The scenario at `path` with its plan; its saga is looked up in `sagas`.
RunSpec load_run_spec(const std::string& path, const sim::SagaRegistry& sagas);
RunSpec load_run_spec(const std::string& path, std::shared_ptr<const sim::SagaDefinition> saga);
RunSpec make_run_spec(sim::Scenario scenario);  // validates the scenario's faults

struct RunConfig {
  uint64_t seed = 1;
  bool swarm = false;  // replace the plan by a per-seed random subset (faults/plan.h)
  sim::TraceSink* trace = nullptr;
  std::string version = "0.1.0";
  std::string mutant;  // a variant of the saga or a runtime mutant (sim::RunOptions::mutant); "" none
  int swarm_version = kSwarmVersion;  // faults/plan.h: 1 re-runs a trace recorded before version 2
};

// The plan a run actually uses: the scenario's, or its swarm variant.
FaultPlan effective_plan(const RunSpec& spec, const RunConfig& config);

class World {
 public:
  World(const RunSpec& spec, const RunConfig& config);
  sim::Simulation& sim() { return *sim_; }
  void start() { sim_->start(); }
  void run() { sim_->run_until_quiet(sim_->epoch() + spec_.scenario.max_virtual); }
  // The same run, reporting where it is every `every` steps (sim/simulation.h).
  void run(uint64_t every, const std::function<void(const sim::Simulation::Progress&)>& report) {
    sim_->run_until_quiet(sim_->epoch() + spec_.scenario.max_virtual, every, report);
  }
  sim::RunResult finish() { return sim_->finish(); }

 private:
  const RunSpec& spec_;
  std::unique_ptr<sim::Simulation> sim_;
  std::unique_ptr<Injector> injector_;
};

sim::RunResult run(const RunSpec& spec, const RunConfig& config);

}  // namespace sagasim::faults
