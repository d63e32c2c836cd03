#include "core/codec.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/json_depth.h"

namespace sagasim {

using nlohmann::json;

namespace {

// Days since 1970-01-01 to a civil date and back (H. Hinnant's algorithms):
// exact integer arithmetic, independent of the C library's time zone code.
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += (m <= 2);
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

[[noreturn]] void fail(std::string_view where, std::string_view path, std::string what) {
  throw InputError(std::string(where), std::string(path), std::move(what));
}

const json& field(const json& j, const char* name, std::string_view where) {
  auto it = j.find(name);
  if (it == j.end()) fail(where, std::string("/") + name, "missing required field");
  return *it;
}

std::string string_field(const json& j, const char* name, std::string_view where, bool allow_empty) {
  const json& v = field(j, name, where);
  if (!v.is_string())
    fail(where, std::string("/") + name, std::string("expected a string, got ") + v.type_name());
  std::string s = v.get<std::string>();
  if (!allow_empty && s.empty()) fail(where, std::string("/") + name, "must not be empty");
  return s;
}

// Registered payloads (sagas/order/events.h) hold integers and strings only, and
// nlohmann converts a JSON float to an integer field with a plain cast: 2.5
// becomes 2 and 1e300 is undefined behaviour. So a float anywhere in a payload
// that has a decoder is refused, naming its path. Iterative: payloads may nest deeply.
void reject_floats(const json& payload, std::string_view where) {
  // Cheap first: no float anywhere (the rule) costs a walk without a path string.
  std::vector<const json*> scan{&payload};
  bool any = false;
  while (!scan.empty() && !any) {
    const json* v = scan.back();
    scan.pop_back();
    any = v->is_number_float();
    if (v->is_structured())
      for (const json& child : *v) scan.push_back(&child);
  }
  if (!any) return;
  std::vector<std::pair<const json*, std::string>> todo{{&payload, "/payload"}};
  while (!todo.empty()) {
    auto [v, path] = std::move(todo.back());
    todo.pop_back();
    if (v->is_number_float()) fail(where, path, fmt::format("expected an integer, got {}", v->dump()));
    if (v->is_object()) {
      for (const auto& [k, child] : v->items()) todo.emplace_back(&child, path + "/" + k);
    } else if (v->is_array()) {
      for (size_t i = 0; i < v->size(); ++i) todo.emplace_back(&(*v)[i], path + "/" + std::to_string(i));
    }
  }
}

}  // namespace

// --- PayloadRegistry ----------------------------------------------------------

void PayloadRegistry::add_decoder(std::string_view type, int version, Decoder decoder) {
  Entry& e = types_[std::string(type)];
  e.current = version;
  e.decoder = std::move(decoder);
  e.fast = nullptr;
}

void PayloadRegistry::add_fast_decoder(std::string_view type, FastDecoder decoder) {
  types_[std::string(type)].fast = std::move(decoder);
}

void PayloadRegistry::add_schema(std::string_view type, int version, std::shared_ptr<const JsonSchema> schema) {
  types_[std::string(type)].schemas[version] = std::move(schema);
}

void PayloadRegistry::add_converters(std::string_view type, int from, Converter up, Converter down) {
  Entry& e = types_[std::string(type)];
  e.up[from] = std::move(up);
  e.down[from] = std::move(down);
}

const PayloadRegistry::Entry* PayloadRegistry::entry(std::string_view type) const {
  auto it = types_.find(type);
  return it == types_.end() || !it->second.decoder ? nullptr : &it->second;
}

void PayloadRegistry::pin(std::string_view type, int version, std::string_view where) {
  auto it = types_.find(type);
  if (it == types_.end() || !it->second.decoder)
    fail(where, "", fmt::format("'{}' is not an event type this saga knows", type));
  Entry& e = it->second;
  if (version < 1 || !e.schemas.count(version)) {
    std::string known;
    for (const auto& [v, _] : e.schemas) known += fmt::format("{}v{}", known.empty() ? "" : ", ", v);
    fail(where, "", fmt::format("{} has no schema for v{} (it has {}); cannot pin it at {}", type, version,
                                known.empty() ? "none" : known, version));
  }
  for (int v = std::min(version, e.current); v < std::max(version, e.current); ++v)
    if (!e.down.count(v) || !e.up.count(v))
      fail(where, "", fmt::format("{} has no converter between v{} and v{}", type, v, v + 1));
  e.pinned = version == e.current ? 0 : version;
}

bool PayloadRegistry::knows_type(std::string_view type) const { return entry(type) != nullptr; }

int PayloadRegistry::current_version(std::string_view type) const {
  const Entry* e = entry(type);
  return e ? e->current : 0;
}

int PayloadRegistry::write_version(std::string_view type) const {
  const Entry* e = entry(type);
  return !e ? 0 : e->pinned ? e->pinned : e->current;
}

const JsonSchema* PayloadRegistry::schema(std::string_view type, int version) const {
  auto it = types_.find(type);
  if (it == types_.end()) return nullptr;
  auto s = it->second.schemas.find(version);
  return s == it->second.schemas.end() ? nullptr : s->second.get();
}

std::vector<std::pair<std::string, int>> PayloadRegistry::schemas() const {
  std::vector<std::pair<std::string, int>> out;
  for (const auto& [type, e] : types_)
    for (const auto& [v, _] : e.schemas) out.emplace_back(type, v);
  return out;
}

namespace {
// Whether filling defaults would change `v`: the common case (a current
// payload, every field written) needs no copy of the payload at all.
bool lacks_defaults(const JsonSchema& s, const json& v) {
  if (v.is_object()) {
    for (const JsonSchema::Property& p : s.properties) {
      auto it = v.find(p.name);
      if (it == v.end() ? p.schema.default_value.has_value() : lacks_defaults(p.schema, *it)) return true;
    }
  } else if (v.is_array() && s.items) {
    for (const json& x : v)
      if (lacks_defaults(*s.items, x)) return true;
  }
  return false;
}
}  // namespace

std::shared_ptr<const Payload> PayloadRegistry::decode(std::string_view type, int& version, const json& payload,
                                                       std::string_view where) const {
  const Entry* e = entry(type);
  if (!e) return std::make_shared<JsonPayload>(payload);
  const int reads_as = e->pinned ? e->pinned : e->current;
  // The payload as read, copied only when something rewrites it (defaults, a
  // projection, version converters).
  const json* p = &payload;
  json copy;
  auto writable = [&]() -> json& {
    if (p != &copy) {
      copy = payload;
      p = &copy;
    }
    return copy;
  };
  int v = version;
  if (v > reads_as) {
    // A newer producer. Read it as this build would have: by the newest
    // schema it knows, ignoring what that schema does not declare.
    const JsonSchema* s = schema(type, reads_as);
    if (!s)
      fail(where, "/schema_version",
           fmt::format("{} schema_version {} is not one this sagasim reads (it reads up to v{}, which has no schema "
                       "to judge a newer version by)",
                       type, v, reads_as));
    s->apply_defaults(writable());
    if (auto problem = s->validate(*p))
      fail(where, "/payload" + problem->path,
           fmt::format("{} v{} from a newer producer cannot be read as v{}: {}", type, v, reads_as, problem->message));
    s->project(writable());
    v = reads_as;
  } else if (const JsonSchema* s = schema(type, v)) {
    if (lacks_defaults(*s, *p)) s->apply_defaults(writable());
    if (auto problem = s->validate(*p))
      fail(where, "/payload" + problem->path, fmt::format("not a valid {} v{} payload: {}", type, v, problem->message));
  } else if (v != e->current) {
    fail(where, "/schema_version",
         fmt::format("{} schema_version {} is not one this sagasim reads (it has no schema for it)", type, v));
  }
  if (v != e->current) convert(*e, type, v, e->current, writable(), where);
  reject_floats(*p, where);
  std::shared_ptr<const Payload> out;
  try {
    out = e->decoder(*p);
  } catch (const json::exception& ex) {
    fail(where, "/payload", fmt::format("not a valid {} v{} payload: {}", type, version, ex.what()));
  }
  version = e->current;
  return out;
}

std::shared_ptr<const Payload> PayloadRegistry::decode_fast(std::string_view type, int version,
                                                            fastjson::View payload) const {
  // decode()'s plainest case only: the version this process reads, which is
  // the struct's; its schema satisfied with no default to fill; no float
  // (the fast reader has none); the decoder certain.
  const Entry* e = entry(type);
  if (!e || !e->fast || e->pinned || version != e->current) return nullptr;
  if (const JsonSchema* s = schema(type, version); s && !s->accepts(payload)) return nullptr;
  return e->fast(payload);
}

bool PayloadRegistry::writes_as_is(const Event& ev) const {
  const Entry* e = entry(ev.type);
  return !e || !e->pinned || ev.schema_version == e->pinned;
}

void PayloadRegistry::convert(const Entry& e, std::string_view type, int from, int to, json& payload,
                              std::string_view where) const {
  for (int v = from; v < to; ++v) {
    auto up = e.up.find(v);
    if (up == e.up.end()) fail(where, "/schema_version", fmt::format("{} has no upcaster from v{} to v{}", type, v, v + 1));
    up->second(payload);
  }
  for (int v = from; v > to; --v) {
    auto down = e.down.find(v - 1);
    if (down == e.down.end())
      fail(where, "/schema_version", fmt::format("{} has no converter from v{} down to v{}", type, v, v - 1));
    down->second(payload);
  }
}

int PayloadRegistry::to_wire(const Event& ev, json& payload) const {
  payload = json();
  if (ev.payload) ev.payload->to_json(payload);
  if (payload.is_null()) payload = json::object();
  const Entry* e = entry(ev.type);
  if (!e || !e->pinned || ev.schema_version == e->pinned) return ev.schema_version;
  // A converter the registry lacks was refused by pin(): reaching one here is a bug.
  try {
    convert(*e, ev.type, ev.schema_version, e->pinned, payload, "");
  } catch (const InputError& x) {
    throw InternalError(x.what());
  }
  return e->pinned;
}

namespace {
// A time's calendar parts (UTC, proleptic Gregorian).
struct Civil {
  int64_t y;
  unsigned mo, d;
  int64_t in_day;  // seconds into the day
  int64_t us;      // microseconds into the second
};
Civil civil(Time t) {
  Civil c;
  c.us = t.us - floor_div(t.us, 1000000) * 1000000;
  const int64_t secs = floor_div(t.us, 1000000);
  const int64_t days = floor_div(secs, 86400);
  c.in_day = secs - days * 86400;
  civil_from_days(days, c.y, c.mo, c.d);
  return c;
}
}  // namespace

std::string format_timestamp(Time t) {
  // Milliseconds when that is exact (the common case, and what most Kafka
  // tooling shows), microseconds otherwise: the wire form loses nothing.
  const Civil c = civil(t);
  const std::string date = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", c.y, c.mo, c.d, c.in_day / 3600,
                                       c.in_day / 60 % 60, c.in_day % 60);
  if (c.us % 1000 == 0) return fmt::format("{}.{:03}Z", date, c.us / 1000);
  return fmt::format("{}.{:06}Z", date, c.us);
}

