#include "sim/trace.h"

#include <bit>
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

void append_json_string(fmt::memory_buffer& out, std::string_view s) {
  out.push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out.append(std::string_view("\\\"")); break;
      case '\\': out.append(std::string_view("\\\\")); break;
      case '\n': out.append(std::string_view("\\n")); break;
      case '\r': out.append(std::string_view("\\r")); break;
      case '\t': out.append(std::string_view("\\t")); break;
      default:
        if (c < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
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

namespace {
// Eight bytes as a little-endian word, whatever the host's byte order.
inline uint64_t load_le64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  return w;
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
  if (i < s.size()) {
    uint64_t w = 0;  // the last 1..7 bytes, little-endian, without a libc call
    for (size_t b = s.size(); b-- > i;) w = (w << 8) | static_cast<unsigned char>(s[b]);
    mix(w);
  }
}

void Trace::header(std::string_view scenario, uint64_t seed, std::string_view version, const nlohmann::json& extra) {
  mix(scenario);
  mix(seed);
  const std::string extra_text = extra.empty() ? std::string() : extra.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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
    buf_.append(std::string_view(extra_text).substr(1, extra_text.size() - 2));
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

  buf_.clear();
  auto out = std::back_inserter(buf_);
  fmt::format_to(out, R"({{"step":{},"t_us":{},"kind":"{}","actor":)", steps_, t_us, to_string(s.kind));
  append_json_string(buf_, s.actor);
  if (!s.topic.empty()) {
    buf_.append(std::string_view(R"(,"topic":)"));
    append_json_string(buf_, s.topic);
  }
  if (s.partition >= 0) fmt::format_to(out, R"(,"partition":{})", s.partition);
  if (s.offset >= 0) fmt::format_to(out, R"(,"offset":{})", s.offset);
  if (s.event) {
    buf_.append(std::string_view(R"(,"event_id":)"));
    append_json_string(buf_, s.event->event_id);
    buf_.append(std::string_view(R"(,"type":)"));
    append_json_string(buf_, s.event->type);
    buf_.append(std::string_view(R"(,"order":)"));
    append_json_string(buf_, s.event->correlation_id);
    buf_.append(std::string_view(R"(,"causation":)"));
    append_json_string(buf_, s.event->causation_id);
  }
  if (!s.table.empty()) {
    buf_.append(std::string_view(R"(,"table":)"));
    append_json_string(buf_, s.table);
  }
  if (!s.key.empty()) {
    buf_.append(std::string_view(R"(,"key":)"));
    append_json_string(buf_, s.key);
  }
  if (!s.detail.empty()) {
    buf_.append(std::string_view(R"(,"detail":)"));
    append_json_string(buf_, s.detail);
  }
  if (s.kind == StepKind::Publish && s.event) {
    // The W3C trace context production sends as a header with this record
    // (core/trace_context.h). Derived from the event's ids, which the hash
    // covers, so it is written but not hashed again.
    buf_.append(std::string_view(R"(,"traceparent":")"));
    buf_.append(traceparent_of(*s.event));
    buf_.push_back('"');
    // The whole envelope once, where the event enters the log, so a trace is
    // self-contained for viewers and replays.
    buf_.append(std::string_view(R"(,"event":)"));
    buf_.append(encode_event(*s.event));
  }
  buf_.append(std::string_view("}\n"));
  sink_->write(std::string_view(buf_.data(), buf_.size()));
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
