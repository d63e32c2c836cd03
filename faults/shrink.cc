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
         c != FaultClass::PartitionReorder && c != FaultClass::Crash && c != FaultClass::ClockSkew;
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
    default:
      j["duration_ms"] = ms(f.duration);
  }
  return j;
}

json explicit_scenario(const RunSpec& spec, uint64_t seed, bool swarm) {
  json j = spec.scenario.spec;
  const sim::Workload w = sim::materialize_workload(spec.scenario.workload, seed);
  json customers = json::array(), skus = json::array(), orders = json::array();
  for (const auto& c : w.customers) customers.push_back({{"id", c.id}, {"balance_cents", c.balance_cents}});
  for (const auto& s : w.skus) skus.push_back({{"sku", s.sku}, {"stock", s.stock}});
  for (const auto& o : w.orders) {
    json lines = json::array();
    for (const auto& l : o.lines) lines.push_back({{"sku", l.sku}, {"quantity", l.quantity}, {"price_cents", l.price_cents}});
    orders.push_back({{"id", o.id}, {"at_ms", ms(o.at)}, {"customer", o.customer}, {"lines", lines}});
  }
  j["workload"] = {{"customers", customers}, {"skus", skus}, {"orders", orders}};
  json faults = json::array();
  for (const FaultSpec& f : effective_plan(spec, RunConfig{seed, swarm}).faults) faults.push_back(to_json(f));
  j["faults"] = faults;
  j["seed"] = seed;
  return j;
}

ShrinkResult shrink(const RunSpec& spec, const ShrinkOptions& opt) {
  const std::string source = spec.scenario.source;
  const sim::RunResult original = run(spec, RunConfig{opt.seed, opt.swarm, nullptr, "0.1.0", opt.mutant});
  const std::string target = first_failure(original);
  if (target.empty())
    throw InputError(source, "", fmt::format("every invariant holds at seed {}{}: there is nothing to shrink", opt.seed,
                                             opt.swarm ? " (swarm)" : ""));

  ShrinkResult out;
  out.invariant = target;
  json best = explicit_scenario(spec, opt.seed, opt.swarm);
  out.orders_before = best["workload"]["orders"].size();
  out.faults_before = best["faults"].size();

  // Does this candidate still fail the same invariant?
  auto fails = [&](const json& candidate) {
    if (out.runs >= opt.max_runs) return false;
    ++out.runs;
    try {
      const RunSpec s = make_run_spec(sim::parse_scenario(candidate, source + " (shrinking)"));
      const sim::RunResult r = run(s, RunConfig{opt.seed, false, nullptr, "0.1.0", opt.mutant});
      const bool same = !r.ok() && std::any_of(r.invariants.begin(), r.invariants.end(),
                                               [&](const auto& i) { return !i.pass && i.name == target; });
      if (opt.progress) opt.progress(out.runs, candidate["workload"]["orders"].size(), candidate["faults"].size());
      return same;
    } catch (const InputError&) {
      return false;  // a reduction that made the scenario invalid (e.g. a fault aimed at a removed instance)
    }
  };
  if (!fails(best))
    throw InternalError("the explicit form of the scenario does not fail like the original; please report this");

  // Delta debugging over one list: remove chunks, halving the chunk size.
  auto reduce_list = [&](const std::function<json&(json&)>& list) {
    size_t chunk = std::max<size_t>(1, list(best).size() / 2);
    while (true) {
      bool removed = false;
      for (size_t start = 0; start < list(best).size();) {
        json candidate = best;
        json& items = list(candidate);
        const size_t end = std::min(items.size(), start + chunk);
        items.erase(items.begin() + static_cast<std::ptrdiff_t>(start), items.begin() + static_cast<std::ptrdiff_t>(end));
        if (fails(candidate)) {
          best = std::move(candidate);
          removed = true;
        } else {
          start = end;
        }
      }
      if (chunk == 1 && !removed) break;
      if (!removed) chunk = std::max<size_t>(1, chunk / 2);
    }
  };
  auto orders = [](json& j) -> json& { return j["workload"]["orders"]; };
  auto faults = [](json& j) -> json& { return j["faults"]; };

  for (int round = 0; round < 3; ++round) {
    const json before = best;
    reduce_list(faults);
    reduce_list(orders);
    // Fewer lines per order.
    for (size_t i = 0; i < best["workload"]["orders"].size(); ++i)
      while (best["workload"]["orders"][i]["lines"].size() > 1) {
        json candidate = best;
        candidate["workload"]["orders"][i]["lines"].erase(candidate["workload"]["orders"][i]["lines"].end() - 1);
        if (!fails(candidate)) break;
        best = std::move(candidate);
      }
    // Fewer instances and partitions.
    for (const char* svc : {"order", "payment", "inventory"}) {
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

  // Customers and SKUs nobody orders from go; the earliest order starts at 0.
  {
    std::set<std::string> used_customers, used_skus;
    for (const auto& o : best["workload"]["orders"]) {
      used_customers.insert(o["customer"].get<std::string>());
      for (const auto& l : o["lines"]) used_skus.insert(l["sku"].get<std::string>());
    }
    json candidate = best;
    auto prune = [](json& list, const char* key, const std::set<std::string>& used) {
      json kept = json::array();
      for (const auto& x : list)
        if (used.count(x[key].get<std::string>())) kept.push_back(x);
      if (!kept.empty()) list = kept;
    };
    prune(candidate["workload"]["customers"], "id", used_customers);
    prune(candidate["workload"]["skus"], "sku", used_skus);
    if (fails(candidate)) best = std::move(candidate);
  }

  best["name"] = best.value("name", std::string("scenario")) + "-min";
  best["description"] = fmt::format("Shrunk by `sagasim shrink` from {} ({} orders, {} faults) at seed {}{}{}: still fails {}.",
                                    source, out.orders_before, out.faults_before, opt.seed, opt.swarm ? " (swarm)" : "",
                                    opt.mutant == saga::Mutant::None
                                        ? ""
                                        : fmt::format(" with mutant {}", saga::to_string(opt.mutant)),
                                    target);
  out.orders_after = best["workload"]["orders"].size();
  out.faults_after = best["faults"].size();
  out.scenario = std::move(best);
  return out;
}

}  // namespace sagasim::faults
