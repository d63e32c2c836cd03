#include "sim/trace.h"

#include <bit>
#include <charconv>
#include <cstring>

#include "core/codec.h"
#include "core/trace_context.h"

namespace sagasim::sim {

std::string_view to_string(StepKind k) {
  switch (k) {
    case StepKind::Publish: return "publish";
    case StepKind::Deliver: return "deliver";
    case StepKind::Handle: return "handle";
    case StepKind::State: return "state";
    case StepKind::Commit: return "commit";
    case StepKind::Timer: return "timer";
    case StepKind::Rebalance: return "rebalance";
    case StepKind::Fault: return "fault";
    case StepKind::Lifecycle: return "lifecycle";
  }
  return "?";
}

namespace {
// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one.
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  const auto c1 = static_cast<unsigned char>(s[i + 1]);
  if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f))
    return 0;  // overlong, surrogate or beyond U+10FFFF
  return n;
}
}  // namespace

namespace {
constexpr char kHex[] = "0123456789abcdef";

// Whether a byte needs more than copying: a quote, a backslash, a control
// character or a byte of a multi-byte sequence (which is validated).
inline bool plain_json_byte(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

template <class Out>
void append_json_string_to(Out& out, std::string_view s) {
  out.push_back('"');
  size_t i = 0;
  while (i < s.size() && plain_json_byte(static_cast<unsigned char>(s[i]))) ++i;
  out.append(s.substr(0, i));  // ids and names are plain ASCII: copied in one go
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out.append(std::string_view("\\\"")); break;
      case '\\': out.append(std::string_view("\\\\")); break;
      case '\n': out.append(std::string_view("\\n")); break;
      case '\r': out.append(std::string_view("\\r")); break;
      case '\t': out.append(std::string_view("\\t")); break;
      default:
        if (c < 0x20) {
          const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
          out.append(std::string_view(u, 6));
        } else if (c < 0x80) {
          out.push_back(static_cast<char>(c));
        } else if (const size_t n = utf8_sequence(s, i)) {
          out.append(s.substr(i, n));
          i += n - 1;
        } else {
          out.append(std::string_view("\\ufffd"));  // a trace line stays valid JSON text
        }
    }
  }
  out.push_back('"');
}

// The decimal digits of `v`, as fmt's "{}" writes them.
template <class Int>
inline void append_int(std::string& out, Int v) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
  out.append(digits, static_cast<size_t>(end - digits));
}

inline void append_hex16(std::string& out, uint64_t v) {
  char h[16];
  for (int i = 15; i >= 0; --i, v >>= 4) h[i] = kHex[v & 15];
  out.append(h, 16);
}

// traceparent_of(e) (core/trace_context.h), appended without building strings.
void append_traceparent(std::string& out, const Event& e) {
  if (!e.headers.empty()) {  // it may carry its own: the general path decides
    out.append(traceparent_of(e));
    return;
  }
  const std::string_view saga = e.correlation_id.empty() ? std::string_view(e.key) : std::string_view(e.correlation_id);
  out.append("00-", 3);
  append_hex16(out, trace_hash64(saga));
  append_hex16(out, trace_hash64(saga, 0x84222325cbf29ce4ULL));
  out.push_back('-');
  append_hex16(out, trace_hash64(e.event_id));
  out.append("-01", 3);
}
}  // namespace

void append_json_string(fmt::memory_buffer& out, std::string_view s) { append_json_string_to(out, s); }
void append_json_string(std::string& out, std::string_view s) { append_json_string_to(out, s); }

namespace {
// Eight bytes as a little-endian word, whatever the host's byte order.
inline uint64_t load_le64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  return w;
}

inline uint32_t load_le32(const char* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap32(w);
  return w;
}

// The last 1..7 bytes as a little-endian word (zero above them), without a
// byte loop: two overlapping loads (4..7 bytes) or three single bytes (1..3;
// overlapping bytes are equal, so OR-ing them is exact).
inline uint64_t load_le_tail(const char* p, size_t n) {
  if (n >= 4) return load_le32(p) | (static_cast<uint64_t>(load_le32(p + n - 4)) << (8 * (n - 4)));
  const auto byte = [&](size_t k) { return static_cast<uint64_t>(static_cast<unsigned char>(p[k])); };
  return byte(0) | (byte(n / 2) << (8 * (n / 2))) | (byte(n - 1) << (8 * (n - 1)));
}
}  // namespace

// A word-at-a-time multiplicative hash: cheap enough to run on every step of
// every run (tracing to a file or not), and defined on little-endian byte
// values so it is the same on every machine.
void Trace::mix(uint64_t v) {
  hash_ ^= v;
  hash_ *= 0x9e3779b97f4a7c15ULL;
  hash_ ^= hash_ >> 29;
}

