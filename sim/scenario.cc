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

namespace {

using Obj = JsonObject;

constexpr double kMaxMs = 86400000.0 * 365;  // a year of virtual time

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

// A string field no longer than `max` bytes (ids end up in every event and
// every trace line; a megabyte SKU would multiply through the whole run).
std::string bounded_string(Obj& o, const char* key, size_t max, std::optional<std::string> def = std::nullopt) {
  std::string v = o.string(key, std::move(def));
  if (v.size() > max) o.fail(o.at(key), fmt::format("{} bytes long; the limit is {}", v.size(), max));
  return v;
}

// An array no longer than `max` entries, checked before anything is built from it.
void check_count(const json& j, const std::string& path, const std::string& source, int64_t max, const char* what) {
  if (j.is_array() && j.size() > static_cast<size_t>(max))
    throw InputError(source, path, fmt::format("{} {}: more than the limit of {}", j.size(), what, max));
}

std::vector<saga::OrderLine> parse_lines(const json& j, const std::string& path, const std::string& source) {
  if (!j.is_array() || j.empty()) throw InputError(source, path, "expected a non-empty array of order lines");
  check_count(j, path, source, kMaxLinesPerOrder, "lines in one order");
  std::vector<saga::OrderLine> lines;
  for (size_t i = 0; i < j.size(); ++i) {
    Obj l(j[i], fmt::format("{}/{}", path, i), source);
    saga::OrderLine line;
    line.sku = bounded_string(l, "sku", kMaxIdBytes);
    line.quantity = l.integer("quantity", 1, 1000000);
    line.price_cents = l.integer("price_cents", 0, 1000000000);
    l.finish();
    lines.push_back(std::move(line));
  }
  return lines;
}

void check_id(Obj& o, const std::string& id, const char* key, std::set<std::string>& seen) {
  if (id.empty()) o.fail(o.at(key), "must not be empty");
  if (!seen.insert(id).second) o.fail(o.at(key), fmt::format("duplicate id '{}'", id));
}

}  // namespace

Duration ms_field(JsonObject& o, const char* key, double def_ms) {
  return Duration{std::llround(o.number(key, 0, kMaxMs, def_ms) * 1000)};
}

