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

// Whether none of eight bytes needs more than copying (plain_json_byte for
// each, by the classic "has a byte below n" / "has a zero byte" word tests,
// which are exact about whether any byte matches).
inline bool plain_word(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
  if (w & kHighs) return false;  // a byte >= 0x80
  const uint64_t control = (w - 0x20 * kOnes) & ~w & kHighs;  // a byte < 0x20
  const uint64_t q = w ^ (0x22 * kOnes), b = w ^ (0x5c * kOnes);
  const uint64_t quote = (q - kOnes) & ~q & kHighs, backslash = (b - kOnes) & ~b & kHighs;
  return (control | quote | backslash) == 0;
}

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

// A trace line written into `buf`, used as raw storage: its size is the room
// there is, the line is what has been written so far. It only grows, so once
// it has room for the longest line, writing a step costs no allocation and no
// std::string bookkeeping per field.
class LineWriter {
 public:
  explicit LineWriter(std::string& buf) : buf_(buf) {
    if (buf_.size() < 1024) buf_.resize(1024);
    p_ = buf_.data();
    end_ = p_ + buf_.size();
  }
  template <size_t N>
  void lit(const char (&s)[N]) {
    ensure(N - 1);
    std::memcpy(p_, s, N - 1);
    p_ += N - 1;
  }
  void raw(std::string_view s) {
    ensure(s.size());
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void ch(char c) {
    ensure(1);
    *p_++ = c;
  }
  // The decimal digits of `v`, as fmt's "{}" writes them.
  template <class Int>
  void integer(Int v) {
    ensure(24);
    p_ = std::to_chars(p_, p_ + 24, v).ptr;
  }
  // append_json_string's text: plain ASCII is copied while it is checked;
  // anything else takes the general path.
  void json_string(std::string_view s) {
    ensure(s.size() + 2);
    char* q = p_;
    *q++ = '"';
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {  // eight bytes checked and copied at a time
      uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      if (!plain_word(word)) break;
      std::memcpy(q + i, &word, 8);
    }
    for (; i < s.size(); ++i) {
      const char c = s[i];
      if (!plain_json_byte(static_cast<unsigned char>(c))) break;
      q[i] = c;
    }
    if (i == s.size()) {
      q[i] = '"';
      p_ = q + i + 1;
      return;
    }
    std::string escaped;
    append_json_string_to(escaped, s);
    raw(escaped);
  }
  std::string_view line() const { return {buf_.data(), static_cast<size_t>(p_ - buf_.data())}; }

 private:
  void ensure(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) grow(n);
  }
  void grow(size_t n) {
    const size_t used = static_cast<size_t>(p_ - buf_.data());
    buf_.resize(std::max(buf_.size() * 2, used + n + 256));
    p_ = buf_.data() + used;
    end_ = buf_.data() + buf_.size();
  }
  std::string& buf_;
  char* p_;
  char* end_;
};

// traceparent_of(e) (core/trace_context.h), written without building strings.
void write_traceparent(LineWriter& w, const Event& e) {
  if (!e.headers.empty()) {  // it may carry its own: the general path decides
    w.raw(traceparent_of(e));
    return;
  }
  char derived[kTraceparentSize];
  write_derived_traceparent(e, derived);
  w.raw(std::string_view(derived, kTraceparentSize));
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
  LineWriter w(buf_);
  w.lit(R"({"step":)");
  w.integer(steps_);
  w.lit(R"(,"t_us":)");
  w.integer(t_us);
  w.lit(R"(,"kind":")");
  w.raw(to_string(s.kind));
  w.lit(R"(","actor":)");
  w.json_string(s.actor);
  if (!s.topic.empty()) {
    w.lit(R"(,"topic":)");
    w.json_string(s.topic);
  }
  if (s.partition >= 0) {
    w.lit(R"(,"partition":)");
    w.integer(s.partition);
  }
  if (s.offset >= 0) {
    w.lit(R"(,"offset":)");
    w.integer(s.offset);
  }
  if (s.event) {
    w.lit(R"(,"event_id":)");
    w.json_string(s.event->event_id);
    w.lit(R"(,"type":)");
    w.json_string(s.event->type);
    w.lit(R"(,"order":)");
    w.json_string(s.event->correlation_id);
    w.lit(R"(,"causation":)");
    w.json_string(s.event->causation_id);
  }
  if (!s.table.empty()) {
    w.lit(R"(,"table":)");
    w.json_string(s.table);
  }
  if (!s.key.empty()) {
    w.lit(R"(,"key":)");
    w.json_string(s.key);
  }
  if (!s.detail.empty()) {
    w.lit(R"(,"detail":)");
    w.json_string(s.detail);
  }
  if (s.kind == StepKind::Publish && s.event) {
    // The W3C trace context production sends as a header with this record
    // (core/trace_context.h). Derived from the event's ids, which the hash
    // covers, so it is written but not hashed again.
    w.lit(R"(,"traceparent":")");
    write_traceparent(w, *s.event);
    w.ch('"');
    // The whole envelope once, where the event enters the log, so a trace is
    // self-contained for viewers and replays.
    w.lit(R"(,"event":)");
    envelope_.clear();
    append_event_json(envelope_, *s.event);
    w.raw(envelope_);
  }
  w.lit("}\n");
  sink_->write(w.line());
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
