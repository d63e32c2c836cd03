// Kafka records <-> saga events: the envelope on the wire, the headers that
// travel beside it, and what makes a record poison.
//
//   std::variant<EventPtr, std::string> d = decode_record(view, registry);
//   if (auto* why = std::get_if<std::string>(&d)) dead_letter(view, *why);
//
// A record is poison when it can never be handled, however often it is
// redelivered: no value (a tombstone), a value that is not a valid envelope
// (core/codec.h names the JSON path), a registered event type whose payload
// breaks its schema, or a record key that differs from the envelope's key
// (the key decides the partition, so the saga's ordering would silently
// break). An event type this service does not know is not poison: the
// service ignores it (old consumers ignore new events).
//
// Poison goes to `<topic>.dlq` with the original key, value and headers, plus
//   dlq.error      why (names topic, partition, offset and the JSON path)
//   dlq.topic      the topic it was read from
//   dlq.partition  decimal
//   dlq.offset     decimal
//   dlq.service    the service that refused it, dlq.instance the instance
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/codec.h"
#include "core/types.h"

namespace sagasim::kafka {

inline constexpr std::string_view kDlqSuffix = ".dlq";
std::string dlq_topic(std::string_view topic);

struct RecordView {
  std::string_view topic;
  PartitionId partition{0};
  Offset offset{0};
  bool has_key = false;
  std::string_view key;
  std::string_view value;
  Headers headers;
  // "topic orders partition 2 offset 17"
  std::string where() const;
};

// The event, or why the record is poison. A valid W3C `traceparent` among
// the record's Kafka headers is put into the event's headers (replacing the
// envelope's), so that what it causes continues the client's trace.
std::variant<EventPtr, std::string> decode_record(const RecordView& record, const PayloadRegistry& registry);

// Headers of an outgoing saga record: event_id, event_type, correlation_id,
// causation_id (empty for a client's command), traceparent (the one the event
// carries, else derived: core/trace_context.h), then the event's own headers
// (its traceparent said once).
Headers record_headers(const Event& e);

// Headers of a dead-lettered record (see the top of this file).
Headers dlq_headers(const RecordView& record, std::string_view error, std::string_view service,
                    std::string_view instance);

}  // namespace sagasim::kafka
