// sagasim serve order|payment|inventory: one instance of a saga service on
// real Kafka, the same code the simulator runs (services/).
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/live.h"
#include "cli/schema.h"
#include "core/error.h"
#include "kafka/runtime/runner.h"
#include "sagas/order/inventory_service.h"
#include "sagas/order/order_orchestrator.h"
#include "sagas/order/order_service.h"
#include "sagas/order/payment_service.h"

namespace sagasim::cli {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int sig) {
  // First signal: a graceful shutdown. A second one: leave at once.
  if (g_stop.exchange(true)) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

}  // namespace

int serve_command(const ServeArgs& args) {
  const std::optional<kafka::LogLevel> level = kafka::parse_log_level(args.log_level);
  if (!level) throw InputError("--log-level", "", "expected debug, info, warn or error, got '" + args.log_level + "'");
  kafka::Config config = load_kafka_config(args.kafka);
  const LiveWorkload live = live_workload(args.workload);

  std::unique_ptr<Service> service;
  const saga::Style style = args.style == "orchestration" ? saga::Style::Orchestration : saga::Style::Choreography;
  if (args.service == "order") {
    const Duration timeout = args.order_timeout_ms ? Duration::millis(*args.order_timeout_ms) : live.order_timeout;
    if (style == saga::Style::Orchestration) service = std::make_unique<saga::OrderOrchestrator>(timeout);
    else service = std::make_unique<saga::OrderService>(timeout);
  } else if (args.service == "payment") {
    service = std::make_unique<saga::PaymentService>(saga::Mutant::None, style);
  } else if (args.service == "inventory") {
    service = std::make_unique<saga::InventoryService>(saga::Mutant::None, style);
  } else {
    throw InputError("SERVICE", "", "expected order, payment or inventory, got '" + args.service + "'");
  }
  const std::string instance = args.instance.empty() ? args.service + "-1" : args.instance;

  kafka::JsonLog log(std::cerr, {{"service", args.service}, {"instance", instance}}, *level);
  kafka::RunnerOptions options;
  options.instance_id = instance;
  options.kafka = std::move(config);
  options.db_path = args.db;
  options.topics = saga_topics(args.kafka);
  options.commit_interval = Duration::millis(args.commit_interval_ms);
  options.durable_offsets = args.fsync;
  options.metrics_port = args.metrics_port;
  for (const std::string& pin : args.pins) options.pins.push_back(parse_pin(pin, "--pin"));
  kafka::ServiceRunner runner(*service, std::move(options), log);

  if (args.service == "payment") {
    int64_t money = 0;
    for (const auto& c : live.workload.customers) money += c.balance_cents;
    runner.initialize(
        "opening_state",
        [&](Transaction& txn) {
          for (const auto& c : live.workload.customers) saga::PaymentService::open_account(txn, c.id, c.balance_cents);
        },
        {{"opening_money_cents", std::to_string(money)}, {"opening_customers", std::to_string(live.workload.customers.size())}});
  } else if (args.service == "inventory") {
    nlohmann::json stock = nlohmann::json::object();
    for (const auto& s : live.workload.skus) stock[s.sku] = s.stock;
    runner.initialize(
        "opening_state",
        [&](Transaction& txn) {
          for (const auto& s : live.workload.skus) saga::InventoryService::stock_item(txn, s.sku, s.stock);
        },
        {{"opening_stock", stock.dump()}});
  }

  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  return runner.run(g_stop);
}

}  // namespace sagasim::cli
