// Payment service: charges the customer on OrderCreated when the balance
// allows (PaymentProcessed) or declines (PaymentFailed); refunds a charge on
// OrderCancelled (PaymentRefunded). A cancellation that overtakes its order
// leaves a VOIDED tombstone so the late OrderCreated is never charged.
//
// In the orchestration style the same charge and refund answer the
// orchestrator's commands instead: ChargePayment (replying PaymentProcessed
// or PaymentFailed) and RefundPayment (replying PaymentRefunded).
#pragma once

#include "core/service.h"
#include "sagas/order/mutants.h"
#include "sagas/order/state.h"

namespace sagasim::saga {

class PaymentService final : public Service {
 public:
  // It subscribes to `orders` in both styles, and acts on the events of its
  // style only (in orchestration, OrderCancelled is a fact for others).
  explicit PaymentService(Mutant mutant = Mutant::None, Style style = Style::Choreography)
      : mutant_(mutant), style_(style) {}
  std::string_view name() const override { return "payment"; }
  std::span<const std::string_view> subscriptions() const override;
  void handle(const Event& event, Context& ctx) override;
  void register_payloads(PayloadRegistry& registry) const override { register_saga_payloads(registry); }
  RecordPtr decode_record(std::string_view table, const nlohmann::json& j) const override;
  bool uses_inbox() const override {
    return mutant_ != Mutant::PaymentNoDedupe && mutant_ != Mutant::CompensationNotIdempotent;
  }

  // Seeds an account (set-up, outside any saga).
  static void open_account(Transaction& txn, std::string customer_id, int64_t balance_cents);

 private:
  void charge(const std::string& order_id, const std::string& customer_id, int64_t amount_cents,
              const OrderLines& lines, Context& ctx);
  void refund(const Payment& current, Context& ctx);
  Mutant mutant_;
  Style style_;
};

}  // namespace sagasim::saga
