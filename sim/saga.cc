#include "sim/saga.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "sim/scenario.h"

namespace sagasim::sim {

using nlohmann::json;

namespace {
const std::vector<VariantInfo>& runtime_mutant_list() {
  static const std::vector<VariantInfo> list = {
      {"outbox-before-commit", "the runtime publishes a handler's events before committing its local transaction", {}},
      {"commit-before-processing", "the runtime commits the consumer offset when a record arrives, before handling it",
       {}},
      {"timers-not-rearmed",
       "a restarted instance does not re-arm its service's timers: one that fell due while it was down waits for "
       "the next timer to fire",
       {}},
      {"broker-resumes-past-commit",
       "the simulated broker resumes a reassigned partition one record past its committed offset (a record is lost "
       "to the group)",
       {}},
      {"broker-skips-redelivery",
       "the simulated broker resumes a reassigned partition where its old owner stopped instead of at the committed "
       "offset: no at-least-once redelivery",
       {}},
      {"broker-forgets-sequences",
       "the simulated broker appends an idempotent producer's retried request again instead of dropping it by "
       "sequence number",
       {}},
  };
  return list;
}
}  // namespace

std::span<const VariantInfo> runtime_mutants() { return runtime_mutant_list(); }

RuntimeMutant runtime_mutant(std::string_view name) {
  if (name == "outbox-before-commit") return RuntimeMutant::OutboxBeforeCommit;
  if (name == "commit-before-processing") return RuntimeMutant::CommitBeforeProcessing;
  if (name == "timers-not-rearmed") return RuntimeMutant::TimersNotRearmed;
  if (name == "broker-resumes-past-commit") return RuntimeMutant::BrokerResumesPastCommit;
  if (name == "broker-skips-redelivery") return RuntimeMutant::BrokerSkipsRedelivery;
  if (name == "broker-forgets-sequences") return RuntimeMutant::BrokerForgetsSequences;
  return RuntimeMutant::None;
}

std::vector<VariantInfo> all_mutants(const SagaDefinition& saga) {
  std::vector<VariantInfo> out = saga.variants();
  out.insert(out.end(), runtime_mutant_list().begin(), runtime_mutant_list().end());
  return out;
}

void check_mutant(const SagaDefinition& saga, const std::string& name, std::string_view style,
                  const std::string& where) {
  if (name.empty()) return;
  const std::vector<VariantInfo> known = all_mutants(saga);
  for (const VariantInfo& v : known) {
    if (v.name != name) continue;
    if (!v.styles.empty() && std::find(v.styles.begin(), v.styles.end(), style) == v.styles.end())
      throw InputError(where, "", fmt::format("mutant {} changes nothing in the {} style", name, style));
    return;
  }
  std::string names;
  for (const VariantInfo& v : known) names += (names.empty() ? "" : ", ") + v.name;
  throw InputError(where, "", fmt::format("unknown mutant '{}' of the {} saga (known: {})", name, saga.name(), names));
}

std::unique_ptr<SagaRun> SagaDefinition::start_live(const Scenario& scenario, const RunOptions&, const LivePlan&) const {
  throw InputError(scenario.source, "/saga/name",
                   fmt::format("the {} saga has no production mode (its SagaDefinition does not define start_live; "
                               "docs/writing-your-own-saga.md, section 8)",
                               name()));
}

json SagaDefinition::chaos_faults(const Scenario& s) const {
  // Every class at moderate rates, spread over this saga's services and
  // topics: the second service gets extra members, the last topic loses a
  // partition leader, the second is failed over, the third lags, and the
  // first service's clock is off.
  const std::vector<std::string>& topics = s.topics;
  const std::vector<std::string> services = s.services();
  auto topic = [&](size_t i) { return topics[std::min(i, topics.size() - 1)]; };
  auto service = [&](size_t i) { return services[std::min(i, services.size() - 1)]; };
  // A lost ack holds a partition for a request timeout; leave those classes
  // out where that alone would eat most of the liveness bound.
  const bool acks_may_be_lost = 4 * s.broker.request_timeout.us < s.liveness_bound.us;
  json faults = json::array({
      {{"class", "lost_commit"}, {"probability", 0.02}},
      {{"class", "relay_republish"}, {"probability", 0.01}},
      {{"class", "delay_skew"}, {"topic", topic(2)}, {"probability", 0.05}, {"duration_ms", 1500}, {"extra_ms", 400}},
      {{"class", "partition_reorder"}, {"probability", 0.02}},
      {{"class", "crash"}, {"point", "before_handle"}, {"probability", 0.002}, {"downtime_ms", 800}},
      {{"class", "crash"}, {"point", "after_commit_before_publish"}, {"probability", 0.002}, {"downtime_ms", 800}},
      {{"class", "crash"}, {"point", "after_publish_before_commit"}, {"probability", 0.002}, {"downtime_ms", 800}},
      {{"class", "join"}, {"target", service(1)}, {"probability", 0.02}, {"duration_ms", 3000}},
      {{"class", "leave"}, {"probability", 0.02}, {"duration_ms", 1500}},
      {{"class", "stall"}, {"probability", 0.03}, {"duration_ms", 700}},
      {{"class", "session_timeout"}, {"probability", 0.01},
       {"duration_ms", static_cast<double>(s.broker.session_timeout.us) / 1000 + 500}},
      {{"class", "partition_unavailable"}, {"topic", topics.back()}, {"partition", s.partitions - 1},
       {"probability", 0.03}, {"duration_ms", 1200}},
      {{"class", "latency_spike"}, {"probability", 0.03}, {"duration_ms", 800}, {"extra_ms", 150}},
      {{"class", "clock_skew"}, {"target", service(0)}, {"skew_ms", 750}, {"drift_ppm", 2000}},
      {{"class", "client_retry"}, {"probability", 0.03}, {"after_ms", 1000}},
      {{"class", "client_retry"}, {"probability", 0.01}, {"after_ms", 300}, {"same_id", true}},
  });
  if (acks_may_be_lost) {
    faults.push_back({{"class", "producer_retry"}, {"probability", 0.01}});
    faults.push_back({{"class", "leader_failover"}, {"topic", topic(1)}, {"probability", 0.03}, {"election_ms", 400}});
    faults.push_back({{"class", "network_partition"}, {"probability", 0.02}, {"duration_ms", 1500}});
  }
  return faults;
}

json SagaDefinition::explicit_workload(const Scenario& scenario, uint64_t) const {
  return scenario.spec.contains("workload") ? scenario.spec["workload"] : json();
}

void reduce_list(json& best, const json::json_pointer& pointer, const std::function<bool(const json&)>& fails) {
  if (!best.contains(pointer) || !best.at(pointer).is_array()) return;
  size_t chunk = std::max<size_t>(1, best.at(pointer).size() / 2);
  while (true) {
    bool removed = false;
    for (size_t start = 0; start < best.at(pointer).size();) {
      json candidate = best;
      json& items = candidate.at(pointer);
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
}

std::unique_ptr<Service> SagaRun::make_service(std::string_view name) {
  for (auto& s : make_services())
    if (s && s->name() == name) return std::move(s);
  return nullptr;
}

bool reduce_number(json& best, const json::json_pointer& pointer, const std::function<bool(const json&)>& fails,
                   double lo, double step) {
  if (!best.contains(pointer) || !best.at(pointer).is_number()) return false;
  const bool integer = best.at(pointer).is_number_integer();
  const double start = best.at(pointer).get<double>();
  if (!(start > lo)) return false;
  auto with = [&](double v) {
    json candidate = best;
    if (integer) {
      candidate.at(pointer) = static_cast<int64_t>(v);
    } else {
      candidate.at(pointer) = v;
    }
    return candidate;
  };
  // The smallest failing value in [lo, hi], hi known to fail; bisect in steps.
  double low = lo, high = start;
  if (json c = with(low); fails(c)) {
    best = std::move(c);
    return true;
  }
  while (high - low > step) {
    const double mid = low + std::floor((high - low) / 2 / step) * step;
    if (mid <= low) break;
    if (json c = with(mid); fails(c)) {
      high = mid;
      best = std::move(c);
    } else {
      low = mid;
    }
  }
  return high < start;
}

}  // namespace sagasim::sim
