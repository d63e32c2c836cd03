#include "sagas/order/order_saga.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/error.h"
#include "sagas/order/checker.h"
#include "sagas/order/events.h"
#include "sagas/order/inventory_service.h"
#include "sagas/order/order_orchestrator.h"
#include "sagas/order/order_service.h"
#include "sagas/order/payment_service.h"
#include "sagas/order/mutants.h"
#include "sagas/order/workload.h"
#include "sim/scenario.h"
#include "sim/simulation.h"

namespace sagasim::saga {

using nlohmann::json;
using sim::Client;
using sim::FinalView;
using sim::OpeningState;
using sim::RunOptions;
using sim::RunResult;
using sim::SagaRun;
using sim::Scenario;

namespace {

constexpr std::string_view kChoreography = "choreography";
constexpr std::string_view kOrchestration = "orchestration";

// The topics in report order (OrderSaga::topics).
constexpr std::string_view kTopicOrder[] = {saga::kOrderRequestsTopic, saga::kOrdersTopic, saga::kPaymentsTopic,
                                            saga::kInventoryTopic};

constexpr std::string_view kAllPaths[] = {"confirmed",      "payment_failed",          "inventory_failed",
                                          "timeout_cancel", "late_success_compensated", "cancel_overtook_payment",
                                          "cancel_overtook_reservation"};

inv::Baseline baseline_of(const Workload& w) {
  inv::Baseline b;
  for (const auto& c : w.customers) {
    b.money_cents += c.balance_cents;
    b.balances[c.id] = c.balance_cents;
  }
  for (const auto& s : w.skus) b.stock[s.sku] += s.stock;
  return b;
}

json ms_json(Duration d) {
  if (d.us % 1000 == 0) return d.us / 1000;
  return static_cast<double>(d.us) / 1000.0;
}

class OrderSagaRun final : public SagaRun {
 public:
  OrderSagaRun(const Scenario& scenario, const RunOptions& options, const sim::LivePlan* live = nullptr)
      : scenario_(scenario),
        settings_(scenario.settings<OrderSettings>()),
        mutant_(mutant_of(options.mutant)),
        style_(scenario.style == kOrchestration ? saga::Style::Orchestration : saga::Style::Choreography),
        rng_(workload_rng(options.seed)),
        workload_(materialize_reference(live ? live_workload(settings_.workload, *live) : settings_.workload, rng_)),
        draws_(workload_, rng_),
        baseline_(baseline_of(workload_)),
        monitor_(baseline_) {
    if (live) id_prefix_ = live->id_prefix + "-";
    // Orders arrive in time order (ties by their place in the list); generated
    // ones are drawn in time order, as they are due (OrderDraws).
    std::stable_sort(workload_.orders.begin(), workload_.orders.end(),
                     [](const OrderSpec& a, const OrderSpec& b) { return a.at < b.at; });
    // The per-order state of the checks, sized once for the generated ids
    // (a live run's carry its prefix: they are not "o-<n>").
    if (id_prefix_.empty()) {
      fold_.reserve(draws_.count());
      monitor_.reserve(draws_.count());
    }
    placed_at_us_.reserve(placements());
  }

  // A live run's workload: the scenario's customers and SKUs (drawn first
  // from the seed, so the same whatever the count) and plan.count orders.
  static Workload live_workload(Workload w, const sim::LivePlan& plan) {
    w.orders.clear();
    w.order_count = static_cast<int>(std::min<size_t>(plan.count, kMaxOrders));
    return w;
  }

  // A runtime mutant (sim/saga.h) is the simulator's business: the services
  // are the canonical ones then.
  static saga::Mutant mutant_of(const std::string& name) {
    if (auto m = saga::mutant_from(name)) return *m;
    if (sim::runtime_mutant(name) != sim::RuntimeMutant::None) return saga::Mutant::None;
    throw InternalError(fmt::format("the order saga has no variant '{}'", name));
  }

