#include "sim/broker.h"

#include <map>
#include <type_traits>

#include <gtest/gtest.h>

#include "core/murmur2.h"

namespace sagasim::sim {
namespace {

// The broker's ids do not mix with each other or with plain integers.
static_assert(!std::is_convertible_v<MemberId, GroupId>);
static_assert(!std::is_convertible_v<ProducerId, TopicId>);
static_assert(!std::is_convertible_v<uint32_t, MemberId>);
static_assert(!std::is_convertible_v<TopicId, uint32_t>);

EventPtr make_event(std::string id, std::string key) {
  auto e = std::make_shared<Event>();
  e->event_id = std::move(id);
  e->type = "Test";
  e->key = std::move(key);
  e->correlation_id = e->key;
  return e;
}

struct Got {
  std::string topic_partition;
  int64_t offset;
  std::string event_id;
  int64_t at_us;
};

// A consumer that records what it is given and, unless told to hold,
// finishes each record at once with the configured commit mode.
struct TestConsumer : ConsumerListener {
  SimBroker* broker = nullptr;
  Scheduler* scheduler = nullptr;
  MemberId id{};
  bool hold = false;
  int commits_left = 1 << 30;  // then CommitMode::Skip
  std::vector<Got> got;
  std::vector<Delivery> held;

  void on_record(const Delivery& d) override {
    got.push_back({std::string(d.topic) + "-" + std::to_string(to_int(d.partition)), to_int(d.offset),
                   d.event->event_id, scheduler->now().us});
    if (hold) {
      held.push_back(d);
      return;
    }
    broker->done(id, d, next(d.offset), commits_left-- > 0 ? CommitMode::Commit : CommitMode::Skip);
  }
  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    for (const auto& g : got) out.push_back(g.event_id);
    return out;
  }
};

struct BrokerTest : ::testing::Test {
  Scheduler scheduler{kSimEpoch};
  Trace trace{nullptr, kSimEpoch};
  BrokerConfig config = [] {
    BrokerConfig c;
    c.produce_latency = DurationDist::uniform_ms(0, 5);  // jitter must not reorder a partition
    c.delivery_latency = DurationDist::uniform_ms(1, 4);
    return c;
  }();
  SimBroker broker{scheduler, trace, 11, config};

