// What every saga's checks report, whatever the saga: a violation of a named
// invariant, and the event log the final checks read. Part of the public API
// (sim/saga.h): a saga definition's safety and final checks speak in these.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/event.h"

namespace sagasim::inv {

// The harness's own check, reported after every saga's invariants: the
// simulated broker kept the Kafka guarantees of DESIGN.md §4 (unless a fault
// deliberately broke them).
inline constexpr std::string_view kBrokerGuarantees = "broker_kafka_guarantees";

// The harness's check that every record a consumer fetched could be read:
// decoded, its schema satisfied (production dead-letters the rest).
inline constexpr std::string_view kRecordsReadable = "records_readable";

struct Violation {
  std::string invariant;
  std::string order_id;  // the saga instance (correlation id) it is about; empty when not about one
  std::string message;
  int64_t at_us = -1;    // virtual or wall time of detection, when known
};

// One record of the event log, where it sits in its topic.
struct LoggedEvent {
  std::string_view topic;  // owned by the runtime that produced the log
  int32_t partition;
  int64_t offset;
  EventPtr event;
};

}  // namespace sagasim::inv