  bool needs_wire() const override { return mutant_ == saga::Mutant::BreakingSchemaChange; }
  void adjust_codec(std::string_view service, PayloadRegistry& registry) const override {
    if (mutant_ == saga::Mutant::BreakingSchemaChange && service == "order") saga::apply_breaking_schema_change(registry);
  }

  std::vector<std::unique_ptr<Service>> make_services() override {
    std::vector<std::unique_ptr<Service>> out;
    if (style_ == saga::Style::Orchestration)
      out.push_back(std::make_unique<saga::OrderOrchestrator>(settings_.order_timeout, mutant_));
    else
      out.push_back(std::make_unique<saga::OrderService>(settings_.order_timeout, mutant_));
    out.push_back(std::make_unique<saga::PaymentService>(mutant_, style_));
    out.push_back(std::make_unique<saga::InventoryService>(mutant_, style_));
    return out;
  }

  void open(OpeningState& state) override {
    // Opening balances and stock: one small transaction per row (a
    // transaction is sized for a handler's few writes).
    for (const auto& c : workload_.customers) {
      Transaction txn(state.store("payment"), "setup");
      saga::PaymentService::open_account(txn, c.id, c.balance_cents);
      txn.commit();
    }
    for (const auto& s : workload_.skus) {
      Transaction txn(state.store("inventory"), "setup");
      saga::InventoryService::stock_item(txn, s.sku, s.stock);
      txn.commit();
    }
  }

  size_t placements() const override { return workload_.orders.size() + draws_.count(); }
  Duration placement_at(size_t i) const override {
    return workload_.orders.empty() ? draws_.at(i) : workload_.orders[i].at;
  }
  void place(size_t i, Client& client) override {
    const OrderSpec& spec = workload_.orders.empty() ? draws_.order(i) : workload_.orders[i];
    const std::string id = id_prefix_ + spec.id;
    placed_at_us_.push_back(client.now().us);
    client.send(saga::kOrderRequestsTopic, id,
                saga::PlaceOrder{id, spec.customer, spec.lines, saga::order_amount_cents(spec.lines)});
  }

  void on_commit(const WriteSet& ws, Time now) override { monitor_.on_commit(ws, now); }

  // The final checks' view of the log, folded as it grows (inv::LogFold):
  // the broker then keeps only what a consumer may still fetch.
  bool folds_log() const override { return true; }
  void on_append(const inv::LoggedEvent& le) override {
    uint32_t rank = 0;
    while (rank < std::size(kTopicOrder) && kTopicOrder[rank] != le.topic) ++rank;
    fold_.add(le, inv::LogFold::Position{rank, le.partition, le.offset});
  }

  // Production mode: the first PlaceOrder of each order id starts it.
  void placed(const Event& e) override {
    if (e.type != saga::PlaceOrder::kType || !placed_ids_.insert(e.key).second) return;
    placed_.push_back(inv::PlacedOrder{e.key, e.occurred_at.us});
  }

  std::unique_ptr<sim::LiveMonitor> live_monitor(Duration liveness_bound) override {
    return std::make_unique<inv::LogMonitor>(liveness_bound);
  }

