#include "faults/shrink.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/error.h"

namespace sagasim::faults {

using nlohmann::json;

namespace {

json ms(Duration d) {
  if (d.us % 1000 == 0) return d.us / 1000;
  return static_cast<double>(d.us) / 1000.0;
}

bool is_episode(FaultClass c) {
  return c != FaultClass::LostCommit && c != FaultClass::ProducerRetry && c != FaultClass::RelayRepublish &&
         c != FaultClass::PartitionReorder && c != FaultClass::Crash && c != FaultClass::ClockSkew &&
         c != FaultClass::ClientRetry;
}

std::string first_failure(const sim::RunResult& r) {
  for (const auto& i : r.invariants)
    if (!i.pass) return i.name;
  return "";
}

}  // namespace

json to_json(const FaultSpec& f) {
  json j = {{"class", std::string(to_string(f.cls))}};
  if (!f.target.empty()) j["target"] = f.target;
  if (!f.topic.empty()) j["topic"] = f.topic;
  if (f.partition >= 0) j["partition"] = f.partition;
  if (f.scheduled()) {
    j["at_ms"] = ms(*f.at);
  } else {
    j["probability"] = f.probability;
    if (f.from.us > 0) j["from_ms"] = ms(f.from);
    if (f.until) j["until_ms"] = ms(*f.until);
    if (is_episode(f.cls)) j["every_ms"] = ms(f.every);
  }
  switch (f.cls) {
    case FaultClass::Crash:
      j["point"] = std::string(sim::to_string(f.point));
      j["downtime_ms"] = ms(f.duration);
      break;
    case FaultClass::LostCommit:
    case FaultClass::ProducerRetry:
    case FaultClass::RelayRepublish:
    case FaultClass::PartitionReorder:
      if (f.scheduled()) j["duration_ms"] = ms(f.duration);
      break;
    case FaultClass::DelaySkew:
    case FaultClass::LatencySpike:
      j["duration_ms"] = ms(f.duration);
      j["extra_ms"] = ms(f.extra);
      break;
    case FaultClass::LeaderFailover:
      j["election_ms"] = ms(f.duration);
      break;
    case FaultClass::ClockSkew:
      j["skew_ms"] = ms(f.skew);
      j["drift_ppm"] = f.drift_ppm;
      break;
    case FaultClass::ClientRetry:
      if (f.scheduled()) j["duration_ms"] = ms(f.duration);
      j["after_ms"] = ms(f.extra);
      if (f.same_id) j["same_id"] = true;
      break;
    default:
      j["duration_ms"] = ms(f.duration);
  }
  return j;
}

json explicit_scenario(const RunSpec& spec, uint64_t seed, bool swarm, int swarm_version) {
  json j = spec.scenario.spec;
  j["workload"] = spec.scenario.saga->explicit_workload(spec.scenario, seed);
  json faults = json::array();
  RunConfig config{seed, swarm};
  config.swarm_version = swarm_version;
  const FaultPlan plan = effective_plan(spec, config);
  for (const FaultSpec& f : plan.faults) faults.push_back(to_json(f));
  j["faults"] = faults;
  if (plan.idempotent_producer) j["topology"]["idempotent_producer"] = *plan.idempotent_producer;
  j["seed"] = seed;
  return j;
}

ShrinkResult shrink(const RunSpec& spec, const ShrinkOptions& opt) {
  const std::string source = spec.scenario.source;
  const sim::SagaDefinition& def = *spec.scenario.saga;
  const sim::RunResult original = run(spec, RunConfig{opt.seed, opt.swarm, nullptr, "0.1.0", opt.mutant, opt.swarm_version});
  const std::string target = first_failure(original);
  if (target.empty())
    throw InputError(source, "", fmt::format("every invariant holds at seed {}{}: there is nothing to shrink", opt.seed,
                                             opt.swarm ? " (swarm)" : ""));

  ShrinkResult out;
  out.invariant = target;
  json best = explicit_scenario(spec, opt.seed, opt.swarm, opt.swarm_version);
  out.orders_before = def.workload_size(best);
  out.faults_before = best["faults"].size();

  // Does this candidate still fail the same invariant?
  auto fails = [&](const json& candidate) {
    if (out.runs >= opt.max_runs) return false;
    ++out.runs;
    try {
      const RunSpec s = make_run_spec(sim::parse_scenario(candidate, source + " (shrinking)", spec.scenario.saga));
      const sim::RunResult r = run(s, RunConfig{opt.seed, false, nullptr, "0.1.0", opt.mutant});
      const bool same = !r.ok() && std::any_of(r.invariants.begin(), r.invariants.end(),
                                               [&](const auto& i) { return !i.pass && i.name == target; });
      if (opt.progress) opt.progress(out.runs, def.workload_size(candidate), candidate["faults"].size());
      return same;
    } catch (const InputError&) {
      return false;  // a reduction that made the scenario invalid (e.g. a fault aimed at a removed instance)
    }
  };
  if (!fails(best))
    throw InternalError("the explicit form of the scenario does not fail like the original; please report this");

  for (int round = 0; round < 5; ++round) {
    const json before = best;
    sim::reduce_list(best, json::json_pointer("/faults"), fails);
    def.shrink_workload(best, fails);
    // Smaller faults: shorter, earlier, milder, rarer (a fault that needed a
    // long outage to matter may need a short one once the workload is small).
    for (size_t i = 0; i < best["faults"].size(); ++i)
      for (const char* key : {"duration_ms", "downtime_ms", "election_ms", "extra_ms", "after_ms", "at_ms", "from_ms"})
        sim::reduce_number(best, json::json_pointer(fmt::format("/faults/{}/{}", i, key)), fails, 0, 1);
    for (size_t i = 0; i < best["faults"].size(); ++i)
      sim::reduce_number(best, json::json_pointer(fmt::format("/faults/{}/probability", i)), fails, 0, 0.01);
    // Fewer instances and partitions.
    for (const std::string& svc : spec.scenario.services()) {
      while (true) {
        json candidate = best;
        json& n = candidate["topology"]["instances"][svc];
        const int current = n.is_number_integer() ? n.get<int>() : 1;
        if (current <= 1) break;
        n = current - 1;
        if (!fails(candidate)) break;
        best = std::move(candidate);
      }
    }
    while (true) {
      json candidate = best;
      const int p = candidate["topology"].value("partitions", 3);
      if (p <= 1) break;
      candidate["topology"]["partitions"] = p - 1;
      if (!fails(candidate)) break;
      best = std::move(candidate);
    }
    if (best == before) break;
  }

  def.tidy_workload(best, fails);

  best["name"] = best.value("name", std::string("scenario")) + "-min";
  best["description"] = fmt::format("Shrunk by `sagasim shrink` from {} ({} orders, {} faults) at seed {}{}{}: still fails {}.",
                                    source, out.orders_before, out.faults_before, opt.seed, opt.swarm ? " (swarm)" : "",
                                    opt.mutant.empty()
                                        ? ""
                                        : fmt::format(" with mutant {}", opt.mutant),
                                    target);
  out.orders_after = def.workload_size(best);
  out.faults_after = best["faults"].size();
  for (const auto& f : best["faults"])
    if (!f.contains("at_ms") && f.value("probability", 1.0) == 0.0) ++out.faults_inert;
  out.scenario = std::move(best);
  return out;
}

}  // namespace sagasim::faults
