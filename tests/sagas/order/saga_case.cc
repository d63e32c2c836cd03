#include "saga_case.h"

#include "sagas/order/order_saga.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace sagasim::props {

using nlohmann::json;

namespace {

constexpr int kSessionTimeoutMs = 1000;

// RapidCheck scales inRange with the test size, which would make early cases
// all-tiny (zero balances, everything at t=0). Values are drawn over their
// whole range instead; they still shrink towards the lower bound.
template <class T>
rc::Gen<T> uniform(T lo, T hi) {
  return rc::gen::resize(100, rc::gen::inRange<T>(lo, hi));
}

rc::Gen<Line> gen_line() {
  return rc::gen::build<Line>(rc::gen::set(&Line::sku, uniform(0, 4)),
                              rc::gen::set(&Line::quantity, uniform(1, 6)),
                              rc::gen::set(&Line::price_cents, uniform(1, 1001)));
}

rc::Gen<Order> gen_order() {
  return rc::gen::build<Order>(
      rc::gen::set(&Order::customer, uniform(0, 4)),
      rc::gen::set(&Order::lines, rc::gen::resize(3, rc::gen::nonEmpty(rc::gen::container<std::vector<Line>>(gen_line())))),
      rc::gen::set(&Order::at_ms, uniform(0, 2000)));
}

// Business rules are wrong at their boundaries (>, where >= was meant), and
// values drawn over a whole range rarely land there. Each customer's balance
// is, by a draw that shrinks towards the first choice, exactly the amount of
// their first order (one time in six), one cent less (one in six), or left
// as drawn; each SKU's stock likewise exactly, or one unit less than, what
// the first order that wants it asks for.
void put_at_boundaries(Case& c) {
  std::vector<size_t> by_time(c.orders.size());
  for (size_t i = 0; i < by_time.size(); ++i) by_time[i] = i;
  std::stable_sort(by_time.begin(), by_time.end(),
                   [&](size_t a, size_t b) { return c.orders[a].at_ms < c.orders[b].at_ms; });
  for (size_t k = 0; k < c.balances.size(); ++k) {
    const int choice = *uniform(0, 6);  // [0, 6): 0 exactly, 1 one short, else as drawn
    if (choice >= 2) continue;
    for (size_t i : by_time) {
      const Order& o = c.orders[i];
      if (static_cast<size_t>(o.customer) % c.balances.size() != k) continue;
      int amount = 0;
      for (const Line& l : o.lines) amount += l.quantity * l.price_cents;
      c.balances[k] = std::max(0, amount - choice);
      break;
    }
  }
  for (size_t k = 0; k < c.stock.size(); ++k) {
    const int choice = *uniform(0, 6);  // [0, 6): 0 exactly, 1 one short, else as drawn
    if (choice >= 2) continue;
    for (size_t i : by_time) {
      int wanted = 0;
      for (const Line& l : c.orders[i].lines)
        if (static_cast<size_t>(l.sku) % c.stock.size() == k) wanted += l.quantity;
      if (wanted == 0) continue;
      c.stock[k] = std::max(0, wanted - choice);
      break;
    }
  }
}

rc::Gen<Case> gen_with(int max_orders, int max_faults, std::vector<int> classes, bool force_plain_producer,
                       int exact_orders = 0) {
  return rc::gen::exec([=] {
    Case c;
    c.partitions = *uniform(1, 5);
    c.order_instances = *uniform(1, 4);
    c.payment_instances = *uniform(1, 4);
    c.inventory_instances = *uniform(1, 4);
    c.idempotent = force_plain_producer ? false : !*rc::gen::arbitrary<bool>();
    c.balances = *rc::gen::resize(4, rc::gen::nonEmpty(rc::gen::container<std::vector<int>>(uniform(0, 20001))));
    c.stock = *rc::gen::resize(4, rc::gen::nonEmpty(rc::gen::container<std::vector<int>>(uniform(0, 21))));
    c.orders = exact_orders > 0
                   ? *rc::gen::container<std::vector<Order>>(static_cast<size_t>(exact_orders), gen_order())
                   : *rc::gen::resize(max_orders, rc::gen::nonEmpty(rc::gen::container<std::vector<Order>>(gen_order())));
    c.faults = *rc::gen::resize(max_faults, rc::gen::container<std::vector<Fault>>(gen_fault(classes)));
    c.seed = *uniform<uint64_t>(1, 1000);
    put_at_boundaries(c);
    if (*uniform(0, 6) == 5) {  // one case in six ([0, 6)); shrinks to 0, without it
      c.away_across_deadlines = true;
      c.order_instances = 1;
      c.payment_instances = 1;
      c.faults.clear();  // nothing else may answer for the stalled payment or set a fresh timer
    }
    return c;
  });
}

Topology topology(const Case& c) {
  return Topology{{{"order", c.order_instances}, {"payment", c.payment_instances}, {"inventory", c.inventory_instances}},
                  {"order-requests", "orders", "payments", "inventory"},
                  c.partitions,
                  kSessionTimeoutMs};
}

}  // namespace

