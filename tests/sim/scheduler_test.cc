#include "sim/scheduler.h"

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
