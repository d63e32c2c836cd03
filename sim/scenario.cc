#include "sim/scenario.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"
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

std::vector<saga::OrderLine> parse_lines(const json& j, const std::string& path, const std::string& source) {
  if (!j.is_array() || j.empty()) throw InputError(source, path, "expected a non-empty array of order lines");
  std::vector<saga::OrderLine> lines;
  for (size_t i = 0; i < j.size(); ++i) {
    Obj l(j[i], fmt::format("{}/{}", path, i), source);
    saga::OrderLine line;
    line.sku = l.string("sku");
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
  if (customers.is_array()) {
    std::set<std::string> ids;
    for (size_t i = 0; i < customers.size(); ++i) {
      Obj c(customers[i], fmt::format("{}/customers/{}", path, i), source);
      CustomerSpec spec{c.string("id"), c.integer("balance_cents", 0, INT64_MAX / 4)};
      check_id(c, spec.id, "id", ids);
      c.finish();
      w.customers.push_back(std::move(spec));
    }
    if (w.customers.empty()) o.fail(o.at("customers"), "needs at least one customer");
  } else {
    Obj c(customers, o.at("customers"), source);
    w.customer_count = static_cast<int>(c.integer("count", 1, 10000000));
    w.balance_cents = c.range("balance_cents", 0, INT64_MAX / 4);
    c.finish();
  }

  const json& skus = o.require("skus");
  if (skus.is_array()) {
    std::set<std::string> ids;
    for (size_t i = 0; i < skus.size(); ++i) {
      Obj s(skus[i], fmt::format("{}/skus/{}", path, i), source);
      SkuSpec spec{s.string("sku"), s.integer("stock", 0, INT64_MAX / 4)};
      check_id(s, spec.sku, "sku", ids);
      s.finish();
      w.skus.push_back(std::move(spec));
    }
    if (w.skus.empty()) o.fail(o.at("skus"), "needs at least one SKU");
  } else {
    Obj s(skus, o.at("skus"), source);
    w.sku_count = static_cast<int>(s.integer("count", 1, 10000000));
    w.stock = s.range("stock", 0, INT64_MAX / 4);
    s.finish();
  }

  const json& orders = o.require("orders");
  if (orders.is_array()) {
    std::set<std::string> ids;
    for (size_t i = 0; i < orders.size(); ++i) {
      const std::string p = fmt::format("{}/orders/{}", path, i);
      Obj ord(orders[i], p, source);
      OrderSpec spec;
      spec.id = ord.string("id");
      check_id(ord, spec.id, "id", ids);
      spec.at = ms_field(ord, "at_ms", 0);
      spec.customer = ord.string("customer");
      spec.lines = parse_lines(ord.require("lines"), p + "/lines", source);
      ord.finish();
      w.orders.push_back(std::move(spec));
    }
  } else {
    Obj ord(orders, o.at("orders"), source);
    w.order_count = static_cast<int>(ord.integer("count", 0, 100000000));
    if (const json* ia = ord.find("interarrival")) w.interarrival = parse_dist(*ia, ord.at("interarrival"), source);
    w.lines_per_order = ord.range("lines", 1, 100, Range{1, 3});
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
  s.name = root.string("name");
  if (s.name.empty()) root.fail("/name", "must not be empty");
  s.description = root.string("description", "");
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
    s.partitions = static_cast<int32_t>(o.integer("partitions", 1, 1024, 3));
    if (const json* inst = o.find("instances")) {
      Obj i(*inst, "/topology/instances", source);
      for (auto& [name, n] : s.instances) n = static_cast<int>(i.integer(name.c_str(), 1, 64, 1));
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

  if (const json* f = root.find("faults")) {
    if (!f->is_array()) root.fail("/faults", "expected an array of faults");
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
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(path, "", "is a directory, not a scenario file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", "cannot open the scenario file");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    // Turn nlohmann's byte offset into a line and column.
    size_t line = 1, col = 1;
    for (size_t i = 0; i < e.byte - 1 && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw InputError(fmt::format("{}:{}:{}", path, line, col), "", "not valid JSON: " + std::string(e.what()));
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
