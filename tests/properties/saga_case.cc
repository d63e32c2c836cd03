#include "saga_case.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace sagasim::props {

using nlohmann::json;

namespace {

constexpr const char* kServices[] = {"order", "payment", "inventory"};
constexpr const char* kTopics[] = {"order-requests", "orders", "payments", "inventory"};
constexpr const char* kPoints[] = {"before_handle", "after_commit_before_publish", "after_publish_before_commit"};
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

rc::Gen<Fault> gen_fault(std::vector<int> classes) {
  return rc::gen::build<Fault>(rc::gen::set(&Fault::cls, rc::gen::elementOf(classes)),
                               rc::gen::set(&Fault::target, uniform(0, 9)),
                               rc::gen::set(&Fault::at_ms, uniform(0, 2500)),
                               rc::gen::set(&Fault::duration_ms, uniform(1, 2000)),
                               rc::gen::set(&Fault::point, uniform(0, 3)),
                               rc::gen::set(&Fault::topic, uniform(0, 4)),
                               rc::gen::set(&Fault::partition, uniform(0, 4)));
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
    return c;
  });
}

std::vector<int> all_classes() {
  std::vector<int> v;
  for (int i = 0; i < faults::kFaultClassCount; ++i) v.push_back(i);
  return v;
}

std::string instance_of(const Case& c, int target) {
  const int svc = target % 3;
  const int n = svc == 0 ? c.order_instances : svc == 1 ? c.payment_instances : c.inventory_instances;
  return fmt::format("{}-{}", kServices[svc], target / 3 % n + 1);
}

json fault_json(const Case& c, const Fault& f) {
  const faults::FaultClass cls = faults::all_fault_classes()[static_cast<size_t>(f.cls)];
  json j = {{"class", std::string(faults::to_string(cls))}, {"at_ms", f.at_ms}};
  const std::string topic = kTopics[f.topic % 4];
  const int partition = f.partition % c.partitions;
  switch (cls) {
    case faults::FaultClass::LostCommit:
    case faults::FaultClass::RelayRepublish:
      j["target"] = kServices[f.target % 3];
      j["duration_ms"] = f.duration_ms;
      break;
    case faults::FaultClass::ProducerRetry:
    case faults::FaultClass::PartitionReorder:
      j["duration_ms"] = f.duration_ms;
      break;
    case faults::FaultClass::Crash:
      j["target"] = instance_of(c, f.target);
      j["point"] = kPoints[f.point % 3];
      j["downtime_ms"] = f.duration_ms;
      break;
    case faults::FaultClass::Join:
      j["target"] = kServices[f.target % 3];
      j["duration_ms"] = f.duration_ms;
      break;
    case faults::FaultClass::Leave:
    case faults::FaultClass::Stall:
    case faults::FaultClass::NetworkPartition:
      j["target"] = instance_of(c, f.target);
      j["duration_ms"] = f.duration_ms;
      break;
    case faults::FaultClass::SessionTimeout:
      j["target"] = instance_of(c, f.target);
      j["duration_ms"] = kSessionTimeoutMs + f.duration_ms;
      break;
    case faults::FaultClass::DelaySkew:
    case faults::FaultClass::LatencySpike:
      j["topic"] = topic;
      j["partition"] = partition;
      j["duration_ms"] = f.duration_ms;
      j["extra_ms"] = f.duration_ms;
      break;
    case faults::FaultClass::PartitionUnavailable:
      j["topic"] = topic;
      j["partition"] = partition;
      j["duration_ms"] = f.duration_ms;
      break;
    case faults::FaultClass::LeaderFailover:
      j["topic"] = topic;
      j["partition"] = partition;
      j["election_ms"] = f.duration_ms;
      break;
    case faults::FaultClass::ClockSkew:
      j["target"] = kServices[f.target % 3];
      j["skew_ms"] = (f.duration_ms - 1000) / 2;  // within ±500 ms: the liveness bound has room for it
      break;
  }
  return j;
}

}  // namespace

rc::Gen<Case> gen_case(int max_orders, int max_faults) { return gen_with(max_orders, max_faults, all_classes(), false); }

rc::Gen<Case> gen_case_with_orders(int orders, int max_faults) {
  return gen_with(orders, max_faults, all_classes(), false, orders);
}

