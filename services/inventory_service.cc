#include "services/inventory_service.h"

#include <algorithm>

#include <fmt/format.h>

namespace sagasim::saga {

namespace {
constexpr std::string_view kTopics[] = {kOrdersTopic, kPaymentsTopic};
}

std::span<const std::string_view> InventoryService::subscriptions() const { return kTopics; }

RecordPtr InventoryService::decode_record(std::string_view table, const nlohmann::json& j) const {
  if (table == kStockTable) return decode_record_as<StockItem>(table, j);
  if (table == kReservationsTable) return decode_record_as<Reservation>(table, j);
  return Service::decode_record(table, j);
}

void InventoryService::stock_item(Transaction& txn, std::string sku, int64_t quantity) {
  txn.put(kStockTable, sku, StockItem{sku, quantity, 0});
}

void InventoryService::handle(const Event& event, Context& ctx) {
  Transaction& txn = ctx.txn();
  if (event.type == PaymentProcessed::kType) {
    const auto& paid = event.payload_as<PaymentProcessed>();
    if (txn.get(kReservationsTable, paid.order_id)) return;  // decided or voided already
    // Reserve all lines or none: check every SKU first (an order may name one
    // SKU on two lines, so quantities are summed), then take them all.
    std::vector<std::pair<std::string_view, int64_t>> wanted;
    for (const OrderLine& line : paid.lines) {
      auto it = std::find_if(wanted.begin(), wanted.end(), [&](auto& w) { return w.first == line.sku; });
      if (it == wanted.end()) wanted.emplace_back(line.sku, line.quantity);
      else it->second += line.quantity;
    }
    for (const auto& [sku, quantity] : wanted) {
      const StockItem* item = txn.get_as<StockItem>(kStockTable, sku);
      if (mutant_ == Mutant::InventoryPartialReservation && item && item->available >= quantity) {
        StockItem s = *item;  // takes this line now, before knowing the others fit
        s.available -= quantity;
        s.reserved += quantity;
        txn.put(kStockTable, s.sku, std::move(s));
        continue;
      }
      if (!item || item->available < quantity) {
        txn.put(kReservationsTable, paid.order_id,
                Reservation{paid.order_id, paid.lines, ReservationStatus::Rejected});
        ctx.emit(kInventoryTopic, paid.order_id,
                 InventoryFailed{paid.order_id, fmt::format("sku {}: want {}, have {}", sku, quantity,
                                                            item ? item->available : 0)});
        return;
      }
    }
    for (const auto& [sku, quantity] : wanted) {
      if (mutant_ == Mutant::InventoryPartialReservation) break;  // taken above
      StockItem s = *txn.get_as<StockItem>(kStockTable, sku);
      s.available -= quantity;
      s.reserved += quantity;
      txn.put(kStockTable, s.sku, std::move(s));
    }
    txn.put(kReservationsTable, paid.order_id, Reservation{paid.order_id, paid.lines, ReservationStatus::Held});
    ctx.emit(kInventoryTopic, paid.order_id, ItemsReserved{paid.order_id, paid.lines});
  } else if (event.type == OrderCancelled::kType) {
    const auto& cancelled = event.payload_as<OrderCancelled>();
    const Reservation* current = txn.get_as<Reservation>(kReservationsTable, cancelled.order_id);
    if (mutant_ == Mutant::TimeoutForgetsLateReservation && cancelled.reason == "timeout") {
      // "A timeout means nothing was reserved": marks the order void
      // without looking, so a reservation that landed late is never released.
      txn.put(kReservationsTable, cancelled.order_id,
              Reservation{cancelled.order_id, {}, ReservationStatus::Voided});
      return;
    }
    if (!current) {
      if (mutant_ == Mutant::InventoryNoTombstone) return;
      txn.put(kReservationsTable, cancelled.order_id,
              Reservation{cancelled.order_id, {}, ReservationStatus::Voided});
      return;
    }
    const bool releasable = current->status == ReservationStatus::Held ||
                            (mutant_ == Mutant::InventoryReleaseUnreserved && current->status == ReservationStatus::Rejected);
    if (!releasable) return;
    Reservation r = *current;
    for (const OrderLine& line : r.lines) {
      const StockItem* item = txn.get_as<StockItem>(kStockTable, line.sku);
      StockItem s = item ? *item : StockItem{line.sku, 0, 0};
      s.available += line.quantity;
      s.reserved -= line.quantity;
      txn.put(kStockTable, s.sku, std::move(s));
    }
    r.status = ReservationStatus::Released;
    ctx.emit(kInventoryTopic, r.order_id, ItemsReleased{r.order_id});
    txn.put(kReservationsTable, r.order_id, std::move(r));
  }
}

}  // namespace sagasim::saga