  void finish(const FinalView& view, RunResult& r, std::vector<inv::Violation>& all) override {
    // The simulator's stores are read in place; a database's are loaded once
    // (a lookup per key would be a round trip each).
    inv::SagaState loaded;
    std::unique_ptr<inv::StateView> state;
    if (view.stores_in_memory()) {
      state = inv::view_of(view.store("order"), view.store("payment"), view.store("inventory"));
    } else {
      inv::load_state(view.store("order"), view.store("payment"), view.store("inventory"), loaded);
      state = inv::view_of(loaded);
    }
    inv::LogFold own;  // a log handed over whole (not folded as it grew) is folded here
    for (size_t i = 0; i < view.log().size(); ++i)
      own.add(view.log()[i], inv::LogFold::Position{0, 0, static_cast<int64_t>(i)});
    const inv::LogFold& fold = view.log().empty() ? fold_ : own;
    const Facts facts(*this);

    all = monitor_.violations();
    inv::FinalCheckOptions options{scenario_.liveness_bound, view.quiesced()};
    options.deadline_fires_at = [&view](Time due, Time set_at) { return view.timer_fires_at("order", due, set_at); };
    for (auto& v : inv::check_final(*state, facts, baseline_, options, fold)) all.push_back(std::move(v));
    if (style_ == saga::Style::Orchestration)
      for (auto& v : inv::check_saga_log(*state, options)) all.push_back(std::move(v));

    // Saga paths: which ways through the saga this run exercised.
    sim::InstanceSummary& n = r.instances;
    n.total = static_cast<int>(placed_at_us_.size() + placed_.size());
    facts.each_placed([&](const std::string& order_id, int64_t) {
      const auto order = state->order(order_id);
      if (!order || order->status == saga::OrderStatus::Pending) {
        ++n.undecided;
        ++r.paths["pending"];
        return;
      }
      const saga::Order& o = *order;
      const auto pay = state->payment(o.order_id);
      const auto res = state->reservation(o.order_id);
      const bool refunded = pay && pay->status == saga::PaymentStatus::Refunded;
      const bool released = res && res->status == saga::ReservationStatus::Released;
      if (pay && pay->status == saga::PaymentStatus::Voided) ++r.paths["cancel_overtook_payment"];
      // A tombstone that mattered: inventory saw the cancellation before the
      // payment it would otherwise have reserved for.
      if (res && res->status == saga::ReservationStatus::Voided && pay &&
          (pay->status == saga::PaymentStatus::Charged || pay->status == saga::PaymentStatus::Refunded))
        ++r.paths["cancel_overtook_reservation"];
      if (o.status == saga::OrderStatus::Confirmed) {
        ++n.completed;
        ++r.paths["confirmed"];
        return;
      }
      ++n.compensated;
      if (o.cancel_reason == "payment_declined") ++r.paths["payment_failed"];
      else if (o.cancel_reason == "out_of_stock") ++r.paths["inventory_failed"];
      else if (o.cancel_reason == "timeout") {
        ++r.paths["timeout_cancel"];
        if (refunded || released) ++r.paths["late_success_compensated"];
      } else {
        ++r.paths["cancelled:" + o.cancel_reason];
      }
    });
  }

 private:
  // What the run knows of its orders beyond their records (inv::RunFacts):
  // what it placed and when, and the safety monitor's true creation and
  // decision times.
  class Facts final : public inv::RunFacts {
   public:
    explicit Facts(const OrderSagaRun& run) : run_(run) {}
    void each_placed(const std::function<void(const std::string&, int64_t)>& fn) const override {
      for (size_t i = 0; i < run_.placed_at_us_.size(); ++i) fn(run_.placed_id(i), run_.placed_at_us_[i]);
      for (const inv::PlacedOrder& p : run_.placed_) fn(p.order_id, p.placed_at_us);
    }
    std::optional<int64_t> created_at(const std::string& id) const override { return run_.monitor_.created_at(id); }
    std::optional<int64_t> decided_at(const std::string& id) const override { return run_.monitor_.decided_at(id); }

   private:
    const OrderSagaRun& run_;
  };
  // The id of the i-th placement (from 0), as place(i) sent it.
  std::string placed_id(size_t i) const {
    return id_prefix_ + (workload_.orders.empty() ? OrderDraws::id(i) : workload_.orders[i].id);
  }

