#include "services/order_service.h"

namespace sagasim::saga {

namespace {
constexpr std::string_view kTopics[] = {kOrderRequestsTopic, kPaymentsTopic, kInventoryTopic};
}

std::span<const std::string_view> OrderService::subscriptions() const { return kTopics; }

RecordPtr OrderService::decode_record(std::string_view table, const nlohmann::json& j) const {
  if (table == kOrdersTable) return decode_record_as<Order>(table, j);
  return Service::decode_record(table, j);
}

void OrderService::handle(const Event& event, Context& ctx) {
  Transaction& txn = ctx.txn();
  if (event.type == PlaceOrder::kType) {
    const auto& cmd = event.payload_as<PlaceOrder>();
    // The order id is the business key: a second PlaceOrder for the same
    // order (a client retry with a new event id) must not start a second saga.
    if (txn.get(kOrdersTable, cmd.order_id)) return;
    Order o;
    o.order_id = cmd.order_id;
    o.customer_id = cmd.customer_id;
    o.lines = cmd.lines;
    o.amount_cents = cmd.amount_cents;
    // The deadline counts from when the customer placed the order (the
    // command's timestamp), not from when this service got to it: the saga's
    // promise is "decided within the timeout of placing". A service clock
    // that is off from the client's therefore moves the deadline.
    o.placed_at_us = event.occurred_at.us;
    o.deadline_us = (event.occurred_at + timeout_).us;
    txn.set_timer(o.order_id, Time{o.deadline_us});
    ctx.emit(kOrdersTopic, o.order_id,
             OrderCreated{o.order_id, o.customer_id, o.lines, o.amount_cents});
    txn.put(kOrdersTable, o.order_id, std::move(o));
    return;
  }

  std::string_view order_id;
  if (event.type == ItemsReserved::kType) order_id = event.payload_as<ItemsReserved>().order_id;
  else if (event.type == PaymentFailed::kType) order_id = event.payload_as<PaymentFailed>().order_id;
  else if (event.type == InventoryFailed::kType) order_id = event.payload_as<InventoryFailed>().order_id;
  else return;  // PaymentProcessed, refunds and releases need nothing from us

  const Order* current = txn.get_as<Order>(kOrdersTable, order_id);
  const bool late_success = mutant_ == Mutant::OrderConfirmsAfterCancel && current &&
                            current->status == OrderStatus::Cancelled && event.type == ItemsReserved::kType;
  if (!current || (current->status != OrderStatus::Pending && !late_success)) return;  // already decided

  if (event.type == ItemsReserved::kType) {
    Order o = *current;
    o.status = OrderStatus::Confirmed;
    o.decided_at_us = ctx.now().us;
    txn.cancel_timer(o.order_id);
    ctx.emit(kOrdersTopic, o.order_id, OrderConfirmed{o.order_id});
    txn.put(kOrdersTable, o.order_id, std::move(o));
  } else {
    cancel(*current, event.type == PaymentFailed::kType ? "payment_declined" : "out_of_stock", ctx);
  }
}

void OrderService::on_timer(std::string_view order_id, Context& ctx) {
  const Order* current = ctx.txn().get_as<Order>(kOrdersTable, order_id);
  if (current && current->status == OrderStatus::Pending) cancel(*current, "timeout", ctx);
}

void OrderService::cancel(const Order& order, std::string reason, Context& ctx) {
  Order o = order;
  o.status = OrderStatus::Cancelled;
  o.cancel_reason = reason;
  o.decided_at_us = ctx.now().us;
  ctx.txn().cancel_timer(o.order_id);
  ctx.emit(kOrdersTopic, o.order_id, OrderCancelled{o.order_id, std::move(reason)});
  ctx.txn().put(kOrdersTable, o.order_id, std::move(o));
}

}  // namespace sagasim::saga
