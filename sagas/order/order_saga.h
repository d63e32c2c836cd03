// The built-in order saga: Order, Payment and Inventory (sagas/order/) with
// the checks of checker.h and the customers/SKUs/orders workload of
// workload.h, as one SagaDefinition (sim/saga.h), registered with the
// sagasim command exactly as a team registers its own (cli/main.h). A
// scenario runs it with "saga": {"name": "order", ...}.
//
// Styles:
//   choreography   (default) the services react to each other's events
//                  (sagas/order/order_service.h)
//   orchestration  an orchestrator sends commands to payment and inventory and
//                  acts on their replies, keeping a durable saga log
//                  (sagas/order/order_orchestrator.h)
// Both use the same four topics, service names and invariants, so every
// scenario and fault plan runs in either style.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "sim/saga.h"

namespace sagasim::saga {

class OrderSaga final : public sim::SagaDefinition {
 public:
  std::string_view name() const override { return "order"; }
  std::vector<std::string> styles() const override;
  std::vector<std::string> services(std::string_view style) const override;
  std::vector<std::string> topics(std::string_view style) const override;
  void parse_settings(JsonObject& saga, sim::Scenario& out) const override;
  void parse_workload(JsonObject& root, sim::Scenario& out) const override;
  std::vector<std::string> invariants(std::string_view style) const override;
  std::vector<std::string> paths(std::string_view style) const override;
  std::vector<sim::VariantInfo> variants() const override;
  sim::InstanceWords instance_words() const override;
  nlohmann::json chaos_faults(const sim::Scenario& scenario) const override;
  nlohmann::json explicit_workload(const sim::Scenario& scenario, uint64_t seed) const override;
  void shrink_workload(nlohmann::json& best, const std::function<bool(const nlohmann::json&)>& fails) const override;
  void tidy_workload(nlohmann::json& best, const std::function<bool(const nlohmann::json&)>& fails) const override;
  size_t workload_size(const nlohmann::json& scenario) const override;
  std::unique_ptr<sim::SagaRun> start(const sim::Scenario& scenario, const sim::RunOptions& options) const override;
  // Production mode: the built-in live workload (50 customers, 20 SKUs, a
  // 30 s order timeout), live runs of N orders "<prefix>-o-<n>", and
  // OrderConfirmed / OrderCancelled as the decisions.
  nlohmann::json live_scenario() const override;
  std::unique_ptr<sim::SagaRun> start_live(const sim::Scenario& scenario, const sim::RunOptions& options,
                                           const sim::LivePlan& plan) const override;
  std::optional<sim::Decision> decision(const Event& record) const override;
};

// The definition (one shared instance).
std::shared_ptr<const sim::SagaDefinition> order_saga();

// The ways through the order saga a run can exercise, as RunResult::paths
// names them (choreography; OrderSaga::paths gives them per style):
// confirmed, payment_failed, inventory_failed (charged, then refunded),
// timeout_cancel, late_success_compensated (a charge or reservation that
// landed after the timeout, undone), cancel_overtook_payment and
// cancel_overtook_reservation (a cancellation that arrived first and left a
// tombstone that blocked the late event).
std::span<const std::string_view> all_saga_paths();

}  // namespace sagasim::saga
