// Inventory service: on PaymentProcessed reserves every line of the order
// atomically (ItemsReserved) or none (InventoryFailed); on OrderCancelled
// releases a held reservation (ItemsReleased), including one that landed
// after the order timed out. A cancellation that overtakes the payment leaves
// a VOIDED tombstone so the late PaymentProcessed reserves nothing.
//
// In the orchestration style the same reservation and release answer the
// orchestrator's commands instead: ReserveItems (replying ItemsReserved or
// InventoryFailed) and ReleaseItems (replying ItemsReleased); it then
// listens to `orders` only.
#pragma once

#include <map>

#include "core/service.h"
#include "sagas/order/mutants.h"
#include "sagas/order/state.h"

namespace sagasim::saga {

class InventoryService final : public Service {
 public:
  explicit InventoryService(Mutant mutant = Mutant::None, Style style = Style::Choreography)
      : mutant_(mutant), style_(style) {}
  std::string_view name() const override { return "inventory"; }
  std::span<const std::string_view> subscriptions() const override;
  void handle(const Event& event, Context& ctx) override;
  void register_payloads(PayloadRegistry& registry) const override { register_saga_payloads(registry); }
  RecordPtr decode_record(std::string_view table, const nlohmann::json& j) const override;

  static void stock_item(Transaction& txn, std::string sku, int64_t quantity);

 private:
  void reserve(const std::string& order_id, const OrderLines& lines, Context& ctx);
  void release(const Reservation& current, Context& ctx);
  // Stock as the handlers read and write it: from and to the store, except
  // in the inventory-caches-stock mutant, which keeps what it read or wrote
  // in this process's memory and reads it from there next time.
  const StockItem* stock(Transaction& txn, std::string_view sku);
  void put_stock(Transaction& txn, StockItem s);
  Mutant mutant_;
  Style style_;
  std::map<std::string, StockItem, std::less<>> cache_;  // the mutant's only
};

}  // namespace sagasim::saga
