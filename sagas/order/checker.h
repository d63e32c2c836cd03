// The order saga's invariants (README.md lists them), one library for every runtime: a
// simulated run, a property-test case and a live Kafka deployment all hand
// their committed records and event log to the same checks.
//
// Safety holds at every commit, faults or not; SafetyMonitor checks it
// incrementally (O(records written) per commit). Liveness and agreement hold
// once faults have healed and the system is quiet; check_final checks them,
// and re-checks safety from scratch, over a SagaState snapshot.
#pragma once

#include <algorithm>
#include <climits>
#include <functional>
#include <map>
#include <compare>
#include <deque>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/store.h"
#include "core/violation.h"
#include "sagas/order/events.h"
#include "sagas/order/state.h"
#include "sim/saga.h"

namespace sagasim::inv {

inline constexpr std::string_view kMoneyConserved = "money_conserved";
inline constexpr std::string_view kStockConserved = "stock_conserved";
inline constexpr std::string_view kNeverNegative = "never_negative";
inline constexpr std::string_view kEffectsAtMostOnce = "effects_at_most_once";
inline constexpr std::string_view kTerminalWithinBound = "orders_terminal_within_bound";
inline constexpr std::string_view kConfirmedIffChargedAndReserved = "confirmed_iff_charged_and_reserved";
inline constexpr std::string_view kCancelledCompensated = "cancelled_fully_compensated";
// Effects compared with what was asked: the order record is the client's
// PlaceOrder and its amount is the sum of its lines (the price is the
// lines'); every charge is the order's amount from the order's customer (the
// Payment record and each PaymentProcessed), every refund the charge's
// amount, every reservation (record and ItemsReserved) exactly the order's
// lines by SKU and quantity, and what a release gives back is what the
// reservation held (the reservation record, which stock conservation ties
// to the stock).
inline constexpr std::string_view kEffectsMatchOrder = "effects_match_order";
// Every business decision justified by the state it was made in, at the
// commit that made it: a charge only with balance >= amount, a decline only
// with balance < amount (or an unknown customer); a reservation only when
// every SKU had its quantity available, a rejection only when some SKU was
// short. Judged at each commit (SafetyMonitor), not from the final state.
inline constexpr std::string_view kDecisionsJustified = "decisions_justified";
// Every order is decided by its own deadline (placement + order_timeout on
// its order service's clock) plus a stated tolerance (250 ms): when the
// service's timer for it fires, which is the deadline itself while an order
// instance runs then, or the moment the first one is back when none does,
// or the order's creation when its PlaceOrder arrived after its deadline.
// Faults elsewhere (a slow payment service, a lost partition) never excuse a
// late timeout. The liveness bound (orders_terminal_within_bound) is many
// timeouts long; this catches an order decided late for a reason the order
// service's own outages do not explain, such as a restarted instance that did
// not re-arm its timers. Judged in the simulator, which knows the outages.
inline constexpr std::string_view kDecidedByDeadline = "decided_by_deadline";

// Orchestration style only: once quiet, the orchestrator's saga log records
// every decision, and for a cancelled order every charge or reservation it
// heard of was asked to be undone and the undoing was heard back.
inline constexpr std::string_view kSagaLogComplete = "saga_log_complete";

// Every invariant name, in report order (the choreography's; orchestration
// adds kSagaLogComplete before kBrokerGuarantees).
std::span<const std::string_view> all_invariants();

// What the world started with: the reference for conservation, and the
// opening balances the decisions are judged from.
struct Baseline {
  int64_t money_cents = 0;                    // sum of opening balances
  std::map<std::string, int64_t> stock;       // sku -> opening quantity
  std::map<std::string, int64_t> balances;    // customer -> opening balance
};

// Per-order state, keyed compactly. The generated workload's ids "o-<n>"
// index a vector directly: no string and no hash-map node per order, which
// at a million orders is most of what the checks keep. Any other id (an
// explicit workload's, a live run's prefixed ones, or an "o-<n>" far beyond
// the others) is a key of a hash map. V is value-initialised on first use.
// Iteration (each) is in no particular order.
template <class V>
class PerOrder {
 public:
  V& operator[](std::string_view id) {
    uint64_t n = 0;
    if (number(id, n)) {
      if (n < dense_.size() && present_[n]) return dense_[n];
      if (auto it = other_.find(id); it != other_.end()) return it->second;
      // Grow only towards ids near the ones seen: an explicit "o-999999999"
      // must not allocate a billion slots.
      if (n >= dense_.size() && n <= 2 * dense_.size() + 1024) {
        const size_t size = std::max<size_t>(static_cast<size_t>(n) + 1, dense_.size() + dense_.size() / 2);
        dense_.resize(size);
        present_.resize(size);
      }
      if (n < dense_.size()) {
        present_[n] = true;
        ++dense_count_;
        return dense_[n];
      }
    }
    return other_.try_emplace(std::string(id)).first->second;
  }
  const V* find(std::string_view id) const {
    uint64_t n = 0;
    if (number(id, n) && n < dense_.size() && present_[n]) return &dense_[n];
    auto it = other_.find(id);
    return it == other_.end() ? nullptr : &it->second;
  }
  size_t size() const { return dense_count_ + other_.size(); }
  // Room for "o-1" .. "o-<n>" up front (a run knows how many it places): no
  // reallocation, whose old and new vectors together would add to the peak.
  void reserve(size_t n) {
    if (n + 1 <= dense_.size()) return;
    dense_.resize(n + 1);
    present_.resize(n + 1);
  }
  // fn(id, value) for every entry, in no particular order.
  template <class F>
  void each(F&& fn) const {
    for (size_t n = 0; n < dense_.size(); ++n)
      if (present_[n]) fn("o-" + std::to_string(n), dense_[n]);
    for (const auto& entry : other_) fn(entry.first, entry.second);
  }

