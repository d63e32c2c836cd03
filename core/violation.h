// What every saga's checks report, whatever the saga and whichever runtime
// judged it (the simulator, a property case, a live deployment): a violation
// of a named invariant about one saga instance, and the event log the final
// checks read. Part of the public API: a SagaDefinition's checks (sim/saga.h)
// and a saga's live checks (kafka/) speak in these.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/event.h"

namespace sagasim::inv {

// The harness's own check, reported after every saga's invariants: the
// simulated broker kept the Kafka guarantees of docs/fault-model.md (broker_kafka_guarantees) (unless a fault
// deliberately broke them).
inline constexpr std::string_view kBrokerGuarantees = "broker_kafka_guarantees";

// The harness's check that every record a consumer fetched could be read:
// decoded, its schema satisfied (production dead-letters the rest).
inline constexpr std::string_view kRecordsReadable = "records_readable";

struct Violation {
  std::string invariant;
  // The saga instance it is about (its correlation id: an order, a trip);
  // empty when it is about no one instance (a broker guarantee, a sum).
  std::string entity;
  std::string message;
  int64_t at_us = -1;  // virtual or wall time of detection, when known
};

// One record of the event log, where it sits in its topic.
struct LoggedEvent {
  std::string_view topic;  // owned by the runtime that produced the log
  int32_t partition;
  int64_t offset;
  EventPtr event;
};

}  // namespace sagasim::inv
