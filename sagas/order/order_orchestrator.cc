#include "sagas/order/order_orchestrator.h"

#include "sagas/order/order_decisions.h"

namespace sagasim::saga {

namespace {

// The order a reply is about, or empty for an event the orchestrator does not act on.
std::string_view reply_order_id(const Event& e) {
  if (e.type == PaymentProcessed::kType) return e.payload_as<PaymentProcessed>().order_id;
  if (e.type == PaymentFailed::kType) return e.payload_as<PaymentFailed>().order_id;
  if (e.type == PaymentRefunded::kType) return e.payload_as<PaymentRefunded>().order_id;
  if (e.type == ItemsReserved::kType) return e.payload_as<ItemsReserved>().order_id;
  if (e.type == InventoryFailed::kType) return e.payload_as<InventoryFailed>().order_id;
  if (e.type == ItemsReleased::kType) return e.payload_as<ItemsReleased>().order_id;
  return {};
}
}  // namespace

std::span<const std::string_view> OrderOrchestrator::subscriptions() const { return order_subscriptions(); }

RecordPtr OrderOrchestrator::decode_record(std::string_view table, const nlohmann::json& j) const {
  if (table == kOrdersTable) return decode_record_as<Order>(table, j);
  if (table == kSagaLogTable) return decode_record_as<SagaLog>(table, j);
  return Service::decode_record(table, j);
}

void OrderOrchestrator::handle(const Event& event, Context& ctx) {
  Transaction& txn = ctx.txn();
  if (event.type == PlaceOrder::kType) {
    std::optional<Order> o = open_order(event, timeout_, txn, mutant_ == Mutant::OrderTrustsInbox);
    if (!o) return;  // a client retry
    ctx.emit(kOrdersTopic, o->order_id, ChargePayment{o->order_id, o->customer_id, o->amount_cents});
    txn.put(kSagaLogTable, o->order_id, SagaLog{o->order_id, {SagaStep::ChargeRequested}});
    txn.put(kOrdersTable, o->order_id, std::move(*o));
    return;
  }

  const std::string_view order_id = reply_order_id(event);
  if (order_id.empty()) return;
  const Order* order = txn.get_as<Order>(kOrdersTable, order_id);
  const SagaLog* current = txn.get_as<SagaLog>(kSagaLogTable, order_id);
  if (!order || !current) return;  // a reply for an order this orchestrator never started
  SagaLog log = *current;
  const bool pending = order->status == OrderStatus::Pending;
  // After the decision, replies still matter: a success that lands late must
  // be undone. The mutant forgets that.
  const bool listens = pending || mutant_ != Mutant::OrchestratorIgnoresLateReply;

  if (event.type == PaymentProcessed::kType) {
    if (log.has(SagaStep::Charged) || log.has(SagaStep::ChargeFailed) || !listens) return;  // heard it already
    log.steps.push_back(SagaStep::Charged);
    if (pending) {
      log.steps.push_back(SagaStep::ReserveRequested);
      ctx.emit(kOrdersTopic, order->order_id, ReserveItems{order->order_id, order->lines});
    } else if (!log.has(SagaStep::RefundRequested)) {
      log.steps.push_back(SagaStep::RefundRequested);
      ctx.emit(kOrdersTopic, order->order_id, RefundPayment{order->order_id, order->cancel_reason});
    }
  } else if (event.type == PaymentFailed::kType) {
    if (log.has(SagaStep::Charged) || log.has(SagaStep::ChargeFailed)) return;
    log.steps.push_back(SagaStep::ChargeFailed);
    if (pending) cancel(*order, log, "payment_declined", ctx);
  } else if (event.type == ItemsReserved::kType) {
    if (log.has(SagaStep::Reserved) || log.has(SagaStep::ReserveFailed) || !listens) return;
    log.steps.push_back(SagaStep::Reserved);
    const bool late_confirm = mutant_ == Mutant::OrderConfirmsAfterCancel && order->status == OrderStatus::Cancelled;
    if (pending || late_confirm) {
      log.steps.push_back(SagaStep::Confirmed);
      confirm_order(*order, ctx);
    } else if (mutant_ != Mutant::TimeoutForgetsLateReservation || order->cancel_reason != "timeout") {
      // Cancelled while the reservation was on its way: release it.
      log.steps.push_back(SagaStep::ReleaseRequested);
      ctx.emit(kOrdersTopic, order->order_id, ReleaseItems{order->order_id, order->cancel_reason});
    }
  } else if (event.type == InventoryFailed::kType) {
    if (log.has(SagaStep::Reserved) || log.has(SagaStep::ReserveFailed)) return;
    log.steps.push_back(SagaStep::ReserveFailed);
    if (pending) cancel(*order, log, "out_of_stock", ctx);
  } else if (event.type == PaymentRefunded::kType) {
    if (log.has(SagaStep::Refunded)) return;
    log.steps.push_back(SagaStep::Refunded);
  } else if (event.type == ItemsReleased::kType) {
    if (log.has(SagaStep::Released)) return;
    log.steps.push_back(SagaStep::Released);
  }
  txn.put(kSagaLogTable, log.order_id, std::move(log));
}

void OrderOrchestrator::on_timer(std::string_view order_id, Context& ctx) {
  const Order* order = ctx.txn().get_as<Order>(kOrdersTable, order_id);
  const SagaLog* current = ctx.txn().get_as<SagaLog>(kSagaLogTable, order_id);
  if (!order || !current || order->status != OrderStatus::Pending) return;
  SagaLog log = *current;
  cancel(*order, log, "timeout", ctx);
  ctx.txn().put(kSagaLogTable, log.order_id, std::move(log));
}

void OrderOrchestrator::cancel(const Order& order, SagaLog& log, std::string reason, Context& ctx) {
  log.steps.push_back(SagaStep::Cancelled);
  // Undo what it knows was done. A charge or reservation still on its way
  // is undone when its reply arrives (handle, above). A reservation cannot
  // be held here: ItemsReserved confirms a pending order.
  const bool refund = log.has(SagaStep::Charged) && !log.has(SagaStep::RefundRequested) &&
                      mutant_ != Mutant::OrchestratorSkipsRefund;
  cancel_order(order, reason, ctx);
  if (refund) {
    log.steps.push_back(SagaStep::RefundRequested);
    ctx.emit(kOrdersTopic, order.order_id, RefundPayment{order.order_id, std::move(reason)});
  }
}

}  // namespace sagasim::saga