 private:
  // "o-<n>", n >= 1 without a leading zero, and small enough to index.
  static bool number(std::string_view id, uint64_t& n) {
    if (id.size() < 3 || id.size() > 12 || id[0] != 'o' || id[1] != '-' || id[2] == '0') return false;
    n = 0;
    for (size_t i = 2; i < id.size(); ++i) {
      if (id[i] < '0' || id[i] > '9') return false;
      n = n * 10 + static_cast<uint64_t>(id[i] - '0');
    }
    return n < (uint64_t{1} << 32);
  }
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<V> dense_;
  std::vector<bool> present_;
  size_t dense_count_ = 0;
  std::unordered_map<std::string, V, Hash, std::equal_to<>> other_;
};

class SafetyMonitor {
 public:
  explicit SafetyMonitor(Baseline baseline);

  void reserve(size_t orders) { times_.reserve(orders); }  // PerOrder::reserve
  // Call after every committed local transaction, with its write set.
  void on_commit(const WriteSet& ws, Time now);
  const std::vector<Violation>& violations() const { return violations_; }
  // When each order record was created and when it left PENDING, by the
  // runtime's own clock (the simulator's true virtual time, not a skewed
  // service clock); nullopt when not (yet). One compact entry per order
  // (PerOrder), touched twice on the hot path, only looked up at the end.
  std::optional<int64_t> created_at(std::string_view order_id) const {
    const Times* t = times_.find(order_id);
    return t && t->created_us != kUnset ? std::optional<int64_t>(t->created_us) : std::nullopt;
  }
  std::optional<int64_t> decided_at(std::string_view order_id) const {
    const Times* t = times_.find(order_id);
    return t && t->decided_us != kUnset ? std::optional<int64_t>(t->decided_us) : std::nullopt;
  }

 private:
  void add(std::string_view invariant, std::string order, std::string message, Time now);
  // kDecisionsJustified for the new payment and reservation records of one
  // commit, against the balances and stock committed before it.
  void judge_decisions(const WriteSet& ws, Time now);

