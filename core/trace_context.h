// W3C Trace Context for saga events.
//
//   traceparent: 00-<trace-id: 32 hex>-<parent-id: 16 hex>-<flags: 2 hex>
//
// Derived, by default: the trace id is a hash of the event's correlation id
// (the saga instance: the order), so every event of one order is in one
// trace, in every runtime and across restarts, without storing anything; the
// span id is a hash of the event id, and the parent span is the hash of its
// causation id.
//
// Continued, when a client started the trace: a command that arrives with a
// valid `traceparent` (a Kafka header, or the envelope's `headers`; the
// production runtime copies the Kafka header into the event's headers,
// kafka/runtime/record.h) keeps it as its own. Every event caused by an event
// that carries one (Context::emit, core/service.h) is given, in its envelope's
// `headers`, the same trace id and flags with its own span id (the hash of its
// event id); its parent span is its cause's span (for the command, the client's span).
// The simulator's events never
// carry one, so its traces (and their hashes) are unchanged. A malformed
// traceparent (W3C: version 00, a 32-hex trace id and a 16-hex span id, lower
// case, neither all zeros, 2-hex flags) is ignored: the trace is derived.
//
// Production sends it as a Kafka header beside every saga record
// (kafka/runtime/record.h), so an OpenTelemetry-aware consumer or tracing
// backend joins the saga's trace. Pure functions: deterministic, no
// randomness, safe in every layer.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
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

inline constexpr std::string_view kTraceparentHeader = "traceparent";

// A parsed W3C traceparent.
struct TraceParent {
  std::string trace_id;  // 32 lower-case hex, not all zeros
  std::string span_id;   // 16 lower-case hex, not all zeros: the sender's span
  std::string flags;     // 2 hex ("01": sampled)
  std::string to_string() const { return "00-" + trace_id + "-" + span_id + "-" + flags; }
};

// The traceparent in `s`, or nullopt when it breaks the W3C rules for
// version 00 (exactly 55 characters; lower-case hex; trace and span ids not
// all zeros).
inline std::optional<TraceParent> parse_traceparent(std::string_view s) {
  auto hex = [](std::string_view h) {
    return std::all_of(h.begin(), h.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  };
  auto zeros = [](std::string_view h) { return std::all_of(h.begin(), h.end(), [](char c) { return c == '0'; }); };
  if (s.size() != 55 || s.substr(0, 3) != "00-" || s[35] != '-' || s[52] != '-') return std::nullopt;
  const std::string_view trace = s.substr(3, 32), span = s.substr(36, 16), flags = s.substr(53, 2);
  if (!hex(trace) || !hex(span) || !hex(flags) || zeros(trace) || zeros(span)) return std::nullopt;
  return TraceParent{std::string(trace), std::string(span), std::string(flags)};
}

// The valid traceparent among `e`'s envelope headers, if any (the last one
// of that name).
inline std::optional<TraceParent> carried_traceparent(const Event& e) {
  for (auto it = e.headers.rbegin(); it != e.headers.rend(); ++it)
    if (it->first == kTraceparentHeader) return parse_traceparent(it->second);
  return std::nullopt;
}

inline constexpr size_t kTraceparentSize = 55;

// The derived traceparent of `e` ("00-" its saga's trace id "-" its own span
// id "-01"), written to out[0, kTraceparentSize) without allocating: the
// simulator's trace writes one per event step.
inline void write_derived_traceparent(const Event& e, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto hex16 = [out](size_t at, uint64_t v) {
    for (int i = 15; i >= 0; --i, v >>= 4) out[at + static_cast<size_t>(i)] = kHex[v & 15];
  };
  const std::string_view saga = e.correlation_id.empty() ? std::string_view(e.key) : std::string_view(e.correlation_id);
  std::memcpy(out, "00-", 3);
  hex16(3, trace_hash64(saga));
  hex16(19, trace_hash64(saga, 0x84222325cbf29ce4ULL));
  out[35] = '-';
  hex16(36, trace_hash64(e.event_id));
  std::memcpy(out + 52, "-01", 3);
}

// The traceparent that travels with `e`: the one it carries (a client's
// command, or an event of a continued trace), else its saga's derived trace
// and its own span.
inline std::string traceparent_of(const Event& e) {
  if (std::optional<TraceParent> carried = carried_traceparent(e)) return carried->to_string();
  std::string derived(kTraceparentSize, '0');
  write_derived_traceparent(e, derived.data());
  return derived;
}

// The traceparent of an event `event_id` caused by `cause`, when `cause`
// continues a client's trace: the cause's trace id and flags, a span of its
// own. nullopt: derive it (traceparent_of).
inline std::optional<std::string> continued_traceparent(const Event& cause, std::string_view event_id) {
  std::optional<TraceParent> parent = carried_traceparent(cause);
  if (!parent) return std::nullopt;
  parent->span_id = span_id_of(event_id);
  return parent->to_string();
}

}  // namespace sagasim
