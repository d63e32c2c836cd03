#include "sagas/order/mutants.h"

#include <fmt/format.h>

#include "core/error.h"
#include "sagas/order/events.h"

namespace sagasim::saga {

namespace {
constexpr MutantInfo kMutants[] = {
    {Mutant::PaymentNoDedupe, "payment-no-dedupe",
     "payment charges on every delivery of OrderCreated: no inbox, no check for an existing payment"},
    {Mutant::RefundWithoutCharge, "refund-without-charge",
     "payment refunds on OrderCancelled without checking that it charged (declined payments get money back)"},
    {Mutant::CompensationNotIdempotent, "compensation-not-idempotent",
     "payment refunds on every delivery of OrderCancelled, even when it already refunded"},
    {Mutant::PaymentNoTombstone, "payment-no-tombstone",
     "a cancellation that overtakes its order leaves no trace, so the late OrderCreated is charged"},
    {Mutant::InventoryReleaseUnreserved, "inventory-release-unreserved",
     "inventory releases the lines of a rejected reservation on OrderCancelled"},
    {Mutant::InventoryNoTombstone, "inventory-no-tombstone",
     "inventory drops a cancellation that arrives before the payment it cancels; the late payment reserves"},
    {Mutant::TimeoutForgetsLateReservation, "timeout-forgets-late-reservation",
     "inventory ignores cancellations caused by a timeout, so a reservation that lands late stays held"},
    {Mutant::InventoryPartialReservation, "inventory-partial-reservation",
     "inventory reserves line by line and keeps what it took when a later line is short"},
    {Mutant::OrderConfirmsAfterCancel, "order-confirms-after-cancel",
     "the order service confirms a cancelled order when a late ItemsReserved arrives"},
    {Mutant::OrchestratorIgnoresLateReply, "orchestrator-ignores-late-reply",
     "orchestration: once an order is decided the orchestrator drops replies, so a late charge or reservation is never undone"},
    {Mutant::OrchestratorSkipsRefund, "orchestrator-skips-refund",
     "orchestration: cancelling an order does not refund the charge the saga log records"},
    {Mutant::BreakingSchemaChange, "breaking-schema-change",
     "order ships a new version of OrderCreated and ChargePayment with amount_cents renamed total_cents, unchecked"},
    {Mutant::PaymentForwardsFirstLine, "payment-forwards-first-line",
     "payment passes only the order's first line on to inventory, which reserves less than was ordered"},
    {Mutant::PaymentDeclinesExactBalance, "payment-declines-exact-balance",
     "payment declines an order whose amount equals the customer's balance (balance > amount where >= was meant)"},
    {Mutant::InventoryCachesStock, "inventory-caches-stock",
     "inventory keeps stock levels in process memory and reads them from there, so instances oversell each other's stock"},
    {Mutant::OrderTrustsInbox, "order-trusts-inbox",
     "the order service dedupes PlaceOrder by event id only: a client's retry under a new id opens the order again"},
};
}  // namespace

std::span<const MutantInfo> all_mutants() { return kMutants; }

bool mutant_applies(Mutant m, std::string_view style) {
  switch (m) {
    case Mutant::RefundWithoutCharge:         // the orchestrator never asks to refund a declined charge
    case Mutant::PaymentNoTombstone:          // no tombstones: compensations follow what they undo
    case Mutant::InventoryReleaseUnreserved:  // nor to release a rejected reservation
    case Mutant::InventoryNoTombstone:
    case Mutant::PaymentForwardsFirstLine:    // the orchestrator sends inventory the lines itself
      return style != "orchestration";
    case Mutant::OrchestratorIgnoresLateReply:
    case Mutant::OrchestratorSkipsRefund:
      return style == "orchestration";
    default:
      return true;
  }
}

std::optional<Mutant> mutant_from(std::string_view name) {
  if (name.empty() || name == "none") return Mutant::None;
  for (const auto& m : kMutants)
    if (m.name == name) return m.mutant;
  return std::nullopt;
}

std::string_view to_string(Mutant m) {
  for (const auto& i : kMutants)
    if (i.mutant == m) return i.name;
  return "none";
}

void apply_breaking_schema_change(PayloadRegistry& r) {
  for (std::string_view type : {OrderCreated::kType, ChargePayment::kType}) {
    const int current = r.current_version(type);
    const JsonSchema* schema = r.schema(type, current);
    if (!schema) throw InternalError(fmt::format("breaking-schema-change: {} v{} has no schema", type, current));
    auto next = std::make_shared<JsonSchema>(*schema);
    for (auto& p : next->properties)
      if (p.name == "amount_cents") p.name = "total_cents";
    for (auto& req : next->required)
      if (req == "amount_cents") req = "total_cents";
    r.add_schema(type, current + 1, std::move(next));
    r.add_converters(
        type, current,
        [](nlohmann::json& p) {
          if (auto it = p.find("amount_cents"); it != p.end()) {
            p["total_cents"] = *it;
            p.erase("amount_cents");
          }
        },
        [](nlohmann::json& p) {
          if (auto it = p.find("total_cents"); it != p.end()) {
            p["amount_cents"] = *it;
            p.erase("total_cents");
          }
        });
    r.pin(type, current + 1, "breaking-schema-change");
  }
}

}  // namespace sagasim::saga
