#include "faults/world.h"

namespace sagasim::faults {

namespace {
// As the trace header dumps its fields (sim/trace.cc).
std::string dump_header_json(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

RunSpec make_run_spec(sim::Scenario scenario) {
  RunSpec spec;
  spec.plan = parse_plan(scenario);
  spec.scenario = std::move(scenario);
  spec.spec_text = dump_header_json(spec.scenario.spec);
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
  // Version 1 traces name no version: replay knows them by its absence.
  const bool swarm_version = config.swarm && config.swarm_version != 1;
  // The header object's text, its members in nlohmann's (sorted) key order;
  // the scenario is dumped once per RunSpec (make_run_spec), not per run.
  // (The spec names its saga: "saga": {"name": ...}.)
  const std::string dumped = spec.spec_text.empty() ? dump_header_json(spec.scenario.spec) : std::string();
  const std::string& spec_text = spec.spec_text.empty() ? dumped : spec.spec_text;
  std::string& h = options.header_text;
  h.reserve(spec_text.size() + 64);
  h += '{';
  if (!config.mutant.empty()) h += "\"mutant\":" + dump_header_json(config.mutant) + ",";
  h += "\"spec\":";
  h += spec_text;
  h += config.swarm ? ",\"swarm\":true" : ",\"swarm\":false";
  if (swarm_version) h += ",\"swarm_version\":" + std::to_string(config.swarm_version);
  h += '}';
  FaultPlan plan = effective_plan(spec, config);
  options.idempotent_producer = plan.idempotent_producer;
  sim_ = std::make_unique<sim::Simulation>(spec.scenario, options);
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
