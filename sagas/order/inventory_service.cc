#include "sagas/order/inventory_service.h"

#include <algorithm>

#include <fmt/format.h>

namespace sagasim::saga {

namespace {
constexpr std::string_view kChoreographyTopics[] = {kOrdersTopic, kPaymentsTopic};
constexpr std::string_view kOrchestrationTopics[] = {kOrdersTopic};
}  // namespace

std::span<const std::string_view> InventoryService::subscriptions() const {
  if (style_ == Style::Orchestration) return kOrchestrationTopics;
  return kChoreographyTopics;
}

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
  if (style_ == Style::Orchestration) {
    if (event.type == ReserveItems::kType) {
      const auto& cmd = event.payload_as<ReserveItems>();
      reserve(cmd.order_id, cmd.lines, ctx);
    } else if (event.type == ReleaseItems::kType) {
      // The orchestrator asks only after hearing of the reservation.
      const Reservation* current = txn.get_as<Reservation>(kReservationsTable, event.payload_as<ReleaseItems>().order_id);
      if (current) release(*current, ctx);
    }
    return;  // OrderCancelled and OrderConfirmed are facts for others here
  }
  if (event.type == PaymentProcessed::kType) {
    const auto& paid = event.payload_as<PaymentProcessed>();
    reserve(paid.order_id, paid.lines, ctx);
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
    release(*current, ctx);
  }
}

const StockItem* InventoryService::stock(Transaction& txn, std::string_view sku) {
  if (mutant_ != Mutant::InventoryCachesStock) return txn.get_as<StockItem>(kStockTable, sku);
  if (auto it = cache_.find(sku); it != cache_.end()) return &it->second;
  const StockItem* item = txn.get_as<StockItem>(kStockTable, sku);
  if (!item) return nullptr;
  return &cache_.emplace(std::string(sku), *item).first->second;
}

void InventoryService::put_stock(Transaction& txn, StockItem s) {
  if (mutant_ == Mutant::InventoryCachesStock) cache_[s.sku] = s;
  txn.put(kStockTable, s.sku, std::move(s));
}

void InventoryService::reserve(const std::string& order_id, const OrderLines& lines, Context& ctx) {
  Transaction& txn = ctx.txn();
  if (txn.get(kReservationsTable, order_id)) return;  // decided or voided already
  // Reserve all lines or none: check every SKU first (an order may name one
  // SKU on two lines, so quantities are summed), then take them all.
  std::vector<std::pair<std::string_view, int64_t>> wanted;
  for (const OrderLine& line : lines) {
    auto it = std::find_if(wanted.begin(), wanted.end(), [&](auto& w) { return w.first == line.sku; });
    if (it == wanted.end()) wanted.emplace_back(line.sku, line.quantity);
    else it->second += line.quantity;
  }
  for (const auto& [sku, quantity] : wanted) {
    const StockItem* item = stock(txn, sku);
    if (mutant_ == Mutant::InventoryPartialReservation && item && item->available >= quantity) {
      StockItem s = *item;  // takes this line now, before knowing the others fit
      s.available -= quantity;
      s.reserved += quantity;
      put_stock(txn, std::move(s));
      continue;
    }
    if (!item || item->available < quantity) {
      txn.put(kReservationsTable, order_id, Reservation{order_id, lines, ReservationStatus::Rejected});
      ctx.emit(kInventoryTopic, order_id,
               InventoryFailed{order_id, fmt::format("sku {}: want {}, have {}", sku, quantity,
                                                     item ? item->available : 0)});
      return;
    }
  }
  for (const auto& [sku, quantity] : wanted) {
    if (mutant_ == Mutant::InventoryPartialReservation) break;  // taken above
    StockItem s = *stock(txn, sku);
    s.available -= quantity;
    s.reserved += quantity;
    put_stock(txn, std::move(s));
  }
  txn.put(kReservationsTable, order_id, Reservation{order_id, lines, ReservationStatus::Held});
  ctx.emit(kInventoryTopic, order_id, ItemsReserved{order_id, lines});
}

void InventoryService::release(const Reservation& current, Context& ctx) {
  Transaction& txn = ctx.txn();
  const bool releasable = current.status == ReservationStatus::Held ||
                          (mutant_ == Mutant::InventoryReleaseUnreserved && current.status == ReservationStatus::Rejected);
  if (!releasable) return;
  Reservation r = current;
  for (const OrderLine& line : r.lines) {
    const StockItem* item = stock(txn, line.sku);
    StockItem s = item ? *item : StockItem{line.sku, 0, 0};
    s.available += line.quantity;
    s.reserved -= line.quantity;
    put_stock(txn, std::move(s));
  }
  r.status = ReservationStatus::Released;
  ctx.emit(kInventoryTopic, r.order_id, ItemsReleased{r.order_id});
  txn.put(kReservationsTable, r.order_id, std::move(r));
}

}  // namespace sagasim::saga
