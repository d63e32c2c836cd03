#include "faults/injector.h"

#include <algorithm>

#include <fmt/format.h>


namespace sagasim::faults {

Injector::Injector(sim::Simulation& sim, FaultPlan plan, uint64_t seed)
    : sim_(sim), plan_(std::move(plan)), rng_(sim::derive_seed(seed, "faults")), seed_(sim::derive_seed(seed, "fault-dice")) {
  // Probabilistic faults stop when the workload stops arriving, unless told
  // otherwise: after that the system must heal and go quiet.
  until_default_ = sim_.epoch() + sim_.workload_end();
  armed_.assign(plan_.faults.size(), false);
  for (size_t i = 0; i < plan_.faults.size(); ++i)
    if (const FaultSpec& f = plan_.faults[i]; f.cls == FaultClass::Crash)
      crashes_at_[static_cast<size_t>(f.point)].push_back(static_cast<uint32_t>(i));
}

Time Injector::now() const { return sim_.scheduler().now(); }
Time Injector::abs(Duration since_start) const { return sim_.epoch() + since_start; }

void Injector::install() {
  sim_.set_hooks(this);
  for (size_t i = 0; i < plan_.faults.size(); ++i) {
    const FaultSpec& f = plan_.faults[i];
    const bool per_opportunity = f.cls == FaultClass::LostCommit || f.cls == FaultClass::ProducerRetry ||
                                 f.cls == FaultClass::RelayRepublish || f.cls == FaultClass::PartitionReorder ||
                                 f.cls == FaultClass::ClientRetry || (f.cls == FaultClass::Crash && !f.scheduled());
    if (per_opportunity) continue;  // decided in the hooks, one opportunity at a time
    if (f.scheduled()) {
      sim_.scheduler().at(abs(*f.at), this, kStart, static_cast<uint32_t>(i));
    } else {
      const Time first = abs(f.from) + f.every;
      if (first <= (f.until ? abs(*f.until) : until_default_))
        sim_.scheduler().at(first, this, kRoll, static_cast<uint32_t>(i));
    }
  }
}

bool Injector::matches(const FaultSpec& f, std::string_view actor) const {
  if (f.target.empty()) return actor != "client";
  if (actor == f.target) return true;
  return actor.size() > f.target.size() && actor.substr(0, f.target.size()) == f.target &&
         actor[f.target.size()] == '-';
}

uint32_t& Injector::occurrences(size_t index, uint64_t subject) {
  if ((occurrences_used_ + 1) * 2 > occurrences_.size()) {  // at most half full
    std::vector<Occurrence> old = std::move(occurrences_);
    occurrences_.assign(std::max<size_t>(256, old.size() * 2), Occurrence{});
    occurrences_used_ = 0;
    for (const Occurrence& o : old)
      if (o.entry != 0) occurrences(static_cast<size_t>(o.entry - 1), o.subject) = o.count;
  }
  const uint64_t entry = static_cast<uint64_t>(index) + 1;
  const size_t mask = occurrences_.size() - 1;
  size_t i = static_cast<size_t>(((subject ^ (entry * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL) >> 20) & mask;
  for (;; i = (i + 1) & mask) {
    Occurrence& o = occurrences_[i];
    if (o.entry == entry && o.subject == subject) return o.count;
    if (o.entry == 0) {
      o.entry = entry;
      o.subject = subject;
      ++occurrences_used_;
      return o.count;
    }
  }
}

bool Injector::hits(size_t index, const FaultSpec& f, uint64_t subject) {
  const Time t = now();
  if (f.scheduled()) return t >= abs(*f.at) && t < abs(*f.at + f.duration);
  if (t < abs(f.from) || t >= (f.until ? abs(*f.until) : until_default_)) return false;
  uint32_t& n = occurrences(index, subject);
  uint64_t state = seed_ ^ subject ^ (static_cast<uint64_t>(index) << 48) ^ (static_cast<uint64_t>(n++) << 32);
  sim::Prng dice(sim::splitmix64(state));
  return dice.chance(f.probability);
}

sim::ProduceFate Injector::on_produce(std::string_view producer, std::string_view topic, int32_t partition,
                                      uint64_t subject) {
  for (size_t i = 0; i < plan_.faults.size(); ++i) {
    const FaultSpec& f = plan_.faults[i];
    if (f.cls == FaultClass::ProducerRetry && matches(f, producer) && hits(i, f, subject)) {
      sim_.note_fault("producer_retry", producer, fmt::format("ack lost for {}-{}: retry after timeout", topic, partition));
      return sim::ProduceFate::LoseAck;
    }
    // Only a non-idempotent producer with several requests in flight can be
    // reordered by a retry; for the others the fault cannot happen.
    if (f.cls == FaultClass::PartitionReorder && producer != "client" && !sim_.idempotent_producer() &&
        sim_.scenario().max_in_flight > 1 && matches(f, producer) && hits(i, f, subject)) {
      sim_.note_fault("partition_reorder", producer,
                      fmt::format("retriable error on {}-{}: later requests may overtake", topic, partition));
      return sim::ProduceFate::RetriableError;
    }
  }
  return sim::ProduceFate::Ok;
}

Duration Injector::extra_produce_latency(std::string_view, std::string_view topic, int32_t partition) {
  Duration extra{0};
  const Time t = now();
  for (const Window& w : windows_)
    if (w.cls == FaultClass::LatencySpike && t >= w.start && t < w.end && (w.topic.empty() || w.topic == topic) &&
        (w.partition < 0 || w.partition == partition))
      extra = extra + w.extra;
  return extra;
}

Duration Injector::extra_delivery_latency(std::string_view topic, int32_t partition) {
  Duration extra{0};
  const Time t = now();
  for (const Window& w : windows_)
    if (t >= w.start && t < w.end && (w.topic.empty() || w.topic == topic) && (w.partition < 0 || w.partition == partition))
      extra = extra + w.extra;
  // Old windows are dropped lazily, keeping the list short.
  if (!windows_.empty() && windows_.front().end <= t)
    std::erase_if(windows_, [&](const Window& w) { return w.end <= t; });
  return extra;
}

bool Injector::lose_commit(std::string_view member, std::string_view topic, int32_t partition, uint64_t subject) {
  for (size_t i = 0; i < plan_.faults.size(); ++i)
    if (const FaultSpec& f = plan_.faults[i]; f.cls == FaultClass::LostCommit && matches(f, member) && hits(i, f, subject)) {
      sim_.note_fault("lost_commit", member, fmt::format("offset commit for {}-{} lost", topic, partition));
      return true;
    }
  return false;
}

bool Injector::lose_mark_published(std::string_view instance, uint64_t subject) {
  for (size_t i = 0; i < plan_.faults.size(); ++i)
    if (const FaultSpec& f = plan_.faults[i]; f.cls == FaultClass::RelayRepublish && matches(f, instance) && hits(i, f, subject)) {
      sim_.note_fault("relay_republish", instance, "published, but the relay died before marking the row");
      return true;
    }
  return false;
}

std::optional<sim::ClientResend> Injector::client_resend(std::string_view topic, uint64_t subject) {
  for (size_t i = 0; i < plan_.faults.size(); ++i)
    if (const FaultSpec& f = plan_.faults[i];
        f.cls == FaultClass::ClientRetry && (f.topic.empty() || f.topic == topic) && hits(i, f, subject))
      return sim::ClientResend{f.extra, f.same_id};
  return std::nullopt;
}

bool Injector::crash_at(std::string_view instance, sim::CrashPoint point, uint64_t subject) {
  for (const uint32_t i : crashes_at_[static_cast<size_t>(point)]) {
    const FaultSpec& f = plan_.faults[i];
    if (!matches(f, instance)) continue;
    if (f.scheduled() ? !armed_[i] : !hits(i, f, subject)) continue;
    armed_[i] = false;
    sim::Instance& inst = sim_.instance(instance);
    sim_.note_fault("crash", instance, fmt::format("{}; restart in {} ms", to_string(point), f.duration.ms()));
    parked_.push_back(&inst);
    sim_.scheduler().after(f.duration, this, kRestart, static_cast<uint32_t>(parked_.size() - 1));
    return true;
  }
  return false;
}

void Injector::fire(uint32_t kind, uint32_t x, uint64_t) {
  switch (kind) {
    case kStart: start_episode(x); break;
    case kRoll: {
      const FaultSpec& f = plan_.faults[x];
      if (rng_.chance(f.probability)) start_episode(x);
      const Time next = now() + f.every;
      if (next <= (f.until ? abs(*f.until) : until_default_)) sim_.scheduler().at(next, this, kRoll, x);
      break;
    }
    case kRestart: parked_[x]->restart(); break;
    case kEndJoin: parked_[x]->leave(); break;
    case kEndLeave: parked_[x]->restart(); break;
  }
}

sim::Instance* Injector::pick_instance(const FaultSpec& f) {
  std::vector<sim::Instance*> candidates;
  for (const std::string& svc : sim_.scenario().services())
    for (sim::Instance* i : sim_.instances_of(svc))
      if (i->available() && matches(f, i->id())) candidates.push_back(i);
  if (candidates.empty()) return nullptr;
  return candidates[rng_.below(candidates.size())];
}

std::string Injector::pick_topic(const FaultSpec& f) {
  if (!f.topic.empty()) return f.topic;
  const std::vector<std::string>& topics = sim_.scenario().topics;
  return topics[rng_.below(topics.size())];
}

int32_t Injector::pick_partition(const FaultSpec& f) {
  if (f.partition >= 0) return f.partition;
  return static_cast<int32_t>(rng_.below(static_cast<uint64_t>(sim_.scenario().partitions)));
}

void Injector::start_episode(size_t i) {
  const FaultSpec& f = plan_.faults[i];
  const Time t = now();
  const std::string_view name = to_string(f.cls);
  switch (f.cls) {
    case FaultClass::Crash:
      armed_[i] = true;  // the next handling on a matching instance dies at the named point
      break;
    case FaultClass::DelaySkew: {
      const std::string topic = pick_topic(f);
      const int32_t partition = pick_partition(f);
      windows_.push_back(Window{t, t + f.duration, f.cls, topic, partition, f.extra});
      sim_.note_fault(name, "broker", fmt::format("{}-{} lags by {} ms for {} ms", topic, partition, f.extra.ms(), f.duration.ms()));
      break;
    }
    case FaultClass::LatencySpike:
      windows_.push_back(Window{t, t + f.duration, f.cls, f.topic, f.partition, f.extra});
      sim_.note_fault(name, "broker", fmt::format("+{} ms on {} for {} ms", f.extra.ms(), f.topic.empty() ? "every topic" : f.topic, f.duration.ms()));
      break;
    case FaultClass::Stall:
    case FaultClass::SessionTimeout:
    case FaultClass::NetworkPartition: {
      sim::Instance* inst = pick_instance(f);
      if (!inst) return;  // nobody to hit right now: not fired
      if (f.cls == FaultClass::NetworkPartition) inst->isolate(t + f.duration);
      else inst->stall(t + f.duration);
      sim_.note_fault(name, inst->id(), fmt::format("for {} ms", f.duration.ms()));
      break;
    }
    case FaultClass::PartitionUnavailable: {
      const std::string topic = pick_topic(f);
      const int32_t partition = pick_partition(f);
      sim_.broker().set_partition_down(sim_.broker().topic_id(topic), PartitionId{partition}, t + f.duration);
      sim_.note_fault(name, "broker", fmt::format("{}-{} has no leader for {} ms", topic, partition, f.duration.ms()));
      break;
    }
    case FaultClass::LeaderFailover: {
      const std::string topic = pick_topic(f);
      const int32_t partition = pick_partition(f);
      sim_.broker().failover(sim_.broker().topic_id(topic), PartitionId{partition}, f.duration);
      sim_.note_fault(name, "broker", fmt::format("{}-{} elects a new leader ({} ms)", topic, partition, f.duration.ms()));
      break;
    }
    case FaultClass::Join: {
      sim::Instance& inst = sim_.add_instance(f.target);
      sim_.note_fault(name, inst.id(), f.duration.us > 0 ? fmt::format("leaves again in {} ms", f.duration.ms()) : "");
      if (f.duration.us > 0) {
        parked_.push_back(&inst);
        sim_.scheduler().after(f.duration, this, kEndJoin, static_cast<uint32_t>(parked_.size() - 1));
      }
      break;
    }
    case FaultClass::Leave: {
      sim::Instance* inst = pick_instance(f);
      if (!inst) return;
      inst->leave();
      sim_.note_fault(name, inst->id(), f.duration.us > 0 ? fmt::format("back in {} ms", f.duration.ms()) : "for good");
      if (f.duration.us > 0) {
        parked_.push_back(inst);
        sim_.scheduler().after(f.duration, this, kEndLeave, static_cast<uint32_t>(parked_.size() - 1));
      }
      break;
    }
    case FaultClass::ClockSkew:
      sim_.set_clock(f.target, f.skew, f.drift_ppm);
      sim_.note_fault(name, f.target, fmt::format("clock {:+} ms, drift {:+} ppm", f.skew.ms(), f.drift_ppm));
      break;
    case FaultClass::LostCommit:
    case FaultClass::ProducerRetry:
    case FaultClass::RelayRepublish:
    case FaultClass::PartitionReorder:
    case FaultClass::ClientRetry:
      break;  // per opportunity, in the hooks
  }
}

}  // namespace sagasim::faults
