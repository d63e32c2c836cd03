#include "sagas/order/checker.h"

#include <algorithm>
#include <climits>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "core/error.h"
#include "core/fast_json.h"

namespace sagasim::inv {

using namespace saga;

namespace {
constexpr std::string_view kAll[] = {kMoneyConserved,       kStockConserved,
                                     kNeverNegative,        kEffectsAtMostOnce,
                                     kTerminalWithinBound,  kConfirmedIffChargedAndReserved,
                                     kCancelledCompensated, kEffectsMatchOrder,
                                     kDecisionsJustified,   kDecidedByDeadline,
                                     kBrokerGuarantees};
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

// Lines as a multiset of SKU -> quantity (the same SKU on two lines adds up).
std::map<std::string, int64_t> quantities(std::span<const OrderLine> lines) {
  std::map<std::string, int64_t> q;
  for (const auto& l : lines) q[l.sku] += l.quantity;
  return q;
}
// Whether two lists ask for the same quantities. Equal lines, the usual case
// (often one shared list), are answered without building the multisets.
bool same_quantities(std::span<const OrderLine> a, std::span<const OrderLine> b) {
  return std::ranges::equal(a, b) || quantities(a) == quantities(b);
}
std::string describe(const std::map<std::string, int64_t>& q) {
  std::string s;
  for (const auto& [sku, n] : q) s += fmt::format("{}{}x{}", s.empty() ? "" : " ", n, sku);
  return s.empty() ? "nothing" : s;
}

// The four effects an order may have at most once, as events (check_final
// counts them in the whole log, LogMonitor as they arrive).
enum EffectKind { kCharge = 0, kRefund = 1, kReserve = 2, kRelease = 3 };
constexpr int kEffectKinds = 4;
int effect_kind(std::string_view type) {
  if (type == PaymentProcessed::kType) return kCharge;
  if (type == PaymentRefunded::kType) return kRefund;
  if (type == ItemsReserved::kType) return kReserve;
  if (type == ItemsReleased::kType) return kRelease;
  return -1;
}
std::string distinct_effects(size_t n, int kind) {
  static constexpr const char* kNames[] = {"charges (PaymentProcessed)", "refunds (PaymentRefunded)",
                                           "reservations (ItemsReserved)", "releases (ItemsReleased)"};
  return fmt::format("{} distinct {}", n, kNames[kind]);
}
constexpr const char* kRefundWithoutCharge = "refund without a charge";
constexpr const char* kReleaseWithoutReservation = "release without a reservation";
}  // namespace

std::span<const std::string_view> all_invariants() { return kAll; }

SafetyMonitor::SafetyMonitor(Baseline baseline)
    : baseline_(std::move(baseline)), money_(baseline_.money_cents), balance_(baseline_.balances),
      available_(baseline_.stock) {}

void SafetyMonitor::judge_decisions(const WriteSet& ws, Time now) {
  for (const Put& put : ws.puts) {
    if (put.before) continue;  // a decision is a new record; later changes are compensations
    if (put.table == kPaymentsTable) {
      const Payment* p = record_as<Payment>(put.record);
      if (!p || (p->status != PaymentStatus::Charged && p->status != PaymentStatus::Declined)) continue;
      auto it = balance_.find(p->customer_id);
      if (it == balance_.end()) {
        if (p->status == PaymentStatus::Charged)
          add(kDecisionsJustified, put.key, fmt::format("charged {} cents to unknown customer {}", p->amount_cents,
                                                        p->customer_id), now);
        continue;
      }
      const int64_t balance = it->second;
      if (p->status == PaymentStatus::Charged && balance < p->amount_cents)
        add(kDecisionsJustified, put.key,
            fmt::format("charged {} cents with a balance of {}", p->amount_cents, balance), now);
      if (p->status == PaymentStatus::Declined && balance >= p->amount_cents)
        add(kDecisionsJustified, put.key,
            fmt::format("declined {} cents with a balance of {}: enough to pay", p->amount_cents, balance), now);
    } else if (put.table == kReservationsTable) {
      const Reservation* r = record_as<Reservation>(put.record);
      if (!r || (r->status != ReservationStatus::Held && r->status != ReservationStatus::Rejected)) continue;
      std::string short_line;
      for (const auto& [sku, qty] : quantities(r->lines)) {
        auto it = available_.find(sku);
        const int64_t have = it == available_.end() ? 0 : it->second;
        if (have < qty && short_line.empty()) short_line = fmt::format("{}x{} with {} available", qty, sku, have);
      }
      if (r->status == ReservationStatus::Held && !short_line.empty())
        add(kDecisionsJustified, put.key, "reserved " + short_line, now);
      if (r->status == ReservationStatus::Rejected && short_line.empty())
        add(kDecisionsJustified, put.key,
            fmt::format("rejected {} with every SKU available", describe(quantities(r->lines))), now);
    }
  }
}

void SafetyMonitor::add(std::string_view invariant, std::string order, std::string message, Time now) {
  if (violations_.size() >= kMaxViolations) {
    ++dropped_;
    return;
  }
  violations_.push_back(Violation{std::string(invariant), std::move(order), std::move(message), now.us});
}

void SafetyMonitor::on_commit(const WriteSet& ws, Time now) {
  judge_decisions(ws, now);
  bool money_touched = false;
  for (const Put& put : ws.puts) {
    if (put.table == kAccountsTable) {
      const Account* before = record_as<Account>(put.before);
      const Account* after = record_as<Account>(put.record);
      if (!after) continue;
      balance_[put.key] = after->balance_cents;
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
      available_[put.key] = after->available;
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
      const bool decided = after && after->status != OrderStatus::Pending && (!before || before->status == OrderStatus::Pending);
      const bool created = after && !before;
      if (decided || created) {
        Times& t = times_[put.key];  // the first of each counts
        if (decided && t.decided_us == kUnset) t.decided_us = now.us;
        if (created && t.created_us == kUnset) t.created_us = now.us;
      }
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

namespace {

// Non-owning: the record lives in the SagaState the view was made from.
template <class T>
std::shared_ptr<const T> borrowed(const T& value) {
  return std::shared_ptr<const T>(std::shared_ptr<const void>(), &value);
}
template <class T>
std::shared_ptr<const T> find_in(const std::map<std::string, T>& map, const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : borrowed(it->second);
}

class SagaStateView final : public StateView {
 public:
  explicit SagaStateView(const SagaState& s) : s_(s) {}
  void each_order(const Each<Order>& fn) const override { each(s_.orders, fn); }
  void each_account(const Each<Account>& fn) const override { each(s_.accounts, fn); }
  void each_payment(const Each<Payment>& fn) const override { each(s_.payments, fn); }
  void each_reservation(const Each<Reservation>& fn) const override { each(s_.reservations, fn); }
  Ptr<Order> order(const std::string& id) const override { return find_in(s_.orders, id); }
  Ptr<Payment> payment(const std::string& id) const override { return find_in(s_.payments, id); }
  Ptr<Reservation> reservation(const std::string& id) const override { return find_in(s_.reservations, id); }
  Ptr<StockItem> stock(const std::string& sku) const override { return find_in(s_.stock, sku); }
  Ptr<SagaLog> saga_log(const std::string& id) const override { return find_in(s_.saga_logs, id); }

 private:
  template <class T>
  static void each(const std::map<std::string, T>& map, const Each<T>& fn) {
    for (const auto& [key, value] : map) fn(key, value);
  }
  const SagaState& s_;
};

// The stores read in place: a scan in key order per pass, a lookup per key.
class StoreStateView final : public StateView {
 public:
  StoreStateView(const Store& order, const Store& payment, const Store& inventory)
      : order_(order), payment_(payment), inventory_(inventory) {}
  void each_order(const Each<Order>& fn) const override { each(order_, kOrdersTable, fn); }
  void each_account(const Each<Account>& fn) const override { each(payment_, kAccountsTable, fn); }
  void each_payment(const Each<Payment>& fn) const override { each(payment_, kPaymentsTable, fn); }
  void each_reservation(const Each<Reservation>& fn) const override { each(inventory_, kReservationsTable, fn); }
  Ptr<Order> order(const std::string& id) const override { return find<Order>(order_, kOrdersTable, id); }
  Ptr<Payment> payment(const std::string& id) const override { return find<Payment>(payment_, kPaymentsTable, id); }
  Ptr<Reservation> reservation(const std::string& id) const override {
    return find<Reservation>(inventory_, kReservationsTable, id);
  }
  Ptr<StockItem> stock(const std::string& sku) const override { return find<StockItem>(inventory_, kStockTable, sku); }
  Ptr<SagaLog> saga_log(const std::string& id) const override { return find<SagaLog>(order_, kSagaLogTable, id); }

 private:
  // As load_state reads them: a record of another type is not there.
  template <class T>
  static void each(const Store& store, std::string_view table, const Each<T>& fn) {
    store.scan(table, [&](const std::string& key, const RecordPtr& r) {
      if (const T* v = record_as<T>(r)) fn(key, *v);
    });
  }
  template <class T>
  static Ptr<T> find(const Store& store, std::string_view table, const std::string& key) {
    RecordPtr r = store.get(table, key);
    const T* v = record_as<T>(r);
    return v ? Ptr<T>(std::move(r), v) : nullptr;
  }
  const Store& order_;
  const Store& payment_;
  const Store& inventory_;
};

class SagaStateFacts final : public RunFacts {
 public:
  explicit SagaStateFacts(const SagaState& s) : s_(s) {}
  void each_placed(const std::function<void(const std::string&, int64_t)>& fn) const override {
    for (const PlacedOrder& p : s_.placed) fn(p.order_id, p.placed_at_us);
  }
  std::optional<int64_t> created_at(const std::string& id) const override { return find(s_.created_at, id); }
  std::optional<int64_t> decided_at(const std::string& id) const override { return find(s_.decided_at, id); }

 private:
  static std::optional<int64_t> find(const std::unordered_map<std::string, int64_t>& m, const std::string& id) {
    auto it = m.find(id);
    return it == m.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }
  const SagaState& s_;
};

}  // namespace

std::unique_ptr<StateView> view_of(const SagaState& state) { return std::make_unique<SagaStateView>(state); }
std::unique_ptr<StateView> view_of(const Store& order_store, const Store& payment_store,
                                   const Store& inventory_store) {
  return std::make_unique<StoreStateView>(order_store, payment_store, inventory_store);
}

std::vector<Violation> check_saga_log(const SagaState& s, const FinalCheckOptions& options) {
  return check_saga_log(SagaStateView(s), options);
}

std::vector<Violation> check_saga_log(const StateView& s, const FinalCheckOptions& options) {
  std::vector<Violation> out;
  if (!options.quiesced) return out;
  auto add = [&](std::string order, std::string msg) {
    if (out.size() < kMaxViolations) out.push_back(Violation{std::string(kSagaLogComplete), std::move(order), std::move(msg)});
  };
  s.each_order([&](const std::string& id, const Order& o) {
    const auto found = s.saga_log(id);
    if (!found) {
      add(id, "no saga log for the order");
      return;
    }
    const SagaLog& log = *found;
    if (o.status == OrderStatus::Confirmed && !log.has(SagaStep::Confirmed)) add(id, "CONFIRMED, but not in the saga log");
    if (o.status == OrderStatus::Cancelled && !log.has(SagaStep::Cancelled)) add(id, "CANCELLED, but not in the saga log");
    if (o.status != OrderStatus::Cancelled) return;
    if (log.has(SagaStep::Charged) && !(log.has(SagaStep::RefundRequested) && log.has(SagaStep::Refunded)))
      add(id, "cancelled after a charge the log records, but the refund was not asked for and heard back");
    if (log.has(SagaStep::Reserved) && !(log.has(SagaStep::ReleaseRequested) && log.has(SagaStep::Released)))
      add(id, "cancelled after a reservation the log records, but the release was not asked for and heard back");
  });
  return out;
}

namespace {

// The payload as T: the typed one, or (an event logged as another version's
// type or as plain JSON, as on the wire) read from its JSON form; nullopt
// when it is neither, or has no payload (the checker's own tests).
template <class T>
std::optional<T> payload_of(const Event& e) {
  if (!e.payload) return std::nullopt;
  const Payload* p = e.payload.get();
  if (typeid(*p) == typeid(PayloadOf<T>)) return static_cast<const PayloadOf<T>*>(p)->value;
  try {
    nlohmann::json j;
    e.payload->to_json(j);
    return j.get<T>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}
// The same without a copy when the payload is typed (the rule off the wire):
// a pointer into the event, else into `read`, which keeps the one read from
// JSON; null when there is none.
template <class T>
const T* payload_in(const Event& e, std::optional<T>& read) {
  if (!e.payload) return nullptr;
  const Payload* p = e.payload.get();
  if (typeid(*p) == typeid(PayloadOf<T>)) return &static_cast<const PayloadOf<T>*>(p)->value;
  read = payload_of<T>(e);
  return read ? &*read : nullptr;
}

// What an order asked for: its record (check_final) or, where only the
// records are seen (LogMonitor), the client's PlaceOrder.
struct OrderTerms {
  const std::string& order_id;
  const std::string& customer_id;
  int64_t amount_cents;
  std::span<const OrderLine> lines;
};

// kEffectsMatchOrder for one event as it went out: a charge of the order's
// amount from its customer (passing on its lines), a refund of the charge, a
// reservation of its lines. v(order, message) for each mismatch.
template <class V>
void judge_effect_event(const Event& ev, const OrderTerms& o, V&& v) {
  const std::string& t = ev.type;
  const bool charge = t == PaymentProcessed::kType, refund = t == PaymentRefunded::kType,
             reserve = t == ItemsReserved::kType;
  if (!charge && !refund && !reserve) return;
  if (charge) {
    std::optional<PaymentProcessed> read;
    const PaymentProcessed* p = payload_in(ev, read);
    if (!p) return;
    const PaymentProcessed& e = *p;
    if (e.amount_cents != o.amount_cents || e.customer_id != o.customer_id)
      v(o.order_id, fmt::format("{} charged {} cents to {}; the order is {} cents from {}", ev.event_id,
                                e.amount_cents, e.customer_id, o.amount_cents, o.customer_id));
    if (!e.lines.empty() && !same_quantities(e.lines, o.lines))
      v(o.order_id, fmt::format("{} passes on {}; the order is {}", ev.event_id, describe(quantities(e.lines)),
                                describe(quantities(o.lines))));
  } else if (refund) {
    std::optional<PaymentRefunded> read;
    const PaymentRefunded* p = payload_in(ev, read);
    if (!p) return;
    const PaymentRefunded& e = *p;
    if (e.amount_cents != o.amount_cents)
      v(o.order_id, fmt::format("{} refunded {} cents of a {}-cent charge", ev.event_id, e.amount_cents,
                                o.amount_cents));
  } else {
    std::optional<ItemsReserved> read;
    const ItemsReserved* p = payload_in(ev, read);
    if (!p) return;
    const ItemsReserved& e = *p;
    if (!same_quantities(e.lines, o.lines))
      v(o.order_id, fmt::format("{} reserved {}; the order is {}", ev.event_id, describe(quantities(e.lines)),
                                describe(quantities(o.lines))));
  }
}

}  // namespace

uint64_t LogFold::id_of(const std::string& id) {
  // The simulator's ids "e-<n>" (no leading zero) are n; any other id gets
  // an interned number with the top bit set. 0 is never an id.
  if (id.size() >= 3 && id.size() <= 20 && id[0] == 'e' && id[1] == '-' && id[2] != '0') {
    uint64_t n = 0;
    bool digits = true;
    for (size_t i = 2; i < id.size() && digits; ++i) {
      digits = id[i] >= '0' && id[i] <= '9';
      n = n * 10 + static_cast<uint64_t>(id[i] - '0');
    }
    if (digits && n < (uint64_t{1} << 62)) return n;
  }
  auto [it, fresh] = interned_.emplace(id, (uint64_t{1} << 63) | (interned_.size() + 1));
  return it->second;
}

void LogFold::judge(const std::string& order, const Event& e, Position at, const PlaceOrder& a) {
  judge_effect_event(e, OrderTerms{order, a.customer_id, a.amount_cents, a.lines},
                     [&](const std::string&, std::string msg) {
                       // Bounded, as check_final's report is: a broken variant
                       // can mismatch every order of a long run.
                       if (mismatches_.size() >= 4 * kMaxViolations) {
                         ++mismatches_dropped_;
                         return;
                       }
                       mismatches_.push_back(Mismatch{at, order, std::move(msg)});
                     });
}

uint32_t LogFold::intern(const std::string& name) {
  // Looked up first: emplace would allocate a node for every name seen again
  // (a customer and the SKUs of every order).
  if (const auto known = name_ids_.find(name); known != name_ids_.end()) return known->second;
  auto [it, fresh] = name_ids_.emplace(name, static_cast<uint32_t>(names_.size()));
  if (fresh) names_.push_back(name);
  return it->second;
}

PlaceOrder LogFold::asked_of(const Facts& f) const {
  PlaceOrder cmd;
  cmd.customer_id = names_[f.customer];
  cmd.amount_cents = f.amount_cents;
  std::vector<OrderLine> lines;
  lines.reserve(f.line_count);
  for (uint32_t i = f.first_line; i < f.first_line + f.line_count; ++i)
    lines.push_back(OrderLine{names_[lines_[i].sku], lines_[i].quantity, lines_[i].price_cents});
  cmd.lines = std::move(lines);
  return cmd;
}

bool LogFold::asked_is(const Facts& f, const std::string& customer_id, int64_t amount_cents,
                       std::span<const OrderLine> lines) const {
  if (f.amount_cents != amount_cents || f.line_count != lines.size() || names_[f.customer] != customer_id) return false;
  for (uint32_t i = 0; i < f.line_count; ++i) {
    const Line& l = lines_[f.first_line + i];
    if (l.quantity != lines[i].quantity || l.price_cents != lines[i].price_cents || names_[l.sku] != lines[i].sku)
      return false;
  }
  return true;
}

void LogFold::add(const LoggedEvent& le, Position at) {
  const Event& e = *le.event;
  if (e.type == PlaceOrder::kType) {
    Facts& f = orders_[e.key];
    if (f.asked) return;
    std::optional<PlaceOrder> read;
    const PlaceOrder* cmd = payload_in(e, read);
    if (!cmd) return;
    f.asked = true;
    f.amount_cents = cmd->amount_cents;
    f.customer = intern(cmd->customer_id);
    f.first_line = static_cast<uint32_t>(lines_.size());
    f.line_count = static_cast<uint32_t>(cmd->lines.size());
    for (const OrderLine& l : cmd->lines) lines_.push_back(Line{intern(l.sku), l.quantity, l.price_cents});
    if (auto w = waiting_.find(e.key); w != waiting_.end()) {
      for (const Waiting& earlier : w->second) judge(e.key, *earlier.event, earlier.at, *cmd);
      waiting_.erase(w);
    }
    return;
  }
  const int k = effect_kind(e.type);
  if (k < 0) return;
  const std::string& order = e.correlation_id;
  Facts& f = orders_[order];
  const uint64_t id = id_of(e.event_id);
  if (f.first[k] == 0) {
    f.first[k] = id;
  } else if (f.first[k] != id) {
    std::set<uint64_t>& all = more_[{order, k}];
    if (all.empty()) all.insert(f.first[k]);
    all.insert(id);
    f.more |= static_cast<uint8_t>(1u << k);
  }
  if (k == kRelease) return;
  if (f.asked) judge(order, e, at, asked_of(f));
  else waiting_[order].push_back(Waiting{at, le.event});
}

std::vector<Violation> check_final(const SagaState& s, const Baseline& baseline, const FinalCheckOptions& options,
                                   const LogFold* fold) {
  LogFold own;
  if (!fold) {
    for (size_t i = 0; i < s.log.size(); ++i) own.add(s.log[i], LogFold::Position{0, 0, static_cast<int64_t>(i)});
    fold = &own;
  }
  return check_final(SagaStateView(s), SagaStateFacts(s), baseline, options, *fold);
}

std::vector<Violation> check_final(const StateView& s, const RunFacts& facts, const Baseline& baseline,
                                   const FinalCheckOptions& options, const LogFold& fold) {
  std::vector<Violation> out;
  auto add = [&](std::string_view inv, std::string order, std::string msg) {
    if (out.size() < kMaxViolations) out.push_back(Violation{std::string(inv), std::move(order), std::move(msg)});
  };

  // --- safety, recomputed from scratch --------------------------------------
  int64_t money = 0;
  s.each_account([&](const std::string& id, const Account& a) {
    money += a.balance_cents;
    if (a.balance_cents < 0) add(kNeverNegative, "", fmt::format("account {} balance {}", id, a.balance_cents));
  });
  s.each_payment([&](const std::string&, const Payment& p) { money += held_cents(&p); });
  if (money != baseline.money_cents)
    add(kMoneyConserved, "",
        fmt::format("balances + captured - refunded = {} cents, started with {}", money, baseline.money_cents));

  std::map<std::string, int64_t> held_qty;
  s.each_reservation([&](const std::string&, const Reservation& r) {
    if (r.status == ReservationStatus::Held)
      for (const auto& l : r.lines) held_qty[l.sku] += l.quantity;
  });
  for (const auto& [sku, initial] : baseline.stock) {
    const auto item = s.stock(sku);
    const int64_t avail = item ? item->available : 0;
    const int64_t reserved = item ? item->reserved : 0;
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
  // Orders by id, as an ordered report reads; only those with something to say.
  std::vector<std::pair<std::string, const LogFold::Facts*>> flagged;
  fold.orders_.each([&](const std::string& id, const LogFold::Facts& f) {
    if (f.more || (f.first[kRefund] && !f.first[kCharge]) || (f.first[kRelease] && !f.first[kReserve]))
      flagged.emplace_back(id, &f);
  });
  std::sort(flagged.begin(), flagged.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& entry : flagged) {
    const std::string& order = entry.first;
    const LogFold::Facts& f = *entry.second;
    for (int k = 0; k < kEffectKinds; ++k)
      if (f.more & (1u << k)) add(kEffectsAtMostOnce, order, distinct_effects(fold.more_.at({order, k}).size(), k));
    if (f.first[kRefund] && !f.first[kCharge]) add(kEffectsAtMostOnce, order, kRefundWithoutCharge);
    if (f.first[kRelease] && !f.first[kReserve]) add(kEffectsAtMostOnce, order, kReleaseWithoutReservation);
  }

  // One pass over the orders (a long run has millions: each pass is a scan of
  // the order store) for three groups of checks, each reported as a group in
  // id order: the order against what was asked and its payment and
  // reservation against the order (effects_match_order), its deadline
  // (decided_by_deadline), and once quiet, agreement between the services
  // (confirmed_iff_charged_and_reserved, cancelled_fully_compensated). Each
  // group keeps at most what the report can hold.
  std::vector<Violation> effects, deadlines, agreement;
  auto into = [](std::vector<Violation>& group, std::string_view inv, const std::string& order, std::string msg) {
    if (group.size() < kMaxViolations) group.push_back(Violation{std::string(inv), order, std::move(msg)});
  };
  s.each_order([&](const std::string& id, const Order& o) {
    const auto p = s.payment(id);
    const auto r = s.reservation(id);
    // effects_match_order: the record against its PlaceOrder, its payment and reservation against the record.
    if (o.amount_cents != order_amount_cents(o.lines))
      into(effects, kEffectsMatchOrder, id,
           fmt::format("the order's amount is {} cents but its lines cost {}", o.amount_cents,
                       order_amount_cents(o.lines)));
    if (const LogFold::Facts* f = fold.orders_.find(id);
        f && f->asked && !fold.asked_is(*f, o.customer_id, o.amount_cents, o.lines)) {
      const PlaceOrder cmd = fold.asked_of(*f);
      into(effects, kEffectsMatchOrder, id,
           fmt::format("the order record ({} cents, {} for {}) is not the PlaceOrder ({} cents, {} for {})",
                       o.amount_cents, describe(quantities(o.lines)), o.customer_id, cmd.amount_cents,
                       describe(quantities(cmd.lines)), cmd.customer_id));
    }
    if (p && p->status != PaymentStatus::Voided) {
      if (p->amount_cents != o.amount_cents || p->customer_id != o.customer_id)
        into(effects, kEffectsMatchOrder, id,
             fmt::format("payment {} of {} cents to {}; the order is {} cents from {}", to_string(p->status),
                         p->amount_cents, p->customer_id, o.amount_cents, o.customer_id));
    }
    if (r && r->status != ReservationStatus::Voided) {
      if (!same_quantities(r->lines, o.lines))
        into(effects, kEffectsMatchOrder, id,
             fmt::format("reservation {} holds {}; the order is {}", to_string(r->status),
                         describe(quantities(r->lines)), describe(quantities(o.lines))));
    }

    // Deadlines, for the orders whose true decision time is known.
    if (o.status != OrderStatus::Pending) {
      const std::optional<int64_t> decided = facts.decided_at(id);
      const std::optional<int64_t> created = decided ? facts.created_at(id) : std::nullopt;
      if (decided && created) {
        if (const std::optional<Time> fires = options.deadline_fires_at(Time{o.deadline_us}, Time{*created})) {
          const int64_t due = fires->us;
          if (*decided > due + options.deadline_tolerance.us)
            into(deadlines, kDecidedByDeadline, id,
                 fmt::format("{} {} ms after its timeout could fire (tolerance {} ms)", to_string(o.status),
                             (*decided - due) / 1000, options.deadline_tolerance.ms()));
        }
      }
    }

    if (!options.quiesced) return;
    const bool charged = p && p->status == PaymentStatus::Charged;
    const bool held = r && r->status == ReservationStatus::Held;
    if (o.status == OrderStatus::Confirmed && !(charged && held))
      into(agreement, kConfirmedIffChargedAndReserved, id,
           fmt::format("CONFIRMED but payment {} and reservation {}", p ? to_string(p->status) : "missing",
                       r ? to_string(r->status) : "missing"));
    if (o.status != OrderStatus::Confirmed && charged && held)
      into(agreement, kConfirmedIffChargedAndReserved, id, fmt::format("charged and reserved but {}", to_string(o.status)));
    if (o.status == OrderStatus::Cancelled && (charged || held))
      into(agreement, kCancelledCompensated, id,
           fmt::format("CANCELLED ({}) but {}{}", o.cancel_reason, charged ? "still charged" : "",
                       held ? (charged ? " and stock still reserved" : "stock still reserved") : ""));
  });
  auto append = [&](std::vector<Violation>& group) {
    for (Violation& v : group) add(v.invariant, std::move(v.entity), std::move(v.message));
  };

  // effects_match_order: the order records against their PlaceOrder, then
  // the events as they went out, in log order: judged against the PlaceOrder
  // as they arrived (which the record must equal, or the line above reports
  // it), or, for an effect whose order never had a readable PlaceOrder,
  // against the order record now.
  append(effects);
  {
    std::vector<const LogFold::Mismatch*> found;
    for (const auto& m : fold.mismatches_)
      if (s.order(m.order)) found.push_back(&m);
    std::vector<LogFold::Mismatch> late;  // effects of orders with no PlaceOrder, judged by the record
    for (const auto& entry : fold.waiting_) {
      const std::string& order = entry.first;
      const auto& waiting = entry.second;
      const auto o = s.order(order);
      if (!o) continue;
      for (const auto& w : waiting)
        judge_effect_event(*w.event, OrderTerms{o->order_id, o->customer_id, o->amount_cents, o->lines},
                           [&](const std::string&, std::string msg) { late.push_back({w.at, order, std::move(msg)}); });
    }
    for (const auto& m : late) found.push_back(&m);
    std::stable_sort(found.begin(), found.end(), [](auto* a, auto* b) { return a->at < b->at; });
    for (const auto* m : found) add(kEffectsMatchOrder, m->order, m->message);
  }
  append(deadlines);

  if (!options.quiesced) return out;

  // --- liveness and agreement, once quiet -----------------------------------
  facts.each_placed([&](const std::string& order_id, int64_t placed_at_us) {
    const auto o = s.order(order_id);
    if (!o) {
      add(kTerminalWithinBound, order_id, "placed but never reached the order service");
      return;
    }
    if (o->status == OrderStatus::Pending) {
      add(kTerminalWithinBound, o->order_id, "still PENDING after the run went quiet");
      return;
    }
    const std::optional<int64_t> true_decided = facts.decided_at(o->order_id);
    const int64_t decided = true_decided ? *true_decided : o->decided_at_us;
    const int64_t took = decided - placed_at_us;
    if (took > options.liveness_bound.us)
      add(kTerminalWithinBound, o->order_id,
          fmt::format("{} after {} ms, bound {} ms", to_string(o->status), took / 1000, options.liveness_bound.ms()));
  });
  append(agreement);
  return out;
}


// ---- LogMonitor --------------------------------------------------------------

namespace {

nlohmann::json ref_json(const sim::RecordRef& r) {
  return {{"topic", r.topic}, {"partition", r.partition}, {"offset", r.offset},
          {"type", r.type},   {"event_id", r.event_id},   {"occurred_at_us", r.occurred_at_us}};
}
sim::RecordRef ref_from(const nlohmann::json& j) {
  return sim::RecordRef{j.at("topic").get<std::string>(), j.at("partition").get<int32_t>(),
                        j.at("offset").get<int64_t>(),   j.at("type").get<std::string>(),
                        j.at("event_id").get<std::string>(), j.at("occurred_at_us").get<int64_t>()};
}
constexpr std::string_view kMonitorFormat = "sagasim-order-monitor/1";

}  // namespace

void LogMonitor::report(Facts& f, const std::string& order, std::string_view invariant, const std::string& key,
                        std::string message, const sim::RecordRef* at_fault, int64_t at_us, sim::LiveReport& out) {
  if (!f.reported.insert(fmt::format("{}: {}", invariant, key)).second) return;
  sim::LiveViolation v;
  v.violation = Violation{std::string(invariant), order, std::move(message), at_us};
  v.records = f.records;
  if (at_fault) v.at_fault = *at_fault;
  out.violations.push_back(std::move(v));
}

void LogMonitor::on_record(const LoggedEvent& le, sim::LiveReport& out) {
  const Event& e = *le.event;
  if (e.occurred_at.us < horizon_us_) return;  // about an order long settled and forgotten
  const std::string& order = e.correlation_id.empty() ? e.key : e.correlation_id;
  Facts& f = orders_[order];
  const sim::RecordRef ref{std::string(le.topic), le.partition, le.offset, e.type, e.event_id, e.occurred_at.us};
  if (f.records.size() < kMaxRecords) f.records.push_back(ref);
  if (f.first_seen_us < 0 || e.occurred_at.us < f.first_seen_us) f.first_seen_us = e.occurred_at.us;
  const int64_t now = e.occurred_at.us;

  auto judge = [&](const Event& ev, const sim::RecordRef& r) {
    const PlaceOrder& a = *f.asked;
    judge_effect_event(ev, OrderTerms{order, a.customer_id, a.amount_cents, a.lines},
                       [&](const std::string&, std::string msg) {
                         report(f, order, kEffectsMatchOrder, msg, msg, &r, now, out);
                       });
  };
  auto decided_late = [&] {
    const int64_t took = f.decided_at_us - f.placed_at_us;
    if (took > bound_.us)
      report(f, order, kTerminalWithinBound, "bound",
             fmt::format("{} after {} ms, bound {} ms", f.decision, took / 1000, bound_.ms()), &ref, now, out);
  };

  if (e.type == PlaceOrder::kType) {
    if (f.asked) return;  // a duplicate placement is never decided again
    std::optional<PlaceOrder> cmd = payload_of<PlaceOrder>(e);
    if (!cmd) return;
    f.asked = std::move(*cmd);
    f.placed_at_us = e.occurred_at.us;
    for (const Effect& earlier : f.unmatched) {
      Event ev;
      ev.event_id = earlier.ref.event_id;
      ev.type = earlier.ref.type;
      ev.payload = std::make_shared<JsonPayload>(earlier.payload);
      judge(ev, earlier.ref);
    }
    f.unmatched.clear();
    if (!f.decision.empty()) {  // its decision was read first (another topic)
      out.decided_after.push_back(Duration{f.decided_at_us - f.placed_at_us});
      decided_late();
    }
    return;
  }

  if (e.type == OrderConfirmed::kType || e.type == OrderCancelled::kType) {
    const std::string outcome = e.type == OrderConfirmed::kType ? "confirmed" : "cancelled";
    if (f.decision.empty()) {
      f.decision = outcome;
      f.decided_at_us = e.occurred_at.us;
      if (f.placed_at_us >= 0) {
        out.decided_after.push_back(Duration{f.decided_at_us - f.placed_at_us});
        decided_late();
      }
    } else if (f.decision != outcome) {
      report(f, order, kEffectsAtMostOnce, "decided twice",
             fmt::format("decided twice: {}, then {} by {}", f.decision, outcome, e.event_id), &ref, now, out);
    }
    return;
  }

  const int k = effect_kind(e.type);
  if (k >= 0 && f.effects[k].insert(e.event_id).second && f.effects[k].size() == 2)
    report(f, order, kEffectsAtMostOnce, distinct_effects(2, k), distinct_effects(2, k), &ref, now, out);
  if (e.type == PaymentProcessed::kType || e.type == PaymentRefunded::kType || e.type == ItemsReserved::kType) {
    if (f.asked) {
      judge(e, ref);
    } else if (e.payload) {
      nlohmann::json payload;
      e.payload->to_json(payload);
      f.unmatched.push_back(Effect{ref, std::move(payload)});
    }
  }
}

void LogMonitor::settle(Facts& f, const std::string& order, int64_t now_us, sim::LiveReport& out) {
  f.settled = true;
  const bool charged = !f.effects[kCharge].empty(), refunded = !f.effects[kRefund].empty();
  const bool reserved = !f.effects[kReserve].empty(), released = !f.effects[kRelease].empty();
  if (refunded && !charged)
    report(f, order, kEffectsAtMostOnce, kRefundWithoutCharge, kRefundWithoutCharge, nullptr, now_us, out);
  if (released && !reserved)
    report(f, order, kEffectsAtMostOnce, kReleaseWithoutReservation, kReleaseWithoutReservation, nullptr, now_us, out);
  auto state = [](bool done, bool undone, const char* what, const char* undo) {
    return !done ? fmt::format("no {}", what) : undone ? fmt::format("{} {}", what, undo) : std::string(what);
  };
  if (f.decision == "confirmed" && !(charged && !refunded && reserved && !released))
    report(f, order, kConfirmedIffChargedAndReserved, "confirmed",
           fmt::format("CONFIRMED but {} and {}", state(charged, refunded, "charge", "refunded"),
                       state(reserved, released, "reservation", "released")),
           nullptr, now_us, out);
  if (f.decision == "cancelled" && ((charged && !refunded) || (reserved && !released)))
    report(f, order, kCancelledCompensated, "cancelled",
           fmt::format("CANCELLED but {}{}", charged && !refunded ? "still charged" : "",
                       reserved && !released ? (charged && !refunded ? " and stock still reserved"
                                                                      : "stock still reserved")
                                             : ""),
           nullptr, now_us, out);
}

void LogMonitor::on_time(Time log_time, sim::LiveReport& out) {
  if (log_time.us <= log_time_us_) return;
  log_time_us_ = log_time.us;
  for (auto it = orders_.begin(); it != orders_.end();) {
    Facts& f = it->second;
    const int64_t start = start_us(f);
    if (f.placed_at_us >= 0 && f.decision.empty() && log_time.us > f.placed_at_us + bound_.us)
      report(f, it->first, kTerminalWithinBound, "bound",
             fmt::format("not decided within {} ms of its placement", bound_.ms()), nullptr, log_time.us, out);
    // Settled the bound after its decision (compensations have had their
    // time); forgotten another bound later. An undecided order stays.
    if (!f.decision.empty() && !f.settled && log_time.us > std::max(start, f.decided_at_us) + bound_.us)
      settle(f, it->first, log_time.us, out);
    if (f.settled && log_time.us > std::max(start, f.decided_at_us) + 2 * bound_.us) {
      horizon_us_ = std::max(horizon_us_, start);
      it = orders_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t LogMonitor::in_flight() const {
  size_t n = 0;
  for (const auto& [id, f] : orders_) n += f.decision.empty() ? 1 : 0;
  return n;
}

nlohmann::json LogMonitor::save() const {
  nlohmann::json orders = nlohmann::json::object();
  for (const auto& [id, f] : orders_) {
    nlohmann::json j;
    if (f.asked) j["asked"] = *f.asked;
    j["placed_at_us"] = f.placed_at_us;
    j["first_seen_us"] = f.first_seen_us;
    j["decision"] = f.decision;
    j["decided_at_us"] = f.decided_at_us;
    for (int k = 0; k < kEffectKinds; ++k) j["effects"].push_back(f.effects[k]);
    j["records"] = nlohmann::json::array();
    for (const auto& r : f.records) j["records"].push_back(ref_json(r));
    j["unmatched"] = nlohmann::json::array();
    for (const auto& u : f.unmatched) j["unmatched"].push_back({{"ref", ref_json(u.ref)}, {"payload", u.payload}});
    j["reported"] = f.reported;
    j["settled"] = f.settled;
    orders[id] = std::move(j);
  }
  return {{"format", kMonitorFormat}, {"liveness_bound_ms", bound_.ms()}, {"horizon_us", horizon_us_},
          {"log_time_us", log_time_us_}, {"orders", std::move(orders)}};
}

std::string LogMonitor::save_text() const {
  using fastjson::write_integer;
  using fastjson::write_string;
  std::string out;
  out.reserve(64 + orders_.size() * 1024);
  auto ref = [&out](const sim::RecordRef& r) {
    out += "{\"event_id\":";
    write_string(out, r.event_id);
    out += ",\"occurred_at_us\":";
    write_integer(out, r.occurred_at_us);
    out += ",\"offset\":";
    write_integer(out, r.offset);
    out += ",\"partition\":";
    write_integer(out, r.partition);
    out += ",\"topic\":";
    write_string(out, r.topic);
    out += ",\"type\":";
    write_string(out, r.type);
    out += '}';
  };
  auto strings = [&out](const std::set<std::string>& set) {
    out += '[';
    for (const std::string& x : set) {
      if (out.back() != '[') out += ',';
      write_string(out, x);
    }
    out += ']';
  };
  out += "{\"format\":";
  write_string(out, kMonitorFormat);
  out += ",\"horizon_us\":";
  write_integer(out, horizon_us_);
  out += ",\"liveness_bound_ms\":";
  write_integer(out, bound_.ms());
  out += ",\"log_time_us\":";
  write_integer(out, log_time_us_);
  out += ",\"orders\":{";
  bool first = true;
  for (const auto& [id, f] : orders_) {
    if (!first) out += ',';
    first = false;
    write_string(out, id);
    out += ':';
    out += '{';
    if (f.asked) {
      out += "\"asked\":";
      fastjson::write_value(out, *f.asked);
      out += ',';
    }
    out += "\"decided_at_us\":";
    write_integer(out, f.decided_at_us);
    out += ",\"decision\":";
    write_string(out, f.decision);
    out += ",\"effects\":[";
    for (int k = 0; k < kEffectKinds; ++k) {
      if (k) out += ',';
      strings(f.effects[k]);
    }
    out += "],\"first_seen_us\":";
    write_integer(out, f.first_seen_us);
    out += ",\"placed_at_us\":";
    write_integer(out, f.placed_at_us);
    out += ",\"records\":[";
    for (size_t i = 0; i < f.records.size(); ++i) {
      if (i) out += ',';
      ref(f.records[i]);
    }
    out += "],\"reported\":";
    strings(f.reported);
    out += ",\"settled\":";
    out += f.settled ? "true" : "false";
    out += ",\"unmatched\":[";
    for (size_t i = 0; i < f.unmatched.size(); ++i) {
      if (i) out += ',';
      out += "{\"payload\":";
      out += f.unmatched[i].payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      out += ",\"ref\":";
      ref(f.unmatched[i].ref);
      out += '}';
    }
    out += "]}";
  }
  out += "}}";
  return out;
}

void LogMonitor::restore(const nlohmann::json& state, const std::string& where) {
  if (!state.is_object() || state.value("format", "") != kMonitorFormat)
    throw InputError(where, "/format", fmt::format("not an order saga monitor's state (want format \"{}\")", kMonitorFormat));
  try {
    horizon_us_ = state.at("horizon_us").get<int64_t>();
    log_time_us_ = state.at("log_time_us").get<int64_t>();
    orders_.clear();
    for (const auto& [id, j] : state.at("orders").items()) {
      Facts f;
      if (j.contains("asked")) f.asked = j.at("asked").get<PlaceOrder>();
      f.placed_at_us = j.at("placed_at_us").get<int64_t>();
      f.first_seen_us = j.at("first_seen_us").get<int64_t>();
      f.decision = j.at("decision").get<std::string>();
      f.decided_at_us = j.at("decided_at_us").get<int64_t>();
      for (int k = 0; k < kEffectKinds; ++k) f.effects[k] = j.at("effects").at(k).get<std::set<std::string>>();
      for (const auto& r : j.at("records")) f.records.push_back(ref_from(r));
      for (const auto& u : j.at("unmatched")) f.unmatched.push_back(Effect{ref_from(u.at("ref")), u.at("payload")});
      f.reported = j.at("reported").get<std::set<std::string>>();
      f.settled = j.at("settled").get<bool>();
      orders_.emplace(id, std::move(f));
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where, "/orders", fmt::format("a damaged monitor state: {}", e.what()));
  }
}

}  // namespace sagasim::inv
