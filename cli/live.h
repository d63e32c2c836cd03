// What the production-mode commands (serve, place-orders, check) share: the
// Kafka client configuration, the saga's topics, and the live workload.
//
// The live workload is the `workload` section of a scenario file (the same
// file a simulated run uses) or, without --scenario, the built-in one below.
// `serve payment` and `serve inventory` write its customers and stock into
// their databases once; `place-orders` draws orders over the same customers
// and SKUs from the same seed. Every command must therefore be given the same
// --scenario and --seed (the defaults agree).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "kafka/client/admin.h"
#include "kafka/client/config.h"
#include "sagas/order/workload.h"
#include "sim/scenario.h"

namespace sagasim::cli {

struct KafkaArgs {
  std::string properties;              // --kafka FILE
  std::vector<std::string> overrides;  // --kafka-set key=value
  int partitions = 3;                  // of each saga topic, when created
  int replication_factor = -1;         // -1: the broker's default.replication.factor
};
void add_kafka_options(CLI::App& cmd, KafkaArgs& args);
// The client configuration; InputError naming the file:line or the override.
kafka::Config load_kafka_config(const KafkaArgs& args);

// The four saga topics and their dead-letter topics.
std::vector<kafka::NewTopic> saga_topics(const KafkaArgs& args);

struct WorkloadArgs {
  std::string scenario;  // empty: the built-in live workload
  uint64_t seed = 1;
};
void add_workload_options(CLI::App& cmd, WorkloadArgs& args);

struct LiveWorkload {
  saga::Workload workload;             // customers and SKUs materialised; orders not
  Duration order_timeout = Duration::seconds(30);
};
// The customers and SKUs of the live workload (InputError for a bad scenario).
LiveWorkload live_workload(const WorkloadArgs& args);

struct ServeArgs {
  std::string service;
  std::string db;
  std::string instance;  // default "<service>-1"
  KafkaArgs kafka;
  WorkloadArgs workload;
  std::optional<int64_t> order_timeout_ms;
  int64_t commit_interval_ms = 100;
  bool fsync = true;  // make the database durable before each offset commit
  int metrics_port = -1;
  std::string log_level = "info";
  // choreography or orchestration; every service of one deployment must agree.
  std::string style = "choreography";
  std::vector<std::string> pins;  // --pin TYPE=VERSION: run as an older build (rolling upgrade)
};

struct PlaceOrdersArgs {
  KafkaArgs kafka;
  WorkloadArgs workload;
  int64_t count = 0;
  double rate = 0;          // orders per second; 0: as fast as the producer takes them
  std::string run_id;       // order id prefix; default: from the clock
  double wait_s = 0;        // then wait this long for every order's decision
  bool json = false;
};

struct CheckArgs {
  KafkaArgs kafka;
  std::vector<std::string> dbs;
  double wait_s = 0;               // wait for every order to be decided
  int64_t liveness_bound_ms = 120'000;
  bool json = false;
  std::string trace;  // write the live run as a sagasim trace here
  bool allow_poison = false;  // dead-lettered records do not fail records_readable
};

}  // namespace sagasim::cli
