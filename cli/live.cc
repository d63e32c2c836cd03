#include "cli/live.h"

#include "core/error.h"
#include "sagas/order/events.h"
#include "sagas/order/order_saga.h"

namespace sagasim::cli {

void add_kafka_options(CLI::App& cmd, KafkaArgs& args) {
  cmd.add_option("--kafka", args.properties,
                 "librdkafka properties file: bootstrap.servers=HOST:PORT, security settings, ... "
                 "(secrets are never logged)")
      ->required();
  cmd.add_option("--kafka-set", args.overrides, "Override one client property, KEY=VALUE (repeatable)");
  cmd.add_option("--partitions", args.partitions, "Partitions of each saga topic when it is created")
      ->check(CLI::Range(1, 1000));
  cmd.add_option("--replication-factor", args.replication_factor,
                 "Replicas of each topic when it is created (-1: the broker's default)")
      ->check(CLI::Range(-1, 16));
}

kafka::Config load_kafka_config(const KafkaArgs& args) {
  kafka::Result<kafka::Config> c = kafka::Config::load(args.properties);
  if (!c.ok()) throw InputError(args.properties, "", c.error().to_string());
  kafka::Config config = std::move(c).value();
  for (const std::string& o : args.overrides) {
    if (kafka::Status s = config.add_override(o, "--kafka-set"); !s.ok())
      throw InputError("--kafka-set", "", s.error().to_string());
  }
  return config;
}

std::vector<kafka::NewTopic> saga_topics(const KafkaArgs& args) {
  std::vector<kafka::NewTopic> out;
  for (std::string_view t : {saga::kOrderRequestsTopic, saga::kOrdersTopic, saga::kPaymentsTopic, saga::kInventoryTopic}) {
    out.push_back({std::string(t), args.partitions, args.replication_factor});
    out.push_back({std::string(t) + ".dlq", 1, args.replication_factor});
  }
  return out;
}

void add_workload_options(CLI::App& cmd, WorkloadArgs& args) {
  cmd.add_option("--scenario", args.scenario,
                 "Take customers, SKUs, order shapes and the order timeout from this scenario file's workload "
                 "(default: the built-in live workload; see README)");
  cmd.add_option("--seed", args.seed, "Seed that turns the workload's counts and ranges into customers and orders");
}

LiveWorkload live_workload(const WorkloadArgs& args) {
  LiveWorkload live;
  saga::Workload w;
  if (!args.scenario.empty()) {
    const sim::Scenario s = sim::load_scenario_file(args.scenario, saga::order_saga());
    const saga::OrderSettings& settings = s.settings<saga::OrderSettings>();
    w = settings.workload;
    live.order_timeout = settings.order_timeout;
    if (w.customers.empty() && w.customer_count == 0)
      throw InputError(args.scenario, "/workload", "the live workload needs customers (\"customers\" or a count)");
    if (w.skus.empty() && w.sku_count == 0)
      throw InputError(args.scenario, "/workload", "the live workload needs SKUs (\"skus\" or a count)");
  } else {
    // Enough money and stock that most orders confirm, little enough that
    // some fail for lack of either: every compensation path runs.
    w.customer_count = 50;
    w.balance_cents = {200'000, 2'000'000};
    w.sku_count = 20;
    w.stock = {100, 1000};
    w.lines_per_order = {1, 3};
    w.quantity = {1, 3};
    w.price_cents = {100, 5000};
  }
  w.orders.clear();
  w.order_count = 0;
  live.workload = saga::materialize_workload(w, args.seed);
  return live;
}

}  // namespace sagasim::cli