  const Scenario& scenario_;
  const OrderSettings& settings_;
  saga::Mutant mutant_;
  saga::Style style_;
  sim::Prng rng_;       // the workload's stream, where the generated orders' draws begin
  Workload workload_;   // customers and SKUs; the orders when listed explicitly
  OrderDraws draws_;    // the orders when generated, drawn as they are due
  std::string id_prefix_;  // a live run's "<prefix>-"
  inv::Baseline baseline_;
  inv::SafetyMonitor monitor_;
  inv::LogFold fold_;
  std::vector<int64_t> placed_at_us_;   // place(i): when, by index (placed_id(i) says which)
  std::vector<inv::PlacedOrder> placed_;  // placed(): an outside client's, in log order
  std::set<std::string> placed_ids_;      // placed(): ids seen
};

}  // namespace

json OrderSaga::live_scenario() const {
  // Enough money and stock that most orders confirm, little enough that
  // some fail for lack of either: every compensation path runs.
  return {{"format_version", 1},
          {"name", "live"},
          {"description", "the built-in live workload of sagasim serve, place and check"},
          {"saga", {{"name", "order"}, {"order_timeout_ms", 30000}, {"liveness_bound_ms", 120000}}},
          {"workload",
           {{"customers", {{"count", 50}, {"balance_cents", {{"min", 200000}, {"max", 2000000}}}}},
            {"skus", {{"count", 20}, {"stock", {{"min", 100}, {"max", 1000}}}}},
            {"orders",
             {{"count", 0},
              {"lines", {{"min", 1}, {"max", 3}}},
              {"quantity", {{"min", 1}, {"max", 3}}},
              {"price_cents", {{"min", 100}, {"max", 5000}}}}}}}};
}

std::unique_ptr<sim::SagaRun> OrderSaga::start_live(const Scenario& scenario, const RunOptions& options,
                                                    const sim::LivePlan& plan) const {
  const Workload& w = scenario.settings<OrderSettings>().workload;
  if (w.customers.empty() && w.customer_count == 0)
    throw InputError(scenario.source, "/workload", "the live workload needs customers (\"customers\" or a count)");
  if (w.skus.empty() && w.sku_count == 0)
    throw InputError(scenario.source, "/workload", "the live workload needs SKUs (\"skus\" or a count)");
  return std::make_unique<OrderSagaRun>(scenario, options, &plan);
}

std::optional<sim::Decision> OrderSaga::decision(const Event& e) const {
  if (e.type == saga::OrderConfirmed::kType) return sim::Decision{e.key, "confirmed"};
  if (e.type == saga::OrderCancelled::kType)
    return sim::Decision{e.key, "cancelled: " + e.payload_as<saga::OrderCancelled>().reason};
  return std::nullopt;
}

std::shared_ptr<const sim::SagaDefinition> order_saga() {
  static const std::shared_ptr<const sim::SagaDefinition> saga = std::make_shared<OrderSaga>();
  return saga;
}

std::span<const std::string_view> all_saga_paths() { return kAllPaths; }

std::vector<std::string> OrderSaga::styles() const { return {std::string(kChoreography), std::string(kOrchestration)}; }

std::vector<std::string> OrderSaga::services(std::string_view) const { return {"order", "payment", "inventory"}; }

std::vector<std::string> OrderSaga::topics(std::string_view) const {
  return {std::string(saga::kOrderRequestsTopic), std::string(saga::kOrdersTopic), std::string(saga::kPaymentsTopic),
          std::string(saga::kInventoryTopic)};
}

void OrderSaga::parse_settings(JsonObject& o, Scenario& s) const {
  OrderSettings& settings = s.settings_to_fill<OrderSettings>();
  settings.order_timeout = sim::ms_field(o, "order_timeout_ms", 5000);
  if (settings.order_timeout.us <= 0) o.fail("/saga/order_timeout_ms", "must be greater than 0");
  if (s.liveness_bound < settings.order_timeout)
    o.fail("/saga/liveness_bound_ms",
           fmt::format("{} ms is shorter than order_timeout_ms ({} ms): a timed-out order could never meet it",
                       s.liveness_bound.ms(), settings.order_timeout.ms()));
}

void OrderSaga::parse_workload(JsonObject& root, Scenario& s) const {
  s.settings_to_fill<OrderSettings>().workload = parse_order_workload(root.require("workload"), "/workload", s.source);
}

sim::InstanceWords OrderSaga::instance_words() const { return {"orders", "confirmed", "cancelled", "pending"}; }

std::vector<sim::VariantInfo> OrderSaga::variants() const {
  std::vector<sim::VariantInfo> out;
  for (const auto& m : saga::all_mutants()) {
    sim::VariantInfo v{std::string(m.name), std::string(m.description), {}};
    for (std::string_view style : {kChoreography, kOrchestration})
      if (saga::mutant_applies(m.mutant, style)) v.styles.emplace_back(style);
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<std::string> OrderSaga::invariants(std::string_view style) const {
  std::vector<std::string> out;
  for (std::string_view n : inv::all_invariants())
    if (n != inv::kBrokerGuarantees) out.emplace_back(n);
  if (style == kOrchestration) out.emplace_back(inv::kSagaLogComplete);
  return out;
}

std::vector<std::string> OrderSaga::paths(std::string_view style) const {
  // The orchestrator compensates only what it heard of, so no cancellation
  // ever overtakes a charge or a reservation: there are no tombstones.
  const size_t n = style == kOrchestration ? 5 : std::size(kAllPaths);
  return std::vector<std::string>(std::begin(kAllPaths), std::begin(kAllPaths) + n);
}

json OrderSaga::chaos_faults(const Scenario& s) const {
  const int32_t last_partition = s.partitions - 1;
  // A lost ack stalls a partition's consumer for a whole request timeout
  // (its offset waits for the ack). Where that alone would break the
  // scenario's liveness bound, the classes that lose acks are left out: the
  // harness would only be reporting the scenario's own settings.
  const bool acks_may_be_lost =
      2 * s.broker.request_timeout.us < (s.liveness_bound - s.settings<OrderSettings>().order_timeout).us;
  json faults = json::array({
      {{"class", "lost_commit"}, {"probability", 0.02}},
      {{"class", "producer_retry"}, {"probability", 0.01}},
      {{"class", "relay_republish"}, {"probability", 0.01}},
      {{"class", "delay_skew"}, {"topic", "payments"}, {"probability", 0.05}, {"duration_ms", 1500}, {"extra_ms", 400}},
      {{"class", "partition_reorder"}, {"probability", 0.02}},
      {{"class", "crash"}, {"point", "before_handle"}, {"probability", 0.002}, {"downtime_ms", 800}},
      {{"class", "crash"}, {"point", "after_commit_before_publish"}, {"probability", 0.002}, {"downtime_ms", 800}},
      {{"class", "crash"}, {"point", "after_publish_before_commit"}, {"probability", 0.002}, {"downtime_ms", 800}},
      {{"class", "join"}, {"target", "payment"}, {"probability", 0.02}, {"duration_ms", 3000}},
      {{"class", "leave"}, {"probability", 0.02}, {"duration_ms", 1500}},
      {{"class", "stall"}, {"probability", 0.03}, {"duration_ms", 700}},
      {{"class", "session_timeout"}, {"probability", 0.01},
       {"duration_ms", static_cast<double>(s.broker.session_timeout.us) / 1000 + 500}},
      {{"class", "partition_unavailable"}, {"topic", "inventory"}, {"partition", last_partition}, {"probability", 0.03},
       {"duration_ms", 1200}},
      {{"class", "leader_failover"}, {"topic", "orders"}, {"probability", 0.03}, {"election_ms", 400}},
      {{"class", "network_partition"}, {"probability", 0.02}, {"duration_ms", 1500}},
      {{"class", "latency_spike"}, {"probability", 0.03}, {"duration_ms", 800}, {"extra_ms", 150}},
      {{"class", "clock_skew"}, {"target", "order"}, {"skew_ms", 750}, {"drift_ppm", 2000}},
      {{"class", "client_retry"}, {"probability", 0.03}, {"after_ms", 1000}},
      {{"class", "client_retry"}, {"probability", 0.01}, {"after_ms", 300}, {"same_id", true}},
  });
  if (!acks_may_be_lost)
    faults.erase(std::remove_if(faults.begin(), faults.end(),
                                [](const json& f) {
                                  const std::string c = f["class"];
                                  return c == "producer_retry" || c == "leader_failover" || c == "network_partition";
                                }),
                 faults.end());
  return faults;
}

json OrderSaga::explicit_workload(const Scenario& scenario, uint64_t seed) const {
  const Workload w = materialize_workload(scenario.settings<OrderSettings>().workload, seed);
  json customers = json::array(), skus = json::array(), orders = json::array();
  for (const auto& c : w.customers) customers.push_back({{"id", c.id}, {"balance_cents", c.balance_cents}});
  for (const auto& s : w.skus) skus.push_back({{"sku", s.sku}, {"stock", s.stock}});
  for (const auto& o : w.orders) {
    json lines = json::array();
    for (const auto& l : o.lines) lines.push_back({{"sku", l.sku}, {"quantity", l.quantity}, {"price_cents", l.price_cents}});
    orders.push_back({{"id", o.id}, {"at_ms", ms_json(o.at)}, {"customer", o.customer}, {"lines", lines}});
  }
  return {{"customers", customers}, {"skus", skus}, {"orders", orders}};
}

void OrderSaga::shrink_workload(json& best, const std::function<bool(const json&)>& fails) const {
  using Ptr = json::json_pointer;
  sim::reduce_list(best, Ptr("/workload/orders"), fails);
  // Fewer lines per order.
  for (size_t i = 0; i < best["workload"]["orders"].size(); ++i)
    while (best["workload"]["orders"][i]["lines"].size() > 1) {
      json candidate = best;
      candidate["workload"]["orders"][i]["lines"].erase(candidate["workload"]["orders"][i]["lines"].end() - 1);
      if (!fails(candidate)) break;
      best = std::move(candidate);
    }
  // Smaller numbers: stock and balances (a shortage that took twenty orders
  // to reach takes one when the stock is small), quantities and prices, and
  // earlier placements. Then fewer orders again: what needed them may not.
  bool smaller = false;
  for (size_t k = 0; k < best["workload"]["skus"].size(); ++k)
    smaller |= sim::reduce_number(best, Ptr(fmt::format("/workload/skus/{}/stock", k)), fails);
  for (size_t k = 0; k < best["workload"]["customers"].size(); ++k)
    smaller |= sim::reduce_number(best, Ptr(fmt::format("/workload/customers/{}/balance_cents", k)), fails);
  for (size_t i = 0; i < best["workload"]["orders"].size(); ++i) {
    for (size_t l = 0; l < best["workload"]["orders"][i]["lines"].size(); ++l) {
      const std::string line = fmt::format("/workload/orders/{}/lines/{}", i, l);
      smaller |= sim::reduce_number(best, Ptr(line + "/quantity"), fails, 1);
      smaller |= sim::reduce_number(best, Ptr(line + "/price_cents"), fails, 1);
    }
    smaller |= sim::reduce_number(best, Ptr(fmt::format("/workload/orders/{}/at_ms", i)), fails);
  }
  if (smaller) sim::reduce_list(best, Ptr("/workload/orders"), fails);
}

void OrderSaga::tidy_workload(json& best, const std::function<bool(const json&)>& fails) const {
  // Customers and SKUs nobody orders from go.
  std::set<std::string> used_customers, used_skus;
  for (const auto& o : best["workload"]["orders"]) {
    used_customers.insert(o["customer"].get<std::string>());
    for (const auto& l : o["lines"]) used_skus.insert(l["sku"].get<std::string>());
  }
  json candidate = best;
  auto prune = [](json& list, const char* key, const std::set<std::string>& used) {
    json kept = json::array();
    for (const auto& x : list)
      if (used.count(x[key].get<std::string>())) kept.push_back(x);
    if (!kept.empty()) list = kept;
  };
  prune(candidate["workload"]["customers"], "id", used_customers);
  prune(candidate["workload"]["skus"], "sku", used_skus);
  if (fails(candidate)) best = std::move(candidate);
}

size_t OrderSaga::workload_size(const json& scenario) const {
  const json::json_pointer p("/workload/orders");
  return scenario.contains(p) && scenario.at(p).is_array() ? scenario.at(p).size() : 0;
}

std::unique_ptr<sim::SagaRun> OrderSaga::start(const Scenario& scenario, const RunOptions& options) const {
  return std::make_unique<OrderSagaRun>(scenario, options);
}

}  // namespace sagasim::saga
