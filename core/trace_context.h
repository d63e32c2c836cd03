// W3C Trace Context for saga events, derived from the envelope alone.
//
//   traceparent: 00-<trace-id: 32 hex>-<parent-id: 16 hex>-01
//
// The trace id is a hash of the event's correlation id (the saga instance:
// the order), so every event of one order is in one trace, in every runtime
// and across restarts, without storing anything; the span id is a hash of the
// event id, and the parent span is the hash of its causation id. Production
// sends it as a Kafka header beside every saga record (kafka/runtime/record.h),
// so an OpenTelemetry-aware consumer or tracing backend joins the saga's trace.
// Pure functions: deterministic, no randomness, safe in every layer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/event.h"

namespace sagasim {

// FNV-1a 64 over `s`, starting from `basis`, then a murmur3 finaliser so that
// near-identical ids ("o-1", "o-2") spread over every bit.
inline uint64_t trace_hash64(std::string_view s, uint64_t basis = 0xcbf29ce484222325ULL) {
  uint64_t h = basis;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h == 0 ? 1 : h;  // W3C: an all-zero id is invalid
}

// 32 hex digits: the saga's trace.
inline std::string trace_id_of(std::string_view correlation_id) {
  return fmt::format("{:016x}{:016x}", trace_hash64(correlation_id), trace_hash64(correlation_id, 0x84222325cbf29ce4ULL));
}

// 16 hex digits: one event's span.
inline std::string span_id_of(std::string_view event_id) { return fmt::format("{:016x}", trace_hash64(event_id)); }

// The traceparent that travels with `e`: its saga's trace, its own span.
inline std::string traceparent_of(const Event& e) {
  return "00-" + trace_id_of(e.correlation_id.empty() ? e.key : e.correlation_id) + "-" + span_id_of(e.event_id) + "-01";
}

}  // namespace sagasim