void Trace::mix(std::string_view s) {
  mix(static_cast<uint64_t>(s.size()));
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) mix(load_le64(s.data() + i));
  if (i < s.size()) mix(load_le_tail(s.data() + i, s.size() - i));
}

void Trace::header(std::string_view scenario, uint64_t seed, std::string_view version, const nlohmann::json& extra) {
  header_text(scenario, seed, version,
              extra.empty() ? std::string() : extra.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void Trace::header_text(std::string_view scenario, uint64_t seed, std::string_view version, std::string_view extra_text) {
  mix(scenario);
  mix(seed);
  mix(extra_text);
  if (!sink_) return;
  buf_.clear();
  auto out = std::back_inserter(buf_);
  fmt::format_to(out, R"({{"kind":"header","format":"sagasim-trace","version":{},"sagasim":)", kVersion);
  append_json_string(buf_, version);
  buf_.append(std::string_view(R"(,"scenario":)"));
  append_json_string(buf_, scenario);
  fmt::format_to(out, R"(,"seed":{},"epoch":"{}")", seed, format_timestamp(epoch_));
  if (!extra_text.empty() && extra_text.size() > 2) {  // splice the object's members in
    buf_.push_back(',');
    buf_.append(extra_text.substr(1, extra_text.size() - 2));
  }
  buf_.push_back('}');
  buf_.push_back('\n');
  sink_->write(std::string_view(buf_.data(), buf_.size()));
}

void Trace::record(Time t, const Step& s) {
  ++steps_;
  const int64_t t_us = (t - epoch_).us;
  mix(static_cast<uint64_t>(s.kind));
  mix(static_cast<uint64_t>(t_us));
  mix(s.actor);
  mix(s.topic);
  mix(static_cast<uint64_t>(s.partition));
  mix(static_cast<uint64_t>(s.offset));
  if (s.event) {
    // An event's identity is hashed in full where it enters the log; later
    // steps name it by id, which is enough to tell any two runs apart.
    mix(s.event->event_id);
    if (s.kind == StepKind::Publish) {
      mix(s.event->type);
      mix(s.event->correlation_id);
      mix(s.event->causation_id);
    }
  }
  mix(s.table);
  mix(s.key);
  mix(s.detail);
  if (!sink_) return;

  // Written by hand, not with fmt: this runs for every step of a traced run.
  std::string& b = buf_;
  b.clear();
  b.append(R"({"step":)");
  append_int(b, steps_);
  b.append(R"(,"t_us":)");
  append_int(b, t_us);
  b.append(R"(,"kind":")");
  b.append(to_string(s.kind));
  b.append(R"(","actor":)");
  append_json_string(b, s.actor);
  if (!s.topic.empty()) {
    b.append(R"(,"topic":)");
    append_json_string(b, s.topic);
  }
  if (s.partition >= 0) {
    b.append(R"(,"partition":)");
    append_int(b, s.partition);
  }
  if (s.offset >= 0) {
    b.append(R"(,"offset":)");
    append_int(b, s.offset);
  }
  if (s.event) {
    b.append(R"(,"event_id":)");
    append_json_string(b, s.event->event_id);
    b.append(R"(,"type":)");
    append_json_string(b, s.event->type);
    b.append(R"(,"order":)");
    append_json_string(b, s.event->correlation_id);
    b.append(R"(,"causation":)");
    append_json_string(b, s.event->causation_id);
  }
  if (!s.table.empty()) {
    b.append(R"(,"table":)");
    append_json_string(b, s.table);
  }
  if (!s.key.empty()) {
    b.append(R"(,"key":)");
    append_json_string(b, s.key);
  }
  if (!s.detail.empty()) {
    b.append(R"(,"detail":)");
    append_json_string(b, s.detail);
  }
  if (s.kind == StepKind::Publish && s.event) {
    // The W3C trace context production sends as a header with this record
    // (core/trace_context.h). Derived from the event's ids, which the hash
    // covers, so it is written but not hashed again.
    b.append(R"(,"traceparent":")");
    append_traceparent(b, *s.event);
    b.push_back('"');
    // The whole envelope once, where the event enters the log, so a trace is
    // self-contained for viewers and replays.
    b.append(R"(,"event":)");
    append_event_json(b, *s.event);
  }
  b.append("}\n");
  sink_->write(b);
}

void Trace::footer() {
  if (!sink_) return;
  buf_.clear();
  fmt::format_to(std::back_inserter(buf_), R"({{"kind":"end","steps":{},"trace_hash":"{}"}})"
                                           "\n",
                 steps_, hash_hex());
  sink_->write(std::string_view(buf_.data(), buf_.size()));
}

}  // namespace sagasim::sim
