// A consumer-group member with manual commits (RAII over rd_kafka_t).
//
//   Consumer::Hooks hooks;
//   hooks.on_rebalance = [](RebalanceKind k, const std::vector<TopicPartition>& tps) { log(k, tps); };
//   Result<Consumer> c = Consumer::create(config, "payment", std::move(hooks));
//   c.value().subscribe({"saga.orders"});
//   PollResult r = c.value().poll(Duration::millis(100));
//   if (auto* m = std::get_if<Message>(&r)) {
//     handle(m->key(), m->value());                                  // state + inbox + outbox
//     outbox_flush();                                                // then, and only then:
//     c.value().commit(m->topic(), m->partition(), m->next_offset());
//   }
//   c.value().close();  // leaves the group
//
// The adapter imposes (a config file that contradicts one is refused):
//   enable.auto.commit=false        offsets are committed only by commit(), after the outbox flush
//   enable.auto.offset.store=false  nothing is committed behind the caller's back
//   auto.offset.reset=earliest      a new group reads every record, none is skipped
// Everything after the last commit is delivered again to whoever owns the partition
// next (at-least-once); the inbox makes handling idempotent.
//
// Rebalancing: the adapter handles librdkafka's rebalance callback itself: eager
// assignors (range, roundrobin: librdkafka's default) assign and unassign the whole
// set; cooperative-sticky is handled incrementally. The hook hears of revocations
// *before* the partitions go, so it may still commit for them.
//
// Threads: none of its own beyond librdkafka's. Not thread-safe: one thread calls
// it, and every hook runs on that thread inside poll(), commit() or close().
// Destruction without close() leaves the group without calling the hooks.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/types.h"
#include "kafka/client/config.h"
#include "kafka/client/error.h"
#include "kafka/client/handle.h"

namespace sagasim::kafka {

struct TopicPartition {
  std::string topic;
  PartitionId partition{0};
  auto operator<=>(const TopicPartition&) const = default;
};

std::string to_string(const TopicPartition& tp);  // "saga.orders[2]"

// An offset to commit: the offset of the next record to read (last handled + 1).
struct CommitOffset {
  std::string topic;
  PartitionId partition{0};
  Offset next_offset{0};
};

// A consumed record. The views stay valid as long as the Message lives.
class Message {
 public:
  explicit Message(RkMessagePtr m) : m_(std::move(m)) {}

  std::string_view topic() const;
  PartitionId partition() const { return PartitionId{m_->partition}; }
  Offset offset() const { return Offset{m_->offset}; }
  Offset next_offset() const { return next(offset()); }  // what to commit once handled
  bool has_key() const { return m_->key != nullptr; }
  std::string_view key() const;    // empty for a null key
  std::string_view value() const;  // empty for a null value (a tombstone)
  // Headers in order; a null header value reads as empty.
  std::vector<std::pair<std::string_view, std::string_view>> headers() const;
  std::optional<std::string_view> header(std::string_view name) const;  // the last one of that name
  // The record's timestamp in ms since the epoch (its producer's create time,
  // or the broker's append time on a LogAppendTime topic); nullopt if none.
  std::optional<int64_t> timestamp_ms() const;
  // "topic saga.orders partition 2 offset 17": the `where` for decode_event (core/codec.h).
  std::string where() const;

 private:
  RkMessagePtr m_;
};

// The poll timeout passed with nothing to deliver.
struct NoMessage {};

// The consumer has read up to the end of a partition for now (only with
// enable.partition.eof=true in the config).
struct EndOfPartition {
  TopicPartition tp;
  Offset offset{0};  // the next offset to be written
};

// An Error from poll names topic, partition and offset when librdkafka gives them.
// Typical: UNKNOWN_TOPIC_OR_PART (a subscribed topic does not exist; retriable),
// _TRANSPORT / _ALL_BROKERS_DOWN (retriable), _FATAL (fatal), _STATE (closed).
using PollResult = std::variant<NoMessage, Message, EndOfPartition, Error>;

enum class RebalanceKind {
  kAssigned,  // the partitions are now ours
  kRevoked,   // they are about to go (a clean rebalance): commit now if you can
  kLost,      // they are already gone (session timed out): commits for them will fail
};

std::string_view to_string(RebalanceKind k);  // "assigned", "revoked", "lost"

class Consumer {
 public:
  using RebalanceHook = std::function<void(RebalanceKind, const std::vector<TopicPartition>&)>;