  Baseline baseline_;
  int64_t money_ = 0;  // balances + held charges, kept up to date by deltas
  std::map<std::string, int64_t> balance_;    // customer -> committed balance
  std::map<std::string, int64_t> available_;  // sku -> committed available quantity
  std::vector<Violation> violations_;
  static constexpr int64_t kUnset = INT64_MIN;
  struct Times {
    int64_t created_us = kUnset;
    int64_t decided_us = kUnset;
  };
  PerOrder<Times> times_;
  size_t dropped_ = 0;
};

struct PlacedOrder {
  std::string order_id;
  int64_t placed_at_us;  // when the client sent PlaceOrder
};

// Committed state of all three services plus every record in the saga topics.
struct SagaState {
  std::map<std::string, saga::Order> orders;
  std::map<std::string, saga::Account> accounts;
  std::map<std::string, saga::Payment> payments;
  std::map<std::string, saga::StockItem> stock;
  std::map<std::string, saga::Reservation> reservations;
  std::map<std::string, saga::SagaLog> saga_logs;  // orchestration style only
  std::vector<LoggedEvent> log;
  std::vector<PlacedOrder> placed;
  // Optional: when each order was decided by the runtime's clock. Where
  // present it is used for the liveness bound instead of the order record's
  // own decided_at (which a skewed service clock distorts).
  std::unordered_map<std::string, int64_t> decided_at;
  // Optional: when each order record was created, by the runtime's clock.
  std::unordered_map<std::string, int64_t> created_at;
};

// Fills a SagaState's records from the three services' stores.
void load_state(const Store& order_store, const Store& payment_store, const Store& inventory_store,
                SagaState& out);

// The three services' committed records as the final checks read them: the
// orders in id order, everything else by key. Two sources: a SagaState's maps
// (the checker's tests; `sagasim check`, whose stores are databases), or the
// stores themselves, read in place (a simulated run, whose stores are in
// memory: no copy of a million records at the end of a long run, where the
// peak was). Records are shared, never copied: a pointer keeps its record
// alive whatever the source.
class StateView {
 public:
  template <class T>
  using Ptr = std::shared_ptr<const T>;
  template <class T>
  using Each = std::function<void(const std::string& key, const T&)>;
  virtual ~StateView() = default;
  virtual void each_order(const Each<saga::Order>& fn) const = 0;  // in id order
  virtual void each_account(const Each<saga::Account>& fn) const = 0;
  virtual void each_payment(const Each<saga::Payment>& fn) const = 0;
  virtual void each_reservation(const Each<saga::Reservation>& fn) const = 0;
  virtual Ptr<saga::Order> order(const std::string& id) const = 0;
  virtual Ptr<saga::Payment> payment(const std::string& order_id) const = 0;
  virtual Ptr<saga::Reservation> reservation(const std::string& order_id) const = 0;
  virtual Ptr<saga::StockItem> stock(const std::string& sku) const = 0;
  virtual Ptr<saga::SagaLog> saga_log(const std::string& order_id) const = 0;
};
std::unique_ptr<StateView> view_of(const SagaState& state);  // `state` must outlive the view
std::unique_ptr<StateView> view_of(const Store& order_store, const Store& payment_store,
                                   const Store& inventory_store);

// What a run knows of its orders beyond their records: which it placed (in
// placement order) and when, and by the runtime's clock when each order
// record was created and decided (SagaState's placed, created_at and
// decided_at).
class RunFacts {
 public:
  virtual ~RunFacts() = default;
  virtual void each_placed(const std::function<void(const std::string& order_id, int64_t placed_at_us)>& fn) const = 0;
  virtual std::optional<int64_t> created_at(const std::string& order_id) const = 0;
  virtual std::optional<int64_t> decided_at(const std::string& order_id) const = 0;
};

struct FinalCheckOptions {
  // An order must be decided within this long of being placed.
  Duration liveness_bound = Duration::seconds(60);
  // False when the run stopped before the system went quiet (a time limit):
  // liveness and agreement are then not judged, only safety.
  bool quiesced = true;
  // kDecidedByDeadline: when the order service's timer for a deadline fires
  // in true time (FinalView::timer_fires_at; nullopt: not judged), and the
  // tolerance past it.
  // Arguments: the order's deadline (its service's clock) and when the order
  // was created (true time; the timer is set then).
  std::function<std::optional<Time>(Time, Time)> deadline_fires_at = [](Time, Time) { return std::optional<Time>(); };
  Duration deadline_tolerance = Duration::millis(250);
};

// What check_final reads from the event log, folded one record at a time so
// that the log itself need not be kept: a simulated run folds each record as
// the broker appends it (SagaRun::on_append) and lets the broker drop it once
// consumed; check_final folds a SagaState's log itself when handed no fold.
// Per order it keeps the distinct event ids of each effect kind (as 64-bit
// ids: the simulator's "e-<n>" is n, any other id is interned), the first
// PlaceOrder's payload, and each charge, refund or reservation judged
// against that PlaceOrder as it arrives (effects_match_order; an effect that
// arrives before its PlaceOrder waits for it). Everything else of a record
// is dropped. Cost, measured in docs/benchmarks.md: one hash-map entry and
// the PlaceOrder's payload per order.
class LogFold {
 public:
  // Where a record sits in the log's report order: topic (the saga's topic
  // order), partition, offset. Violations are reported in that order.
  struct Position {
    uint32_t topic = 0;
    int32_t partition = 0;
    int64_t offset = 0;
    auto operator<=>(const Position&) const = default;
  };
  // Records in any order across topics and partitions; per partition in
  // offset order.
  void add(const LoggedEvent& record, Position at);
  size_t orders() const { return orders_.size(); }
  void reserve(size_t orders) { orders_.reserve(orders); }  // PerOrder::reserve

