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
  return swarm(spec.plan.empty() ? default_chaos_plan(spec.scenario) : spec.plan, config.seed, config.swarm_version);
}

World::World(const RunSpec& spec, const RunConfig& config) : spec_(spec) {
  sim::RunOptions options{config.seed, config.trace, config.version};
  // The trace header carries everything needed to replay the run.
  options.mutant = config.mutant;
  options.header = {{"swarm", config.swarm}, {"spec", spec.scenario.spec}};
  // Version 1 traces name no version: replay knows them by its absence.
  if (config.swarm && config.swarm_version != 1) options.header["swarm_version"] = config.swarm_version;
  // (The spec names its saga: "saga": {"name": ...}.)
  if (!config.mutant.empty()) options.header["mutant"] = config.mutant;
  FaultPlan plan = effective_plan(spec, config);
  const sim::Scenario* scenario = &spec.scenario;
  if (plan.idempotent_producer && *plan.idempotent_producer != spec.scenario.idempotent_producer) {
    swarmed_ = spec.scenario;
    swarmed_->idempotent_producer = *plan.idempotent_producer;
    scenario = &*swarmed_;
  }
  sim_ = std::make_unique<sim::Simulation>(*scenario, options);
  if (!plan.faults.empty()) {
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
