#include "faults/world.h"

namespace sagasim::faults {

RunSpec make_run_spec(sim::Scenario scenario) {
  RunSpec spec;
  spec.plan = parse_plan(scenario);
  spec.scenario = std::move(scenario);
  return spec;
}

RunSpec load_run_spec(const std::string& path, const sim::SagaRegistry& sagas) {
  return make_run_spec(sim::load_scenario_file(path, sagas));
}

RunSpec load_run_spec(const std::string& path, std::shared_ptr<const sim::SagaDefinition> saga) {
  return make_run_spec(sim::load_scenario_file(path, std::move(saga)));
}

FaultPlan effective_plan(const RunSpec& spec, const RunConfig& config) {
  if (!config.swarm) return spec.plan;
  return swarm(spec.plan.empty() ? default_chaos_plan(spec.scenario) : spec.plan, config.seed);
}

World::World(const RunSpec& spec, const RunConfig& config) : spec_(spec) {
  sim::RunOptions options{config.seed, config.trace, config.version};
  // The trace header carries everything needed to replay the run.
  options.mutant = config.mutant;
  options.header = {{"swarm", config.swarm}, {"spec", spec.scenario.spec}};
  // (The spec names its saga: "saga": {"name": ...}.)
  if (!config.mutant.empty()) options.header["mutant"] = config.mutant;
  sim_ = std::make_unique<sim::Simulation>(spec.scenario, options);
  FaultPlan plan = effective_plan(spec, config);
  if (!plan.empty()) {
    injector_ = std::make_unique<Injector>(*sim_, std::move(plan), config.seed);
    injector_->install();
  }
}

sim::RunResult run(const RunSpec& spec, const RunConfig& config) {
  World w(spec, config);
  w.start();
  w.run();
  return w.finish();
}

}  // namespace sagasim::faults
