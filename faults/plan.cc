#include "faults/plan.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/json_reader.h"
#include "sim/random.h"

namespace sagasim::faults {

using nlohmann::json;

namespace {

struct ClassInfo {
  FaultClass cls;
  std::string_view name;
};
constexpr ClassInfo kClasses[] = {
    {FaultClass::LostCommit, "lost_commit"},
    {FaultClass::ProducerRetry, "producer_retry"},
    {FaultClass::RelayRepublish, "relay_republish"},
    {FaultClass::DelaySkew, "delay_skew"},
    {FaultClass::PartitionReorder, "partition_reorder"},
    {FaultClass::Crash, "crash"},
    {FaultClass::Join, "join"},
    {FaultClass::Leave, "leave"},
    {FaultClass::Stall, "stall"},
    {FaultClass::SessionTimeout, "session_timeout"},
    {FaultClass::PartitionUnavailable, "partition_unavailable"},
    {FaultClass::LeaderFailover, "leader_failover"},
    {FaultClass::NetworkPartition, "network_partition"},
    {FaultClass::LatencySpike, "latency_spike"},
    {FaultClass::ClockSkew, "clock_skew"},
    {FaultClass::ClientRetry, "client_retry"},
};
// The classes swarm version 1 knew, in its draw order.
constexpr int kSwarmV1Classes = 15;

constexpr double kMaxMs = 86400000.0 * 365;

// "a, b or c"
std::string join_or(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return out;
}
std::string join_comma(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

Duration ms(JsonObject& o, const char* key, double def, double lo = 0) {
  return Duration{std::llround(o.number(key, lo, kMaxMs, def) * 1000)};
}

// What a target may name, per class.
enum class TargetKind { None, Service, ServiceOrInstance, Instance, Producer };

TargetKind target_kind(FaultClass c) {
  switch (c) {
    case FaultClass::LostCommit:
    case FaultClass::RelayRepublish:
    case FaultClass::Crash:
    case FaultClass::Stall:
    case FaultClass::SessionTimeout:
    case FaultClass::NetworkPartition:
    case FaultClass::Leave: return TargetKind::ServiceOrInstance;
    case FaultClass::ProducerRetry:
    case FaultClass::PartitionReorder: return TargetKind::Producer;
    case FaultClass::Join:
    case FaultClass::ClockSkew: return TargetKind::Service;
    default: return TargetKind::None;
  }
}

void check_target(JsonObject& o, const sim::Scenario& s, FaultSpec& f) {
  const TargetKind kind = target_kind(f.cls);
  if (kind == TargetKind::None) return;
  const bool required = kind == TargetKind::Service;
  const std::vector<std::string> services = s.services();
  f.target = required ? o.string("target") : o.string("target", "");
  if (f.target.empty()) {
    if (required) o.fail(o.at("target"), "must name a service: " + join_or(services));
    return;
  }
  for (const std::string& svc : services)
    if (f.target == svc) return;
  if (kind == TargetKind::Producer && f.target == "client") {
    if (f.cls == FaultClass::PartitionReorder)
      o.fail(o.at("target"), "the client's producer is idempotent, so its requests cannot be reordered");
    return;
  }
  if (kind == TargetKind::Service)
    o.fail(o.at("target"), fmt::format("unknown service '{}' (want {})", f.target, join_or(services)));
  // An instance: <service>-<n>, n within the topology.
  for (const std::string& svc : services) {
    const std::string prefix = svc + "-";
    if (f.target.rfind(prefix, 0) != 0) continue;
    const std::string n = f.target.substr(prefix.size());
    if (!n.empty() && n.find_first_not_of("0123456789") == std::string::npos && n.size() < 4 && n[0] != '0') {
      const int i = std::stoi(n);
      if (i >= 1 && i <= s.instances_of(svc)) return;
      o.fail(o.at("target"), fmt::format("no instance '{}': the topology starts {} {} instance(s)", f.target,
                                         s.instances_of(svc), svc));
    }
  }
  o.fail(o.at("target"), fmt::format("unknown target '{}' (want a service, an instance such as {}-1{})", f.target,
                                     services[std::min<size_t>(1, services.size() - 1)],
                                     kind == TargetKind::Producer ? ", or client" : ""));
}

void check_topic(JsonObject& o, const sim::Scenario& s, FaultSpec& f, bool allowed) {
  if (!allowed) return;
  f.topic = o.string("topic", "");
  if (!f.topic.empty() && std::find(s.topics.begin(), s.topics.end(), f.topic) == s.topics.end())
    o.fail(o.at("topic"), fmt::format("no topic '{}' (topics: {})", f.topic, join_comma(s.topics)));
  f.partition = static_cast<int32_t>(o.integer("partition", -1, s.partitions - 1, -1));
  if (f.partition >= 0 && f.topic.empty()) o.fail(o.at("partition"), "a partition needs a topic");
}

FaultSpec parse_one(const json& j, const std::string& path, const sim::Scenario& s) {
  JsonObject o(j, path, s.source);
  FaultSpec f;
  f.path = path;
  const std::string name = o.string("class");
  const auto cls = fault_class_from(name);
  if (!cls) {
    std::string known;
    for (const auto& c : kClasses) known += (known.empty() ? "" : ", ") + std::string(c.name);
    o.fail(o.at("class"), fmt::format("unknown fault class '{}' (known: {})", name, known));
  }
  f.cls = *cls;
  check_target(o, s, f);
  const bool topical = f.cls == FaultClass::DelaySkew || f.cls == FaultClass::PartitionUnavailable ||
                       f.cls == FaultClass::LeaderFailover || f.cls == FaultClass::LatencySpike;
  check_topic(o, s, f, topical);
  if (f.cls == FaultClass::ClientRetry) {  // which commands: those sent to one topic, or all
    f.topic = o.string("topic", "");
    if (!f.topic.empty() && std::find(s.topics.begin(), s.topics.end(), f.topic) == s.topics.end())
      o.fail(o.at("topic"), fmt::format("no topic '{}' (topics: {})", f.topic, join_comma(s.topics)));
  }

  // When: scheduled (at_ms) or by probability.
  if (o.find("at_ms")) f.at = ms(o, "at_ms", 0);
  const json* p = o.find("probability");
  if (p) f.probability = o.number("probability", 0, 1);
  const bool episode = f.cls != FaultClass::LostCommit && f.cls != FaultClass::ProducerRetry &&
                       f.cls != FaultClass::RelayRepublish && f.cls != FaultClass::PartitionReorder &&
                       f.cls != FaultClass::Crash && f.cls != FaultClass::ClockSkew &&
                       f.cls != FaultClass::ClientRetry;
  if (f.cls == FaultClass::ClockSkew) {
    if (p) o.fail(o.at("probability"), "clock_skew is a setting, not an event: give at_ms (default 0) instead");
    if (!f.at) f.at = Duration{0};
  } else if (f.at && p) {
    o.fail(o.at("probability"), "give either at_ms (scheduled) or probability, not both");
  } else if (!f.at && !p) {
    o.fail(path.empty() ? "/" : path, "needs at_ms (when it happens) or probability (how often)");
  }
  if (!f.at) {
    f.from = ms(o, "from_ms", 0);
    if (o.find("until_ms")) f.until = ms(o, "until_ms", 0);
    if (f.until && *f.until < f.from) o.fail(o.at("until_ms"), "is before from_ms");
    if (episode) f.every = ms(o, "every_ms", 1000, 1);
  }

  // How long, and class specifics.
  switch (f.cls) {
    case FaultClass::Crash: {
      const std::string point = o.string("point", "after_commit_before_publish");
      if (point == "before_handle") f.point = sim::CrashPoint::BeforeHandle;
      else if (point == "after_commit_before_publish") f.point = sim::CrashPoint::AfterCommitBeforePublish;
      else if (point == "after_publish_before_commit") f.point = sim::CrashPoint::AfterPublishBeforeCommit;
      else
        o.fail(o.at("point"), fmt::format("unknown crash point '{}' (want before_handle, after_commit_before_publish "
                                          "or after_publish_before_commit)", point));
      f.duration = ms(o, "downtime_ms", 1000);
      break;
    }
    case FaultClass::LostCommit:
    case FaultClass::ProducerRetry:
    case FaultClass::RelayRepublish:
    case FaultClass::PartitionReorder:
      // Scheduled: every opportunity inside [at, at + duration) is hit.
      if (f.at) f.duration = ms(o, "duration_ms", 1000, 0.001);
      break;
    case FaultClass::DelaySkew:
    case FaultClass::LatencySpike:
      f.duration = ms(o, "duration_ms", 1000, 0.001);
      f.extra = ms(o, "extra_ms", f.cls == FaultClass::DelaySkew ? 200 : 50, 0.001);
      break;
    case FaultClass::LeaderFailover:
      f.duration = ms(o, "election_ms", 300, 0.001);
      break;
    case FaultClass::Join:
    case FaultClass::Leave:
      f.duration = ms(o, "duration_ms", 0);  // 0: for good (join) / until the end (leave never returns)
      break;
    case FaultClass::SessionTimeout:
      f.duration = ms(o, "duration_ms", static_cast<double>(s.broker.session_timeout.us) / 1000 + 1000, 0.001);
      if (f.duration <= s.broker.session_timeout)
        o.fail(o.at("duration_ms"),
               fmt::format("{} ms does not outlast broker.session_timeout_ms ({} ms): that is a stall, not a session "
                           "timeout", f.duration.ms(), s.broker.session_timeout.ms()));
      break;
    case FaultClass::ClientRetry:
      // Scheduled: every command sent inside [at, at + duration) is sent again.
      if (f.at) f.duration = ms(o, "duration_ms", 1000, 0.001);
      f.extra = ms(o, "after_ms", 1000, 0.001);  // the client's request timeout
      f.same_id = o.boolean("same_id", false);
      break;
    case FaultClass::ClockSkew:
      f.skew = Duration{std::llround(o.number("skew_ms", -kMaxMs, kMaxMs, 0) * 1000)};
      f.drift_ppm = o.integer("drift_ppm", -100000, 100000, 0);
      break;
    default:
      f.duration = ms(o, "duration_ms", 1000, 0.001);
  }
  o.finish();
  return f;
}

}  // namespace

std::string_view to_string(FaultClass c) {
  for (const auto& i : kClasses)
    if (i.cls == c) return i.name;
  return "?";
}

std::optional<FaultClass> fault_class_from(std::string_view name) {
  for (const auto& i : kClasses)
    if (i.name == name) return i.cls;
  return std::nullopt;
}

std::vector<FaultClass> all_fault_classes() {
  std::vector<FaultClass> out;
  for (const auto& i : kClasses) out.push_back(i.cls);
  return out;
}

FaultPlan parse_plan(const sim::Scenario& scenario) {
  FaultPlan plan;
  const json& faults = scenario.faults;
  for (size_t i = 0; i < faults.size(); ++i) plan.faults.push_back(parse_one(faults[i], fmt::format("/faults/{}", i), scenario));
  return plan;
}

FaultPlan default_chaos_plan(const sim::Scenario& s) {
  // Moderate rates of every class, chosen by the saga (sim/saga.h). Written
  // as JSON and parsed like a user's plan, so it obeys the same rules.
  const json faults = s.saga->chaos_faults(s);
  sim::Scenario copy = s;
  copy.faults = faults;
  copy.source = s.source + " (swarm default plan)";
  return parse_plan(copy);
}

FaultPlan swarm(const FaultPlan& base, uint64_t seed, int version) {
  if (version < 1 || version > kSwarmVersion)
    throw InputError("swarm version", "", fmt::format("{} is not a swarm version this sagasim knows (1 to {})", version,
                                                      kSwarmVersion));
  sim::Prng rng(sim::derive_seed(seed, "swarm"));
  // Decide per class, in a fixed class order, so a plan's entry order does
  // not change which classes a seed picks. The classes of version 1 draw
  // from the stream they always drew from; later ones from their own, so a
  // seed keeps every choice it made before.
  bool enabled[kFaultClassCount] = {};
  double scale[kFaultClassCount] = {};
  for (int c = 0; c < kSwarmV1Classes; ++c) {
    enabled[c] = rng.chance(0.5);
    scale[c] = 0.25 + 1.75 * rng.unit();
  }
  sim::Prng later(sim::derive_seed(seed, "swarm-v2"));
  const int classes = version >= 2 ? kFaultClassCount : kSwarmV1Classes;
  for (int c = kSwarmV1Classes; c < classes; ++c) {
    enabled[c] = later.chance(0.5);
    scale[c] = 0.25 + 1.75 * later.unit();
  }
  bool present[kFaultClassCount] = {};
  for (const auto& f : base.faults) present[static_cast<int>(f.cls)] = true;
  bool any = false;
  for (int c = 0; c < kSwarmV1Classes; ++c) any = any || (enabled[c] && present[c]);
  if (!any && !base.faults.empty()) {
    // Version 1 forced one of its own classes on; a plan of later classes only
    // keeps its first.
    std::vector<size_t> v1;
    for (size_t i = 0; i < base.faults.size(); ++i)
      if (static_cast<int>(base.faults[i].cls) < kSwarmV1Classes) v1.push_back(i);
    if (!v1.empty()) enabled[static_cast<int>(base.faults[v1[rng.below(v1.size())]].cls)] = true;
    else enabled[static_cast<int>(base.faults[0].cls)] = true;
  }

  FaultPlan out;
  for (const FaultSpec& f : base.faults) {
    const int c = static_cast<int>(f.cls);
    if (c >= classes || !enabled[c]) continue;
    sim::Prng& r = c < kSwarmV1Classes ? rng : later;
    FaultSpec g = f;
    if (!g.scheduled()) g.probability = std::min(0.5, g.probability * scale[c]);
    if (g.cls != FaultClass::SessionTimeout && g.cls != FaultClass::ClockSkew && g.duration.us > 0)
      g.duration = Duration{static_cast<int64_t>(static_cast<double>(g.duration.us) * (0.5 + r.unit()))};
    out.faults.push_back(std::move(g));
  }
  if (version >= 2) out.idempotent_producer = later.chance(0.5);
  return out;
}

}  // namespace sagasim::faults
