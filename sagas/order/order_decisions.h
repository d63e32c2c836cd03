// What the two order services share, whichever style directs the saga: the
// topics they listen to, the Order a PlaceOrder opens, and the decision.
// `OrderService` (choreography) and `OrderOrchestrator` (orchestration)
// differ only in what they send between the opening and the decision.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/service.h"
#include "sagas/order/state.h"

namespace sagasim::saga {

// order-requests, payments, inventory.
std::span<const std::string_view> order_subscriptions();

// The PENDING Order a PlaceOrder opens, with its deadline timer set, or
// nullopt when this order id is known already: the order id is the business
// key, so a client retry (a new event id) starts no second saga.
//
// The deadline counts from when the customer placed the order (the command's
// timestamp), not from when this service got to it: the saga's promise is
// "decided within the timeout of placing". A service clock that is off from
// the client's therefore moves the deadline.
// `reopen` is the order-trusts-inbox mutant: no business-key check, so a
// client's retry under a new event id opens the order again.
std::optional<Order> open_order(const Event& place_order, Duration timeout, Transaction& txn, bool reopen = false);

// Decides `order` CONFIRMED: its deadline is cancelled, OrderConfirmed is
// emitted and the order stored.
void confirm_order(const Order& order, Context& ctx);

// Decides `order` CANCELLED for `reason` (payment_declined, out_of_stock,
// timeout): its deadline is cancelled, OrderCancelled is emitted and the
// order stored. The compensations are the caller's: choreography leaves them
// to the participants, the orchestrator sends them after this.
void cancel_order(const Order& order, std::string reason, Context& ctx);

}  // namespace sagasim::saga