  MemberId join(GroupId g, const std::string& name, TestConsumer& c) {
    c.broker = &broker;
    c.scheduler = &scheduler;
    c.id = broker.join(g, name, &c);
    return c.id;
  }
  void run() { scheduler.run_until(Time::max()); }
};

constexpr std::string_view kTopicT[] = {"t"};

TEST_F(BrokerTest, KeyedRecordsGoToTheMurmur2Partition) {
  const TopicId t = broker.add_topic("t", 5);
  const ProducerId p = broker.add_producer("p", true, nullptr);
  for (int i = 0; i < 40; ++i) broker.send(p, t, make_event("e" + std::to_string(i), "key-" + std::to_string(i)), 0);
  run();
  size_t total = 0;
  for (int32_t part = 0; part < 5; ++part) {
    total += broker.log_size(t, PartitionId{part});
    for (size_t o = 0; o < broker.log_size(t, PartitionId{part}); ++o)
      EXPECT_EQ(partition_for_key(broker.record(t, PartitionId{part}, Offset{static_cast<int64_t>(o)})->key, 5),
                PartitionId{part});
  }
  EXPECT_EQ(total, 40u);
}

TEST_F(BrokerTest, OrderIsKeptWithinAPartitionDespiteLatencyJitter) {
  const TopicId t = broker.add_topic("t", 3);
  const ProducerId p = broker.add_producer("p", true, nullptr);
  const GroupId g = broker.add_group("g", kTopicT);
  TestConsumer c;
  join(g, "c-1", c);
  std::map<int32_t, std::vector<std::string>> sent;
  for (int i = 0; i < 300; ++i) {
    const std::string key = "k" + std::to_string(i % 7);
    const std::string id = "e" + std::to_string(i);
    sent[to_int(partition_for_key(key, 3))].push_back(id);
    broker.send(p, t, make_event(id, key), 0);
    scheduler.run_until(scheduler.now() + Duration::micros(700));  // sends interleave with arrivals
  }
  run();
  std::map<std::string, std::vector<std::string>> received;
  std::map<std::string, int64_t> last_offset;
  for (const Got& g : c.got) {
    received[g.topic_partition].push_back(g.event_id);
    if (last_offset.count(g.topic_partition)) {
      EXPECT_EQ(g.offset, last_offset[g.topic_partition] + 1);
    }
    last_offset[g.topic_partition] = g.offset;
  }
  for (const auto& [part, ids] : sent) EXPECT_EQ(received["t-" + std::to_string(part)], ids);
  EXPECT_TRUE(broker.guarantee_violations().empty());
}

TEST_F(BrokerTest, RecordsAreNotDeliveredBeforeTheDeliveryLatency) {
  config.produce_latency = DurationDist::constant_ms(1);
  config.delivery_latency = DurationDist::constant_ms(5);
  SimBroker b(scheduler, trace, 1, config);
  const TopicId t = b.add_topic("t", 1);
  const ProducerId p = b.add_producer("p", true, nullptr);
  const GroupId g = b.add_group("g", kTopicT);
  TestConsumer c;
  c.broker = &b;
  c.scheduler = &scheduler;
  c.id = b.join(g, "c", &c);
  run();  // settle the rebalance first
  const Time sent = scheduler.now();
  b.send(p, t, make_event("e1", "k"), 0);
  run();
  ASSERT_EQ(c.got.size(), 1u);
  EXPECT_EQ(c.got[0].at_us - sent.us, 6000);  // 1 ms to the broker + 5 ms to be fetchable
}

TEST_F(BrokerTest, UncommittedRecordsAreRedeliveredAfterAConsumerCrash) {
  const TopicId t = broker.add_topic("t", 1);
  const ProducerId p = broker.add_producer("p", true, nullptr);
  const GroupId g = broker.add_group("g", kTopicT);
  TestConsumer a, b;
  a.commits_left = 3;  // commits after offsets 0, 1, 2; then handles 3 and 4 without committing
  join(g, "a", a);
  for (int i = 0; i < 5; ++i) broker.send(p, t, make_event("e" + std::to_string(i), "k"), 0);
  run();
  EXPECT_EQ(a.ids(), (std::vector<std::string>{"e0", "e1", "e2", "e3", "e4"}));
  EXPECT_EQ(broker.committed(g, t, PartitionId{0}), 3);

  broker.crash_member(a.id);
  join(g, "b", b);  // the rebalance evicts the crashed member
  run();
  EXPECT_EQ(b.ids(), (std::vector<std::string>{"e3", "e4"}));  // at least once: everything after the commit
  EXPECT_EQ(broker.committed(g, t, PartitionId{0}), 5);
  EXPECT_TRUE(broker.guarantee_violations().empty());
}

TEST_F(BrokerTest, ACrashedMembersPartitionsMoveAtTheSessionTimeout) {
  const TopicId t = broker.add_topic("t", 2);
  const ProducerId p = broker.add_producer("p", true, nullptr);
  const GroupId g = broker.add_group("g", kTopicT);
  TestConsumer a, b;
  join(g, "a", a);
  join(g, "b", b);
  run();
  ASSERT_EQ(broker.assignment(a.id).size(), 1u);
  ASSERT_EQ(broker.assignment(b.id).size(), 1u);
  const uint32_t gen = broker.generation(g);
  const Time crashed_at = scheduler.now();
  broker.crash_member(a.id);
  for (int i = 0; i < 20; ++i) broker.send(p, t, make_event("e" + std::to_string(i), "k" + std::to_string(i)), 0);
  run();
  EXPECT_EQ(broker.generation(g), gen + 1);
  EXPECT_EQ(broker.assignment(b.id).size(), 2u);
  EXPECT_EQ(b.got.size(), 20u);  // b ends up with every record, a's after the timeout
  int64_t last = 0;
  for (const Got& got : b.got) last = std::max(last, got.at_us);
  EXPECT_GE(last - crashed_at.us, config.session_timeout.us);
}

TEST_F(BrokerTest, RebalancesOnJoinAndLeave) {
  broker.add_topic("t", 4);
  const GroupId g = broker.add_group("g", kTopicT);
  TestConsumer a, b;
  join(g, "a", a);
  run();
  EXPECT_EQ(broker.generation(g), 1u);
  EXPECT_EQ(broker.assignment(a.id), (std::vector<std::string>{"t-0", "t-1", "t-2", "t-3"}));
  join(g, "b", b);
  run();
  EXPECT_EQ(broker.generation(g), 2u);
  EXPECT_EQ(broker.assignment(a.id), (std::vector<std::string>{"t-0", "t-2"}));
  EXPECT_EQ(broker.assignment(b.id), (std::vector<std::string>{"t-1", "t-3"}));
  broker.leave(b.id);
  run();
  EXPECT_EQ(broker.generation(g), 3u);
  EXPECT_EQ(broker.assignment(a.id).size(), 4u);
  EXPECT_TRUE(broker.assignment(b.id).empty());
}

TEST_F(BrokerTest, ACommitFromAnOlderGenerationIsRejected) {
  const TopicId t = broker.add_topic("t", 1);
  const ProducerId p = broker.add_producer("p", true, nullptr);
  const GroupId g = broker.add_group("g", kTopicT);
  TestConsumer a, b;
  a.hold = true;  // a is slow: still working on offset 0 when the group rebalances
  join(g, "a", a);
  broker.send(p, t, make_event("e0", "k"), 0);
  run();
  ASSERT_EQ(a.held.size(), 1u);
  join(g, "b", b);  // "b" sorts after "a": b owns nothing, a keeps t-0 in a new generation
  run();
  broker.done(a.id, a.held[0], Offset{1}, CommitMode::Commit);
  EXPECT_EQ(broker.committed(g, t, PartitionId{0}), 0);  // rejected: fetched in generation 1
  run();
  // The record is delivered again in the new generation, to its new owner.
  EXPECT_EQ(a.got.size(), 2u);
  EXPECT_EQ(a.got[1].event_id, "e0");
}

TEST_F(BrokerTest, ARetriedProduceDuplicatesUnlessTheProducerIsIdempotent) {
  const TopicId t = broker.add_topic("t", 1);
  const ProducerId plain = broker.add_producer("plain", false, nullptr);
  const ProducerId idem = broker.add_producer("idempotent", true, nullptr);
  broker.lose_acks(plain, 1);
  broker.lose_acks(idem, 1);
  broker.send(plain, t, make_event("a", "k"), 0);
  broker.send(idem, t, make_event("b", "k"), 0);
  run();
  std::vector<std::string> log;
  for (size_t o = 0; o < broker.log_size(t, PartitionId{0}); ++o)
    log.push_back(broker.record(t, PartitionId{0}, Offset{static_cast<int64_t>(o)})->event_id);
  std::sort(log.begin(), log.end());
  EXPECT_EQ(log, (std::vector<std::string>{"a", "a", "b"}));
  EXPECT_EQ(broker.retries(), 2u);
  EXPECT_EQ(broker.duplicates_dropped(), 1u);
}

struct AckRecorder : ProducerListener {
  std::vector<std::pair<uint64_t, int64_t>> acks;
  void on_ack(uint64_t cookie, TopicId, PartitionId, Offset o) override { acks.push_back({cookie, to_int(o)}); }
};

TEST_F(BrokerTest, AcksCarryTheCookieAndOffsetAndStopWhenTheProducerCrashes) {
  const TopicId t = broker.add_topic("t", 1);
  AckRecorder rec;
  const ProducerId p = broker.add_producer("p", true, &rec);
  broker.send(p, t, make_event("a", "k"), 7);
  broker.send(p, t, make_event("b", "k"), 8);
  run();
  EXPECT_EQ(rec.acks, (std::vector<std::pair<uint64_t, int64_t>>{{7, 0}, {8, 1}}));
  broker.send(p, t, make_event("c", "k"), 9);
  broker.crash_producer(p);
  run();
  EXPECT_EQ(rec.acks.size(), 2u);                    // no ack to a dead process
  EXPECT_EQ(broker.log_size(t, PartitionId{0}), 3u);  // but the request was on the wire
}

// The broker's preconditions hold in every build type (core/assert.h).
using BrokerDeathTest = BrokerTest;

TEST_F(BrokerDeathTest, ACommitPastTheLogEndAborts) {
  const TopicId t = broker.add_topic("t", 1);
  const ProducerId p = broker.add_producer("p", true, nullptr);
  const GroupId g = broker.add_group("g", kTopicT);
  TestConsumer a;
  a.hold = true;
  join(g, "a", a);
  broker.send(p, t, make_event("e0", "k"), 0);
  run();
  ASSERT_EQ(a.held.size(), 1u);
  ASSERT_EQ(broker.log_size(t, PartitionId{0}), 1u);
  broker.done(a.id, a.held[0], Offset{1}, CommitMode::Skip);  // the log end itself is fine
  EXPECT_DEATH(broker.done(a.id, a.held[0], Offset{2}, CommitMode::Commit), "next offset past the log end");
}

TEST_F(BrokerDeathTest, AnIdOrPartitionTheBrokerDidNotMakeAborts) {
  const TopicId t = broker.add_topic("t", 2);
  EXPECT_DEATH(broker.crash_member(MemberId{0}), "unknown member id");
  EXPECT_DEATH(broker.log_size(TopicId{1}, PartitionId{0}), "unknown topic id");
  EXPECT_DEATH(broker.set_partition_down(t, PartitionId{2}, scheduler.now()), "a partition beyond the topic's");
}

TEST_F(BrokerDeathTest, SendingThroughACrashedProducerAborts) {
  const TopicId t = broker.add_topic("t", 1);
  const ProducerId p = broker.add_producer("p", true, nullptr);
  broker.crash_producer(p);
  EXPECT_DEATH(broker.send(p, t, make_event("e0", "k"), 0), "send\\(\\) through a crashed producer");
}

}  // namespace
}  // namespace sagasim::sim
