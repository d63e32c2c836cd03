// The order saga's bug zoo: deliberately broken variants, each a mistake real
// teams make. A property suite that cannot catch every one of them is not
// testing much (tests/properties/). Select one with `--mutant NAME`; `sagasim
// mutants` lists them with the runtime's own mutants (sim/saga.h), which
// apply to every saga.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "core/codec.h"

namespace sagasim::saga {

enum class Mutant {
  None,
  PaymentNoDedupe,             // payment charges every delivery: no inbox, no business-key check
  RefundWithoutCharge,         // a cancellation refunds whatever payment record exists, declined included
  CompensationNotIdempotent,   // refunds again on every delivery of a cancellation
  PaymentNoTombstone,          // an early cancellation leaves no trace; the late order is charged
  InventoryReleaseUnreserved,  // releases the lines of a rejected reservation
  InventoryNoTombstone,        // drops a cancellation that arrives before its payment (out of order)
  TimeoutForgetsLateReservation,  // ignores cancellations for timeouts, so a late reservation stays held
  InventoryPartialReservation,    // on a shortfall keeps the lines it already took
  OrderConfirmsAfterCancel,       // a late reservation flips a cancelled order to confirmed
  OrchestratorIgnoresLateReply,   // orchestration: after the decision, replies are dropped (no late compensation)
  OrchestratorSkipsRefund,        // orchestration: cancelling does not refund a charge it heard of
  BreakingSchemaChange,           // order writes its charge request with amount_cents renamed: an unchecked schema change
  PaymentForwardsFirstLine,       // choreography: PaymentProcessed carries only the order's first line to inventory
  PaymentDeclinesExactBalance,    // payment declines when the balance equals the amount (> where >= was meant)
  InventoryCachesStock,           // inventory keeps stock in process memory and trusts it over the store
  OrderTrustsInbox,               // the order service trusts its inbox alone: a retried PlaceOrder opens the order again
};

struct MutantInfo {
  Mutant mutant;
  std::string_view name;
  std::string_view description;
};

// Every mutant except None, in a stable order.
std::span<const MutantInfo> all_mutants();
// Whether the mutant changes anything in that style ("choreography" or
// "orchestration"): tombstones exist only in choreography, the orchestrator
// only in orchestration; the runtime mutants apply to both.
bool mutant_applies(Mutant m, std::string_view style);
std::optional<Mutant> mutant_from(std::string_view name);
std::string_view to_string(Mutant m);

// The breaking-schema-change mutant's codec, applied to the order service's
// registry: the next version of OrderCreated and of ChargePayment renames
// amount_cents to total_cents, and the service writes that version. Consumers
// on the current schemas cannot read it (their records go unread: the
// records_readable invariant), and `sagasim schema check` calls the change
// NONE (tests/schemas/OrderCreated.v3-breaking.json is the same change).
void apply_breaking_schema_change(PayloadRegistry& registry);

}  // namespace sagasim::saga
