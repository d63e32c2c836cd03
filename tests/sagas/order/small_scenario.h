// The small saga scenario the simulator's tests run: a few customers, SKUs
// with scarce stock (so every saga path occurs), exponential latencies.
#pragma once

#include <nlohmann/json.hpp>

namespace sagasim::sim::test_support {

inline nlohmann::json small_scenario_json(int orders, int partitions, int order_instances, int payment_instances) {
  return {{"format_version", 1},
          {"name", "small"},
          {"topology",
           {{"partitions", partitions},
            {"instances", {{"order", order_instances}, {"payment", payment_instances}, {"inventory", 1}}}}},
          {"broker", {{"delivery_latency", {{"dist", "exponential"}, {"mean_ms", 3}}}}},
          {"saga", {{"name", "order"}, {"order_timeout_ms", 2000}, {"liveness_bound_ms", 30000}}},
          {"workload",
           {{"customers", {{"count", 8}, {"balance_cents", {{"min", 1000}, {"max", 20000}}}}},
            {"skus", {{"count", 5}, {"stock", {{"min", 0}, {"max", 12}}}}},
            {"orders", {{"count", orders}, {"interarrival", {{"dist", "exponential"}, {"mean_ms", 15}}}}}}}};
}

}  // namespace sagasim::sim::test_support
