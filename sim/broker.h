// The simulated Kafka broker: the Kafka semantics of docs/fault-model.md in virtual time.
//
// - Topics with N partitions; a keyed record goes to murmur2(key) % N, the
//   partition the Java client and librdkafka's murmur2_random pick.
// - Each partition is an append-only log. A record becomes fetchable at
//   append time + delivery latency, never before an earlier record of the
//   same partition (the high watermark only moves forward): strict order
//   inside a partition, none across partitions or topics.
// - Producers: a send reaches the broker after a produce latency and is
//   acknowledged after an ack latency. An ack that is lost times the request
//   out (request_timeout) and the producer retries the same record. With the
//   idempotent producer the broker drops the retry by (producer id, sequence);
//   without it the retry is appended again: a duplicate, as in Kafka.
// - Consumer groups: members join and leave; a crashed member stops fetching
//   at once and is evicted at its session timeout or at the next rebalance,
//   whichever is first. Rebalances are eager: every partition is revoked,
//   then after rebalance_delay the live members get a round-robin assignment
//   and each partition resumes from its committed offset, so everything
//   after the last commit is delivered again (at least once). A commit from
//   a member of an older generation is rejected.
//
// The broker drives each assigned partition's fetch on its member's behalf:
// it hands one record at a time to the member (ConsumerListener::on_record)
// and waits for `done` before handing the next one.
//
// Preconditions, asserted in every build type (core/assert.h): every id
// passed in is one this broker handed out (a topic, producer, group or
// member it made), every partition lies inside its topic, every offset read
// lies inside its log. A violation is a bug in the caller, never a fault:
// faults reach the broker through FaultHooks and the calls below, with ids
// it made.
#pragma once

#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/assert.h"
#include "core/event.h"
#include "sim/hooks.h"
#include "sim/random.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace sagasim::sim {

struct BrokerConfig {
  DurationDist produce_latency = DurationDist::constant_ms(1);
  DurationDist ack_latency = DurationDist::constant_ms(1);
  DurationDist delivery_latency = DurationDist::constant_ms(2);
  Duration request_timeout = Duration::seconds(30);
  Duration retry_backoff = Duration::millis(100);
  Duration session_timeout = Duration::seconds(10);
  Duration rebalance_delay = Duration::millis(100);
};

// The broker's handles, each an index into one of its tables. Distinct types
// (as PartitionId and Offset in core/types.h): a MemberId cannot be passed
// where a GroupId is expected, nor an integer where either is. Only the broker
// makes them; to_int gives the index back (for its tables and for Actor tasks).
enum class TopicId : uint32_t {};
enum class ProducerId : uint32_t {};
enum class GroupId : uint32_t {};
enum class MemberId : uint32_t {};

constexpr uint32_t to_int(TopicId t) { return static_cast<uint32_t>(t); }
constexpr uint32_t to_int(ProducerId p) { return static_cast<uint32_t>(p); }
constexpr uint32_t to_int(GroupId g) { return static_cast<uint32_t>(g); }
constexpr uint32_t to_int(MemberId m) { return static_cast<uint32_t>(m); }

class ProducerListener {
 public:
  virtual ~ProducerListener() = default;
  virtual void on_ack(uint64_t cookie, TopicId topic, PartitionId partition, Offset offset) = 0;
};

struct Delivery {
  GroupId group;
  uint32_t cursor;      // which of the group's partitions
  uint32_t epoch;       // the cursor's assignment epoch: stale `done` calls are ignored
  uint32_t generation;  // the group generation the record was fetched in
  std::string_view topic;
  PartitionId partition;
  Offset offset;
  const Event* event;  // owned by the log (and by `pin` under retention)
  // Under retention (set_retention), the record itself: a consumer that holds
  // a delivery past its group's commit (waiting for acks, after a rebalance
  // moved the partition on) keeps the event alive. Null otherwise: the log
  // outlives the run.
  EventPtr pin = nullptr;
  // identity_of(*event, the member's name), computed once by the broker when
  // fault hooks are installed (0: not computed), for the hooks that ask again.
  uint64_t subject = 0;
};

class ConsumerListener {
 public:
  virtual ~ConsumerListener() = default;
  virtual void on_record(const Delivery& d) = 0;
};

