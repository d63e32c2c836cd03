#include "sim/scheduler.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

namespace sagasim::sim {
namespace {

struct Recorder : Actor {
  Scheduler* s = nullptr;
  std::vector<std::pair<int64_t, uint32_t>> fired;
  void fire(uint32_t kind, uint32_t, uint64_t) override { fired.push_back({s->now().us, kind}); }
};

TEST(Scheduler, FiresInTimeOrderAndAdvancesTheClockOnlyThen) {
  Scheduler s(Time{1000});
  Recorder r;
  r.s = &s;
  s.at(Time{3000}, &r, 3);
  s.at(Time{2000}, &r, 2);
  s.at(Time{5000}, &r, 5);
  EXPECT_EQ(s.now(), Time{1000});  // scheduling does not move time
  s.run_until(Time{3000});
  EXPECT_EQ(r.fired, (std::vector<std::pair<int64_t, uint32_t>>{{2000, 2}, {3000, 3}}));
  EXPECT_EQ(s.now(), Time{3000});
  EXPECT_EQ(s.pending(), 1u);
  s.step();
  EXPECT_EQ(s.now(), Time{5000});
  EXPECT_TRUE(s.empty());
}

TEST(Scheduler, TiesBreakByInsertionOrder) {
  Scheduler s(Time{0});
  Recorder r;
  r.s = &s;
  for (uint32_t k = 0; k < 100; ++k) s.at(Time{7}, &r, k);
  s.run_until(Time::max());
  ASSERT_EQ(r.fired.size(), 100u);
  for (uint32_t k = 0; k < 100; ++k) EXPECT_EQ(r.fired[k].second, k);
}

// The heap against a plain reference: tasks at a few distinct times (many
// ties), scheduled in between pops, including by the tasks themselves, fire
// exactly in (time, insertion) order.
TEST(Scheduler, ManyInterleavedTasksFireInTimeThenInsertionOrder) {
  struct Chain : Actor {
    Scheduler* s = nullptr;
    uint64_t state = 12345;
    uint32_t next_kind = 0;
    std::vector<std::pair<int64_t, uint32_t>> fired;    // (time, insertion number)
    std::vector<std::pair<int64_t, uint32_t>> pending;               // the reference
    uint64_t draw() {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      return state >> 33;
    }
    void add(int64_t at) {
      const int64_t clamped = std::max(at, s->now().us);
      pending.push_back({clamped, next_kind});
      s->at(Time{clamped}, this, next_kind++);
    }
    void fire(uint32_t kind, uint32_t, uint64_t) override {
      fired.push_back({s->now().us, kind});
      if (next_kind < 3000)
        for (uint64_t n = draw() % 3; n-- > 0;) add(s->now().us + static_cast<int64_t>(draw() % 40));
    }
  };
  Scheduler s(Time{0});
  Chain c;
  c.s = &s;
  for (int i = 0; i < 500; ++i) c.add(static_cast<int64_t>(c.draw() % 50));
  s.run_until(Time::max());
  std::sort(c.pending.begin(), c.pending.end());  // insertion numbers grow, so this is (time, insertion) order
  ASSERT_GT(c.fired.size(), 1000u);
  EXPECT_EQ(c.fired, c.pending);
}

TEST(Scheduler, ThePastIsClampedToNow) {
  Scheduler s(Time{100});
  Recorder r;
  r.s = &s;
  s.at(Time{50}, &r, 1);
  s.step();
  EXPECT_EQ(r.fired[0].first, 100);
}

struct Chain : Actor {
  Scheduler* s = nullptr;
  int left = 0;
  std::vector<int64_t> times;
  void fire(uint32_t, uint32_t, uint64_t) override {
    times.push_back(s->now().us);
    if (--left > 0) s->after(Duration{10}, this, 0);
  }
};

TEST(Scheduler, TasksCanScheduleMoreTasks) {
  Scheduler s(Time{0});
  Chain c;
  c.s = &s;
  c.left = 4;
  s.at(Time{0}, &c, 0);
  s.run_until(Time::max());
  EXPECT_EQ(c.times, (std::vector<int64_t>{0, 10, 20, 30}));
  EXPECT_EQ(s.fired(), 4u);
}

// The scheduler's preconditions hold in every build type (core/assert.h).
TEST(SchedulerDeathTest, SteppingWithNothingPendingAborts) {
  Scheduler s(Time{0});
  // file:line, the condition, then the message.
  EXPECT_DEATH(s.step(),
               "scheduler\\.cc:[0-9]+: assertion failed: !heap_\\.empty\\(\\) \\(step\\(\\) needs a pending task\\)");
}

TEST(SchedulerDeathTest, AskingForTheNextTimeWithNothingPendingAborts) {
  Scheduler s(Time{0});
  EXPECT_DEATH(static_cast<void>(s.next_time()), "next_time\\(\\) needs a pending task");
}

TEST(SchedulerDeathTest, ATaskWithoutAnActorAborts) {
  Scheduler s(Time{0});
  EXPECT_DEATH(s.at(Time{5}, nullptr, 0), "a task needs an actor to fire");
}

}  // namespace
}  // namespace sagasim::sim
