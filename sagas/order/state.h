// The records each service keeps in its store, and their table names.
// Status enums list every state; the invariants (invariants/) check that
// records only move along the transitions documented here.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/store.h"
#include "sagas/order/events.h"

namespace sagasim::saga {

// --- decoding stored records ---------------------------------------------
// Each service's decode_record rebuilds its records from their JSON form with
// decode_record_as<T>. Decoding is exact: a missing or mistyped field, a field
// T does not have, or a value that does not survive the round trip (an enum
// name nobody defined, which nlohmann would quietly read as the first one; a
// fraction in an integer) is an InputError naming the table and the JSON
// pointer of the problem, never a silently different record.

// The JSON pointer of the field that fails to decode: each field of `shape`
// (a default T) is replaced in turn by the stored one until `decodes` fails;
// an array is then narrowed to its first failing element.
std::string locate_undecodable_field(const nlohmann::json& stored, const nlohmann::json& shape,
                                     const std::function<bool(const nlohmann::json&)>& decodes);
// Throws the InputError for a record whose decoded form differs from `stored`.
[[noreturn]] void throw_round_trip_error(const std::string& where, const nlohmann::json& stored,
                                         const nlohmann::json& decoded);

template <class T>
RecordPtr decode_record_as(std::string_view table, const nlohmann::json& j) {
  const std::string where = "table " + std::string(table);
  if (!j.is_object()) throw InputError(where, "/", std::string("expected an object, got ") + j.type_name());
  T value;
  try {
    value = j.get<T>();
  } catch (const nlohmann::json::exception& e) {
    const std::string path = locate_undecodable_field(j, nlohmann::json(T{}), [](const nlohmann::json& probe) {
      try {
        (void)probe.get<T>();
        return true;
      } catch (const nlohmann::json::exception&) {
        return false;
      }
    });
    throw InputError(where, path, e.what());
  }
  nlohmann::json back = value;
  if (back != j) throw_round_trip_error(where, j, back);
  return std::make_shared<RecordOf<T>>(std::move(value));
}

// --- order service ------------------------------------------------------
inline constexpr std::string_view kOrdersTable = "orders";

// PENDING -> CONFIRMED | CANCELLED
enum class OrderStatus { Pending, Confirmed, Cancelled };
NLOHMANN_JSON_SERIALIZE_ENUM(OrderStatus, {{OrderStatus::Pending, "PENDING"},
                                           {OrderStatus::Confirmed, "CONFIRMED"},
                                           {OrderStatus::Cancelled, "CANCELLED"}})
std::string_view to_string(OrderStatus s);

struct Order {
  std::string order_id;
  std::string customer_id;
  OrderLines lines;
  int64_t amount_cents = 0;
  OrderStatus status = OrderStatus::Pending;
  std::string cancel_reason;
  int64_t placed_at_us = 0;
  int64_t deadline_us = 0;
  int64_t decided_at_us = 0;  // when it became CONFIRMED or CANCELLED
  std::string_view status_name() const { return to_string(status); }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Order, order_id, customer_id, lines, amount_cents, status,
                                   cancel_reason, placed_at_us, deadline_us, decided_at_us)

// --- order orchestrator (orchestration style) -----------------------------
inline constexpr std::string_view kSagaLogTable = "saga_log";

// One step of an order's saga as the orchestrator recorded it. The log is
// append-only: every transition adds one step in the same local transaction
// as the Order record and the commands it sends, so after a crash the
// orchestrator knows exactly what it asked for and what it heard back.
enum class SagaStep {
  ChargeRequested,   // ChargePayment sent
  Charged,           // PaymentProcessed heard
  ChargeFailed,      // PaymentFailed heard
  ReserveRequested,  // ReserveItems sent
  Reserved,          // ItemsReserved heard
  ReserveFailed,     // InventoryFailed heard
  Confirmed,         // the order is CONFIRMED (OrderConfirmed sent)
  Cancelled,         // the order is CANCELLED (OrderCancelled sent)
  RefundRequested,   // RefundPayment sent (compensation)
  Refunded,          // PaymentRefunded heard
  ReleaseRequested,  // ReleaseItems sent (compensation)
  Released,          // ItemsReleased heard
};
NLOHMANN_JSON_SERIALIZE_ENUM(SagaStep, {{SagaStep::ChargeRequested, "CHARGE_REQUESTED"},
                                        {SagaStep::Charged, "CHARGED"},
                                        {SagaStep::ChargeFailed, "CHARGE_FAILED"},
                                        {SagaStep::ReserveRequested, "RESERVE_REQUESTED"},
                                        {SagaStep::Reserved, "RESERVED"},
                                        {SagaStep::ReserveFailed, "RESERVE_FAILED"},
                                        {SagaStep::Confirmed, "CONFIRMED"},
                                        {SagaStep::Cancelled, "CANCELLED"},
                                        {SagaStep::RefundRequested, "REFUND_REQUESTED"},
                                        {SagaStep::Refunded, "REFUNDED"},
                                        {SagaStep::ReleaseRequested, "RELEASE_REQUESTED"},
                                        {SagaStep::Released, "RELEASED"}})
std::string_view to_string(SagaStep s);

struct SagaLog {
  std::string order_id;
  std::vector<SagaStep> steps;
  bool has(SagaStep s) const;
  // The latest step, for traces ("RESERVE_REQUESTED").
  std::string_view status_name() const { return steps.empty() ? std::string_view() : to_string(steps.back()); }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SagaLog, order_id, steps)

// --- payment service ----------------------------------------------------
inline constexpr std::string_view kAccountsTable = "accounts";
inline constexpr std::string_view kPaymentsTable = "payments";

struct Account {
  std::string customer_id;
  int64_t balance_cents = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Account, customer_id, balance_cents)

// (none) -> CHARGED -> REFUNDED; (none) -> DECLINED; (none) -> VOIDED when the
// cancellation arrived before the order (a tombstone: never charge it later).
enum class PaymentStatus { Charged, Declined, Refunded, Voided };
NLOHMANN_JSON_SERIALIZE_ENUM(PaymentStatus, {{PaymentStatus::Charged, "CHARGED"},
                                             {PaymentStatus::Declined, "DECLINED"},
                                             {PaymentStatus::Refunded, "REFUNDED"},
                                             {PaymentStatus::Voided, "VOIDED"}})
std::string_view to_string(PaymentStatus s);

struct Payment {
  std::string order_id;
  std::string customer_id;
  int64_t amount_cents = 0;
  PaymentStatus status = PaymentStatus::Declined;
  std::string_view status_name() const { return to_string(status); }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Payment, order_id, customer_id, amount_cents, status)

// --- inventory service --------------------------------------------------
inline constexpr std::string_view kStockTable = "stock";
inline constexpr std::string_view kReservationsTable = "reservations";

struct StockItem {
  std::string sku;
  int64_t available = 0;
  int64_t reserved = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(StockItem, sku, available, reserved)

// (none) -> HELD -> RELEASED; (none) -> REJECTED; (none) -> VOIDED (tombstone).
enum class ReservationStatus { Held, Rejected, Released, Voided };
NLOHMANN_JSON_SERIALIZE_ENUM(ReservationStatus, {{ReservationStatus::Held, "HELD"},
                                                 {ReservationStatus::Rejected, "REJECTED"},
                                                 {ReservationStatus::Released, "RELEASED"},
                                                 {ReservationStatus::Voided, "VOIDED"}})
std::string_view to_string(ReservationStatus s);

struct Reservation {
  std::string order_id;
  OrderLines lines;
  ReservationStatus status = ReservationStatus::Rejected;
  std::string_view status_name() const { return to_string(status); }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Reservation, order_id, lines, status)

}  // namespace sagasim::saga
