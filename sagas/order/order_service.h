// Order service: accepts PlaceOrder, starts the saga with OrderCreated, and
// decides it: CONFIRMED on ItemsReserved; CANCELLED on PaymentFailed,
// InventoryFailed or when its deadline (placement time + timeout, on this
// service's clock) passes first (a durable timer), in
// which case OrderCancelled makes payment refund and inventory release.
// A success that lands after the decision changes nothing here: the other
// services compensate on OrderCancelled.
#pragma once

#include "core/service.h"
#include "sagas/order/mutants.h"
#include "sagas/order/state.h"

namespace sagasim::saga {

class OrderService final : public Service {
 public:
  explicit OrderService(Duration timeout, Mutant mutant = Mutant::None) : timeout_(timeout), mutant_(mutant) {}
  std::string_view name() const override { return "order"; }
  std::span<const std::string_view> subscriptions() const override;
  void handle(const Event& event, Context& ctx) override;
  void on_timer(std::string_view order_id, Context& ctx) override;
  void register_payloads(PayloadRegistry& registry) const override { register_saga_payloads(registry); }
  RecordPtr decode_record(std::string_view table, const nlohmann::json& j) const override;

 private:
  Duration timeout_;
  Mutant mutant_;
};

}  // namespace sagasim::saga
