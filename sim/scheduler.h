// The discrete-event scheduler, and with it the virtual clock: time moves
// only when the scheduler pops the next task. Ties break by insertion order
// (a sequence number), so a run is a pure function of its inputs.
//
// Tasks are small PODs aimed at an Actor, not std::function: no allocation
// per event on the hot path. An actor decodes (kind, x, y) itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/assert.h"
#include "core/types.h"

namespace sagasim::sim {

class Actor {
 public:
  virtual ~Actor() = default;
  virtual void fire(uint32_t kind, uint32_t x, uint64_t y) = 0;
};

class Scheduler {
 public:
  explicit Scheduler(Time start) : now_(start) {}

  Time now() const { return now_; }
  // `at` earlier than now is clamped to now: the past cannot be scheduled.
  // That is part of the contract, not a caller's mistake: a service timer
  // found already due (a restart, a clock skew) and the timeout of a request
  // that reached the broker after its deadline are both scheduled so.
  // `actor` must not be null (asserted).
  void at(Time at, Actor* actor, uint32_t kind, uint32_t x = 0, uint64_t y = 0);
  void after(Duration d, Actor* actor, uint32_t kind, uint32_t x = 0, uint64_t y = 0) {
    at(now_ + d, actor, kind, x, y);
  }

  bool empty() const { return heap_.empty(); }
  size_t pending() const { return heap_.size(); }
  // Precondition (asserted): a task is pending.
  Time next_time() const {
    SAGASIM_ASSERT(!heap_.empty(), "next_time() needs a pending task");
    return heap_.front().at;
  }
  uint64_t fired() const { return fired_; }

  // Pops the earliest task, advances the clock to it and fires it.
  // Precondition (asserted): a task is pending.
  void step();
  // Steps until no task is left or the next one is later than `until`.
  void run_until(Time until);

 private:
  struct Task {
    Time at;
    uint64_t seq;
    Actor* actor;
    uint64_t y;
    uint32_t kind;
    uint32_t x;
  };
  // The order tasks fire in: by time, then by insertion. Every task has its
  // own sequence number, so this is a total order and any correct priority
  // queue pops exactly the same sequence.
  static bool earlier(const Task& a, const Task& b) {
    return a.at.us < b.at.us || (a.at.us == b.at.us && a.seq < b.seq);
  }

  Time now_;
  uint64_t next_seq_ = 0;
  uint64_t fired_ = 0;
  // A 4-ary min-heap (children of i at 4i+1..4i+4): half the levels of a
  // binary heap, so a pop moves half as many 40-byte tasks, and the four
  // children of a node share a cache line or two.
  std::vector<Task> heap_;
};

}  // namespace sagasim::sim
