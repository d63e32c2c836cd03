// Model-based test of the simulated broker (rapidcheck/state): random
// sequences of sends, joins, leaves, crashes and time steps, checked after
// every step against a reference model of Kafka's partition, offset and
// commit semantics. The model is deliberately naive: one list per partition.
#include <map>
#include <memory>
#include <set>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include "core/murmur2.h"
#include "sim/broker.h"

namespace sagasim::sim {
namespace {

constexpr int kPartitions = 3;
constexpr std::string_view kTopicT[] = {"t"};

struct Model {
  std::vector<std::vector<std::string>> log = std::vector<std::vector<std::string>>(kPartitions);
  int next_id = 0;
  std::vector<bool> members;  // index -> alive and in the group
  int live() const {
    int n = 0;
    for (bool m : members) n += m;
    return n;
  }
};

struct Consumer : ConsumerListener {
  SimBroker* broker = nullptr;
  MemberId id{};
  std::set<std::string>* seen = nullptr;
  void on_record(const Delivery& d) override {
    seen->insert(d.event->event_id);
    broker->done(id, d, next(d.offset), CommitMode::Commit);
  }
};

struct Sut {
  Scheduler scheduler{kSimEpoch};
  Trace trace{nullptr, kSimEpoch};
  SimBroker broker;
  TopicId topic;
  ProducerId producer;
  GroupId group;
  std::vector<std::unique_ptr<Consumer>> consumers;
  std::set<std::string> seen;
  std::vector<int64_t> last_committed = std::vector<int64_t>(kPartitions, 0);

  Sut() : broker(scheduler, trace, 5, config()) {
    topic = broker.add_topic("t", kPartitions);
    producer = broker.add_producer("p", true, nullptr);
    group = broker.add_group("g", kTopicT);
  }
  static BrokerConfig config() {
    BrokerConfig c;
    c.produce_latency = DurationDist::uniform_ms(0, 3);
    c.delivery_latency = DurationDist::uniform_ms(0, 3);
    c.session_timeout = Duration::millis(500);
    c.rebalance_delay = Duration::millis(20);
    return c;
  }
};

using Cmd = rc::state::Command<Model, Sut>;

// After every command: the logs equal the model's, offsets only move
// forward, commits never pass the log end, the broker saw no breach.
void check_invariants(const Model& m, Sut& s) {
  for (int p = 0; p < kPartitions; ++p) {
    std::vector<std::string> log;
    for (size_t o = 0; o < s.broker.log_size(s.topic, PartitionId{p}); ++o)
      log.push_back(s.broker.record(s.topic, PartitionId{p}, Offset{static_cast<int64_t>(o)})->event_id);
    RC_ASSERT(log == m.log[static_cast<size_t>(p)]);
    const int64_t c = s.broker.committed(s.group, s.topic, PartitionId{p});
    RC_ASSERT(c >= s.last_committed[static_cast<size_t>(p)]);
    RC_ASSERT(c <= static_cast<int64_t>(log.size()));
    s.last_committed[static_cast<size_t>(p)] = c;
  }
  RC_ASSERT(s.broker.guarantee_violations().empty());
}

struct Send : Cmd {
  std::string key = *rc::gen::element<std::string>("o-1", "o-2", "o-3", "o-4", "o-5", "o-6", "o-7");
  void apply(Model& m) const override {
    m.log[static_cast<size_t>(to_int(partition_for_key(key, kPartitions)))].push_back("m-" + std::to_string(m.next_id));
    ++m.next_id;
  }
  void run(const Model& m, Sut& s) const override {
    auto e = std::make_shared<Event>();
    e->event_id = "m-" + std::to_string(m.next_id);
    e->key = key;
    s.broker.send(s.producer, s.topic, e, 0);
    s.scheduler.run_until(s.scheduler.now() + Duration::millis(5));  // lands before the next command
    Model after = m;
    apply(after);
    check_invariants(after, s);
  }
  void show(std::ostream& os) const override { os << "send key " << key; }
};

struct Join : Cmd {
  void checkPreconditions(const Model& m) const override { RC_PRE(m.members.size() < 4u); }
  void apply(Model& m) const override { m.members.push_back(true); }
  void run(const Model& m, Sut& s) const override {
    auto c = std::make_unique<Consumer>();
    c->broker = &s.broker;
    c->seen = &s.seen;
    c->id = s.broker.join(s.group, "c-" + std::to_string(m.members.size()), c.get());
    s.consumers.push_back(std::move(c));
    Model after = m;
    apply(after);
    check_invariants(after, s);
  }
  void show(std::ostream& os) const override { os << "join"; }
};

struct Leave : Cmd {
  size_t who = *rc::gen::inRange<size_t>(0, 4);
  bool crash = *rc::gen::arbitrary<bool>();
  void checkPreconditions(const Model& m) const override {
    RC_PRE(who < m.members.size());
    RC_PRE(static_cast<bool>(m.members[who]));
  }
  void apply(Model& m) const override { m.members[who] = false; }
  void run(const Model& m, Sut& s) const override {
    if (crash) s.broker.crash_member(s.consumers[who]->id);
    else s.broker.leave(s.consumers[who]->id);
    Model after = m;
    apply(after);
    check_invariants(after, s);
  }
  void show(std::ostream& os) const override { os << (crash ? "crash member " : "leave member ") << who; }
};

struct Advance : Cmd {
  int ms = *rc::gen::inRange(1, 1500);
  void run(const Model& m, Sut& s) const override {
    s.scheduler.run_until(s.scheduler.now() + Duration::millis(ms));
    check_invariants(m, s);
  }
  void show(std::ostream& os) const override { os << "advance " << ms << " ms"; }
};

RC_GTEST_PROP(SimBroker, behavesLikeTheReferenceModelOfPartitionsOffsetsAndCommits, ()) {
  Model model;
  Sut sut;
  rc::state::check(model, sut, rc::state::gen::execOneOfWithArgs<Send, Join, Leave, Advance>());
  // Finally, with a fresh member and time to settle, everything ever sent is
  // delivered at least once and every partition is committed to its end.
  // (rc::state::check leaves `model` as it was; the SUT carries the history.)
  auto last = std::make_unique<Consumer>();
  last->broker = &sut.broker;
  last->seen = &sut.seen;
  last->id = sut.broker.join(sut.group, "c-final", last.get());
  sut.consumers.push_back(std::move(last));
  sut.scheduler.run_until(sut.scheduler.now() + Duration::seconds(5));
  int total = 0;
  for (int p = 0; p < kPartitions; ++p) {
    total += static_cast<int>(sut.broker.log_size(sut.topic, PartitionId{p}));
    RC_ASSERT(sut.broker.committed(sut.group, sut.topic, PartitionId{p}) ==
              static_cast<int64_t>(sut.broker.log_size(sut.topic, PartitionId{p})));
  }
  RC_ASSERT(static_cast<int>(sut.seen.size()) == total);
}

}  // namespace
}  // namespace sagasim::sim