namespace {
// YYYY-MM-DDTHH:MM:SS[.fff...]Z; fractions beyond microseconds are cut.
// Null and `out` set, or why not.
const char* scan_timestamp(std::string_view s, Time& out) {
  auto digits = [&](size_t pos, size_t n, int64_t& v) {
    if (pos + n > s.size()) return false;
    v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    return true;
  };
  int64_t y, mo, d, h, mi, sec;
  if (s.size() < 20 || !digits(0, 4, y) || s[4] != '-' || !digits(5, 2, mo) || s[7] != '-' ||
      !digits(8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(11, 2, h) || s[13] != ':' ||
      !digits(14, 2, mi) || s[16] != ':' || !digits(17, 2, sec))
    return "not RFC 3339";
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return "field out of range";
  size_t pos = 19;
  int64_t frac_us = 0;
  if (s[pos] == '.') {
    ++pos;
    int64_t scale = 100000;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac_us += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return "empty fraction";
  }
  if (pos + 1 != s.size() || (s[pos] != 'Z' && s[pos] != 'z')) return "must end in Z (UTC)";
  const int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  out = Time{((days * 86400 + h * 3600 + mi * 60 + sec) * 1000000) + frac_us};
  return nullptr;
}
}  // namespace

Time parse_timestamp(std::string_view s, std::string_view where, std::string_view path) {
  Time t;
  if (const char* why = scan_timestamp(s, t))
    fail(where, path, fmt::format("bad timestamp '{}': {} (want e.g. 2026-01-01T00:00:01.250Z)", s, why));
  return t;
}

namespace {
json envelope_to_json(const Event& e, int version, json payload) {
  json j = json::object();
  j["event_id"] = e.event_id;
  j["type"] = e.type;
  j["schema_version"] = version;
  j["key"] = e.key;
  j["occurred_at"] = format_timestamp(e.occurred_at);
  j["correlation_id"] = e.correlation_id;
  j["causation_id"] = e.causation_id;
  json h = json::object();
  for (const auto& [k, v] : e.headers) h[k] = v;
  j["headers"] = std::move(h);
  j["payload"] = payload.is_null() ? json::object() : std::move(payload);
  return j;
}

// JSON text is UTF-8: invalid bytes in an id or a payload become U+FFFD
// rather than an exception in the middle of a relay or a trace.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }
}  // namespace

json event_to_json(const Event& e) {
  json p;
  if (e.payload) e.payload->to_json(p);
  return envelope_to_json(e, e.schema_version, std::move(p));
}

namespace {
// format_timestamp's text, written without fmt for the years 0000-9999.
void append_timestamp(std::string& out, Time t) {
  const auto [y, mo, d, in_day, us] = civil(t);
  if (y < 0 || y > 9999) {
    out += format_timestamp(t);
    return;
  }
  char b[27];
  auto put = [&](int at, int64_t v, int n) {
    for (int i = n - 1; i >= 0; --i, v /= 10) b[at + i] = static_cast<char>('0' + v % 10);
  };
  put(0, y, 4);
  b[4] = '-';
  put(5, mo, 2);
  b[7] = '-';
  put(8, d, 2);
  b[10] = 'T';
  put(11, in_day / 3600, 2);
  b[13] = ':';
  put(14, in_day / 60 % 60, 2);
  b[16] = ':';
  put(17, in_day % 60, 2);
  b[19] = '.';
  size_t n;
  if (us % 1000 == 0) {
    put(20, us / 1000, 3);
    n = 23;
  } else {
    put(20, us, 6);
    n = 26;
  }
  b[n++] = 'Z';
  out.append(b, n);
}

// dump(event_to_json(e)) byte for byte, without building the JSON value: the
// keys in nlohmann's (sorted) order, headers as its map keeps them (sorted,
// the last of equal keys).
void append_envelope(std::string& out, const Event& e, int version) {
  using fastjson::write_string;
  out += "{\"causation_id\":";
  write_string(out, e.causation_id);
  out += ",\"correlation_id\":";
  write_string(out, e.correlation_id);
  out += ",\"event_id\":";
  write_string(out, e.event_id);
  out += ",\"headers\":{";
  if (!e.headers.empty()) {
    std::vector<const std::pair<std::string, std::string>*> hs;
    hs.reserve(e.headers.size());
    for (const auto& h : e.headers) hs.push_back(&h);
    std::stable_sort(hs.begin(), hs.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    bool first = true;
    for (size_t i = 0; i < hs.size(); ++i) {
      if (i + 1 < hs.size() && hs[i + 1]->first == hs[i]->first) continue;  // a later value wins
      if (!first) out += ',';
      first = false;
      write_string(out, hs[i]->first);
      out += ':';
      write_string(out, hs[i]->second);
    }
  }
  out += "},\"key\":";
  write_string(out, e.key);
  out += ",\"occurred_at\":\"";
  append_timestamp(out, e.occurred_at);
  out += "\",\"payload\":";
  if (e.payload) {
    e.payload->write_json(out);
  } else {
    out += "{}";
  }
  out += ",\"schema_version\":";
  fastjson::write_integer(out, version);
  out += ",\"type\":";
  write_string(out, e.type);
  out += '}';
}

std::string encode_envelope(const Event& e, int version) {
  std::string out;
  out.reserve(320);
  append_envelope(out, e, version);
  return out;
}
}  // namespace

void append_event_json(std::string& out, const Event& e) { append_envelope(out, e, e.schema_version); }

std::string encode_event(const Event& e) { return encode_envelope(e, e.schema_version); }

json event_to_json(const Event& e, const PayloadRegistry& registry) {
  json p;
  const int version = registry.to_wire(e, p);
  return envelope_to_json(e, version, std::move(p));
}

std::string encode_event_reference(const Event& e) { return dump(event_to_json(e)); }

std::string encode_event(const Event& e, const PayloadRegistry& registry) {
  if (registry.writes_as_is(e)) return encode_envelope(e, e.schema_version);
  return dump(event_to_json(e, registry));
}

Event event_from_json(const json& j, const PayloadRegistry* registry, std::string_view where) {
  if (!j.is_object()) fail(where, "", std::string("an event must be a JSON object, got ") + j.type_name());
  static constexpr const char* kKnown[] = {"event_id",       "type",         "schema_version",
                                           "key",            "occurred_at",  "correlation_id",
                                           "causation_id",   "headers",      "payload"};
  for (const auto& [k, _] : j.items()) {
    bool known = false;
    for (const char* n : kKnown) known = known || k == n;
    if (!known) fail(where, "/" + k, "unknown envelope field");
  }
  Event e;
  e.event_id = string_field(j, "event_id", where, false);
  e.type = string_field(j, "type", where, false);
  const json& v = field(j, "schema_version", where);
  if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 1000000)
    fail(where, "/schema_version", "expected a positive integer");
  e.schema_version = v.get<int>();
  e.key = string_field(j, "key", where, true);
  e.occurred_at = parse_timestamp(string_field(j, "occurred_at", where, false), where, "/occurred_at");
  e.correlation_id = string_field(j, "correlation_id", where, true);
  e.causation_id = string_field(j, "causation_id", where, true);
  if (auto it = j.find("headers"); it != j.end()) {
    if (!it->is_object()) fail(where, "/headers", "expected an object of string values");
    for (const auto& [k, hv] : it->items()) {
      if (!hv.is_string()) fail(where, "/headers/" + k, "header values must be strings");
      e.headers.emplace_back(k, hv.get<std::string>());
    }
  }
  const json& p = field(j, "payload", where);
  if (!p.is_object()) fail(where, "/payload", std::string("expected an object, got ") + p.type_name());
  if (registry) {
    e.payload = registry->decode(e.type, e.schema_version, p, where);
  } else {
    e.payload = std::make_shared<JsonPayload>(p);
  }
  return e;
}

namespace {
// event_from_json(json::parse(text)) for text in fast_json.h's subset whose
// every field is plainly valid; nullopt otherwise (the caller then takes that
// path, which accepts what this declines or words why not).
std::optional<Event> decode_fast(std::string_view text, const PayloadRegistry& registry) {
  thread_local std::vector<fastjson::Node> nodes;
  if (!fastjson::parse(text, nodes)) return std::nullopt;
  const fastjson::View root(nodes.data());
  if (!root.is_object()) return std::nullopt;
  enum { kEventId, kType, kVersion, kKey, kOccurredAt, kCorrelation, kCausation, kHeaders, kPayload, kFields };
  static constexpr std::string_view kNames[kFields] = {"event_id",       "type",         "schema_version",
                                                       "key",            "occurred_at",  "correlation_id",
                                                       "causation_id",   "headers",      "payload"};
  std::optional<fastjson::View> f[kFields];
  bool known = true;
  root.members([&](std::string_view k, fastjson::View v) {
    for (int i = 0; i < kFields; ++i)
      if (k == kNames[i]) {
        f[i] = v;
        return;
      }
    known = false;
  });
  if (!known) return std::nullopt;
  for (int i : {kEventId, kType, kKey, kOccurredAt, kCorrelation, kCausation})
    if (!f[i] || !f[i]->is_string()) return std::nullopt;
  if (f[kEventId]->str().empty() || f[kType]->str().empty() || f[kOccurredAt]->str().empty()) return std::nullopt;
  if (!f[kVersion] || !f[kVersion]->is_integer() || f[kVersion]->integer() < 1 || f[kVersion]->integer() > 1000000)
    return std::nullopt;
  if (!f[kPayload] || !f[kPayload]->is_object()) return std::nullopt;
  Event e;
  if (scan_timestamp(f[kOccurredAt]->str(), e.occurred_at)) return std::nullopt;
  const std::string_view type = f[kType]->str();
  const int version = static_cast<int>(f[kVersion]->integer());
  e.payload = registry.decode_fast(type, version, *f[kPayload]);
  if (!e.payload) return std::nullopt;
  if (f[kHeaders]) {
    if (!f[kHeaders]->is_object()) return std::nullopt;
    bool strings = true;
    e.headers.reserve(f[kHeaders]->size());
    f[kHeaders]->members([&](std::string_view k, fastjson::View v) {
      strings = strings && v.is_string();
      if (strings) e.headers.emplace_back(k, v.str());
    });
    if (!strings) return std::nullopt;
    // As nlohmann's map iterates them (the parser let no duplicate through).
    std::sort(e.headers.begin(), e.headers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  e.event_id = f[kEventId]->str();
  e.type = type;
  e.schema_version = registry.current_version(type);
  e.key = f[kKey]->str();
  e.correlation_id = f[kCorrelation]->str();
  e.causation_id = f[kCausation]->str();
  return e;
}
}  // namespace

Event decode_event(std::string_view text, const PayloadRegistry* registry, std::string_view where) {
  if (registry)
    if (std::optional<Event> e = decode_fast(text, *registry)) return std::move(*e);
  return decode_event_reference(text, registry, where);
}

Event decode_event_reference(std::string_view text, const PayloadRegistry* registry, std::string_view where) {
  if (const auto deep = json_too_deep(text))
    fail(where, "", fmt::format("JSON nested deeper than {} levels (byte {})", kMaxJsonDepth, *deep));
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& ex) {
    fail(where, "", fmt::format("not valid JSON (byte {}): {}", ex.byte, ex.what()));
  } catch (const json::out_of_range& ex) {
    // json::parse reports a number too big for a double (1e999) as out_of_range.406, not parse_error.
    fail(where, "", fmt::format("not valid JSON: {}", ex.what()));
  }
  return event_from_json(j, registry, where);
}

}  // namespace sagasim
