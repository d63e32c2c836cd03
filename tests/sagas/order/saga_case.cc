#include "saga_case.h"

#include "sagas/order/order_saga.h"
#include "sagas/order/workload.h"

#include <algorithm>
#include <charconv>
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

// What every case's scenario shares, whatever the case: the broker's timing
// and the saga's settings (to_scenario writes them, run_spec reads them from
// a scenario parsed once).
const json& broker_json() {
  static const json j = {{"produce_latency", {{"dist", "uniform"}, {"min_ms", 0.5}, {"max_ms", 2}}},
                         {"ack_latency", {{"dist", "uniform"}, {"min_ms", 0.5}, {"max_ms", 2}}},
                         {"delivery_latency", {{"dist", "uniform"}, {"min_ms", 1}, {"max_ms", 5}}},
                         {"request_timeout_ms", 500},
                         {"retry_backoff_ms", 50},
                         {"session_timeout_ms", kSessionTimeoutMs},
                         {"rebalance_delay_ms", 100}};
  return j;
}
const json& saga_json() {
  static const json j = {{"name", "order"}, {"order_timeout_ms", 1500}, {"liveness_bound_ms", 30000}};
  return j;
}
constexpr const char* kDescription = "A generated property-test case (tests/sagas/order).";

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

namespace {

std::string customer_id(size_t i) { return "c-" + std::to_string(i + 1); }
std::string sku_id(size_t i) { return "sku-" + std::to_string(i + 1); }
std::string order_id(size_t i) { return "o-" + std::to_string(i + 1); }

// The case's "faults" entry: its generated faults, and the stall and leave
// that keep the order instance away across the deadlines.
json faults_of(const Case& c) {
  json faults = faults_json(topology(c), c.faults);
  if (c.away_across_deadlines) {
    int last = 0;
    for (const Order& o : c.orders) last = std::max(last, o.at_ms);
    faults.push_back({{"class", "stall"}, {"target", "payment-1"}, {"at_ms", 0}, {"duration_ms", last + 6000}});
    faults.push_back({{"class", "leave"}, {"target", "order-1"}, {"at_ms", last + 200}, {"duration_ms", 3000}});
  }
  return faults;
}

// As make_run_spec dumps a scenario for the trace header.
std::string dumped(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// What parse_scenario reads from the parts every case shares (a one-order
// case's scenario, read once): run_spec copies it and sets the rest.
const sim::Scenario& shared_scenario() {
  static const sim::Scenario s = [] {
    Case c;
    c.balances = {0};
    c.stock = {0};
    c.orders = {Order{0, {Line{}}, 0}};
    sim::Scenario t = sim::parse_scenario(to_scenario(c, "shared"), "generated case", saga::order_saga());
    t.spec = nullptr;
    t.faults = json::array();
    return t;
  }();
  return s;
}

}  // namespace

json to_scenario(const Case& c, const std::string& name) {
  json customers = json::array(), skus = json::array(), orders = json::array();
  for (size_t i = 0; i < c.balances.size(); ++i) customers.push_back({{"id", customer_id(i)}, {"balance_cents", c.balances[i]}});
  for (size_t i = 0; i < c.stock.size(); ++i) skus.push_back({{"sku", sku_id(i)}, {"stock", c.stock[i]}});
  for (size_t i = 0; i < c.orders.size(); ++i) {
    const Order& o = c.orders[i];
    json lines = json::array();
    for (const Line& l : o.lines)
      lines.push_back({{"sku", sku_id(l.sku % c.stock.size())}, {"quantity", l.quantity}, {"price_cents", l.price_cents}});
    orders.push_back({{"id", order_id(i)}, {"at_ms", o.at_ms},
                      {"customer", customer_id(o.customer % c.balances.size())}, {"lines", std::move(lines)}});
  }
  json j = {{"format_version", 1},
          {"name", name},
          {"description", kDescription},
          {"seed", c.seed},
          {"topology",
           {{"partitions", c.partitions},
            {"instances", {{"order", c.order_instances}, {"payment", c.payment_instances}, {"inventory", c.inventory_instances}}},
            {"idempotent_producer", c.idempotent}}},
          {"broker", broker_json()},
          {"saga", saga_json()},
          // Moved, not copied: a counterexample's scenario is built this way.
          {"workload", {{"customers", std::move(customers)}, {"skus", std::move(skus)}, {"orders", std::move(orders)}}},
          {"faults", faults_of(c)}};
  if (c.style != "choreography") j["style"] = c.style;  // choreography cases read exactly as before
  return j;
}

std::string scenario_text(const Case& c, const std::string& name) {
  return scenario_text(c, name, faults_of(c));
}

std::string scenario_text(const Case& c, const std::string& name, const json& faults) {
  // The members in nlohmann's (sorted) key order, integers as it writes them
  // (std::to_chars: fmt's run-time format strings cost more than the rest).
  static const std::string broker = "{\"broker\":" + dumped(broker_json()) + ",\"description\":" + dumped(kDescription);
  static const std::string saga = ",\"saga\":" + dumped(saga_json());
  std::string out;
  out.reserve(512 + 128 * c.orders.size());
  auto number = [&out](auto v) {
    char digits[24];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, v).ptr);
  };
  out += broker;
  out += ",\"faults\":";
  out += dumped(faults);
  out += ",\"format_version\":1,\"name\":";
  out += dumped(name);
  out += saga;
  out += ",\"seed\":";
  number(c.seed);
  if (c.style != "choreography") out += ",\"style\":" + dumped(c.style);
  out += ",\"topology\":{\"idempotent_producer\":";
  out += c.idempotent ? "true" : "false";
  out += ",\"instances\":{\"inventory\":";
  number(c.inventory_instances);
  out += ",\"order\":";
  number(c.order_instances);
  out += ",\"payment\":";
  number(c.payment_instances);
  out += "},\"partitions\":";
  number(c.partitions);
  out += "},\"workload\":{\"customers\":[";
  for (size_t i = 0; i < c.balances.size(); ++i) {
    out += i ? ",{\"balance_cents\":" : "{\"balance_cents\":";
    number(c.balances[i]);
    out += ",\"id\":\"c-";
    number(i + 1);
    out += "\"}";
  }
  out += "],\"orders\":[";
  for (size_t i = 0; i < c.orders.size(); ++i) {
    const Order& o = c.orders[i];
    out += i ? ",{\"at_ms\":" : "{\"at_ms\":";
    number(o.at_ms);
    out += ",\"customer\":\"c-";
    number(o.customer % c.balances.size() + 1);
    out += "\",\"id\":\"o-";
    number(i + 1);
    out += "\",\"lines\":[";
    for (size_t k = 0; k < o.lines.size(); ++k) {
      const Line& l = o.lines[k];
      out += k ? ",{\"price_cents\":" : "{\"price_cents\":";
      number(l.price_cents);
      out += ",\"quantity\":";
      number(l.quantity);
      out += ",\"sku\":\"sku-";
      number(l.sku % c.stock.size() + 1);
      out += "\"}";
    }
    out += "]}";
  }
  out += "],\"skus\":[";
  for (size_t i = 0; i < c.stock.size(); ++i) {
    out += i ? ",{\"sku\":\"sku-" : "{\"sku\":\"sku-";
    number(i + 1);
    out += "\",\"stock\":";
    number(c.stock[i]);
    out += "}";
  }
  out += "]}}";
  return out;
}

