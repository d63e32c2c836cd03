#include "sim/scenario.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"
#include "core/file.h"
#include "core/json_depth.h"
#include "core/json_reader.h"

namespace sagasim::sim {

using nlohmann::json;

using Obj = JsonObject;

namespace {
constexpr double kMaxMs = 86400000.0 * 365;  // a year of virtual time
}  // namespace

DurationDist parse_dist(const json& j, const std::string& path, const std::string& source) {
  Obj o(j, path, source);
  const std::string kind = o.string("dist");
  DurationDist d;
  if (kind == "constant") {
    d = DurationDist::constant_ms(o.number("ms", 0, kMaxMs));
  } else if (kind == "uniform") {
    const double lo = o.number("min_ms", 0, kMaxMs), hi = o.number("max_ms", 0, kMaxMs);
    if (lo > hi) o.fail(o.at("min_ms"), fmt::format("min_ms {} is greater than max_ms {}", lo, hi));
    d = DurationDist::uniform_ms(lo, hi);
    o.finish();
    return d;
  } else if (kind == "exponential") {
    d = DurationDist::exponential_ms(o.number("mean_ms", 0, kMaxMs));
  } else if (kind == "normal") {
    d.kind = DurationDist::Kind::Normal;
    d.a = o.number("mean_ms", 0, kMaxMs) * 1000;
    d.b = o.number("stddev_ms", 0, kMaxMs) * 1000;
  } else if (kind == "lognormal") {
    d.kind = DurationDist::Kind::LogNormal;
    d.a = o.number("median_ms", 0, kMaxMs) * 1000;
    d.b = o.number("sigma", 0, 10);
  } else {
    o.fail(o.at("dist"), fmt::format("unknown distribution '{}' (want constant, uniform, exponential, normal or lognormal)", kind));
  }
  d.min_us = static_cast<int64_t>(o.number("min_ms", 0, kMaxMs, 0) * 1000);
  const double max_ms = o.number("max_ms", 0, kMaxMs, kMaxMs);
  d.max_us = static_cast<int64_t>(max_ms * 1000);
  if (d.min_us > d.max_us) o.fail(o.at("min_ms"), "min_ms is greater than max_ms");
  o.finish();
  return d;
}

std::string bounded_string(Obj& o, const char* key, size_t max, std::optional<std::string> def) {
  std::string v = o.string(key, std::move(def));
  if (v.size() > max) o.fail(o.at(key), fmt::format("{} bytes long; the limit is {}", v.size(), max));
  return v;
}

void check_count(const json& j, const std::string& path, const std::string& source, int64_t max, const char* what) {
  if (j.is_array() && j.size() > static_cast<size_t>(max))
    throw InputError(source, path, fmt::format("{} {}: more than the limit of {}", j.size(), what, max));
}

void check_id(Obj& o, const std::string& id, const char* key, std::set<std::string>& seen) {
  if (id.empty()) o.fail(o.at(key), "must not be empty");
  if (!seen.insert(id).second) o.fail(o.at(key), fmt::format("duplicate id '{}'", id));
}

Duration ms_field(JsonObject& o, const char* key, double def_ms) {
  return Duration{std::llround(o.number(key, 0, kMaxMs, def_ms) * 1000)};
}

namespace {
std::string join_or(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return out;
}
}  // namespace

int Scenario::instances_of(std::string_view service) const {
  for (const auto& [name, n] : instances)
    if (name == service) return n;
  return 0;
}

std::vector<std::string> Scenario::services() const {
  std::vector<std::string> out;
  for (const auto& [name, n] : instances) out.push_back(name);
  return out;
}

void Scenario::settings_mismatch(const char* wanted) const {
  throw InternalError(fmt::format("scenario {}: the {} saga's settings are {}, not the {} its code asked for", source,
                                  saga ? std::string(saga->name()) : "(no)",
                                  saga_settings ? typeid(*saga_settings).name() : "absent", wanted));
}

namespace {
// The definition the scenario's "saga": {"name": ...} names.
std::shared_ptr<const SagaDefinition> saga_named(Obj& root, const SagaRegistry& sagas) {
  const json* sg = root.find("saga");
  if (!sg)
    root.fail("/saga", fmt::format("missing required field: every scenario names its saga, as \"saga\": "
                                   "{{\"name\": \"...\"}} (known: {})",
                                   sagas.known()));
  if (!sg->is_object()) root.fail("/saga", fmt::format("expected an object naming the saga (known: {})", sagas.known()));
  const auto name = sg->find("name");
  if (name == sg->end())
    root.fail("/saga/name", fmt::format("missing required field: the saga this scenario runs (known: {})", sagas.known()));
  if (!name->is_string()) root.fail("/saga/name", fmt::format("expected a string (known sagas: {})", sagas.known()));
  auto def = sagas.find(name->get<std::string>());
  if (!def)
    root.fail("/saga/name", fmt::format("unknown saga '{}' (known: {})", name->get<std::string>(), sagas.known()));
  return def;
}
}  // namespace

Scenario parse_scenario(const json& j, const std::string& source, std::shared_ptr<const SagaDefinition> saga) {
  return parse_scenario(j, source, SagaRegistry{std::move(saga)});
}

Scenario parse_scenario(const json& j, const std::string& source, const SagaRegistry& sagas) {
  Obj root(j, "", source);
  Scenario s;
  s.source = source;
  s.saga = saga_named(root, sagas);
  const SagaDefinition& def = *s.saga;
  const int64_t version = root.integer("format_version", 1, 1000);
  if (version != 1)
    root.fail("/format_version", fmt::format("this sagasim reads format_version 1, the file has {}", version));
  s.name = bounded_string(root, "name", kMaxIdBytes);
  if (s.name.empty()) root.fail("/name", "must not be empty");
  s.description = bounded_string(root, "description", kMaxDescriptionBytes, "");
  if (const json* seed = root.find("seed")) {
    if (!seed->is_number_unsigned()) root.fail("/seed", "expected a non-negative integer");
    s.seed = seed->get<uint64_t>();
  }

  const std::vector<std::string> styles = def.styles();
  if (root.find("style")) {
    if (styles.empty()) root.fail("/style", fmt::format("the {} saga has no styles to choose from", def.name()));
    s.style = root.string("style");
    if (std::find(styles.begin(), styles.end(), s.style) == styles.end())
      root.fail("/style", fmt::format("unknown style '{}' (want {})", s.style, join_or(styles)));
  } else if (!styles.empty()) {
    s.style = styles.front();
  }
  for (std::string& name : def.services(s.style)) s.instances.emplace_back(std::move(name), 1);
  s.topics = def.topics(s.style);
  if (s.instances.empty() || s.topics.empty())
    throw InternalError(fmt::format("saga {} names no services or no topics", def.name()));

  if (const json* t = root.find("topology")) {
    Obj o(*t, "/topology", source);
    s.partitions = static_cast<int32_t>(o.integer("partitions", 1, kMaxPartitions, 3));
    if (const json* inst = o.find("instances")) {
      Obj i(*inst, "/topology/instances", source);
      for (auto& [name, n] : s.instances) n = static_cast<int>(i.integer(name.c_str(), 1, kMaxInstances, 1));
      i.finish();
    }
    s.idempotent_producer = o.boolean("idempotent_producer", true);
    s.max_in_flight = static_cast<int>(o.integer("max_in_flight", 1, 5, 5));
    o.finish();
  }

  if (const json* b = root.find("broker")) {
    Obj o(*b, "/broker", source);
    if (const json* d = o.find("produce_latency")) s.broker.produce_latency = parse_dist(*d, "/broker/produce_latency", source);
    if (const json* d = o.find("ack_latency")) s.broker.ack_latency = parse_dist(*d, "/broker/ack_latency", source);
    if (const json* d = o.find("delivery_latency")) s.broker.delivery_latency = parse_dist(*d, "/broker/delivery_latency", source);
    s.broker.request_timeout = ms_field(o, "request_timeout_ms", 30000);
    s.broker.retry_backoff = ms_field(o, "retry_backoff_ms", 100);
    s.broker.session_timeout = ms_field(o, "session_timeout_ms", 10000);
    s.broker.rebalance_delay = ms_field(o, "rebalance_delay_ms", 100);
    if (s.broker.request_timeout.us <= 0) o.fail("/broker/request_timeout_ms", "must be greater than 0");
    o.finish();
  }

  {
    Obj o(*root.find("saga"), "/saga", source);
    (void)o.string("name");  // read by saga_named
    s.liveness_bound = ms_field(o, "liveness_bound_ms", 60000);
    def.parse_settings(o, s);
    o.finish();
  }
  if (const json* r = root.find("run")) {
    Obj o(*r, "/run", source);
    s.max_virtual = ms_field(o, "max_virtual_ms", 3600000);
    if (s.max_virtual.us <= 0) o.fail("/run/max_virtual_ms", "must be greater than 0");
    o.finish();
  }

  def.parse_workload(root, s);

  if (const json* w = root.find("wire")) {
    if (w->is_boolean()) {
      s.wire = w->get<bool>();
    } else {
      Obj o(*w, "/wire", source);
      s.wire = true;
      if (const json* v = o.find("versions")) {
        Obj versions(*v, "/wire/versions", source);
        for (const auto& [id, spec] : v->items()) {
          const std::string path = "/wire/versions/" + id;
          const size_t dash = id.rfind('-');
          int n = 0;
          const std::string service = dash == std::string::npos ? id : id.substr(0, dash);
          if (dash != std::string::npos) std::from_chars(id.data() + dash + 1, id.data() + id.size(), n);
          const int count = s.instances_of(service);
          if (n < 1 || n > count || id != fmt::format("{}-{}", service, n))
            versions.fail(path, fmt::format("not an instance this scenario starts (instances are named SERVICE-N, "
                                            "N from 1 to the service's count in /topology/instances)"));
          (void)versions.find(id.c_str());
          Obj e(spec, path, source);
          VersionPin pin{id, {}, std::nullopt, path};
          const json* pins = e.find("pins");
          if (!pins) e.fail(e.at("pins"), "missing required field (an object: event type -> version, e.g. {\"OrderCreated\": 1})");
          Obj p(*pins, path + "/pins", source);
          for (const auto& [type, ver] : pins->items()) {
            pin.pins.emplace_back(type, static_cast<int>(p.integer(type.c_str(), 1, 1000)));
          }
          p.finish();
          if (e.find("upgrade_at_ms")) pin.upgrade_at = ms_field(e, "upgrade_at_ms", 0);
          e.finish();
          s.versions.push_back(std::move(pin));
        }
        versions.finish();
      }
      o.finish();
    }
  }

  if (const json* f = root.find("faults")) {
    if (!f->is_array()) root.fail("/faults", "expected an array of faults");
    check_count(*f, "/faults", source, kMaxFaults, "fault entries");
    s.faults = *f;
  }
  root.finish();
  s.spec = j;
  return s;
}

Scenario with_style(const Scenario& scenario, const std::string& style) {
  if (style == scenario.style) return scenario;
  json j = scenario.spec;
  j["style"] = style;
  return parse_scenario(j, scenario.source + " (--style " + style + ")", SagaRegistry{scenario.saga});
}

Scenario load_scenario_file(const std::string& path, std::shared_ptr<const SagaDefinition> saga) {
  return load_scenario_file(path, SagaRegistry{std::move(saga)});
}

Scenario load_scenario_file(const std::string& path, const SagaRegistry& sagas) {
  const std::string text =
      read_file_bounded(path, "scenario file", kMaxScenarioFileBytes,
                        " (use count generators for big workloads; docs/scenario-format.md#limits)");
  // "file:line:col" of a byte offset (0-based).
  auto at_byte = [&](size_t byte) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return fmt::format("{}:{}:{}", path, line, col);
  };
  if (text.empty()) throw InputError(path, "", "empty file: not a scenario (docs/scenario-format.md)");
  if (const auto deep = json_too_deep(text))
    throw InputError(at_byte(*deep), "", fmt::format("JSON nested deeper than {} levels (byte {})", kMaxJsonDepth, *deep));
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    // nlohmann's byte is 1-based.
    throw InputError(at_byte(e.byte > 0 ? e.byte - 1 : 0), "", "not valid JSON: " + std::string(e.what()));
  } catch (const json::out_of_range& e) {
    // A number too big for a double (1e999) is out_of_range.406, not a parse_error.
    throw InputError(path, "", "not valid JSON: " + std::string(e.what()));
  }
  return parse_scenario(j, path, sagas);
}

}  // namespace sagasim::sim
