// The trace model: a sagasim trace (JSON Lines, see sim/trace.h) read into
// flat arrays that a timeline can draw quickly and an exporter can walk.
//
// Plain C++ and nlohmann/json only (no Qt), so `sagasim export` and the unit
// tests use it without a GUI, and so it can be tested on its own.
//
// What the model adds to the raw steps:
//   - lanes: one per service instance ("payment-2"), per consumer group or
//     other non-instance actor ("order" for rebalances, "broker"), and per
//     topic-partition ("orders[1]"). Publish steps sit on the partition they
//     append to; every other step on its actor's lane.
//   - fault spans: a fault's detail is free text ("stall: for 700 ms"); where
//     it gives a duration the fault becomes an interval over the lanes it
//     affects, otherwise an instant marker.
//   - orders: each step's order (its "order" field, or for state/timer steps
//     a "key" that is an order id), and an order's saga path through the
//     causation chain.
//
// Bad input never crashes: load() throws TraceError naming file:line.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sagasim::viewer {

// The trace's step kinds, by their names in the file. Kept here rather than
// taken from sim/trace.h so the viewer depends on the format, not the simulator.
enum class StepKind : uint8_t { Publish, Deliver, Handle, State, Commit, Timer, Rebalance, Fault, Lifecycle };
inline constexpr int kStepKindCount = 9;
std::string_view to_string(StepKind k);
std::optional<StepKind> step_kind_from(std::string_view name);

// A trace that cannot be read. what() is "file:line: message", ready to show.
class TraceError : public std::runtime_error {
 public:
  TraceError(std::string file, size_t line, std::string message);
  const std::string& file() const { return file_; }
  size_t line() const { return line_; }  // 1-based; 0 when the file itself is the problem
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  size_t line_;
  std::string message_;
};

using StrId = int32_t;  // an interned string; kNoStr for an absent field
inline constexpr StrId kNoStr = -1;

struct Step {
  uint64_t step = 0;  // the trace's own step number
  int64_t t_us = 0;   // virtual time since the epoch
  StepKind kind = StepKind::Lifecycle;
  int32_t partition = -1;
  int64_t offset = -1;
  StrId actor = kNoStr, topic = kNoStr, event_id = kNoStr, type = kNoStr, causation = kNoStr;
  StrId table = kNoStr, key = kNoStr, detail = kNoStr;
  StrId order = kNoStr;  // the "order" field, or a state/timer step's key when that is an order id
  int32_t lane = -1;     // index into TraceModel::lanes()
  int32_t service = -1;  // index into TraceModel::services(): the actor's service ("payment-2" -> "payment")
  uint32_t line = 0;     // 1-based line in the file
  uint64_t text_offset = 0;
  uint32_t text_size = 0;
};

enum class LaneKind : uint8_t { Group, Instance, Partition };

struct Lane {
  LaneKind kind = LaneKind::Instance;
  std::string name;   // unique: "payment-2", "order (group)", "broker", "orders[1]" (a partition)
  std::string owner;  // the service (Group, Instance) or the topic (Partition)
  int32_t number = -1;  // the instance number or the partition
  std::vector<uint32_t> steps;  // indices into steps(), in time order
};

struct FaultSpan {
  uint32_t step = 0;  // index into steps()
  std::string fault_class;  // "stall", "crash", ...
  int64_t begin_us = 0;
  int64_t end_us = 0;       // == begin_us when the detail gives no duration (a marker)
  bool interval = false;
  std::vector<int32_t> lanes;  // the lanes it affects, sorted
};

struct TraceHeader {
  int version = 0;
  std::string sagasim;  // the version of sagasim that wrote it
  std::string scenario;
  uint64_t seed = 0;
  std::string epoch;
  bool swarm = false;
};

// A causal link drawn along a saga path: from one step to the step it led to.
struct Link {
  uint32_t from = 0, to = 0;  // indices into steps()
};

class TraceModel {
 public:
  static constexpr int kFormatVersion = 1;

  // Reads and checks a whole trace file. Throws TraceError.
  static TraceModel load(const std::string& path);
  // The same from text in memory; `name` stands for the file in messages.
  static TraceModel parse(std::string text, const std::string& name);

  const std::string& name() const { return name_; }
  const TraceHeader& header() const { return header_; }
  const std::vector<Step>& steps() const { return steps_; }
  const std::vector<Lane>& lanes() const { return lanes_; }
  const std::vector<FaultSpan>& faults() const { return faults_; }
  const std::vector<std::string>& services() const { return services_; }
  // Order ids in natural order (o-2 before o-10), and event types by name.
  const std::vector<std::string>& orders() const { return orders_; }
  const std::vector<std::string>& event_types() const { return event_types_; }
  // Things worth telling the user that do not stop the trace being shown
  // (no end line, a step count that disagrees with the footer).
  const std::vector<std::string>& warnings() const { return warnings_; }
  bool complete() const { return complete_; }  // the end line was there
  std::string_view trace_hash() const { return trace_hash_; }

  int64_t begin_us() const { return steps_.empty() ? 0 : steps_.front().t_us; }
  int64_t end_us() const { return steps_.empty() ? 0 : steps_.back().t_us; }

  std::string_view str(StrId id) const { return id < 0 ? std::string_view() : std::string_view(strings_[static_cast<size_t>(id)]); }
  StrId find(std::string_view s) const;
  // The step's line exactly as the file has it.
  std::string_view raw_json(size_t step_index) const;
  int32_t lane_index(std::string_view lane_name) const;

  // An order's saga path: every step of that order plus every step of an
  // event linked to it by causation (its causes and its consequences),
  // sorted by index. Empty for an unknown order.
  std::vector<uint32_t> saga_path(std::string_view order) const;
  // The causal links among a path's steps: publish -> deliver -> handle -> the
  // publish it caused.
  std::vector<Link> links(const std::vector<uint32_t>& path) const;
  // Steps carrying this event id (publish, deliver, handle), in order.
  const std::vector<uint32_t>& steps_of_event(StrId event_id) const;

 private:
  TraceModel() = default;
  StrId intern(std::string_view s);
  void parse_lines(const std::string& name);
  void build_lanes();
  void build_faults();
  void build_orders();

  std::string name_;
  std::string text_;  // the whole file; steps point into it for raw_json()
  TraceHeader header_;
  std::vector<Step> steps_;
  std::vector<Lane> lanes_;
  std::vector<FaultSpan> faults_;
  std::vector<std::string> services_, orders_, event_types_, warnings_;
  std::vector<std::string> strings_;
  std::unordered_map<std::string, StrId> string_ids_;
  std::unordered_map<StrId, std::vector<uint32_t>> by_event_;
  std::unordered_map<StrId, StrId> cause_of_;  // event id -> its causation event id
  std::unordered_map<StrId, std::vector<StrId>> effects_of_;
  bool complete_ = false;
  std::string trace_hash_;
};

// "o-2" < "o-10": digit runs compare as numbers, so ids and lanes sort as people expect.
bool natural_less(std::string_view a, std::string_view b);

}  // namespace sagasim::viewer