enum class CommitMode { Commit, Skip };

// A deliberately broken broker (the broker-* runtime mutants), for showing
// that the self-check (guarantee_violations) sees each way it can be wrong.
enum class BrokerFlaw {
  None,
  ResumesPastCommit,  // a new assignment starts one record past the committed offset
  SkipsRedelivery,    // a new assignment starts where the old owner stopped, not at the committed offset
  ForgetsSequences,   // no dedup of an idempotent producer's retries by sequence number
};

class SimBroker final : public Actor {
 public:
  SimBroker(Scheduler& scheduler, Trace& trace, uint64_t seed, BrokerConfig config);
  void set_flaw(BrokerFlaw flaw) { flaw_ = flaw; }

  TopicId add_topic(std::string name, int32_t partitions);
  TopicId topic_id(std::string_view name) const;  // InternalError if unknown
  const std::string& topic_name(TopicId t) const { return topic_at(t).name; }
  int32_t partitions(TopicId t) const { return static_cast<int32_t>(topic_at(t).partitions.size()); }

  void set_hooks(FaultHooks* hooks) { hooks_ = hooks; }

  // Retention: with it on, a partition's records are dropped once every
  // group subscribed to its topic has committed past them (nothing can
  // fetch them again: a new assignment starts at the committed offset).
  // Offsets never change; record() and the log below the retained start
  // are then unavailable. Off by default: tests and final checks read the
  // whole log. `appended` (when set) sees every record as it is appended,
  // before anything can drop it.
  using AppendListener = std::function<void(TopicId, PartitionId, Offset, const EventPtr&)>;
  void set_retention(bool on) { retention_ = on; }
  void on_append(AppendListener listener) { append_listener_ = std::move(listener); }
  // The first offset still held (0 without retention) and how many records
  // the broker holds now over every partition.
  int64_t log_start(TopicId t, PartitionId p) const { return partition_at(t, p).base; }
  size_t records_held() const;

  // What a record is, independent of everything else in the run: a hash of
  // its order (correlation id), its event type and the actor involved.
  static uint64_t identity_of(const Event& e, std::string_view actor);

  // max_in_flight > 1 without idempotence lets a retried request fall behind
  // later ones: reordering inside a partition, as in Kafka.
  ProducerId add_producer(std::string name, bool idempotent, ProducerListener* listener, int max_in_flight = 5);
  // The producer's process died: its in-flight requests may still land, but
  // it will never see an ack or retry. A restarted process adds a new producer.
  void crash_producer(ProducerId p);
  // Precondition (asserted): `event` is not null, and `p` has not crashed (a
  // restarted process sends through the new producer it added).
  // Returns the record's identity for the fault hooks (identity_of(event,
  // the producer's name)), so a caller need not hash it again.
  uint64_t send(ProducerId p, TopicId topic, EventPtr event, uint64_t cookie);
  // Test and fault hook: the next `n` acks to this producer are lost.
  void lose_acks(ProducerId p, int n) { producer_at(p).acks_to_lose += n; }
  // The producer cannot reach the broker until `until`: new requests wait,
  // in-flight acks are lost (ambiguous: the producer retries after the heal).
  void isolate_producer(ProducerId p, Time until);
  // Broker faults. While a partition is down, produce requests to it fail
  // with a retriable error and are retried; consumers fetch nothing from it.
  void set_partition_down(TopicId t, PartitionId p, Time until);
  // A leader election: the partition is down for `election`, and requests it
  // appended but had not yet acknowledged lose their acks.
  void failover(TopicId t, PartitionId p, Duration election);
  // A member that stops fetching (a paused or cut-off process) until `until`.
  // If that is longer than the session timeout the coordinator evicts it at
  // the timeout; the caller rejoins it with a new member afterwards.
  // Returns true when the member will be evicted.
  bool pause_member(MemberId m, Time until);
  bool member_active(MemberId m) const { return member_at(m).state == MemberState::Active; }

