#include "sagas/order/order_decisions.h"

#include <fmt/format.h>

#include "core/error.h"

namespace sagasim::saga {

namespace {
constexpr std::string_view kTopics[] = {kOrderRequestsTopic, kPaymentsTopic, kInventoryTopic};
}

std::span<const std::string_view> order_subscriptions() { return kTopics; }

std::optional<Order> open_order(const Event& place_order, Duration timeout, Transaction& txn, bool reopen) {
  const auto& cmd = place_order.payload_as<PlaceOrder>();
  // A command that contradicts itself is refused (production dead-letters
  // it, naming the field): the record's key, the envelope's correlation id
  // and the payload's order id name one order, and the order's price is its
  // lines' (the client states the amount it expects to pay; a different one
  // is a mistake or a tampered command, never a price).
  const std::string where = "event " + place_order.event_id;
  if (cmd.order_id != place_order.key)
    throw InputError(where, "/payload/order_id",
                     fmt::format("PlaceOrder for order '{}' sent under the key '{}'", cmd.order_id, place_order.key));
  if (!place_order.correlation_id.empty() && place_order.correlation_id != place_order.key)  // empty: the key stands for it
    throw InputError(where, "/correlation_id",
                     fmt::format("'{}' is not the order's id '{}'", place_order.correlation_id, place_order.key));
  if (cmd.amount_cents != order_amount_cents(cmd.lines))
    throw InputError(where, "/payload/amount_cents",
                     fmt::format("{} cents, but the lines cost {}", cmd.amount_cents, order_amount_cents(cmd.lines)));
  if (!reopen && txn.get(kOrdersTable, cmd.order_id)) return std::nullopt;  // a client's retry
  Order o;
  o.order_id = cmd.order_id;
  o.customer_id = cmd.customer_id;
  o.lines = cmd.lines;
  o.amount_cents = cmd.amount_cents;
  o.placed_at_us = place_order.occurred_at.us;
  o.deadline_us = (place_order.occurred_at + timeout).us;
  txn.set_timer(o.order_id, Time{o.deadline_us});
  return o;
}

void confirm_order(const Order& order, Context& ctx) {
  Order o = order;
  o.status = OrderStatus::Confirmed;
  o.decided_at_us = ctx.now().us;
  ctx.txn().cancel_timer(o.order_id);
  ctx.emit(kOrdersTopic, o.order_id, OrderConfirmed{o.order_id});
  ctx.txn().put(kOrdersTable, o.order_id, std::move(o));
}

void cancel_order(const Order& order, std::string reason, Context& ctx) {
  Order o = order;
  o.status = OrderStatus::Cancelled;
  o.cancel_reason = reason;
  o.decided_at_us = ctx.now().us;
  ctx.txn().cancel_timer(o.order_id);
  ctx.emit(kOrdersTopic, o.order_id, OrderCancelled{o.order_id, std::move(reason)});
  ctx.txn().put(kOrdersTable, o.order_id, std::move(o));
}

}  // namespace sagasim::saga
