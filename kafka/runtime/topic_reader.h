// Reads whole topics as they are now: every record up to each partition's
// high watermark at the time of the call, outside any consumer group (nothing
// committed, no rebalance). What `sagasim check` reads the saga's log with.
//
//   Result<std::vector<ReadRecord>> log = read_topics(config, {"orders", "payments"}, Duration::seconds(60));
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/types.h"
#include "kafka/client/config.h"
#include "kafka/client/error.h"

namespace sagasim::kafka {

struct ReadRecord {
  std::string topic;
  PartitionId partition{0};
  Offset offset{0};
  bool has_key = false;
  std::string key;
  std::string value;
  Headers headers;
  std::optional<int64_t> timestamp_ms;  // Message::timestamp_ms
};

// Records in (topic, partition, offset) order.
// Errors: a missing topic (UNKNOWN_TOPIC_OR_PART, context "topic T"), or
// _TIMED_OUT when the records are not all read within `timeout`.
// `group` is the group id the client is given (librdkafka needs one; nothing
// joins or commits): a namespaced deployment's reader uses its own.
Result<std::vector<ReadRecord>> read_topics(const Config& config, const std::vector<std::string>& topics,
                                            Duration timeout, std::string_view group = "sagasim-reader");

}  // namespace sagasim::kafka