  GroupId add_group(std::string name, std::span<const std::string_view> topics);
  // Precondition (asserted): `listener` is not null; it outlives the member.
  MemberId join(GroupId g, std::string name, ConsumerListener* listener);
  void leave(MemberId m);
  void crash_member(MemberId m);
  // The member is through with `d` and consumes from `next` on (committing it
  // with CommitMode::Commit). Preconditions (asserted): `d` is a delivery of
  // the member's own group, and `next` lies inside the partition's log
  // (0 <= next <= its end). A commit below the committed offset is allowed
  // (the committed offset never goes back), and so is one from a stale
  // member or generation: the broker rejects it, as Kafka does.
  void done(MemberId m, const Delivery& d, Offset next, CommitMode mode);

  // Introspection (tests, checks, summaries).
  // The log end offset (the next offset to be appended).
  size_t log_size(TopicId t, PartitionId p) const { return static_cast<size_t>(partition_at(t, p).end()); }
  const EventPtr& record(TopicId t, PartitionId p, Offset o) const {
    const Partition& part = partition_at(t, p);
    SAGASIM_ASSERT(to_int(o) >= part.base, "an offset below the retained log start (or negative)");
    SAGASIM_ASSERT(to_int(o) < part.end(), "an offset at or past the log end");
    return part.at(to_int(o)).event;
  }
  // -1 when the group does not read topic `t`.
  int64_t committed(GroupId g, TopicId t, PartitionId p) const;
  uint32_t generation(GroupId g) const { return group_at(g).generation; }
  // The partitions a member owns now, as "topic-partition" strings.
  std::vector<std::string> assignment(MemberId m) const;
  uint64_t deliveries() const { return deliveries_; }
  uint64_t appends() const { return appends_; }
  uint64_t duplicates_dropped() const { return dedup_drops_; }
  uint64_t retries() const { return retries_; }
  // Harness self-check: every breach of the §4 guarantees the broker saw in
  // its own behaviour (empty unless the broker has a bug).
  const std::vector<std::string>& guarantee_violations() const { return violations_; }

  void fire(uint32_t kind, uint32_t x, uint64_t y) override;

 private:
  enum Kind : uint32_t { kArrive, kAck, kTimeout, kDeliver, kRebalanceDone, kSessionTimeout, kEvict };

  struct StoredRecord {
    EventPtr event;
    Time visible_at;
  };
  struct Partition {
    // Offsets [base, base + log.size() - head): log[head..] holds them.
    // Retention advances head and erases the dead prefix in chunks.
    std::vector<StoredRecord> log;
    size_t head = 0;
    int64_t base = 0;
    int64_t end() const { return base + static_cast<int64_t>(log.size() - head); }
    const StoredRecord& at(int64_t offset) const { return log[head + static_cast<size_t>(offset - base)]; }
    Time last_visible;
    Time down_until;
    // Idempotence state: per producer, the last sequence appended and its offset.
    std::vector<std::pair<ProducerId, std::pair<uint64_t, int64_t>>> last_seq;
    // Self-check, kept apart from the dedup state above: per idempotent
    // producer, the sequences appended so far (0..n-1, each once, in order).
    std::vector<std::pair<ProducerId, uint64_t>> appended;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
    std::vector<GroupId> subscribers;
  };
  struct Producer {
    std::string name;
    bool idempotent;
    bool alive = true;
    ProducerListener* listener;
    int max_in_flight = 5;
    int acks_to_lose = 0;
    Time blocked_until;
    struct Lane {
      uint64_t next_seq = 0;
      Time last_arrival;  // requests to one partition share a connection: FIFO
    };
    std::vector<std::vector<Lane>> lanes;  // [topic][partition]
  };
  struct InFlight {
    ProducerId producer;
    TopicId topic;
    PartitionId partition;
    uint64_t seq;
    EventPtr event;
    uint64_t cookie;
    Time sent_at;
    Offset offset{-1};
    ProduceFate fate = ProduceFate::Ok;  // what the fault hooks decided for the first attempt
    uint64_t identity = 0;               // stable across runs that differ elsewhere (see draw())
    uint32_t draws = 0;
    bool ack_lost = false;               // appended, but its ack will not arrive
    bool acked = false;
  };
  static constexpr MemberId kNoOwner{UINT32_MAX};  // a cursor nobody is assigned
  struct Cursor {
    TopicId topic;
    PartitionId partition;
    int64_t committed = 0;
    int64_t position = 0;
    MemberId owner = kNoOwner;
    bool busy = false;   // a delivery is scheduled or being handled
    uint32_t epoch = 0;
    int64_t last_delivered = -1;  // self-check: offsets within one epoch are consecutive
    uint32_t last_delivered_epoch = UINT32_MAX;
  };
  struct Group {
    std::string name;
    std::vector<std::pair<TopicId, uint32_t>> topic_base;  // topic -> its first cursor
    std::vector<Cursor> cursors;
    std::vector<MemberId> members;  // joined and not evicted
    uint32_t generation = 0;
    bool rebalancing = false;
  };
  enum class MemberState { Active, Crashed, Gone };
  struct Member {
    std::string name;
    GroupId group;
    ConsumerListener* listener;
    MemberState state = MemberState::Active;
    Time paused_until;
  };

