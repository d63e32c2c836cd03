#include "viewer/trace_model.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/json_depth.h"

namespace sagasim::viewer {

namespace {

constexpr std::array<std::string_view, kStepKindCount> kKindNames = {
    "publish", "deliver", "handle", "state", "commit", "timer", "rebalance", "fault", "lifecycle"};

std::string all_kind_names() {
  std::string s;
  for (std::string_view k : kKindNames) {
    if (!s.empty()) s += ", ";
    s += k;
  }
  return s;
}

// Long lines (a publish carries its whole event) are cut in messages.
std::string clip(std::string_view s, size_t n = 80) {
  if (s.size() <= n) return std::string(s);
  return std::string(s.substr(0, n)) + "...";
}

// nlohmann's messages start "[json.exception.parse_error.101] parse error at
// line 1, column 15: ..."; every trace line is parsed on its own, so the line
// is ours to give and only the column is worth keeping.
std::string tidy_json_error(std::string what) {
  if (what.rfind("[json.exception.", 0) == 0) {
    if (size_t close = what.find("] "); close != std::string::npos) what.erase(0, close + 2);
  }
  if (size_t at = what.find("at line 1, column "); at != std::string::npos) what.replace(at, 18, "at column ");
  return what;
}

// A line that stops mid-value (a writer killed mid-line, a file cut short),
// rather than one with a wrong character in it: the parser ran out of text.
// (Not when the line held a whole value and then junk: "expected end of input".)
bool cut_short(size_t error_byte, std::string_view line, const std::string& why) {
  return error_byte >= line.size() && why.find("expected end of input") == std::string::npos;
}

// The top-level fields of one step line, read with nlohmann's SAX interface:
// publish lines carry a whole event envelope that the model does not need, and
// skipping it without building a DOM makes loading a 100,000-step trace
// several times faster.
enum class Field : uint8_t {
  Other, Kind, Step, TUs, Actor, Topic, Partition, Offset, EventId, Type, Order, Causation, Table, Key, Detail,
  Steps, TraceHash, Count
};

Field field_of(std::string_view k) {
  static const std::unordered_map<std::string_view, Field> names = {
      {"kind", Field::Kind},       {"step", Field::Step},          {"t_us", Field::TUs},
      {"actor", Field::Actor},     {"topic", Field::Topic},        {"partition", Field::Partition},
      {"offset", Field::Offset},   {"event_id", Field::EventId},   {"type", Field::Type},
      {"order", Field::Order},     {"causation", Field::Causation}, {"table", Field::Table},
      {"key", Field::Key},         {"detail", Field::Detail},      {"steps", Field::Steps},
      {"trace_hash", Field::TraceHash}};
  auto it = names.find(k);
  return it == names.end() ? Field::Other : it->second;
}

std::string_view field_name(Field f) {
  static constexpr std::array<std::string_view, static_cast<size_t>(Field::Count)> n = {
      "?",     "kind",      "step",      "t_us",  "actor", "topic",  "partition", "offset",   "event_id",
      "type",  "order",     "causation", "table", "key",   "detail", "steps",     "trace_hash"};
  return n[static_cast<size_t>(f)];
}

struct LineFields {
  static constexpr size_t kFields = static_cast<size_t>(Field::Count);
  std::array<std::string, kFields> text;
  std::array<int64_t, kFields> number{};
  std::array<bool, kFields> present{};
  std::array<bool, kFields> is_number{};
  bool object = false;
  std::string error;  // a JSON syntax error
  size_t error_byte = 0;  // where in the line the parser gave up
  std::string bad;    // a value of the wrong type

  bool has(Field f) const { return present[static_cast<size_t>(f)]; }
  const std::string& str(Field f) const { return text[static_cast<size_t>(f)]; }
  int64_t num(Field f) const { return number[static_cast<size_t>(f)]; }
};

class LineSax {
 public:
  using json = nlohmann::json;
  explicit LineSax(LineFields& out) : out_(out) {}

