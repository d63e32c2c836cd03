// Topic administration over librdkafka's Admin API (RAII over rd_kafka_t).
//
//   Result<Admin> a = Admin::create(config);
//   std::vector<NewTopic> topics = {{"saga.orders", 3, 1}, {"saga.orders.dlq", 1, 1}};
//   Status s = a.value().create_topics(topics, Duration::seconds(10));  // idempotent
//   Result<TopicInfo> t = a.value().describe_topic("saga.orders", Duration::seconds(5));
//   // t.value().partitions == 3
//
// The admin client never asks the broker to auto-create a topic
// (allow.auto.create.topics=false), so describing a missing topic reports it
// missing instead of creating it with the broker's defaults.
//
// Threads: none of its own beyond librdkafka's. Not thread-safe; every call blocks
// the caller for at most its timeout (plus one second of grace for the answer),
// and runs the hooks for what happened meanwhile on its way out.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"
#include "kafka/client/config.h"
#include "kafka/client/error.h"
#include "kafka/client/handle.h"

namespace sagasim::kafka {

struct NewTopic {
  std::string name;
  int32_t partitions = 1;
  int32_t replication_factor = 1;
};

struct TopicInfo {
  std::string name;
  int32_t partitions = 0;
  std::vector<int32_t> leaders;  // broker id of each partition's leader, -1 when none
};

// How one topic's CreateTopics result reads: TOPIC_ALREADY_EXISTS is success
// (creation is idempotent), anything else an Error with context "create topic <name>".
Status topic_creation_outcome(std::string_view topic, rd_kafka_resp_err_t code, std::string_view broker_message);

class Admin {
 public:
  // Errors: as make_client (handle.h).
  static Result<Admin> create(const Config& config, ClientHooks hooks = {});

  Admin(Admin&&) noexcept;
  Admin& operator=(Admin&&) noexcept;
  ~Admin();

  // Creates the topics that do not exist yet, waiting up to `timeout` for the
  // controller to finish and then for the cluster's metadata to show each
  // topic with a leader for every partition: once this returns, producers,
  // consumers and describe_topic find them. A topic that exists already
  // counts as created (its partition count is not compared: use
  // describe_topic for that).
  // Errors: the first failing topic's, context "create topic <name>":
  //   INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR (e.g. more replicas than brokers),
  //   TOPIC_AUTHORIZATION_FAILED, POLICY_VIOLATION, INVALID_TOPIC_EXCEPTION;
  //   or for the whole request, context "create topics <names>": _TIMED_OUT (retriable;
  //   the topics may still appear), _INVALID_ARG (a bad name or count, found locally).
  Status create_topics(std::span<const NewTopic> topics, Duration timeout);

  // A topic's partitions and their leaders, from a Metadata request.
  // Errors, context "topic <name>": UNKNOWN_TOPIC_OR_PART (no such topic),
  //   LEADER_NOT_AVAILABLE (retriable: just created), _TIMED_OUT / _TRANSPORT (retriable).
  Result<TopicInfo> describe_topic(std::string_view topic, Duration timeout);

  // Every topic's name in the cluster, sorted, internal ones included.
  // Errors: _TIMED_OUT / _TRANSPORT (retriable), context "list topics".
  Result<std::vector<std::string>> list_topics(Duration timeout);

  struct State;  // defined in admin.cc

 private:
  explicit Admin(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace sagasim::kafka
