// Fault plans: what can go wrong in a run, when, and to whom.
//
// A plan is the "faults" array of a scenario. Each entry names a fault class
// and says either WHEN it happens (at_ms, for duration_ms) or HOW OFTEN (a
// probability per opportunity, optionally inside from_ms..until_ms). The
// classes, what each models and which Kafka setting or event produces it, are
// in docs/fault-model.md. parse_plan validates every entry against the
// scenario's topology and throws InputError naming the file and JSON path.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/hooks.h"
#include "sim/scenario.h"

namespace sagasim::faults {

enum class FaultClass {
  LostCommit,            // duplicate delivery: an offset commit that never lands
  ProducerRetry,         // duplicate delivery: ambiguous produce timeout, retried
  RelayRepublish,        // duplicate delivery: the outbox relay publishes a row twice
  DelaySkew,             // reordering across partitions/topics: one partition lags
  PartitionReorder,      // reordering inside a partition: retried request overtaken
  Crash,                 // crash and restart of an instance at a named point
  Join,                  // a new instance joins a group
  Leave,                 // an instance leaves a group (and comes back)
  Stall,                 // a consumer stops for a while (GC-like pause)
  SessionTimeout,        // a stall longer than the session timeout: evicted, rejoins
  PartitionUnavailable,  // a partition has no leader for a while
  LeaderFailover,        // a leader election: brief outage, in-flight acks lost
  NetworkPartition,      // one instance cut off from the broker
  LatencySpike,          // everything slows down for a while
  ClockSkew,             // a service's clock is off and drifts
  ClientRetry,           // the client times out and sends a command again
};
inline constexpr int kFaultClassCount = 16;

std::string_view to_string(FaultClass c);
std::optional<FaultClass> fault_class_from(std::string_view name);
// Every class, in documentation order.
std::vector<FaultClass> all_fault_classes();

struct FaultSpec {
  FaultClass cls;
  std::string path;    // JSON pointer of the entry, for messages
  std::string target;  // service ("payment"), instance ("payment-2"), "client", or "" (any)
  std::string topic;   // for partition and skew faults; "" = any
  int32_t partition = -1;  // -1 = any (chosen from the seed when one is needed)

  std::optional<Duration> at;  // scheduled: when it starts
  Duration duration;           // episode length, crash downtime, election time
  double probability = 0;      // when not scheduled: chance per opportunity
  Duration from;               // the probabilistic window
  std::optional<Duration> until;  // default: the last order's arrival
  Duration every = Duration::millis(1000);  // episodes: how often the dice are rolled

  sim::CrashPoint point = sim::CrashPoint::AfterCommitBeforePublish;
  Duration extra;        // delay_skew, latency_spike: added latency
  Duration skew;         // clock_skew
  int64_t drift_ppm = 0;  // clock_skew
  bool same_id = false;   // client_retry: the same event id (else a new one); `extra` is the client's timeout

  bool scheduled() const { return at.has_value(); }
};

struct FaultPlan {
  std::vector<FaultSpec> faults;
  // Set by swarm (version 2): the run's producers are idempotent or not,
  // whatever the scenario's topology says.
  std::optional<bool> idempotent_producer;
  bool empty() const { return faults.empty() && !idempotent_producer; }
};

FaultPlan parse_plan(const sim::Scenario& scenario);

// A plan with every class at moderate rates, fitted to the scenario's
// topology: what swarm mode starts from when a scenario has no faults.
FaultPlan default_chaos_plan(const sim::Scenario& scenario);

// Swarm testing: from the seed, keep a random subset of the plan's classes
// (at least one) and scale each kept class's intensity by a random factor.
//
// Version 2 (the default) also draws, from streams of its own: whether the
// client's commands are retried (client_retry, at the plan's rate or the
// default chaos rate) and whether the services' producers are idempotent.
// Version 1 is the swarm of sagasim before those: every draw it made is
// made the same in version 2, and a trace recorded with it names no version
// (its header says only "swarm": true), so `replay` re-runs it with version 1.
inline constexpr int kSwarmVersion = 2;
FaultPlan swarm(const FaultPlan& base, uint64_t seed, int version = kSwarmVersion);

}  // namespace sagasim::faults