rc::Gen<Case> gen_duplicating_case(int max_orders) {
  using FC = faults::FaultClass;
  std::vector<int> dup;
  const auto all = faults::all_fault_classes();
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i] == FC::LostCommit || all[i] == FC::ProducerRetry || all[i] == FC::RelayRepublish || all[i] == FC::Crash ||
        all[i] == FC::SessionTimeout)
      dup.push_back(static_cast<int>(i));
  return gen_with(max_orders, 4, dup, true);
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
                      {"customer", fmt::format("c-{}", o.customer % c.balances.size() + 1)}, {"lines", lines}});
  }
  for (const Fault& f : c.faults) faults.push_back(fault_json(c, f));
  json j = {{"format_version", 1},
          {"name", name},
          {"description", "A generated property-test case (tests/properties)."},
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
          {"saga", {{"order_timeout_ms", 1500}, {"liveness_bound_ms", 30000}}},
          {"workload", {{"customers", customers}, {"skus", skus}, {"orders", orders}}},
          {"faults", faults}};
  if (c.style != "choreography") j["style"] = c.style;  // choreography cases read exactly as before
  return j;
}

void showValue(const Case& c, std::ostream& os) {
  os << fmt::format("{} orders, {} faults, {} customers, {} SKUs, seed {}, {}", c.orders.size(), c.faults.size(),
                    c.balances.size(), c.stock.size(), c.seed, c.style);
}

namespace {
struct StringSink : sim::TraceSink {
  std::string text;
  void write(std::string_view line) override { text.append(line); }
};
}  // namespace

CaseRun run_case(const Case& c, saga::Mutant mutant, bool keep_trace) {
  const faults::RunSpec spec = faults::make_run_spec(sim::parse_scenario(to_scenario(c, "property-case"), "generated case"));
  StringSink sink;
  CaseRun o;
  o.result = faults::run(spec, faults::RunConfig{c.seed, false, keep_trace ? &sink : nullptr, "0.1.0", mutant});
  o.trace = std::move(sink.text);
  return o;
}

std::string counterexample_path(const std::string& property) {
  const char* dir = std::getenv("SAGASIM_COUNTEREXAMPLES");
  const std::filesystem::path base = dir && *dir ? std::filesystem::path(dir) : std::filesystem::current_path() / "counterexamples";
  std::filesystem::create_directories(base);
  return (base / (property + ".json")).string();
}

std::string write_counterexample(const Case& c, const CaseRun& o, const std::string& property, saga::Mutant mutant) {
  const std::string path = counterexample_path(property);
  {
    std::ofstream out(path);
    out << to_scenario(c, property).dump(2) << "\n";
  }
  std::ostringstream r;
  r << "counterexample: " << c.orders.size() << " order(s), " << c.faults.size() << " fault(s), written to " << path
    << "\nreplay with:    sagasim run " << path << " --seed " << c.seed
    << (mutant == saga::Mutant::None ? "" : " --mutant " + std::string(saga::to_string(mutant))) << "\n";
  std::set<std::string> orders;
  for (const auto& i : o.result.invariants)
    for (const auto& v : i.violations) {
      r << "violated:       " << i.name << ": " << v.order_id << (v.order_id.empty() ? "" : " ") << v.message << "\n";
      if (!v.order_id.empty()) orders.insert(v.order_id);
    }
  // The timeline: every fault and lifecycle change, and every step of the
  // orders the violations name (all orders if none is named).
  r << "timeline (virtual ms, actor, step):\n";
  std::istringstream in(o.trace);
  std::string line;
  int shown = 0;
  while (std::getline(in, line) && shown < 80) {
    const json s = json::parse(line);
    if (!s.contains("step")) continue;
    const std::string kind = s["kind"];
    const bool mine = s.contains("order") && (orders.empty() || orders.count(s["order"].get<std::string>()));
    if (kind == "fault" || kind == "lifecycle" || (mine && kind != "deliver" && kind != "commit") ||
        (kind == "state" && (orders.empty() || orders.count(s.value("key", "")))))
    {
      r << fmt::format("  {:>8.1f}  {:<12} {:<9} {}{}{}{}\n", s["t_us"].get<int64_t>() / 1000.0, s["actor"].get<std::string>(), kind,
                       s.value("type", ""), s.contains("order") ? " " + s["order"].get<std::string>() : "",
                       s.contains("key") ? " " + s.value("table", "") + "/" + s["key"].get<std::string>() : "",
                       s.contains("detail") ? " — " + s["detail"].get<std::string>() : "");
      ++shown;
    }
  }
  return r.str();
}

}  // namespace sagasim::props
