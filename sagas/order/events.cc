#include "sagas/order/events.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/json_reader.h"
#include "sagas/order/schemas.h"
#include "sagas/order/state.h"

namespace sagasim::saga {

std::string locate_undecodable_field(const nlohmann::json& stored, const nlohmann::json& shape,
                                     const std::function<bool(const nlohmann::json&)>& decodes) {
  for (const auto& [field, _] : shape.items()) {
    auto it = stored.find(field);
    if (it == stored.end()) return "/" + field;
    nlohmann::json probe = shape;
    probe[field] = *it;
    if (decodes(probe)) continue;
    if (it->is_array()) {
      for (size_t i = 0; i < it->size(); ++i) {
        probe[field] = nlohmann::json::array({(*it)[i]});
        if (!decodes(probe)) return fmt::format("/{}/{}", field, i);
      }
    }
    return "/" + field;
  }
  return "/";  // only the combination fails: not expected from a plain struct
}

void throw_round_trip_error(const std::string& where, const nlohmann::json& stored, const nlohmann::json& decoded) {
  const nlohmann::json patch = nlohmann::json::diff(stored, decoded);
  const nlohmann::json& op = patch.at(0);  // they differ, so there is a first change
  const std::string path = op.at("path").get<std::string>();
  const std::string kind = op.at("op").get<std::string>();
  if (kind == "remove") throw InputError(where, path, "unknown field");
  if (kind == "add") throw InputError(where, path, "missing field");
  throw InputError(where, path,
                   fmt::format("{} does not survive decoding (reads back as {})",
                               JsonObject::describe(stored.at(nlohmann::json::json_pointer(path))),
                               JsonObject::describe(op.at("value"))));
}

int64_t order_amount_cents(std::span<const OrderLine> lines) {
  int64_t total = 0;
  for (const auto& l : lines) total += l.quantity * l.price_cents;
  return total;
}

Event place_order_command(std::string_view run_id, size_t index, std::string_view order_id, std::string customer_id,
                          OrderLines lines, Time at) {
  Event e;
  e.event_id = fmt::format("{}-place-{}", run_id, index + 1);
  e.type = std::string(PlaceOrder::kType);
  e.schema_version = PlaceOrder::kVersion;
  e.key = fmt::format("{}-{}", run_id, order_id);
  e.occurred_at = at;
  e.correlation_id = e.key;
  const int64_t amount = order_amount_cents(lines);
  e.payload = std::make_shared<PayloadOf<PlaceOrder>>(PlaceOrder{e.key, std::move(customer_id), std::move(lines), amount});
  return e;
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
  r.add<ChargePayment>();
  r.add<RefundPayment>();
  r.add<ReserveItems>();
  r.add<ReleaseItems>();
  for (const auto& [id, schema] : saga_schemas()) r.add_schema(id.first, id.second, schema);
  // OrderCreated v1 -> v2: the currency, which v1 left implicit (USD).
  r.add_converters(
      OrderCreated::kType, 1, [](nlohmann::json& p) { p.emplace("currency", "USD"); },
      [](nlohmann::json& p) { p.erase("currency"); });
}

std::string_view to_string(Style s) {
  switch (s) {
    case Style::Choreography: return "choreography";
    case Style::Orchestration: return "orchestration";
  }
  return "?";
}

std::string_view to_string(OrderStatus s) {
  switch (s) {
    case OrderStatus::Pending: return "PENDING";
    case OrderStatus::Confirmed: return "CONFIRMED";
    case OrderStatus::Cancelled: return "CANCELLED";
  }
  return "?";
}

std::string_view to_string(SagaStep s) {
  switch (s) {
    case SagaStep::ChargeRequested: return "CHARGE_REQUESTED";
    case SagaStep::Charged: return "CHARGED";
    case SagaStep::ChargeFailed: return "CHARGE_FAILED";
    case SagaStep::ReserveRequested: return "RESERVE_REQUESTED";
    case SagaStep::Reserved: return "RESERVED";
    case SagaStep::ReserveFailed: return "RESERVE_FAILED";
    case SagaStep::Confirmed: return "CONFIRMED";
    case SagaStep::Cancelled: return "CANCELLED";
    case SagaStep::RefundRequested: return "REFUND_REQUESTED";
    case SagaStep::Refunded: return "REFUNDED";
    case SagaStep::ReleaseRequested: return "RELEASE_REQUESTED";
    case SagaStep::Released: return "RELEASED";
  }
  return "?";
}

bool SagaLog::has(SagaStep s) const { return std::find(steps.begin(), steps.end(), s) != steps.end(); }

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