rc::Gen<Case> gen_case(int max_orders, int max_faults) { return gen_with(max_orders, max_faults, all_classes(), false); }

rc::Gen<Case> gen_case_with_orders(int orders, int max_faults) {
  return gen_with(orders, max_faults, all_classes(), false, orders);
}

rc::Gen<Case> gen_duplicating_case(int max_orders) {
  return gen_with(max_orders, 4, duplicating_classes(), true);
}

rc::Gen<Case> orchestrated(rc::Gen<Case> cases) {
  return rc::gen::map(std::move(cases), [](Case c) {
    c.style = "orchestration";
    return c;
  });
}

json to_scenario(const Case& c, const std::string& name) {
  json customers = json::array(), skus = json::array(), orders = json::array(), faults = json::array();
  for (size_t i = 0; i < c.balances.size(); ++i) customers.push_back({{"id", fmt::format("c-{}", i + 1)}, {"balance_cents", c.balances[i]}});
  for (size_t i = 0; i < c.stock.size(); ++i) skus.push_back({{"sku", fmt::format("sku-{}", i + 1)}, {"stock", c.stock[i]}});
  for (size_t i = 0; i < c.orders.size(); ++i) {
    const Order& o = c.orders[i];
    json lines = json::array();
    for (const Line& l : o.lines)
      lines.push_back({{"sku", fmt::format("sku-{}", l.sku % c.stock.size() + 1)}, {"quantity", l.quantity}, {"price_cents", l.price_cents}});
    orders.push_back({{"id", fmt::format("o-{}", i + 1)}, {"at_ms", o.at_ms},
                      {"customer", fmt::format("c-{}", o.customer % c.balances.size() + 1)}, {"lines", std::move(lines)}});
  }
  faults = faults_json(topology(c), c.faults);
  if (c.away_across_deadlines) {
    int last = 0;
    for (const Order& o : c.orders) last = std::max(last, o.at_ms);
    faults.push_back({{"class", "stall"}, {"target", "payment-1"}, {"at_ms", 0}, {"duration_ms", last + 6000}});
    faults.push_back({{"class", "leave"}, {"target", "order-1"}, {"at_ms", last + 200}, {"duration_ms", 3000}});
  }
  json j = {{"format_version", 1},
          {"name", name},
          {"description", "A generated property-test case (tests/sagas/order)."},
          {"seed", c.seed},
          {"topology",
           {{"partitions", c.partitions},
            {"instances", {{"order", c.order_instances}, {"payment", c.payment_instances}, {"inventory", c.inventory_instances}}},
            {"idempotent_producer", c.idempotent}}},
          {"broker",
           {{"produce_latency", {{"dist", "uniform"}, {"min_ms", 0.5}, {"max_ms", 2}}},
            {"ack_latency", {{"dist", "uniform"}, {"min_ms", 0.5}, {"max_ms", 2}}},
            {"delivery_latency", {{"dist", "uniform"}, {"min_ms", 1}, {"max_ms", 5}}},
            {"request_timeout_ms", 500},
            {"retry_backoff_ms", 50},
            {"session_timeout_ms", kSessionTimeoutMs},
            {"rebalance_delay_ms", 100}}},
          {"saga", {{"name", "order"}, {"order_timeout_ms", 1500}, {"liveness_bound_ms", 30000}}},
          // Moved, not copied: a case is built for every property check.
          {"workload", {{"customers", std::move(customers)}, {"skus", std::move(skus)}, {"orders", std::move(orders)}}},
          {"faults", std::move(faults)}};
  if (c.style != "choreography") j["style"] = c.style;  // choreography cases read exactly as before
  return j;
}

void showValue(const Case& c, std::ostream& os) {
  os << fmt::format("{} orders, {} faults, {} customers, {} SKUs, seed {}, {}{}", c.orders.size(), c.faults.size(),
                    c.balances.size(), c.stock.size(), c.seed, c.style,
                    c.away_across_deadlines ? ", the order instance away across the deadlines" : "");
}

CaseRun run_case(const Case& c, const std::string& mutant, bool keep_trace) {
  return props::run_case(to_scenario(c, "property-case"), saga::order_saga(), c.seed, mutant, keep_trace);
}

std::string write_counterexample(const Case& c, const CaseRun& o, const std::string& property, const std::string& mutant) {
  return props::write_counterexample(
      to_scenario(c, property), o, property,
      "sagasim run {path} --seed {seed}" +
          (mutant.empty() ? std::string() : " --mutant " + mutant));
}

}  // namespace sagasim::props