Workload parse_order_workload(const json& j, const std::string& path, const std::string& source) {
  Obj o(j, path, source);
  Workload w;

  const json& customers = o.require("customers");
  check_count(customers, o.at("customers"), source, kMaxCustomers, "customers");
  if (customers.is_array()) {
    std::set<std::string> ids;
    for (size_t i = 0; i < customers.size(); ++i) {
      Obj c(customers[i], fmt::format("{}/customers/{}", path, i), source);
      CustomerSpec spec{bounded_string(c, "id", kMaxIdBytes), c.integer("balance_cents", 0, INT64_MAX / 4)};
      check_id(c, spec.id, "id", ids);
      c.finish();
      w.customers.push_back(std::move(spec));
    }
    if (w.customers.empty()) o.fail(o.at("customers"), "needs at least one customer");
  } else {
    Obj c(customers, o.at("customers"), source);
    w.customer_count = static_cast<int>(c.integer("count", 1, kMaxCustomers));
    w.balance_cents = c.range("balance_cents", 0, INT64_MAX / 4);
    c.finish();
  }

  const json& skus = o.require("skus");
  check_count(skus, o.at("skus"), source, kMaxSkus, "SKUs");
  if (skus.is_array()) {
    std::set<std::string> ids;
    for (size_t i = 0; i < skus.size(); ++i) {
      Obj s(skus[i], fmt::format("{}/skus/{}", path, i), source);
      SkuSpec spec{bounded_string(s, "sku", kMaxIdBytes), s.integer("stock", 0, INT64_MAX / 4)};
      check_id(s, spec.sku, "sku", ids);
      s.finish();
      w.skus.push_back(std::move(spec));
    }
    if (w.skus.empty()) o.fail(o.at("skus"), "needs at least one SKU");
  } else {
    Obj s(skus, o.at("skus"), source);
    w.sku_count = static_cast<int>(s.integer("count", 1, kMaxSkus));
    w.stock = s.range("stock", 0, INT64_MAX / 4);
    s.finish();
  }

  const json& orders = o.require("orders");
  check_count(orders, o.at("orders"), source, kMaxOrders, "orders");
  if (orders.is_array()) {
    std::set<std::string> ids;
    int64_t total_lines = 0;
    for (size_t i = 0; i < orders.size(); ++i) {
      const std::string p = fmt::format("{}/orders/{}", path, i);
      Obj ord(orders[i], p, source);
      OrderSpec spec;
      spec.id = bounded_string(ord, "id", kMaxIdBytes);
      check_id(ord, spec.id, "id", ids);
      spec.at = ms_field(ord, "at_ms", 0);
      spec.customer = bounded_string(ord, "customer", kMaxIdBytes);
      spec.lines = parse_lines(ord.require("lines"), p + "/lines", source);
      total_lines += static_cast<int64_t>(spec.lines.size());
      if (total_lines > kMaxOrderLines)
        ord.fail(p + "/lines", fmt::format("the orders so far have {} lines in all: more than the limit of {}",
                                           total_lines, kMaxOrderLines));
      ord.finish();
      w.orders.push_back(std::move(spec));
    }
  } else {
    Obj ord(orders, o.at("orders"), source);
    w.order_count = static_cast<int>(ord.integer("count", 0, kMaxOrders));
    if (const json* ia = ord.find("interarrival")) w.interarrival = parse_dist(*ia, ord.at("interarrival"), source);
    w.lines_per_order = ord.range("lines", 1, kMaxLinesPerOrder, Range{1, 3});
    if (static_cast<int64_t>(w.order_count) * w.lines_per_order.max > kMaxOrderLines)
      ord.fail(ord.at("lines"), fmt::format("{} orders of up to {} lines make up to {} lines: more than the limit of {}",
                                            w.order_count, w.lines_per_order.max,
                                            static_cast<int64_t>(w.order_count) * w.lines_per_order.max, kMaxOrderLines));
    w.quantity = ord.range("quantity", 1, 1000000, Range{1, 3});
    w.price_cents = ord.range("price_cents", 0, 1000000000, Range{100, 5000});
    ord.finish();
  }
  o.finish();

  // Explicit orders must name customers and SKUs that exist: listed ones, or
  // the ones a generator makes (c-1..c-N, sku-1..sku-M).
  if (!w.orders.empty()) {
    std::set<std::string> cs, ss;
    for (const auto& c : w.customers) cs.insert(c.id);
    for (const auto& s : w.skus) ss.insert(s.sku);
    for (int i = 1; i <= w.customer_count; ++i) cs.insert(fmt::format("c-{}", i));
    for (int i = 1; i <= w.sku_count; ++i) ss.insert(fmt::format("sku-{}", i));
    for (size_t i = 0; i < w.orders.size(); ++i) {
      const auto& ord = w.orders[i];
      if (!cs.count(ord.customer))
        throw InputError(source, fmt::format("{}/orders/{}/customer", path, i),
                         fmt::format("unknown customer '{}'{}", ord.customer,
                                     w.customers.empty() ? fmt::format(" (generated customers are c-1..c-{})", w.customer_count) : ""));
      for (size_t l = 0; l < ord.lines.size(); ++l)
        if (!ss.count(ord.lines[l].sku))
          throw InputError(source, fmt::format("{}/orders/{}/lines/{}/sku", path, i, l),
                           fmt::format("unknown SKU '{}'{}", ord.lines[l].sku,
                                       w.skus.empty() ? fmt::format(" (generated SKUs are sku-1..sku-{})", w.sku_count) : ""));
    }
  }
  return w;
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

Scenario parse_scenario(const json& j, const std::string& source, std::shared_ptr<const SagaDefinition> saga) {
  Obj root(j, "", source);
  Scenario s;
  s.source = source;
  s.saga = saga ? std::move(saga) : order_saga();
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
    // Absent, it reads as {}: the saga's defaults, checked the same way.
    const json* sg = root.find("saga");
    static const json kEmpty = json::object();
    Obj o(sg ? *sg : kEmpty, "/saga", source);
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
  return parse_scenario(j, scenario.source + " (--style " + style + ")", scenario.saga);
}

Scenario load_scenario_file(const std::string& path, std::shared_ptr<const SagaDefinition> saga) {
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
  return parse_scenario(j, path, std::move(saga));
}

Workload materialize_workload(const Workload& w, uint64_t seed) {
  Workload out = w;
  Prng rng(derive_seed(seed, "workload"));
  if (out.customers.empty())
    for (int i = 1; i <= w.customer_count; ++i)
      out.customers.push_back({fmt::format("c-{}", i), rng.between(w.balance_cents.min, w.balance_cents.max)});
  if (out.skus.empty())
    for (int i = 1; i <= w.sku_count; ++i)
      out.skus.push_back({fmt::format("sku-{}", i), rng.between(w.stock.min, w.stock.max)});
  if (out.orders.empty() && w.order_count > 0) {
    Duration t{0};
    out.orders.reserve(static_cast<size_t>(w.order_count));
    for (int i = 1; i <= w.order_count; ++i) {
      t = t + w.interarrival.sample(rng);
      OrderSpec o;
      o.id = fmt::format("o-{}", i);
      o.at = t;
      o.customer = out.customers[rng.below(out.customers.size())].id;
      const int64_t n = rng.between(w.lines_per_order.min, w.lines_per_order.max);
      for (int64_t l = 0; l < n; ++l)
        o.lines.push_back({out.skus[rng.below(out.skus.size())].sku, rng.between(w.quantity.min, w.quantity.max),
                           rng.between(w.price_cents.min, w.price_cents.max)});
      out.orders.push_back(std::move(o));
    }
  }
  return out;
}

}  // namespace sagasim::sim
