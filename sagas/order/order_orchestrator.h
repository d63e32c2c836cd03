// Order orchestrator: the order saga in the orchestration style (the
// article's "orchestration-based saga"). Service name "order", like the
// choreography's order service, so scenarios and fault plans name it the same.
//
// It accepts PlaceOrder and then directs the saga by commands on `orders`,
// acting on the participants' replies on `payments` and `inventory`:
//
//   PlaceOrder        -> order PENDING, ChargePayment
//   PaymentProcessed  -> ReserveItems            (order still pending)
//   ItemsReserved     -> CONFIRMED, OrderConfirmed
//   PaymentFailed     -> CANCELLED (payment_declined), nothing to undo
//   InventoryFailed   -> CANCELLED (out_of_stock), RefundPayment
//   deadline (timer)  -> CANCELLED (timeout), RefundPayment if it heard a charge
//   a late PaymentProcessed / ItemsReserved after the decision
//                     -> RefundPayment / ReleaseItems
//
// Its durable saga log (table saga_log, sagas/order/state.h) records every
// command sent and every reply heard, in the same local transaction as the
// Order record and the outbox, so a crash between any two steps loses
// nothing: the orchestrator compensates exactly what it knows was done, and
// only that (a refund is never sent for a charge it has not heard of, so the
// participants need no tombstones).
#pragma once

#include "core/service.h"
#include "sagas/order/mutants.h"
#include "sagas/order/state.h"

namespace sagasim::saga {

class OrderOrchestrator final : public Service {
 public:
  explicit OrderOrchestrator(Duration timeout, Mutant mutant = Mutant::None) : timeout_(timeout), mutant_(mutant) {}
  std::string_view name() const override { return "order"; }
  std::span<const std::string_view> subscriptions() const override;
  void handle(const Event& event, Context& ctx) override;
  void on_timer(std::string_view order_id, Context& ctx) override;
  void register_payloads(PayloadRegistry& registry) const override { register_saga_payloads(registry); }
  RecordPtr decode_record(std::string_view table, const nlohmann::json& j) const override;

 private:
  void cancel(const Order& order, SagaLog& log, std::string reason, Context& ctx);
  Duration timeout_;
  Mutant mutant_;
};

}  // namespace sagasim::saga