faults::RunSpec run_spec(const Case& c, const std::string& name) {
  sim::Scenario s = shared_scenario();
  s.name = name;
  s.seed = c.seed;
  s.style = c.style;
  s.partitions = c.partitions;
  s.instances.clear();
  for (std::string& service : s.saga->services(s.style)) {
    const int n = service == "order" ? c.order_instances : service == "payment" ? c.payment_instances : c.inventory_instances;
    s.instances.emplace_back(std::move(service), n);
  }
  s.topics = s.saga->topics(s.style);
  s.idempotent_producer = c.idempotent;
  auto settings = std::make_shared<saga::OrderSettings>();  // the shared one's workload is its one order
  settings->order_timeout = shared_scenario().settings<saga::OrderSettings>().order_timeout;
  saga::Workload& w = settings->workload;
  w.customers.reserve(c.balances.size());
  for (size_t i = 0; i < c.balances.size(); ++i) w.customers.push_back({customer_id(i), c.balances[i]});
  w.skus.reserve(c.stock.size());
  for (size_t i = 0; i < c.stock.size(); ++i) w.skus.push_back({sku_id(i), c.stock[i]});
  w.orders.reserve(c.orders.size());
  for (size_t i = 0; i < c.orders.size(); ++i) {
    const Order& o = c.orders[i];
    saga::OrderSpec spec{order_id(i), Duration::millis(o.at_ms), customer_id(o.customer % c.balances.size()), {}};
    spec.lines.reserve(o.lines.size());
    for (const Line& l : o.lines) spec.lines.push_back({sku_id(l.sku % c.stock.size()), l.quantity, l.price_cents});
    w.orders.push_back(std::move(spec));
  }
  s.saga_settings = std::move(settings);
  s.faults = faults_of(c);
  faults::RunSpec spec;
  spec.plan = faults::parse_plan(s);
  spec.spec_text = scenario_text(c, name, s.faults);
  spec.scenario = std::move(s);
  return spec;
}

void showValue(const Case& c, std::ostream& os) {
  os << fmt::format("{} orders, {} faults, {} customers, {} SKUs, seed {}, {}{}", c.orders.size(), c.faults.size(),
                    c.balances.size(), c.stock.size(), c.seed, c.style,
                    c.away_across_deadlines ? ", the order instance away across the deadlines" : "");
}

CaseRun run_case(const Case& c, const std::string& mutant, bool keep_trace) {
  return props::run_case(run_spec(c, "property-case"), c.seed, mutant, keep_trace);
}

std::string write_counterexample(const Case& c, const CaseRun& o, const std::string& property, const std::string& mutant) {
  return props::write_counterexample(
      to_scenario(c, property), o, property,
      "sagasim run {path} --seed {seed}" +
          (mutant.empty() ? std::string() : " --mutant " + mutant));
}

}  // namespace sagasim::props