 private:
  friend std::vector<Violation> check_final(const StateView&, const RunFacts&, const Baseline&,
                                            const FinalCheckOptions&, const LogFold&);
  // Per order: the first id of each effect kind and the first readable
  // PlaceOrder, compactly (its customer and SKUs interned in names_, its
  // lines in lines_): the PlaceOrder payload itself would cost its strings
  // and vectors for every order of the run.
  struct Facts {
    uint64_t first[4] = {};  // the first id of each effect kind; 0: none
    int64_t amount_cents = 0;
    uint32_t customer = 0;    // in names_
    uint32_t first_line = 0;  // lines_[first_line, first_line + line_count)
    uint32_t line_count = 0;
    bool asked = false;  // a PlaceOrder was read
    uint8_t more = 0;    // bit k: kind k has a second distinct id (all of them in more_)
  };
  struct Line {
    uint32_t sku = 0;  // in names_
    int64_t quantity = 0;
    int64_t price_cents = 0;
  };
  // The PlaceOrder as it was read (its order_id left empty: the key says it).
  saga::PlaceOrder asked_of(const Facts& f) const;
  // Whether it asked for exactly this (asked_of(f) compared, without building it).
  bool asked_is(const Facts& f, const std::string& customer_id, int64_t amount_cents,
                std::span<const saga::OrderLine> lines) const;
  uint32_t intern(const std::string& name);
  struct Mismatch {
    Position at;
    std::string order;
    std::string message;
  };
  struct Waiting {  // an effect that arrived before its order's PlaceOrder
    Position at;
    EventPtr event;
  };
  uint64_t id_of(const std::string& event_id);
  void judge(const std::string& order, const Event& e, Position at, const saga::PlaceOrder& asked);

