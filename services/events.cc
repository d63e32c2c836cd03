#include "services/events.h"

#include "services/state.h"

namespace sagasim::saga {

int64_t order_amount_cents(const std::vector<OrderLine>& lines) {
  int64_t total = 0;
  for (const auto& l : lines) total += l.quantity * l.price_cents;
  return total;
}

void register_saga_payloads(PayloadRegistry& r) {
  r.add<PlaceOrder>();
  r.add<OrderCreated>();
  r.add<OrderConfirmed>();
  r.add<OrderCancelled>();
  r.add<PaymentProcessed>();
  r.add<PaymentFailed>();
  r.add<PaymentRefunded>();
  r.add<ItemsReserved>();
  r.add<InventoryFailed>();
  r.add<ItemsReleased>();
}

std::string_view to_string(OrderStatus s) {
  switch (s) {
    case OrderStatus::Pending: return "PENDING";
    case OrderStatus::Confirmed: return "CONFIRMED";
    case OrderStatus::Cancelled: return "CANCELLED";
  }
  return "?";
}

std::string_view to_string(PaymentStatus s) {
  switch (s) {
    case PaymentStatus::Charged: return "CHARGED";
    case PaymentStatus::Declined: return "DECLINED";
    case PaymentStatus::Refunded: return "REFUNDED";
    case PaymentStatus::Voided: return "VOIDED";
  }
  return "?";
}

std::string_view to_string(ReservationStatus s) {
  switch (s) {
    case ReservationStatus::Held: return "HELD";
    case ReservationStatus::Rejected: return "REJECTED";
    case ReservationStatus::Released: return "RELEASED";
    case ReservationStatus::Voided: return "VOIDED";
  }
  return "?";
}

}  // namespace sagasim::saga