  // The checked way in from a caller's id: each asserts that the id is one
  // this broker made (and the partition one of the topic's). Inside, ids
  // taken from the broker's own tables index them directly.
  const Topic& topic_at(TopicId t) const {
    SAGASIM_ASSERT(to_int(t) < topics_.size(), "unknown topic id");
    return topics_[to_int(t)];
  }
  Topic& topic_at(TopicId t) { return const_cast<Topic&>(std::as_const(*this).topic_at(t)); }
  const Partition& partition_at(TopicId t, PartitionId p) const {
    const Topic& topic = topic_at(t);
    SAGASIM_ASSERT(to_int(p) >= 0, "a negative partition");
    SAGASIM_ASSERT(static_cast<size_t>(to_int(p)) < topic.partitions.size(), "a partition beyond the topic's");
    return topic.partitions[static_cast<size_t>(to_int(p))];
  }
  Partition& partition_at(TopicId t, PartitionId p) {
    return const_cast<Partition&>(std::as_const(*this).partition_at(t, p));
  }
  const Producer& producer_at(ProducerId p) const {
    SAGASIM_ASSERT(to_int(p) < producers_.size(), "unknown producer id");
    return producers_[to_int(p)];
  }
  Producer& producer_at(ProducerId p) { return const_cast<Producer&>(std::as_const(*this).producer_at(p)); }
  const Group& group_at(GroupId g) const {
    SAGASIM_ASSERT(to_int(g) < groups_.size(), "unknown group id");
    return groups_[to_int(g)];
  }
  Group& group_at(GroupId g) { return const_cast<Group&>(std::as_const(*this).group_at(g)); }
  const Member& member_at(MemberId m) const {
    SAGASIM_ASSERT(to_int(m) < members_.size(), "unknown member id");
    return members_[to_int(m)];
  }
  Member& member_at(MemberId m) { return const_cast<Member&>(std::as_const(*this).member_at(m)); }

  void arrive(uint32_t slot);
  void retry_later(uint32_t slot, Time at);
  // Every latency is drawn from its own stream, keyed by what the record is
  // (order, event type, producer) and how many draws it has had, not from one
  // shared stream: removing an unrelated order from a scenario then leaves
  // every other record's timing unchanged, which is what lets a failing case
  // shrink (faults/shrink.h, the property tests).
  Duration draw(const DurationDist& d, InFlight& f, uint64_t what);

  void ack(uint32_t slot);
  void timeout(uint32_t slot);
  void deliver(GroupId g, uint32_t cursor, uint32_t epoch);
  void pump(GroupId g, uint32_t cursor);
  void start_rebalance(GroupId g);
  // Retention: drops the records of `t`'s partition `p` below every
  // subscribing group's committed offset.
  void trim(TopicId t, PartitionId p);
  void finish_rebalance(GroupId g);
  uint32_t alloc_slot(InFlight f);

  Scheduler& scheduler_;
  Trace& trace_;
  FaultHooks* hooks_ = nullptr;
  uint64_t seed_;
  BrokerConfig config_;
  std::vector<Topic> topics_;
  std::vector<Producer> producers_;
  std::vector<InFlight> inflight_;
  std::vector<uint32_t> free_slots_;
  std::vector<Group> groups_;
  std::vector<Member> members_;
  std::vector<std::string> violations_;
  BrokerFlaw flaw_ = BrokerFlaw::None;
  bool retention_ = false;
  AppendListener append_listener_;
  uint64_t deliveries_ = 0, appends_ = 0, dedup_drops_ = 0, retries_ = 0;
};

}  // namespace sagasim::sim
