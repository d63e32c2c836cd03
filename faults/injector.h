// Turns a fault plan into events in one simulated world. Installed as the
// world's FaultHooks and as an actor on its scheduler; every random choice
// (whether a probabilistic fault fires, which instance or partition it hits)
// comes from its own PRNG seeded from the run's root seed, in the order the
// simulation asks, so a run with faults is as reproducible as one without.
// Every fault that takes effect is counted and traced (Simulation::note_fault).
#pragma once

#include <map>
#include <vector>

#include "faults/plan.h"
#include "sim/simulation.h"

namespace sagasim::faults {

class Injector final : public sim::FaultHooks, public sim::Actor {
 public:
  Injector(sim::Simulation& sim, FaultPlan plan, uint64_t seed);

  // Installs the hooks and schedules the plan. Call before Simulation::start.
  void install();

  sim::ProduceFate on_produce(std::string_view producer, std::string_view topic, int32_t partition,
                              uint64_t subject) override;
  Duration extra_produce_latency(std::string_view producer, std::string_view topic, int32_t partition) override;
  Duration extra_delivery_latency(std::string_view topic, int32_t partition) override;
  bool lose_commit(std::string_view member, std::string_view topic, int32_t partition, uint64_t subject) override;
  bool crash_at(std::string_view instance, sim::CrashPoint point, uint64_t subject) override;
  bool lose_mark_published(std::string_view instance, uint64_t subject) override;
  std::optional<sim::ClientResend> client_resend(std::string_view topic, uint64_t subject) override;

  void fire(uint32_t kind, uint32_t x, uint64_t y) override;

 private:
  enum Kind : uint32_t { kStart, kRoll, kRestart, kEndJoin, kEndLeave };
  struct Window {
    Time start, end;
    FaultClass cls;
    std::string topic;   // "" = every topic
    int32_t partition;   // -1 = every partition
    Duration extra;
  };

  Time now() const;
  Time abs(Duration since_start) const;
  bool matches(const FaultSpec& f, std::string_view actor) const;
  // For per-opportunity faults: is this opportunity hit? Probabilistic
  // decisions are drawn per (fault entry, subject, occurrence), not from one
  // stream, so they survive the removal of unrelated orders (shrinking).
  bool hits(size_t index, const FaultSpec& f, uint64_t subject);
  void start_episode(size_t i);
  sim::Instance* pick_instance(const FaultSpec& f);
  std::string pick_topic(const FaultSpec& f);
  int32_t pick_partition(const FaultSpec& f);

  sim::Simulation& sim_;
  FaultPlan plan_;
  sim::Prng rng_;
  uint64_t seed_;
  // Occurrences so far per (fault entry, subject), in an open-addressing
  // table: one is looked up (and most often added) at every opportunity of
  // every probabilistic fault, where a node-based map allocated per subject.
  // Only looked up, never iterated, so its layout cannot leak into the run.
  struct Occurrence {
    uint64_t entry = 0;  // the fault entry's index + 1; 0: an empty slot
    uint64_t subject = 0;
    uint32_t count = 0;
  };
  uint32_t& occurrences(size_t index, uint64_t subject);
  std::vector<Occurrence> occurrences_;
  size_t occurrences_used_ = 0;
  Time until_default_;
  std::vector<bool> armed_;             // scheduled crashes waiting for their moment
  // Per crash point, the plan's crash entries at that point in plan order:
  // crash_at runs three times per handled record and need not walk the rest.
  std::vector<uint32_t> crashes_at_[3];
  std::vector<Window> windows_;         // latency episodes
  std::vector<sim::Instance*> parked_;  // instances waiting to restart, rejoin or leave
};

}  // namespace sagasim::faults