  PerOrder<Facts> orders_;
  std::deque<Line> lines_;  // in blocks: growing never copies it whole
  std::vector<std::string> names_;  // customers and SKUs, interned
  std::unordered_map<std::string, uint32_t> name_ids_;
  std::map<std::pair<std::string, int>, std::set<uint64_t>> more_;
  std::unordered_map<std::string, uint64_t> interned_;
  std::unordered_map<std::string, std::vector<Waiting>> waiting_;
  std::vector<Mismatch> mismatches_;
  size_t mismatches_dropped_ = 0;
};

// `fold`: the log folded as it grew (state.log is then not read); null:
// check_final folds state.log itself.
std::vector<Violation> check_final(const SagaState& state, const Baseline& baseline,
                                   const FinalCheckOptions& options, const LogFold* fold = nullptr);
// The same checks over records read through a view and a run's facts, with
// the log folded as it grew.
std::vector<Violation> check_final(const StateView& state, const RunFacts& facts, const Baseline& baseline,
                                   const FinalCheckOptions& options, const LogFold& fold);

// kSagaLogComplete over the orders and saga logs (judged only when quiesced).
std::vector<Violation> check_saga_log(const SagaState& state, const FinalCheckOptions& options);
std::vector<Violation> check_saga_log(const StateView& state, const FinalCheckOptions& options);

// The order saga's checks from its records alone, as they arrive: `sagasim
// monitor` on a live deployment (sim::LiveMonitor; SagaRun::live_monitor).
// The same checks as check_final where the records can tell, against the
// client's PlaceOrder instead of the order record (the monitor reads no
// store):
//   effects_at_most_once    a second distinct charge, refund, reservation or
//                           release of an order, or a second decision with
//                           another outcome, when it arrives; a refund
//                           without a charge (a release without a
//                           reservation) once the order has settled
//   effects_match_order     every charge, refund and reservation against the
//                           PlaceOrder, when both have arrived
//   orders_terminal_within_bound
//                           not decided within the bound of its placement
//                           (when the log has been read that far), or decided
//                           later than that; once per order
//   confirmed_iff_charged_and_reserved, cancelled_fully_compensated
//                           once settled (the bound after its decision): a
//                           confirmed order was charged and reserved and
//                           nothing was undone; a cancelled one had every
//                           charge refunded and every reservation released
// Conservation, never-negative and decisions_justified need the stores
// (`sagasim check`). An order is forgotten the bound after it settled (an
// undecided one never);
// records created before that horizon are not judged again (a relay's late
// duplicate of an old event).
class LogMonitor final : public sim::LiveMonitor {
 public:
  explicit LogMonitor(Duration liveness_bound) : bound_(liveness_bound) {}

  void on_record(const LoggedEvent& record, sim::LiveReport& out) override;
  void on_time(Time log_time, sim::LiveReport& out) override;
  size_t in_flight() const override;
  nlohmann::json save() const override;
  std::string save_text() const override;  // save()'s content, written directly (≈ 10× faster)
  void restore(const nlohmann::json& state, const std::string& where) override;

 private:
  struct Effect {  // an effect event that arrived before its order's PlaceOrder
    sim::RecordRef ref;
    nlohmann::json payload;
  };
  struct Facts {
    std::optional<saga::PlaceOrder> asked;  // the first PlaceOrder
    int64_t placed_at_us = -1;              // its producer's time
    int64_t first_seen_us = -1;             // the earliest record's
    std::string decision;                   // "", "confirmed", "cancelled"
    int64_t decided_at_us = -1;
    std::set<std::string> effects[4];       // event ids: charges, refunds, reservations, releases
    std::vector<sim::RecordRef> records;    // the first kMaxRecords
    std::vector<Effect> unmatched;          // to judge when the PlaceOrder comes
    std::set<std::string> reported;         // what was reported about it (invariant: key)
    bool settled = false;
  };
  static constexpr size_t kMaxRecords = 32;

  void report(Facts& f, const std::string& order, std::string_view invariant, const std::string& key,
              std::string message, const sim::RecordRef* at_fault, int64_t at_us, sim::LiveReport& out);
  void settle(Facts& f, const std::string& order, int64_t now_us, sim::LiveReport& out);
  int64_t start_us(const Facts& f) const { return f.placed_at_us >= 0 ? f.placed_at_us : f.first_seen_us; }

  Duration bound_;
  std::map<std::string, Facts> orders_;
  int64_t horizon_us_ = INT64_MIN;  // records created before it are not judged
  int64_t log_time_us_ = INT64_MIN;
};

}  // namespace sagasim::inv
