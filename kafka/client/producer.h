// An idempotent Kafka producer (RAII over rd_kafka_t).
//
//   Producer::Hooks hooks;
//   hooks.on_delivery = [&](const DeliveryReport& r) { if (r.ok()) outbox.mark_sent(r.opaque); };
//   Result<Producer> p = Producer::create(config, std::move(hooks));
//   Status s = p.value().send("saga.orders", "o-17", json, headers, /*opaque=*/row_id);
//   p.value().poll(Duration::millis(0));          // serves delivery reports
//   Status f = p.value().flush(Duration::seconds(10));
//
// The adapter imposes three settings (a config file that contradicts one is refused):
//   enable.idempotence=true       retries never duplicate or reorder a record (DESIGN §4)
//   acks=all                      required by idempotence; a record survives a leader change
//   partitioner=murmur2_random    a keyed record goes to (murmur2(key) & 0x7fffffff) % N, the
//                                 Java client's placement and the simulator's
//                                 (core/murmur2.h: partition_for_key); librdkafka's
//                                 default (consistent_random, CRC32) would put the same key
//                                 on another partition than the simulator and the Java tools.
// An empty key is sent as a null key, which murmur2_random places at random.
//
// Threads: none of its own beyond librdkafka's. Not thread-safe: one thread calls
// it, and every hook runs on that thread inside poll() or flush().
// Destruction does not flush: records still in flight are dropped without a
// delivery report (the outbox keeps them unsent, so they go out again).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/types.h"
#include "kafka/client/config.h"
#include "kafka/client/error.h"
#include "kafka/client/handle.h"

namespace sagasim::kafka {

// What the broker is known to have of a record (librdkafka's rd_kafka_msg_status_t).
enum class Persistence {
  kNotPersisted,       // certainly not written: safe to send again
  kPossiblyPersisted,  // ambiguous (timeout in flight): sending again may duplicate
  kPersisted,          // written and acknowledged
};

struct DeliveryReport {
  std::string topic;
  PartitionId partition{-1};  // -1 when the record never got a partition
  Offset offset{-1};          // -1 unless delivered
  uint64_t opaque = 0;        // as given to send()
  Persistence persistence = Persistence::kNotPersisted;
  // Set when delivery failed, context "topic T partition P". Never holds the record's bytes.
  std::optional<Error> error;

  bool ok() const { return !error.has_value(); }
};

class Producer {
 public:
  struct Hooks : ClientHooks {
    std::function<void(const DeliveryReport&)> on_delivery;  // one report per sent record
  };

  // Errors: as make_client (handle.h): a rejected key, or a setting that contradicts
  // the three above, with context "<where set> key <key>".
  static Result<Producer> create(const Config& config, Hooks hooks);

  Producer(Producer&&) noexcept;
  Producer& operator=(Producer&&) noexcept;
  ~Producer();

  // Queues one record; the outcome arrives later as a DeliveryReport from poll()/flush().
  // Errors (context "topic T"), the record is not queued and gets no report:
  //   _QUEUE_FULL (retriable): too much in flight; poll() and send again
  //   MSG_SIZE_TOO_LARGE: larger than message.max.bytes
  //   _UNKNOWN_TOPIC, _UNKNOWN_PARTITION: the cluster says the topic does not exist
  //   _FATAL (fatal): the idempotent producer's state is broken; the message says why,
  //                    and the producer must be recreated
  Status send(std::string_view topic, std::string_view key, std::string_view value, const Headers& headers,
              uint64_t opaque);

  // Serves delivery reports and hooks, waiting up to `timeout` for the first. Returns how many ran.
  int poll(Duration timeout);

  // Waits until every queued record has a delivery report (served, so hooks run).
  // Errors: _TIMED_OUT (retriable), context "flush", with the count still in flight;
  //         the fatal error if the producer became unusable.
  Status flush(Duration timeout);

  // Learns the topics' metadata now, so the first record sent to each is not
  // held back: librdkafka 2.0 looks an unknown topic up on its next periodic
  // scan, up to a second after the first send (librdkafka PR #5032).
  // Errors: UNKNOWN_TOPIC_OR_PART or _TIMED_OUT, context "topic T".
  Status prepare_topics(const std::vector<std::string>& topics, Duration timeout);

  // Records queued or in flight without a delivery report yet.
  int in_flight() const;

  // The fatal error that made this producer unusable, if any.
  std::optional<Error> fatal() const;

  std::string name() const;  // librdkafka's client instance name, "rdkafka#producer-1"

  struct State;  // defined in producer.cc

 private:
  explicit Producer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace sagasim::kafka
