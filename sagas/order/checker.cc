#include "sagas/order/checker.h"

#include <algorithm>
#include <climits>
#include <set>

#include <fmt/format.h>

namespace sagasim::inv {

using namespace saga;

namespace {
constexpr std::string_view kAll[] = {kMoneyConserved,    kStockConserved,
                                     kNeverNegative,     kEffectsAtMostOnce,
                                     kTerminalWithinBound, kConfirmedIffChargedAndReserved,
                                     kCancelledCompensated, kBrokerGuarantees};
constexpr size_t kMaxViolations = 1000;

int64_t held_cents(const Payment* p) {
  return p && p->status == PaymentStatus::Charged ? p->amount_cents : 0;
}

// Allowed record transitions (sagas/order/state.h). `from` null means "new".
bool payment_step_ok(const Payment* from, const Payment& to) {
  if (!from) return to.status != PaymentStatus::Refunded;
  return from->status == PaymentStatus::Charged && to.status == PaymentStatus::Refunded;
}
bool reservation_step_ok(const Reservation* from, const Reservation& to) {
  if (!from) return to.status != ReservationStatus::Released;
  return from->status == ReservationStatus::Held && to.status == ReservationStatus::Released;
}
bool order_step_ok(const Order* from, const Order& to) {
  if (!from) return to.status == OrderStatus::Pending;
  return from->status == OrderStatus::Pending && to.status != OrderStatus::Pending;
}
}  // namespace

std::span<const std::string_view> all_invariants() { return kAll; }

SafetyMonitor::SafetyMonitor(Baseline baseline) : baseline_(std::move(baseline)), money_(baseline_.money_cents) {}

void SafetyMonitor::add(std::string_view invariant, std::string order, std::string message, Time now) {
  if (violations_.size() >= kMaxViolations) {
    ++dropped_;
    return;
  }
  violations_.push_back(Violation{std::string(invariant), std::move(order), std::move(message), now.us});
}

void SafetyMonitor::on_commit(const WriteSet& ws, Time now) {
  bool money_touched = false;
  for (const Put& put : ws.puts) {
    if (put.table == kAccountsTable) {
      const Account* before = record_as<Account>(put.before);
      const Account* after = record_as<Account>(put.record);
      if (!after) continue;
      money_ += after->balance_cents - (before ? before->balance_cents : 0);
      money_touched = true;
      if (after->balance_cents < 0)
        add(kNeverNegative, "", fmt::format("account {} balance {}", put.key, after->balance_cents), now);
    } else if (put.table == kPaymentsTable) {
      const Payment* before = record_as<Payment>(put.before);
      const Payment* after = record_as<Payment>(put.record);
      if (!after) continue;
      money_ += held_cents(after) - held_cents(before);
      money_touched = true;
      if (!payment_step_ok(before, *after))
        add(kEffectsAtMostOnce, put.key,
            fmt::format("payment {} -> {}", before ? to_string(before->status) : "(none)", to_string(after->status)),
            now);
    } else if (put.table == kStockTable) {
      const StockItem* after = record_as<StockItem>(put.record);
      if (!after) continue;
      if (after->available < 0 || after->reserved < 0)
        add(kNeverNegative, "", fmt::format("sku {} available {} reserved {}", put.key, after->available, after->reserved), now);
      auto it = baseline_.stock.find(put.key);
      const int64_t initial = it == baseline_.stock.end() ? 0 : it->second;
      if (after->available + after->reserved != initial)
        add(kStockConserved, "",
            fmt::format("sku {}: available {} + reserved {} != initial {}", put.key, after->available,
                        after->reserved, initial),
            now);
    } else if (put.table == kReservationsTable) {
      const Reservation* before = record_as<Reservation>(put.before);
      const Reservation* after = record_as<Reservation>(put.record);
      if (after && !reservation_step_ok(before, *after))
        add(kEffectsAtMostOnce, put.key,
            fmt::format("reservation {} -> {}", before ? to_string(before->status) : "(none)",
                        to_string(after->status)),
            now);
    } else if (put.table == kOrdersTable) {
      const Order* before = record_as<Order>(put.before);
      const Order* after = record_as<Order>(put.record);
      if (after && !order_step_ok(before, *after))
        add(kEffectsAtMostOnce, put.key,
            fmt::format("order {} -> {}", before ? to_string(before->status) : "(none)", to_string(after->status)),
            now);
      if (after && after->status != OrderStatus::Pending && (!before || before->status == OrderStatus::Pending))
        decided_at_.emplace(put.key, now.us);
    }
  }
  if (money_touched && money_ != baseline_.money_cents)
    add(kMoneyConserved, "",
        fmt::format("balances + held charges = {} cents, started with {}", money_, baseline_.money_cents), now);
}

void load_state(const Store& order_store, const Store& payment_store, const Store& inventory_store,
                SagaState& out) {
  auto load = [](const Store& store, std::string_view table, auto& into) {
    using T = typename std::remove_reference_t<decltype(into)>::mapped_type;
    store.scan(table, [&](const std::string& key, const RecordPtr& r) {
      if (const T* v = record_as<T>(r)) into.emplace(key, *v);
    });
  };
  load(order_store, kOrdersTable, out.orders);
  load(payment_store, kAccountsTable, out.accounts);
  load(payment_store, kPaymentsTable, out.payments);
  load(inventory_store, kStockTable, out.stock);
  load(inventory_store, kReservationsTable, out.reservations);
  load(order_store, kSagaLogTable, out.saga_logs);
}

std::vector<Violation> check_saga_log(const SagaState& s, const FinalCheckOptions& options) {
  std::vector<Violation> out;
  if (!options.quiesced) return out;
  auto add = [&](std::string order, std::string msg) {
    if (out.size() < kMaxViolations) out.push_back(Violation{std::string(kSagaLogComplete), std::move(order), std::move(msg)});
  };
  for (const auto& [id, o] : s.orders) {
    auto it = s.saga_logs.find(id);
    if (it == s.saga_logs.end()) {
      add(id, "no saga log for the order");
      continue;
    }
    const SagaLog& log = it->second;
    if (o.status == OrderStatus::Confirmed && !log.has(SagaStep::Confirmed)) add(id, "CONFIRMED, but not in the saga log");
    if (o.status == OrderStatus::Cancelled && !log.has(SagaStep::Cancelled)) add(id, "CANCELLED, but not in the saga log");
    if (o.status != OrderStatus::Cancelled) continue;
    if (log.has(SagaStep::Charged) && !(log.has(SagaStep::RefundRequested) && log.has(SagaStep::Refunded)))
      add(id, "cancelled after a charge the log records, but the refund was not asked for and heard back");
    if (log.has(SagaStep::Reserved) && !(log.has(SagaStep::ReleaseRequested) && log.has(SagaStep::Released)))
      add(id, "cancelled after a reservation the log records, but the release was not asked for and heard back");
  }
  return out;
}

std::vector<Violation> check_final(const SagaState& s, const Baseline& baseline, const FinalCheckOptions& options) {
  std::vector<Violation> out;
  auto add = [&](std::string_view inv, std::string order, std::string msg) {
    if (out.size() < kMaxViolations) out.push_back(Violation{std::string(inv), std::move(order), std::move(msg)});
  };

  // --- safety, recomputed from scratch --------------------------------------
  int64_t money = 0;
  for (const auto& [id, a] : s.accounts) {
    money += a.balance_cents;
    if (a.balance_cents < 0) add(kNeverNegative, "", fmt::format("account {} balance {}", id, a.balance_cents));
  }
  for (const auto& [id, p] : s.payments) money += held_cents(&p);
  if (money != baseline.money_cents)
    add(kMoneyConserved, "",
        fmt::format("balances + captured - refunded = {} cents, started with {}", money, baseline.money_cents));

  std::map<std::string, int64_t> held_qty;
  for (const auto& [id, r] : s.reservations)
    if (r.status == ReservationStatus::Held)
      for (const auto& l : r.lines) held_qty[l.sku] += l.quantity;
  for (const auto& [sku, initial] : baseline.stock) {
    auto it = s.stock.find(sku);
    const int64_t avail = it == s.stock.end() ? 0 : it->second.available;
    const int64_t reserved = it == s.stock.end() ? 0 : it->second.reserved;
    if (avail < 0 || reserved < 0) add(kNeverNegative, "", fmt::format("sku {} available {} reserved {}", sku, avail, reserved));
    if (avail + reserved != initial)
      add(kStockConserved, "", fmt::format("sku {}: on hand {} + reserved {} != initial {}", sku, avail, reserved, initial));
    if (reserved != held_qty[sku])
      add(kStockConserved, "",
          fmt::format("sku {}: reserved {} but held reservations add up to {}", sku, reserved, held_qty[sku]));
  }

  // At most one charge, refund, reservation and release per order, and no
  // compensation without what it compensates. (Their order in time is checked
  // by the record transitions, at each commit: the log cannot tell it, since a
  // producer without idempotence may legally publish a release before a
  // retried reservation, and service clocks may be skewed.)
  struct Seen {
    std::set<std::string> ids[4];
  };
  std::map<std::string, Seen> per_order;
  for (const LoggedEvent& le : s.log) {
    int k = -1;
    const std::string& t = le.event->type;
    if (t == PaymentProcessed::kType) k = 0;
    else if (t == PaymentRefunded::kType) k = 1;
    else if (t == ItemsReserved::kType) k = 2;
    else if (t == ItemsReleased::kType) k = 3;
    if (k < 0) continue;
    Seen& seen = per_order[le.event->correlation_id];
    seen.ids[k].insert(le.event->event_id);
  }
  static constexpr const char* kNames[] = {"charges (PaymentProcessed)", "refunds (PaymentRefunded)",
                                           "reservations (ItemsReserved)", "releases (ItemsReleased)"};
  for (const auto& [order, seen] : per_order) {
    for (int k = 0; k < 4; ++k)
      if (seen.ids[k].size() > 1) add(kEffectsAtMostOnce, order, fmt::format("{} distinct {}", seen.ids[k].size(), kNames[k]));
    if (!seen.ids[1].empty() && seen.ids[0].empty()) add(kEffectsAtMostOnce, order, "refund without a charge");
    if (!seen.ids[3].empty() && seen.ids[2].empty()) add(kEffectsAtMostOnce, order, "release without a reservation");
  }

  if (!options.quiesced) return out;

  // --- liveness and agreement, once quiet -----------------------------------
  for (const PlacedOrder& placed : s.placed) {
    auto it = s.orders.find(placed.order_id);
    if (it == s.orders.end()) {
      add(kTerminalWithinBound, placed.order_id, "placed but never reached the order service");
      continue;
    }
    const Order& o = it->second;
    if (o.status == OrderStatus::Pending) {
      add(kTerminalWithinBound, o.order_id, "still PENDING after the run went quiet");
      continue;
    }
    auto true_decided = s.decided_at.find(o.order_id);
    const int64_t decided = true_decided == s.decided_at.end() ? o.decided_at_us : true_decided->second;
    const int64_t took = decided - placed.placed_at_us;
    if (took > options.liveness_bound.us)
      add(kTerminalWithinBound, o.order_id,
          fmt::format("{} after {} ms, bound {} ms", to_string(o.status), took / 1000, options.liveness_bound.ms()));
  }
  for (const auto& [id, o] : s.orders) {
    auto p = s.payments.find(id);
    auto r = s.reservations.find(id);
    const bool charged = p != s.payments.end() && p->second.status == PaymentStatus::Charged;
    const bool held = r != s.reservations.end() && r->second.status == ReservationStatus::Held;
    if (o.status == OrderStatus::Confirmed && !(charged && held))
      add(kConfirmedIffChargedAndReserved, id,
          fmt::format("CONFIRMED but payment {} and reservation {}",
                      p == s.payments.end() ? "missing" : to_string(p->second.status),
                      r == s.reservations.end() ? "missing" : to_string(r->second.status)));
    if (o.status != OrderStatus::Confirmed && charged && held)
      add(kConfirmedIffChargedAndReserved, id, fmt::format("charged and reserved but {}", to_string(o.status)));
    if (o.status == OrderStatus::Cancelled && (charged || held))
      add(kCancelledCompensated, id,
          fmt::format("CANCELLED ({}) but {}{}", o.cancel_reason, charged ? "still charged" : "",
                      held ? (charged ? " and stock still reserved" : "stock still reserved") : ""));
  }
  return out;
}

}  // namespace sagasim::inv
