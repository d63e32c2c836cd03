// The run's trace: JSON Lines, one header, one record per step, one footer.
//
//   {"kind":"header","format":"sagasim-trace","version":1,"sagasim":"0.1.0",
//    "scenario":"happy-path","seed":7,"epoch":"2026-01-01T00:00:00.000Z"}
//   {"step":1,"t_us":1520,"kind":"publish","actor":"client","topic":"order-requests",
//    "partition":2,"offset":0,"event_id":"e-1","type":"PlaceOrder","order":"o-1",
//    "causation":"","traceparent":"00-<trace id>-<span id>-01","event":{...the whole envelope...}}
//   {"step":2,"t_us":3100,"kind":"deliver","actor":"order-1",...}
//   {"kind":"end","steps":5120,"trace_hash":"9c1d2f0a6b3e4c5d"}
//
// The running hash covers every field of every step and is computed whether
// or not the text is written, so a run without a trace file still has the
// same trace hash as one with it. Writing is the sink's business (the CLI's
// file writer); nothing here does I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/event.h"

namespace sagasim::sim {

enum class StepKind : uint8_t {
  Publish,    // a record appended to a partition (the event is in the log)
  Deliver,    // a consumer instance fetched a record
  Handle,     // the service handled it: detail is processed | ignored | duplicate
  State,      // a record changed: table/key, detail is its new status
  Commit,     // a consumer offset commit: offset is the next offset to read
  Timer,      // a durable timer fired
  Rebalance,  // a consumer group changed generation; detail lists the assignment
  Fault,      // a fault began or ended (detail names it)
  Lifecycle,  // an instance started, crashed, restarted, left
};
std::string_view to_string(StepKind k);

struct Step {
  StepKind kind;
  std::string_view actor;
  std::string_view topic;
  int32_t partition = -1;
  int64_t offset = -1;
  const Event* event = nullptr;
  std::string_view table;
  std::string_view key;
  std::string_view detail;
};

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void write(std::string_view line_with_newline) = 0;
};

class Trace {
 public:
  static constexpr int kVersion = 1;

  Trace(TraceSink* sink, Time epoch) : sink_(sink), epoch_(epoch) {}

  // `extra` (a JSON object) is appended to the header's fields and hashed.
  void header(std::string_view scenario, uint64_t seed, std::string_view version,
              const nlohmann::json& extra = nlohmann::json::object());
  // The same with `extra` already dumped (nlohmann's dump(-1, ' ', false,
  // replace)); "" for none.
  void header_text(std::string_view scenario, uint64_t seed, std::string_view version, std::string_view extra_text);
  void record(Time t, const Step& s);
  void footer();

  uint64_t hash() const { return hash_; }
  std::string hash_hex() const { return fmt::format("{:016x}", hash_); }
  uint64_t steps() const { return steps_; }
  bool writing() const { return sink_ != nullptr; }

 private:
  void mix(uint64_t v);
  void mix(std::string_view s);

  TraceSink* sink_;
  Time epoch_;
  uint64_t hash_ = 0x6a09e667f3bcc908ULL;
  uint64_t steps_ = 0;
  // One line at a time, reused: writing a step allocates nothing once it has
  // grown to the longest line.
  std::string buf_;
  std::string envelope_;  // a published event's JSON, reused likewise
};

// JSON string escaping for trace text (ids are plain ASCII; details may not be).
void append_json_string(fmt::memory_buffer& out, std::string_view s);
void append_json_string(std::string& out, std::string_view s);

}  // namespace sagasim::sim