  bool null() { return scalar_other(); }
  bool boolean(bool) { return scalar_other(); }
  bool number_integer(json::number_integer_t v) { return number(v); }
  bool number_unsigned(json::number_unsigned_t v) {
    if (v > static_cast<uint64_t>(INT64_MAX)) return number_out_of_range();
    return number(static_cast<int64_t>(v));
  }
  bool number_float(json::number_float_t, const json::string_t&) {
    // Every number in a trace is an integer; a fraction or one too big for 64 bits is not.
    if (depth_ == 1 && field_ != Field::Other && out_.bad.empty()) out_.bad = "\"" + std::string(field_name(field_)) + "\" must be an integer";
    return scalar_other();
  }
  bool string(json::string_t& v) {
    if (depth_ == 1) {
      const auto i = static_cast<size_t>(field_);
      out_.text[i] = std::move(v);
      out_.present[i] = true;
      out_.is_number[i] = false;
    }
    return true;
  }
  bool binary(json::binary_t&) { return scalar_other(); }
  bool start_object(std::size_t) {
    if (depth_ == 0) out_.object = true;
    else if (depth_ == 1) mark_present();
    ++depth_;
    return true;
  }
  bool end_object() {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) {
    if (depth_ == 1) mark_present();
    ++depth_;
    return true;
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool key(json::string_t& k) {
    if (depth_ == 1) field_ = field_of(k);
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    out_.error = tidy_json_error(e.what());
    out_.error_byte = position;
    return false;
  }

 private:
  bool number(int64_t v) {
    if (depth_ == 1) {
      const auto i = static_cast<size_t>(field_);
      out_.number[i] = v;
      out_.present[i] = true;
      out_.is_number[i] = true;
    }
    return true;
  }
  bool number_out_of_range() {
    if (depth_ == 1 && field_ != Field::Other) out_.bad = "\"" + std::string(field_name(field_)) + "\" is out of range";
    return true;
  }
  bool scalar_other() {
    if (depth_ == 1) mark_present();
    return true;
  }
  // A value that is neither a string nor an integer: present, but neither.
  void mark_present() {
    const auto i = static_cast<size_t>(field_);
    out_.present[i] = true;
    out_.is_number[i] = false;
    out_.text[i].clear();
    if (field_ != Field::Other && out_.bad.empty()) out_.bad = "\"" + std::string(field_name(field_)) + "\" has the wrong type";
  }

  LineFields& out_;
  int depth_ = 0;
  Field field_ = Field::Other;
};

// "payment-2" -> ("payment", 2); anything else is not an instance.
std::optional<std::pair<std::string, int32_t>> split_instance(std::string_view actor) {
  const size_t dash = actor.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 >= actor.size() || actor.size() - dash > 9) return std::nullopt;
  int32_t n = 0;
  for (size_t i = dash + 1; i < actor.size(); ++i) {
    if (actor[i] < '0' || actor[i] > '9') return std::nullopt;
    n = n * 10 + (actor[i] - '0');
  }
  return std::make_pair(std::string(actor.substr(0, dash)), n);
}

// "inventory[1]", not Kafka's "inventory-1": that is also the name of an
// inventory instance, and lanes must be told apart.
std::string partition_lane_name(const std::string& topic, int32_t partition) {
  return topic + "[" + std::to_string(partition) + "]";
}

}  // namespace

std::string_view to_string(StepKind k) { return kKindNames[static_cast<size_t>(k)]; }

std::optional<StepKind> step_kind_from(std::string_view name) {
  for (size_t i = 0; i < kKindNames.size(); ++i)
    if (kKindNames[i] == name) return static_cast<StepKind>(i);
  return std::nullopt;
}

TraceError::TraceError(std::string file, size_t line, std::string message)
    : std::runtime_error(file + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + message),
      file_(std::move(file)),
      line_(line),
      message_(std::move(message)) {}

bool natural_less(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = a[i] >= '0' && a[i] <= '9', db = b[j] >= '0' && b[j] <= '9';
    if (da && db) {
      size_t ie = i, je = j;
      while (ie < a.size() && a[ie] >= '0' && a[ie] <= '9') ++ie;
      while (je < b.size() && b[je] >= '0' && b[je] <= '9') ++je;
      // Compare digit runs by value: strip leading zeros, then length, then digits.
      size_t is = i, js = j;
      while (is + 1 < ie && a[is] == '0') ++is;
      while (js + 1 < je && b[js] == '0') ++js;
      if (ie - is != je - js) return ie - is < je - js;
      const int c = a.substr(is, ie - is).compare(b.substr(js, je - js));
      if (c != 0) return c < 0;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

TraceModel TraceModel::load(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw TraceError(path, 0, "is a directory, not a trace file");
  // /dev/zero or /dev/urandom would be read until memory runs out.
  if (std::filesystem::is_character_file(path, ec) || std::filesystem::is_block_file(path, ec))
    throw TraceError(path, 0, "is a device, not a trace file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TraceError(path, 0, std::string("cannot open the trace: ") + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw TraceError(path, 0, "reading the trace failed");
  return parse(std::move(buf).str(), path);
}

TraceModel TraceModel::parse(std::string text, const std::string& name) {
  TraceModel m;
  m.name_ = name;
  m.text_ = std::move(text);
  m.parse_lines(name);
  m.build_lanes();
  m.build_faults();
  m.build_orders();
  return m;
}

StrId TraceModel::intern(std::string_view s) {
  if (s.empty()) return kNoStr;  // an absent field and an empty one mean the same in a trace
  auto it = string_ids_.find(std::string(s));
  if (it != string_ids_.end()) return it->second;
  const auto id = static_cast<StrId>(strings_.size());
  strings_.emplace_back(s);
  string_ids_.emplace(strings_.back(), id);
  return id;
}

StrId TraceModel::find(std::string_view s) const {
  auto it = string_ids_.find(std::string(s));
  return it == string_ids_.end() ? kNoStr : it->second;
}

std::string_view TraceModel::raw_json(size_t i) const {
  const Step& s = steps_.at(i);
  return std::string_view(text_).substr(s.text_offset, s.text_size);
}

int32_t TraceModel::lane_index(std::string_view lane_name) const {
  for (size_t i = 0; i < lanes_.size(); ++i)
    if (lanes_[i].name == lane_name) return static_cast<int32_t>(i);
  return -1;
}

void TraceModel::parse_lines(const std::string& name) {
  const std::string_view all(text_);
  size_t pos = 0;
  size_t line_no = 0;
  bool seen_header = false;
  uint64_t footer_steps = 0;
  steps_.reserve(all.size() / 180);  // a typical step line is a few hundred bytes

  while (pos < all.size()) {
    size_t nl = all.find('\n', pos);
    const bool last_without_newline = nl == std::string_view::npos;
    if (last_without_newline) nl = all.size();
    std::string_view line = all.substr(pos, nl - pos);
    const size_t line_offset = pos;
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank lines carry nothing

    // The viewer re-parses a step's raw line into a DOM to show it, and a
    // DOM recurses per level (core/json_depth.h): refuse absurd nesting here.
    if (const auto deep = json_too_deep(line))
      throw TraceError(name, line_no, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels (byte " +
                                          std::to_string(*deep) + " of the line)");
    if (!seen_header) {
      // The header is read whole: it is one line and names the format.
      nlohmann::json h;
      try {
        h = nlohmann::json::parse(line);
      } catch (const nlohmann::json::parse_error& e) {
        const std::string why = tidy_json_error(e.what());
        throw TraceError(name, line_no, std::string(cut_short(e.byte, line, why) ? "truncated header line (" : "not a sagasim trace: the first line is not JSON (") +
                                            why + "): " + clip(line));
      } catch (const nlohmann::json::out_of_range& e) {  // a number too big for a double (out_of_range.406)
        throw TraceError(name, line_no, "not a sagasim trace: the first line is not JSON (" + tidy_json_error(e.what()) +
                                            "): " + clip(line));
      }
      auto text_field = [&](const char* key) {
        return h.is_object() && h.contains(key) && h[key].is_string() ? h[key].get<std::string>() : std::string();
      };
      if (text_field("kind") != "header" || text_field("format") != "sagasim-trace")
        throw TraceError(name, line_no, "not a sagasim trace: the first line must be its header "
                                        "({\"kind\":\"header\",\"format\":\"sagasim-trace\",...}), not " + clip(line));
      if (!h.contains("version") || !h["version"].is_number_integer())
        throw TraceError(name, line_no, "the header has no integer \"version\"");
      // Compared as a 64-bit value: get<int>() would wrap 4294967297 round to 1.
      const int64_t version = h["version"].is_number_unsigned() && h["version"].get<uint64_t>() > INT64_MAX
                                  ? INT64_MAX
                                  : h["version"].get<int64_t>();
      if (version != kFormatVersion)
        throw TraceError(name, line_no, "trace format version " + std::to_string(version) +
                                            " is not supported; this sagasim reads version " +
                                            std::to_string(kFormatVersion) + " (a newer sagasim wrote it?)");
      header_.version = static_cast<int>(version);
      header_.sagasim = text_field("sagasim");
      header_.scenario = text_field("scenario");
      header_.epoch = text_field("epoch");
      if (h.contains("seed") && h["seed"].is_number_unsigned()) header_.seed = h["seed"].get<uint64_t>();
      if (h.contains("swarm") && h["swarm"].is_boolean()) header_.swarm = h["swarm"].get<bool>();
      seen_header = true;
      continue;
    }
    if (complete_) throw TraceError(name, line_no, "a line after the trace's end line: " + clip(line));

    LineFields f;
    LineSax sax(f);
    const bool ok = nlohmann::json::sax_parse(line, &sax, nlohmann::json::input_format_t::json, true);
    if (!ok || !f.error.empty()) {
      throw TraceError(name, line_no, std::string(cut_short(f.error_byte, line, f.error) ? "truncated line (" : "not valid JSON (") +
                                          (f.error.empty() ? "unreadable" : f.error) + "): " + clip(line));
    }
    if (!f.object) throw TraceError(name, line_no, "a step must be a JSON object, not " + clip(line));
    if (!f.has(Field::Kind) || f.is_number[static_cast<size_t>(Field::Kind)])
      throw TraceError(name, line_no, "the line has no \"kind\": " + clip(line));
    const std::string& kind_text = f.str(Field::Kind);
    if (kind_text == "end") {
      complete_ = true;
      if (f.has(Field::Steps) && f.is_number[static_cast<size_t>(Field::Steps)]) footer_steps = static_cast<uint64_t>(f.num(Field::Steps));
      trace_hash_ = f.str(Field::TraceHash);
      continue;
    }
    if (kind_text == "header") throw TraceError(name, line_no, "a second header: two traces joined together?");
    const std::optional<StepKind> kind = step_kind_from(kind_text);
    if (!kind)
      throw TraceError(name, line_no, "unknown step kind \"" + clip(kind_text, 40) + "\" (a sagasim trace has " +
                                          all_kind_names() + ")");
    if (!f.bad.empty()) throw TraceError(name, line_no, f.bad);
    auto need_number = [&](Field fl) {
      const auto i = static_cast<size_t>(fl);
      if (!f.present[i] || !f.is_number[i])
        throw TraceError(name, line_no, "a " + kind_text + " step needs an integer \"" + std::string(field_name(fl)) + "\"");
      return f.number[i];
    };
    auto optional_number = [&](Field fl, int64_t otherwise) {
      const auto i = static_cast<size_t>(fl);
      if (!f.present[i]) return otherwise;
      if (!f.is_number[i])
        throw TraceError(name, line_no, "\"" + std::string(field_name(fl)) + "\" must be an integer");
      return f.number[i];
    };
    auto optional_text = [&](Field fl) {
      const auto i = static_cast<size_t>(fl);
      if (f.present[i] && f.is_number[i])
        throw TraceError(name, line_no, "\"" + std::string(field_name(fl)) + "\" must be a string");
      return intern(f.text[i]);
    };

    Step s;
    s.kind = *kind;
    s.step = static_cast<uint64_t>(need_number(Field::Step));
    s.t_us = need_number(Field::TUs);
    if (!f.has(Field::Actor) || f.is_number[static_cast<size_t>(Field::Actor)] || f.str(Field::Actor).empty())
      throw TraceError(name, line_no, "a " + kind_text + " step needs an \"actor\"");
    s.actor = optional_text(Field::Actor);
    s.topic = optional_text(Field::Topic);
    s.partition = static_cast<int32_t>(std::clamp<int64_t>(optional_number(Field::Partition, -1), -1, INT32_MAX));
    s.offset = optional_number(Field::Offset, -1);
    s.event_id = optional_text(Field::EventId);
    s.type = optional_text(Field::Type);
    s.order = optional_text(Field::Order);
    s.causation = optional_text(Field::Causation);
    s.table = optional_text(Field::Table);
    s.key = optional_text(Field::Key);
    s.detail = optional_text(Field::Detail);
    s.line = static_cast<uint32_t>(line_no);
    s.text_offset = line_offset;
    s.text_size = static_cast<uint32_t>(line.size());
    steps_.push_back(s);
  }

  if (!seen_header) throw TraceError(name, line_no == 0 ? 1 : line_no, "empty file: not a sagasim trace");
  if (!complete_)
    warnings_.push_back("the trace has no end line (the run was cut short or the file is truncated); showing its " +
                        std::to_string(steps_.size()) + " steps");
  else if (footer_steps != steps_.size())
    warnings_.push_back("the end line counts " + std::to_string(footer_steps) + " steps but the file has " +
                        std::to_string(steps_.size()));
  // Traces are written in time order; a hand-edited one may not be. Everything
  // downstream (lanes, binary searches by time) wants time order.
  if (!std::is_sorted(steps_.begin(), steps_.end(), [](const Step& a, const Step& b) { return a.t_us < b.t_us; })) {
    std::stable_sort(steps_.begin(), steps_.end(), [](const Step& a, const Step& b) { return a.t_us < b.t_us; });
    warnings_.push_back("steps are not in time order; they are shown sorted by time");
  }
}

void TraceModel::build_lanes() {
  // Topics and services in the order they first appear, which is the saga's
  // own order (order-requests, orders, payments, inventory; order, payment, ...).
  std::vector<std::string> topics;
  auto topic_rank = [&](std::string_view t) {
    auto it = std::find(topics.begin(), topics.end(), t);
    if (it == topics.end()) {
      topics.emplace_back(t);
      return topics.size() - 1;
    }
    return static_cast<size_t>(it - topics.begin());
  };
  std::vector<std::string> service_order;
  std::set<std::string> has_instances;
  auto service_of = [&](std::string_view actor) {
    auto inst = split_instance(actor);
    std::string svc = inst ? inst->first : std::string(actor);
    if (inst) has_instances.insert(svc);
    if (std::find(service_order.begin(), service_order.end(), svc) == service_order.end()) service_order.push_back(svc);
    return svc;
  };
  for (const Step& s : steps_) {
    service_of(str(s.actor));
    if (s.topic != kNoStr) topic_rank(str(s.topic));
  }
  // Services with instances first, then the other actors (broker, client).
  std::stable_partition(service_order.begin(), service_order.end(),
                        [&](const std::string& s) { return has_instances.count(s) > 0; });
  services_ = service_order;
  auto service_index = [&](const std::string& svc) {
    return static_cast<int32_t>(std::find(services_.begin(), services_.end(), svc) - services_.begin());
  };

  // A broker fault that names one partition ("payments-1 has no leader for
  // 150 ms") belongs on that partition's lane.
  auto named_partition = [&](std::string_view detail) -> std::optional<std::pair<std::string, int32_t>> {
    for (const std::string& t : topics) {
      size_t at = 0;
      while ((at = detail.find(t, at)) != std::string_view::npos) {
        const size_t end = at + t.size();
        const bool starts_word = at == 0 || detail[at - 1] == ' ';
        if (starts_word && end + 1 < detail.size() && detail[end] == '-' && detail[end + 1] >= '0' && detail[end + 1] <= '9') {
          // A digit run too long for a partition number names no partition (it would overflow).
          int64_t p = 0;
          size_t k = end + 1;
          while (k < detail.size() && detail[k] >= '0' && detail[k] <= '9' && p <= INT32_MAX) p = p * 10 + (detail[k++] - '0');
          if (p <= INT32_MAX && (k == detail.size() || detail[k] == ' ' || detail[k] == ':' || detail[k] == ','))
            return std::make_pair(t, static_cast<int32_t>(p));
        }
        at = end;
      }
    }
    return std::nullopt;
  };

  std::map<std::string, int32_t> by_key;  // "i:payment-2", "g:order", "p:orders\n1"
  std::vector<Lane> lanes;
  auto lane_for = [&](LaneKind kind, const std::string& owner, int32_t number, std::string display) {
    const std::string key = (kind == LaneKind::Partition ? "p:" : kind == LaneKind::Group ? "g:" : "i:") + owner + "\n" +
                            std::to_string(number);
    auto [it, fresh] = by_key.emplace(key, static_cast<int32_t>(lanes.size()));
    if (fresh) lanes.push_back(Lane{kind, std::move(display), owner, number, {}});
    return it->second;
  };

  for (size_t i = 0; i < steps_.size(); ++i) {
    Step& s = steps_[i];
    const std::string_view actor = str(s.actor);
    const std::string svc = service_of(actor);
    s.service = service_index(svc);
    if (s.kind == StepKind::Publish && s.topic != kNoStr && s.partition >= 0) {
      const std::string topic(str(s.topic));
      s.lane = lane_for(LaneKind::Partition, topic, s.partition, partition_lane_name(topic, s.partition));
      continue;
    }
    if (auto inst = split_instance(actor)) {
      s.lane = lane_for(LaneKind::Instance, inst->first, inst->second, std::string(actor));
      continue;
    }
    if (s.kind == StepKind::Fault) {
      if (auto p = named_partition(str(s.detail))) {
        s.lane = lane_for(LaneKind::Partition, p->first, p->second, partition_lane_name(p->first, p->second));
        continue;
      }
    }
    // A consumer group (rebalances, a service-wide clock skew) or the broker.
    const bool is_group = has_instances.count(svc) > 0;
    s.lane = lane_for(LaneKind::Group, svc, -1, is_group ? svc + " (group)" : svc);
  }

  // Lane order: each service's group lane then its instances, other actors,
  // then the topic-partitions.
  std::vector<int32_t> order(lanes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
  auto rank = [&](const Lane& l) {
    if (l.kind == LaneKind::Partition) return std::make_tuple(1, topic_rank(l.owner), l.number);
    return std::make_tuple(0, static_cast<size_t>(service_index(l.owner)), l.number);
  };
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return rank(lanes[a]) < rank(lanes[b]); });
  std::vector<int32_t> new_index(lanes.size());
  lanes_.clear();
  for (size_t i = 0; i < order.size(); ++i) {
    new_index[static_cast<size_t>(order[i])] = static_cast<int32_t>(i);
    lanes_.push_back(std::move(lanes[static_cast<size_t>(order[i])]));
  }
  for (size_t i = 0; i < steps_.size(); ++i) {
    Step& s = steps_[i];
    s.lane = new_index[static_cast<size_t>(s.lane)];
    lanes_[static_cast<size_t>(s.lane)].steps.push_back(static_cast<uint32_t>(i));  // steps are in time order
  }
}

void TraceModel::build_faults() {
  // Durations as faults/injector.cc writes them: "for 700 ms", "restart in 600 ms",
  // "back in 1200 ms", "leaves again in 2000 ms", "elects a new leader (400 ms)".
  static const std::regex duration(R"((?:for |in |\()(\d+) ms\)?)");
  static const std::regex every_topic(R"(\bon every topic\b)");
  static const std::regex on_topic(R"(\bon ([A-Za-z0-9._-]+) for\b)");

  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& s = steps_[i];
    if (s.kind != StepKind::Fault) continue;
    FaultSpan f;
    f.step = static_cast<uint32_t>(i);
    const std::string detail(str(s.detail));
    const size_t colon = detail.find(':');
    f.fault_class = colon == std::string::npos ? detail : detail.substr(0, colon);
    f.begin_us = f.end_us = s.t_us;
    int64_t ms = -1;
    for (auto it = std::sregex_iterator(detail.begin(), detail.end(), duration); it != std::sregex_iterator(); ++it) {
      // The last duration named is the fault's own ("+250 ms ... for 800 ms"). A
      // hand-edited one too big for 64 bits saturates instead of throwing.
      const std::string digits = (*it)[1].str();
      if (std::from_chars(digits.data(), digits.data() + digits.size(), ms).ec != std::errc()) ms = INT64_MAX;
    }
    if (ms > 0) {
      f.interval = true;
      int64_t span_us = 0;
      if (__builtin_mul_overflow(ms, int64_t{1000}, &span_us) || __builtin_add_overflow(s.t_us, span_us, &f.end_us))
        f.end_us = INT64_MAX;  // saturate: the span runs to the end of the timeline
    }

    std::set<int32_t> affected{s.lane};
    const Lane& own = lanes_[static_cast<size_t>(s.lane)];
    std::smatch m;
    if (std::regex_search(detail, every_topic)) {
      for (size_t l = 0; l < lanes_.size(); ++l)
        if (lanes_[l].kind == LaneKind::Partition) affected.insert(static_cast<int32_t>(l));
    } else if (std::regex_search(detail, m, on_topic)) {
      for (size_t l = 0; l < lanes_.size(); ++l)
        if (lanes_[l].kind == LaneKind::Partition && lanes_[l].owner == m[1].str()) affected.insert(static_cast<int32_t>(l));
    } else if (own.kind == LaneKind::Group) {
      // A service-wide fault (a skewed clock) touches every instance of it.
      for (size_t l = 0; l < lanes_.size(); ++l)
        if (lanes_[l].kind == LaneKind::Instance && lanes_[l].owner == own.owner) affected.insert(static_cast<int32_t>(l));
    }
    f.lanes.assign(affected.begin(), affected.end());
    faults_.push_back(std::move(f));
  }
}

void TraceModel::build_orders() {
  std::set<StrId> order_ids, types;
  for (const Step& s : steps_) {
    if (s.order != kNoStr) order_ids.insert(s.order);
    if (s.type != kNoStr) types.insert(s.type);
  }
  for (size_t i = 0; i < steps_.size(); ++i) {
    Step& s = steps_[i];
    // State and timer steps name their order only as a record key.
    if (s.order == kNoStr && s.key != kNoStr && order_ids.count(s.key)) s.order = s.key;
    if (s.event_id != kNoStr) {
      by_event_[s.event_id].push_back(static_cast<uint32_t>(i));
      if (s.causation != kNoStr && !cause_of_.count(s.event_id)) {
        cause_of_[s.event_id] = s.causation;
        effects_of_[s.causation].push_back(s.event_id);
      }
    }
  }
  for (StrId o : order_ids) orders_.emplace_back(str(o));
  std::sort(orders_.begin(), orders_.end(), [](const std::string& a, const std::string& b) { return natural_less(a, b); });
  for (StrId t : types) event_types_.emplace_back(str(t));
  std::sort(event_types_.begin(), event_types_.end());
}

const std::vector<uint32_t>& TraceModel::steps_of_event(StrId event_id) const {
  static const std::vector<uint32_t> none;
  auto it = by_event_.find(event_id);
  return it == by_event_.end() ? none : it->second;
}

std::vector<uint32_t> TraceModel::saga_path(std::string_view order) const {
  const StrId o = find(order);
  if (o == kNoStr) return {};
  std::vector<uint32_t> path;
  std::set<StrId> events;
  for (size_t i = 0; i < steps_.size(); ++i) {
    if (steps_[i].order != o) continue;
    path.push_back(static_cast<uint32_t>(i));
    if (steps_[i].event_id != kNoStr) events.insert(steps_[i].event_id);
  }
  // The causation chain: walk up to the causes and down to the consequences
  // separately (not both ways from every event, which would pull in the
  // siblings of every cause).
  std::vector<StrId> todo(events.begin(), events.end());
  const std::vector<StrId> seeds = todo;
  while (!todo.empty()) {
    const StrId e = todo.back();
    todo.pop_back();
    auto it = cause_of_.find(e);
    if (it != cause_of_.end() && events.insert(it->second).second) todo.push_back(it->second);
  }
  todo = seeds;
  while (!todo.empty()) {
    const StrId e = todo.back();
    todo.pop_back();
    auto it = effects_of_.find(e);
    if (it == effects_of_.end()) continue;
    for (StrId child : it->second)
      if (events.insert(child).second) todo.push_back(child);
  }
  for (StrId e : events) {
    const auto& of = steps_of_event(e);
    path.insert(path.end(), of.begin(), of.end());
  }
  std::sort(path.begin(), path.end());
  path.erase(std::unique(path.begin(), path.end()), path.end());
  return path;
}

std::vector<Link> TraceModel::links(const std::vector<uint32_t>& path) const {
  std::vector<Link> out;
  // The latest step before `before` carrying `event`, of `kind`, by `actor`
  // (kNoStr: anyone).
  auto latest = [&](StrId event, StepKind kind, StrId actor, uint32_t before) -> std::optional<uint32_t> {
    const auto& of = steps_of_event(event);
    for (auto it = of.rbegin(); it != of.rend(); ++it) {
      if (*it >= before) continue;
      const Step& c = steps_[*it];
      if (c.kind == kind && (actor == kNoStr || c.actor == actor)) return *it;
    }
    return std::nullopt;
  };
  for (uint32_t i : path) {
    const Step& s = steps_[i];
    if (s.event_id == kNoStr) continue;
    std::optional<uint32_t> from;
    switch (s.kind) {
      case StepKind::Deliver:
        from = latest(s.event_id, StepKind::Publish, kNoStr, i);
        break;
      case StepKind::Handle:
        from = latest(s.event_id, StepKind::Deliver, s.actor, i);
        if (!from) from = latest(s.event_id, StepKind::Publish, kNoStr, i);
        break;
      case StepKind::Publish:
        if (s.causation == kNoStr) break;
        from = latest(s.causation, StepKind::Handle, s.actor, i);
        if (!from) from = latest(s.causation, StepKind::Handle, kNoStr, i);
        if (!from) from = latest(s.causation, StepKind::Publish, kNoStr, i);
        break;
      default:
        break;
    }
    if (from) out.push_back(Link{*from, i});
  }
  return out;
}

}  // namespace sagasim::viewer