  struct Hooks : ClientHooks {
    RebalanceHook on_rebalance;
  };

  // `group_id` (one group per service) overrides the config's group.id; if both are
  // empty, creation fails.
  // Errors: as make_client (handle.h); _INVALID_ARG with context "group.id" when there is none.
  static Result<Consumer> create(const Config& config, std::string_view group_id, Hooks hooks);

  Consumer(Consumer&&) noexcept;
  Consumer& operator=(Consumer&&) noexcept;
  ~Consumer();

  void set_rebalance_hook(RebalanceHook hook);

  // Joins the group for these topics (replacing an earlier subscription).
  // Errors: _INVALID_ARG (an empty or invalid topic name), _FATAL, _STATE (closed),
  // context "subscribe <topics>". Missing topics are reported later by poll().
  Status subscribe(const std::vector<std::string>& topics);

  // The next record, an end of partition, an error, or NoMessage after `timeout`.
  // Rebalances happen in here (the hook runs here).
  PollResult poll(Duration timeout);

  // Commits synchronously (waits up to `timeout` for the coordinator's answer).
  // Errors, context "commit topic T partition P offset O":
  //   REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID (the partition
  //     moved; its records will be delivered again to the new owner),
  //   COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR, _TRANSPORT (retriable),
  //   _TIMED_OUT (retriable; the commit may still land), _STATE (closed), _FATAL.
  Status commit(std::string_view topic, PartitionId partition, Offset next_offset,
                Duration timeout = Duration::seconds(10));
  Status commit(std::span<const CommitOffset> offsets, Duration timeout = Duration::seconds(10));

  // The committed offsets of these partitions for this group (-1001 = none yet).
  // Errors: as commit(), context "committed".
  Result<std::vector<CommitOffset>> committed(const std::vector<TopicPartition>& tps, Duration timeout);

  // The partitions this member owns now, sorted.
  const std::vector<TopicPartition>& assignment() const;

  // Per assigned partition: the high watermark librdkafka last learned
  // (from fetch responses; no request is sent) minus this consumer's
  // position. Partitions with either unknown yet are left out.
  struct PartitionLag {
    TopicPartition tp;
    int64_t lag = 0;
  };
  std::vector<PartitionLag> lag() const;

  // Reads these partitions from their first record, outside any group
  // (no subscription, no rebalance, nothing committed): for tools that read a
  // whole topic, like `sagasim check`. Replaces an earlier assignment.
  // Errors: _STATE (closed or subscribed), context "assign <partitions>".
  Status assign_from_beginning(const std::vector<TopicPartition>& tps);
  // The same, starting each partition at the given offset.
  Status assign_at(const std::vector<CommitOffset>& starts);

  // The first offset still kept and the offset the next record will get,
  // asked of the partition's leader.
  // Errors, context "watermarks <topic>[<p>]": UNKNOWN_TOPIC_OR_PART,
  //   _TIMED_OUT / _TRANSPORT / NOT_LEADER_FOR_PARTITION (retriable).
  Result<std::pair<Offset, Offset>> watermarks(const TopicPartition& tp, Duration timeout);

  // Leaves the group: revokes the assignment (the hook runs, and may commit), then
  // sends LeaveGroup so the partitions move at once. Idempotent.
  // Errors: whatever librdkafka reports while leaving, context "close".
  Status close();
  bool closed() const;

  std::string name() const;  // "rdkafka#consumer-2"

  struct State;  // defined in consumer.cc

 private:
  explicit Consumer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace sagasim::kafka
