#include "sagas/order/workload.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/error.h"
#include "sim/random.h"
#include "sim/scenario.h"

namespace sagasim::saga {

using nlohmann::json;
using sim::bounded_string;
using sim::check_count;
using sim::check_id;
using sim::kMaxIdBytes;
using sim::ms_field;
using Obj = JsonObject;

namespace {

std::vector<OrderLine> parse_lines(const json& j, const std::string& path, const std::string& source) {
  if (!j.is_array() || j.empty()) throw InputError(source, path, "expected a non-empty array of order lines");
  check_count(j, path, source, kMaxLinesPerOrder, "lines in one order");
  std::vector<OrderLine> lines;
  for (size_t i = 0; i < j.size(); ++i) {
    Obj l(j[i], fmt::format("{}/{}", path, i), source);
    OrderLine line;
    line.sku = bounded_string(l, "sku", kMaxIdBytes);
    line.quantity = l.integer("quantity", 1, 1000000);
    line.price_cents = l.integer("price_cents", 0, 1000000000);
    l.finish();
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace

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
    if (const json* ia = ord.find("interarrival")) w.interarrival = sim::parse_dist(*ia, ord.at("interarrival"), source);
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

sim::Prng workload_rng(uint64_t seed) { return sim::Prng(sim::derive_seed(seed, "workload")); }

Workload materialize_reference(const Workload& w, sim::Prng& rng) {
  Workload out = w;
  if (out.customers.empty())
    for (int i = 1; i <= w.customer_count; ++i)
      out.customers.push_back({fmt::format("c-{}", i), rng.between(w.balance_cents.min, w.balance_cents.max)});
  if (out.skus.empty())
    for (int i = 1; i <= w.sku_count; ++i)
      out.skus.push_back({fmt::format("sku-{}", i), rng.between(w.stock.min, w.stock.max)});
  return out;
}

Workload materialize_workload(const Workload& w, uint64_t seed) {
  sim::Prng rng = workload_rng(seed);
  Workload out = materialize_reference(w, rng);
  if (out.orders.empty() && w.order_count > 0) {
    const OrderDraws draws(out, rng);
    std::vector<OrderSpec> orders;
    orders.reserve(draws.count());
    for (size_t i = 0; i < draws.count(); ++i) orders.push_back(draws.order(i));
    out.orders = std::move(orders);
  }
  return out;
}

OrderDraws::OrderDraws(const Workload& w, const sim::Prng& start)
    : w_(w),
      start_(start),
      count_(w.orders.empty() ? static_cast<size_t>(std::max(w.order_count, 0)) : 0),
      times_{start},
      orders_{start} {}

void OrderDraws::draw(Cursor& c, bool fill) const {
  sim::Prng& rng = c.rng;
  c.t = c.t + w_.interarrival.sample(rng);
  const size_t customer = static_cast<size_t>(rng.below(w_.customers.size()));
  const int64_t n = rng.between(w_.lines_per_order.min, w_.lines_per_order.max);
  if (fill) {
    c.last.id = id(c.drawn);
    c.last.at = c.t;
    c.last.customer = w_.customers[customer].id;
    c.last.lines.clear();
  }
  for (int64_t l = 0; l < n; ++l) {
    const size_t sku = static_cast<size_t>(rng.below(w_.skus.size()));
    const int64_t quantity = rng.between(w_.quantity.min, w_.quantity.max);
    const int64_t price = rng.between(w_.price_cents.min, w_.price_cents.max);
    if (fill) c.last.lines.push_back({w_.skus[sku].sku, quantity, price});
  }
  ++c.drawn;
}

void OrderDraws::seek(Cursor& c, size_t i, bool fill) const {
  if (i >= count_) throw InternalError(fmt::format("order {} of a workload of {}", i, count_));
  if (c.drawn > i + 1) c = Cursor{start_};  // back to the start: draw again
  while (c.drawn + 1 < i + 1) draw(c, false);
  if (c.drawn == i) draw(c, fill);
}

std::string OrderDraws::id(size_t i) { return "o-" + std::to_string(i + 1); }  // twice per order in a run's checks

Duration OrderDraws::at(size_t i) const {
  seek(times_, i, false);
  return times_.t;
}

const OrderSpec& OrderDraws::order(size_t i) const {
  seek(orders_, i, true);
  return orders_.last;
}

}  // namespace sagasim::saga
