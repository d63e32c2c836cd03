// The built-in saga: Order, Payment and Inventory (services/) with the
// checks of invariants/checker.h and the customers/SKUs/orders workload of
// sim/scenario.h, as one SagaDefinition (sim/saga.h) — the default for
// every scenario that names no other.
//
// Styles:
//   choreography   (default) the services react to each other's events
//                  (services/order_service.h)
//   orchestration  an orchestrator sends commands to payment and inventory and
//                  acts on their replies, keeping a durable saga log
//                  (services/order_orchestrator.h)
// Both use the same four topics, service names and invariants, so every
// scenario and fault plan runs in either style.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "sim/saga.h"

namespace sagasim::sim {

class OrderSaga final : public SagaDefinition {
 public:
  std::string_view name() const override { return "order"; }
  std::vector<std::string> styles() const override;
  std::vector<std::string> services(std::string_view style) const override;
  std::vector<std::string> topics(std::string_view style) const override;
  void parse_settings(JsonObject& saga, Scenario& out) const override;
  void parse_workload(JsonObject& root, Scenario& out) const override;
  std::vector<std::string> invariants(std::string_view style) const override;
  std::vector<std::string> paths(std::string_view style) const override;
  nlohmann::json chaos_faults(const Scenario& scenario) const override;
  nlohmann::json explicit_workload(const Scenario& scenario, uint64_t seed) const override;
  void shrink_workload(nlohmann::json& best, const std::function<bool(const nlohmann::json&)>& fails) const override;
  void tidy_workload(nlohmann::json& best, const std::function<bool(const nlohmann::json&)>& fails) const override;
  size_t workload_size(const nlohmann::json& scenario) const override;
  std::unique_ptr<SagaRun> start(const Scenario& scenario, const RunOptions& options) const override;
};

}  // namespace sagasim::sim
