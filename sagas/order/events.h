// The saga's events as the handlers see them (each type's current version),
// and the topics they travel on. Their JSON Schemas, one per version, are in
// sagas/order/schemas/ (schemas.h); docs/events.md lists every field.
//
// Choreography (the services react to each other's events):
//   order-requests  PlaceOrder                              (from clients)
//   orders          OrderCreated, OrderConfirmed, OrderCancelled
//   payments        PaymentProcessed, PaymentFailed, PaymentRefunded
//   inventory       ItemsReserved, InventoryFailed, ItemsReleased
//
// Orchestration (the order service directs; payment and inventory obey and reply):
//   order-requests  PlaceOrder                              (from clients)
//   orders          the orchestrator's commands, each for one participant:
//                   ChargePayment, RefundPayment (payment), ReserveItems,
//                   ReleaseItems (inventory); and its decisions
//                   OrderConfirmed, OrderCancelled (facts for anyone else)
//   payments        replies: PaymentProcessed, PaymentFailed, PaymentRefunded
//   inventory       replies: ItemsReserved, InventoryFailed, ItemsReleased
// The same four topics in both styles, so every scenario and fault plan runs
// in either. One command topic for both participants keeps an order's
// commands in one partition, in the order the orchestrator sent them.
//
// Every record is keyed by its order id, so one order's events on one topic
// share a partition and keep their order; across topics there is no order.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/codec.h"
#include "core/shared_list.h"

namespace sagasim::saga {

inline constexpr std::string_view kOrderRequestsTopic = "order-requests";
inline constexpr std::string_view kOrdersTopic = "orders";
inline constexpr std::string_view kPaymentsTopic = "payments";
inline constexpr std::string_view kInventoryTopic = "inventory";

// The two ways to run the saga (the scenario's "style").
enum class Style { Choreography, Orchestration };
std::string_view to_string(Style s);

struct OrderLine {
  std::string sku;
  int64_t quantity = 0;
  int64_t price_cents = 0;
  bool operator==(const OrderLine&) const = default;
};
SAGASIM_DEFINE_JSON_TYPE(OrderLine, sku, quantity, price_cents)

// An order's lines, built once and shared by every event and record that
// carries them (core/shared_list.h).
using OrderLines = SharedList<OrderLine>;

int64_t order_amount_cents(std::span<const OrderLine> lines);

struct PlaceOrder {
  static constexpr std::string_view kType = "PlaceOrder";
  static constexpr int kVersion = 1;
  std::string order_id;
  std::string customer_id;
  OrderLines lines;
  int64_t amount_cents = 0;
};
SAGASIM_DEFINE_JSON_TYPE(PlaceOrder, order_id, customer_id, lines, amount_cents)

// A client's PlaceOrder command: the `index`-th order (from 0) that run
// `run_id` places, keyed "<run_id>-<order_id>", with event id
// "<run_id>-place-<index + 1>" (how `sagasim check` tells the client's records
// from the services'), created at `at`.
Event place_order_command(std::string_view run_id, size_t index, std::string_view order_id, std::string customer_id,
                          OrderLines lines, Time at);

// v2 added `currency`. v1 data (all of it in USD) is upcast on read; an
// instance pinned to v1 (a rolling upgrade) writes v1 by dropping it.
struct OrderCreated {
  static constexpr std::string_view kType = "OrderCreated";
  static constexpr int kVersion = 2;
  std::string order_id;
  std::string customer_id;
  OrderLines lines;
  int64_t amount_cents = 0;
  std::string currency = "USD";  // ISO 4217
};
SAGASIM_DEFINE_JSON_TYPE(OrderCreated, order_id, customer_id, lines, amount_cents, currency)

struct OrderConfirmed {
  static constexpr std::string_view kType = "OrderConfirmed";
  static constexpr int kVersion = 1;
  std::string order_id;
};
SAGASIM_DEFINE_JSON_TYPE(OrderConfirmed, order_id)

struct OrderCancelled {
  static constexpr std::string_view kType = "OrderCancelled";
  static constexpr int kVersion = 1;
  std::string order_id;
  std::string reason;  // "payment_declined", "out_of_stock" or "timeout"
};
SAGASIM_DEFINE_JSON_TYPE(OrderCancelled, order_id, reason)

struct PaymentProcessed {
  static constexpr std::string_view kType = "PaymentProcessed";
  static constexpr int kVersion = 1;
  std::string order_id;
  std::string customer_id;
  int64_t amount_cents = 0;
  OrderLines lines;  // carried so inventory needs no other source
};
SAGASIM_DEFINE_JSON_TYPE(PaymentProcessed, order_id, customer_id, amount_cents, lines)

struct PaymentFailed {
  static constexpr std::string_view kType = "PaymentFailed";
  static constexpr int kVersion = 1;
  std::string order_id;
  std::string reason;
};
SAGASIM_DEFINE_JSON_TYPE(PaymentFailed, order_id, reason)

struct PaymentRefunded {
  static constexpr std::string_view kType = "PaymentRefunded";
  static constexpr int kVersion = 1;
  std::string order_id;
  int64_t amount_cents = 0;
};
SAGASIM_DEFINE_JSON_TYPE(PaymentRefunded, order_id, amount_cents)

struct ItemsReserved {
  static constexpr std::string_view kType = "ItemsReserved";
  static constexpr int kVersion = 1;
  std::string order_id;
  OrderLines lines;
};
SAGASIM_DEFINE_JSON_TYPE(ItemsReserved, order_id, lines)

struct InventoryFailed {
  static constexpr std::string_view kType = "InventoryFailed";
  static constexpr int kVersion = 1;
  std::string order_id;
  std::string reason;
};
SAGASIM_DEFINE_JSON_TYPE(InventoryFailed, order_id, reason)

struct ItemsReleased {
  static constexpr std::string_view kType = "ItemsReleased";
  static constexpr int kVersion = 1;
  std::string order_id;
};
SAGASIM_DEFINE_JSON_TYPE(ItemsReleased, order_id)

// --- orchestration commands (orchestrator -> participant, on `orders`) ----

struct ChargePayment {
  static constexpr std::string_view kType = "ChargePayment";
  static constexpr int kVersion = 1;
  std::string order_id;
  std::string customer_id;
  int64_t amount_cents = 0;
};
SAGASIM_DEFINE_JSON_TYPE(ChargePayment, order_id, customer_id, amount_cents)

// Sent only once the orchestrator knows the charge happened (PaymentProcessed).
struct RefundPayment {
  static constexpr std::string_view kType = "RefundPayment";
  static constexpr int kVersion = 1;
  std::string order_id;
  std::string reason;  // why the order was cancelled
};
SAGASIM_DEFINE_JSON_TYPE(RefundPayment, order_id, reason)

struct ReserveItems {
  static constexpr std::string_view kType = "ReserveItems";
  static constexpr int kVersion = 1;
  std::string order_id;
  OrderLines lines;
};
SAGASIM_DEFINE_JSON_TYPE(ReserveItems, order_id, lines)

// Sent only once the orchestrator knows the reservation is held (ItemsReserved).
struct ReleaseItems {
  static constexpr std::string_view kType = "ReleaseItems";
  static constexpr int kVersion = 1;
  std::string order_id;
  std::string reason;
};
SAGASIM_DEFINE_JSON_TYPE(ReleaseItems, order_id, reason)

// Registers every saga event above: its decoder, a schema per version
// (sagas/order/schemas/) and the converters between versions.
void register_saga_payloads(PayloadRegistry& registry);

}  // namespace sagasim::saga
