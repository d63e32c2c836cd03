#include "sim/scheduler.h"

#include <algorithm>

namespace sagasim::sim {

void Scheduler::at(Time at, Actor* actor, uint32_t kind, uint32_t x, uint64_t y) {
  SAGASIM_ASSERT(actor != nullptr, "a task needs an actor to fire");
  if (at < now_) at = now_;
  heap_.push_back(Task{at, next_seq_++, actor, y, kind, x});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
}

void Scheduler::step() {
  SAGASIM_ASSERT(!heap_.empty(), "step() needs a pending task");
  std::pop_heap(heap_.begin(), heap_.end(), Later{});
  const Task t = heap_.back();
  heap_.pop_back();
  now_ = t.at;
  ++fired_;
  t.actor->fire(t.kind, t.x, t.y);
}

void Scheduler::run_until(Time until) {
  while (!heap_.empty() && heap_.front().at <= until) step();
}

}  // namespace sagasim::sim
