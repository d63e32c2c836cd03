#include "sim/scheduler.h"

#include <algorithm>

namespace sagasim::sim {

void Scheduler::at(Time at, Actor* actor, uint32_t kind, uint32_t x, uint64_t y) {
  SAGASIM_ASSERT(actor != nullptr, "a task needs an actor to fire");
  if (at < now_) at = now_;
  const Task t{at, next_seq_++, actor, y, kind, x};
  size_t i = heap_.size();
  heap_.push_back(t);
  while (i > 0) {  // sift the hole up
    const size_t parent = (i - 1) / 4;
    if (!earlier(t, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = t;
}

void Scheduler::step() {
  SAGASIM_ASSERT(!heap_.empty(), "step() needs a pending task");
  const Task t = heap_.front();
  const Task last = heap_.back();
  heap_.pop_back();
  if (const size_t n = heap_.size(); n > 0) {  // sift the last task down from the root
    size_t i = 0;
    for (;;) {
      const size_t first = 4 * i + 1;
      if (first >= n) break;
      size_t best = first;
      const size_t end = std::min(first + 4, n);
      for (size_t c = first + 1; c < end; ++c)
        if (earlier(heap_[c], heap_[best])) best = c;
      if (!earlier(heap_[best], last)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = last;
  }
  now_ = t.at;
  ++fired_;
  t.actor->fire(t.kind, t.x, t.y);
}

void Scheduler::run_until(Time until) {
  while (!heap_.empty() && heap_.front().at <= until) step();
}

}  // namespace sagasim::sim
