#include "kafka/runtime/record.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/trace_context.h"

namespace sagasim::kafka {

std::string dlq_topic(std::string_view topic) { return std::string(topic) + std::string(kDlqSuffix); }

std::string RecordView::where() const {
  return fmt::format("topic {} partition {} offset {}", topic, to_int(partition), to_int(offset));
}

std::variant<EventPtr, std::string> decode_record(const RecordView& record, const PayloadRegistry& registry) {
  if (record.value.empty()) return fmt::format("{}: the record has no value (a tombstone or an empty record)", record.where());
  Event e;
  try {
    e = decode_event(record.value, &registry, record.where());
  } catch (const InputError& err) {
    return std::string(err.what());
  }
  if (!record.has_key || record.key != e.key) {
    return fmt::format("{}: the record's key {} differs from the event's key '{}'; the key decides the partition, so "
                       "the saga's order would break",
                       record.where(), record.has_key ? fmt::format("'{}'", record.key) : std::string("(null)"), e.key);
  }
  // A client's trace context travels as a Kafka header (W3C Trace Context,
  // as OpenTelemetry's Kafka instrumentations send it): the event carries it
  // on, and what it causes continues the trace (core/trace_context.h). A
  // malformed one is ignored, as W3C asks.
  for (auto it = record.headers.rbegin(); it != record.headers.rend(); ++it) {
    if (it->first != kTraceparentHeader) continue;
    if (parse_traceparent(it->second)) {
      std::erase_if(e.headers, [](const auto& h) { return h.first == kTraceparentHeader; });
      e.headers.emplace_back(std::string(kTraceparentHeader), it->second);
    }
    break;
  }
  return std::make_shared<const Event>(std::move(e));
}

Headers record_headers(const Event& e) {
  Headers h;
  h.reserve(4 + e.headers.size());
  h.emplace_back("event_id", e.event_id);
  h.emplace_back("event_type", e.type);
  h.emplace_back("correlation_id", e.correlation_id);
  h.emplace_back("causation_id", e.causation_id);  // every record has one: empty for a client's command
  h.emplace_back(std::string(kTraceparentHeader), traceparent_of(e));
  for (const auto& kv : e.headers)
    if (kv.first != kTraceparentHeader) h.push_back(kv);  // said once, above
  return h;
}

Headers dlq_headers(const RecordView& record, std::string_view error, std::string_view service,
                    std::string_view instance) {
  Headers h = record.headers;
  h.emplace_back("dlq.error", std::string(error));
  h.emplace_back("dlq.topic", std::string(record.topic));
  h.emplace_back("dlq.partition", std::to_string(to_int(record.partition)));
  h.emplace_back("dlq.offset", std::to_string(to_int(record.offset)));
  h.emplace_back("dlq.service", std::string(service));
  h.emplace_back("dlq.instance", std::string(instance));
  return h;
}

}  // namespace sagasim::kafka
