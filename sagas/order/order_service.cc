#include "sagas/order/order_service.h"

#include "sagas/order/order_decisions.h"

namespace sagasim::saga {

std::span<const std::string_view> OrderService::subscriptions() const { return order_subscriptions(); }

RecordPtr OrderService::decode_record(std::string_view table, const nlohmann::json& j) const {
  if (table == kOrdersTable) return decode_record_as<Order>(table, j);
  return Service::decode_record(table, j);
}

void OrderService::handle(const Event& event, Context& ctx) {
  Transaction& txn = ctx.txn();
  if (event.type == PlaceOrder::kType) {
    std::optional<Order> o = open_order(event, timeout_, txn, mutant_ == Mutant::OrderTrustsInbox);
    if (!o) return;  // a client retry
    ctx.emit(kOrdersTopic, o->order_id, OrderCreated{o->order_id, o->customer_id, o->lines, o->amount_cents});
    txn.put(kOrdersTable, o->order_id, std::move(*o));
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
    confirm_order(*current, ctx);
  } else {
    cancel_order(*current, event.type == PaymentFailed::kType ? "payment_declined" : "out_of_stock", ctx);
  }
}

void OrderService::on_timer(std::string_view order_id, Context& ctx) {
  const Order* current = ctx.txn().get_as<Order>(kOrdersTable, order_id);
  if (current && current->status == OrderStatus::Pending) cancel_order(*current, "timeout", ctx);
}

}  // namespace sagasim::saga
