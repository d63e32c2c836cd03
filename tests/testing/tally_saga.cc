#include "tests/testing/tally_saga.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/error.h"
#include "core/service.h"
#include "sim/random.h"
#include "sim/scenario.h"
#include "sim/simulation.h"

namespace sagasim::testing {
namespace {

using nlohmann::json;

enum class Bug { None, LedgerNoDedupe, UndoNoTombstone, LedgerCountsInMemory };

// --- events -----------------------------------------------------------------
constexpr std::string_view kAsks = "asks";
constexpr std::string_view kTakes = "takes";
constexpr std::string_view kAnswers = "answers";
constexpr std::string_view kGrants = "grants";
constexpr std::string_view kReceipts = "receipts";

struct Ask {
  static constexpr std::string_view kType = "Ask";
  static constexpr int kVersion = 1;
  std::string id, account;
  int64_t units = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Ask, id, account, units)

struct Take {
  static constexpr std::string_view kType = "Take";
  static constexpr int kVersion = 1;
  std::string id, account;
  int64_t units = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Take, id, account, units)

struct Undo {
  static constexpr std::string_view kType = "Undo";
  static constexpr int kVersion = 1;
  std::string id, account;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Undo, id, account)

struct Taken {
  static constexpr std::string_view kType = "Taken";
  static constexpr int kVersion = 1;
  std::string id;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Taken, id)

struct Refused {
  static constexpr std::string_view kType = "Refused";
  static constexpr int kVersion = 1;
  std::string id;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Refused, id)

struct Granted {
  static constexpr std::string_view kType = "Granted";
  static constexpr int kVersion = 1;
  std::string id, account;
  int64_t units = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Granted, id, account, units)

struct Recorded {
  static constexpr std::string_view kType = "Recorded";
  static constexpr int kVersion = 1;
  std::string id;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Recorded, id)

void register_tally_payloads(PayloadRegistry& r) {
  r.add<Ask>();
  r.add<Take>();
  r.add<Undo>();
  r.add<Taken>();
  r.add<Refused>();
  r.add<Granted>();
  r.add<Recorded>();
}

// --- records ----------------------------------------------------------------
constexpr std::string_view kRequests = "requests";  // desk, by ask id
constexpr std::string_view kAccounts = "accounts";  // vault, by account
constexpr std::string_view kHolds = "holds";        // vault, by ask id
constexpr std::string_view kEntries = "entries";    // ledger, by ask id
constexpr std::string_view kTotals = "totals";      // ledger, by account

enum class RequestStatus { Pending, Granted, Refused, TimedOut };
struct Request {
  std::string id, account;
  int64_t units = 0;
  RequestStatus status = RequestStatus::Pending;
  int64_t deadline_us = 0;  // on the desk's clock
  std::string_view status_name() const {
    switch (status) {
      case RequestStatus::Pending: return "PENDING";
      case RequestStatus::Granted: return "GRANTED";
      case RequestStatus::Refused: return "REFUSED";
      case RequestStatus::TimedOut: return "TIMED_OUT";
    }
    return "?";
  }
};
NLOHMANN_JSON_SERIALIZE_ENUM(RequestStatus, {{RequestStatus::Pending, "PENDING"},
                                             {RequestStatus::Granted, "GRANTED"},
                                             {RequestStatus::Refused, "REFUSED"},
                                             {RequestStatus::TimedOut, "TIMED_OUT"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Request, id, account, units, status, deadline_us)

struct Account {
  std::string id;
  int64_t capacity = 0, available = 0, held = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Account, id, capacity, available, held)

enum class HoldStatus { Held, Refused, Released, Voided };
struct Hold {
  std::string account;
  int64_t units = 0;
  HoldStatus status = HoldStatus::Refused;
  std::string_view status_name() const {
    switch (status) {
      case HoldStatus::Held: return "HELD";
      case HoldStatus::Refused: return "REFUSED";
      case HoldStatus::Released: return "RELEASED";
      case HoldStatus::Voided: return "VOIDED";
    }
    return "?";
  }
};
NLOHMANN_JSON_SERIALIZE_ENUM(HoldStatus, {{HoldStatus::Held, "HELD"},
                                          {HoldStatus::Refused, "REFUSED"},
                                          {HoldStatus::Released, "RELEASED"},
                                          {HoldStatus::Voided, "VOIDED"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Hold, account, units, status)

struct Entry {
  std::string account;
  int64_t units = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Entry, account, units)

struct Total {
  int64_t units = 0, grants = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Total, units, grants)

// --- services ---------------------------------------------------------------

class Desk final : public Service {
 public:
  explicit Desk(Duration timeout) : timeout_(timeout) {}
  std::string_view name() const override { return "desk"; }
  std::span<const std::string_view> subscriptions() const override {
    static constexpr std::string_view kTopics[] = {kAsks, kAnswers};
    return kTopics;
  }
  void handle(const Event& event, Context& ctx) override {
    Transaction& txn = ctx.txn();
    if (event.type == Ask::kType) {
      const Ask& a = event.payload_as<Ask>();
      if (txn.get(kRequests, a.id)) return;  // the ask id is the business key
      const Time deadline = event.occurred_at + timeout_;
      txn.set_timer(a.id, deadline);
      ctx.emit(kTakes, a.account, Take{a.id, a.account, a.units});
      txn.put(kRequests, a.id, Request{a.id, a.account, a.units, RequestStatus::Pending, deadline.us});
      return;
    }
    const bool taken = event.type == Taken::kType;
    if (!taken && event.type != Refused::kType) return;
    const std::string& id = taken ? event.payload_as<Taken>().id : event.payload_as<Refused>().id;
    const Request* current = txn.get_as<Request>(kRequests, id);
    if (!current || current->status != RequestStatus::Pending) return;  // decided: the vault undoes a late hold
    Request r = *current;
    txn.cancel_timer(r.id);
    r.status = taken ? RequestStatus::Granted : RequestStatus::Refused;
    if (taken) ctx.emit(kGrants, r.account, Granted{r.id, r.account, r.units});
    txn.put(kRequests, r.id, std::move(r));
  }
  void on_timer(std::string_view id, Context& ctx) override {
    const Request* current = ctx.txn().get_as<Request>(kRequests, id);
    if (!current || current->status != RequestStatus::Pending) return;
    Request r = *current;
    r.status = RequestStatus::TimedOut;
    ctx.emit(kTakes, r.account, Undo{r.id, r.account});
    ctx.txn().put(kRequests, r.id, std::move(r));
  }
  void register_payloads(PayloadRegistry& r) const override { register_tally_payloads(r); }
  RecordPtr decode_record(std::string_view table, const json& j) const override {
    if (table == kRequests) return std::make_shared<RecordOf<Request>>(j.get<Request>());
    return Service::decode_record(table, j);
  }

 private:
  Duration timeout_;
};

class Vault final : public Service {
 public:
  explicit Vault(Bug bug) : bug_(bug) {}
  std::string_view name() const override { return "vault"; }
  std::span<const std::string_view> subscriptions() const override {
    static constexpr std::string_view kTopics[] = {kTakes};
    return kTopics;
  }
  void handle(const Event& event, Context& ctx) override {
    Transaction& txn = ctx.txn();
    if (event.type == Take::kType) {
      const Take& t = event.payload_as<Take>();
      if (txn.get(kHolds, t.id)) return;  // held, refused, or voided by an Undo that overtook it
      const Account* account = txn.get_as<Account>(kAccounts, t.account);
      if (!account || account->available < t.units) {
        txn.put(kHolds, t.id, Hold{t.account, t.units, HoldStatus::Refused});
        ctx.emit(kAnswers, t.id, Refused{t.id});
        return;
      }
      Account a = *account;
      a.available -= t.units;
      a.held += t.units;
      txn.put(kAccounts, a.id, std::move(a));
      txn.put(kHolds, t.id, Hold{t.account, t.units, HoldStatus::Held});
      ctx.emit(kAnswers, t.id, Taken{t.id});
    } else if (event.type == Undo::kType) {
      const std::string& id = event.payload_as<Undo>().id;
      const Hold* hold = txn.get_as<Hold>(kHolds, id);
      if (!hold) {
        if (bug_ != Bug::UndoNoTombstone) txn.put(kHolds, id, Hold{"", 0, HoldStatus::Voided});
        return;
      }
      if (hold->status != HoldStatus::Held) return;
      Hold h = *hold;
      Account a = *txn.get_as<Account>(kAccounts, h.account);
      a.available += h.units;
      a.held -= h.units;
      h.status = HoldStatus::Released;
      txn.put(kAccounts, a.id, std::move(a));
      txn.put(kHolds, id, std::move(h));
    }
  }
  void register_payloads(PayloadRegistry& r) const override { register_tally_payloads(r); }
  RecordPtr decode_record(std::string_view table, const json& j) const override {
    if (table == kAccounts) return std::make_shared<RecordOf<Account>>(j.get<Account>());
    if (table == kHolds) return std::make_shared<RecordOf<Hold>>(j.get<Hold>());
    return Service::decode_record(table, j);
  }

 private:
  Bug bug_;
};

class Ledger final : public Service {
 public:
  explicit Ledger(Bug bug) : bug_(bug) {}
  std::string_view name() const override { return "ledger"; }
  std::span<const std::string_view> subscriptions() const override {
    static constexpr std::string_view kTopics[] = {kGrants};
    return kTopics;
  }
  void handle(const Event& event, Context& ctx) override {
    if (event.type != Granted::kType) return;
    Transaction& txn = ctx.txn();
    const Granted& g = event.payload_as<Granted>();
    if (bug_ != Bug::LedgerNoDedupe && txn.get(kEntries, g.id)) return;
    Total t;
    if (bug_ == Bug::LedgerCountsInMemory) {
      t = memory_[g.account];
    } else if (const Total* current = txn.get_as<Total>(kTotals, g.account)) {
      t = *current;
    }
    t.units += g.units;
    ++t.grants;
    if (bug_ == Bug::LedgerCountsInMemory) memory_[g.account] = t;
    txn.put(kTotals, g.account, std::move(t));
    txn.put(kEntries, g.id, Entry{g.account, g.units});
    ctx.emit(kReceipts, g.id, Recorded{g.id});
  }
  // The broken variant trusts its inbox alone: no entries check, and no
  // inbox either, so a redelivered grant is counted again.
  bool uses_inbox() const override { return bug_ != Bug::LedgerNoDedupe; }
  void register_payloads(PayloadRegistry& r) const override { register_tally_payloads(r); }
  RecordPtr decode_record(std::string_view table, const json& j) const override {
    if (table == kEntries) return std::make_shared<RecordOf<Entry>>(j.get<Entry>());
    if (table == kTotals) return std::make_shared<RecordOf<Total>>(j.get<Total>());
    return Service::decode_record(table, j);
  }

 private:
  Bug bug_;
  std::map<std::string, Total> memory_;  // ledger-counts-in-memory only
};

// --- settings and workload ----------------------------------------------------

struct AskSpec {
  std::string id, account;
  int64_t units = 1;
  Duration at;
};
struct Settings final : sim::SagaSettings {
  Duration timeout = Duration::seconds(2);
  std::vector<int64_t> accounts;  // capacity of a-1, a-2, ...
  std::vector<AskSpec> asks;      // listed
  int generate = 0;               // or generated
  double interarrival_ms = 20;
  int64_t max_units = 3;
};

std::string account_id(size_t i) { return fmt::format("a-{}", i + 1); }

std::vector<AskSpec> asks_of(const Settings& s, uint64_t seed) {
  std::vector<AskSpec> out = s.asks;
  sim::Prng rng(sim::derive_seed(seed, "tally-workload"));
  int64_t at_us = 0;
  for (int i = 0; i < s.generate; ++i) {
    at_us += static_cast<int64_t>(rng.below(static_cast<uint64_t>(2 * s.interarrival_ms * 1000) + 1));
    out.push_back({fmt::format("k-{}", i + 1), account_id(rng.below(s.accounts.size())),
                   rng.between(1, s.max_units), Duration{at_us}});
  }
  std::stable_sort(out.begin(), out.end(), [](const AskSpec& a, const AskSpec& b) { return a.at < b.at; });
  return out;
}

class TallyRun final : public sim::SagaRun {
 public:
  TallyRun(const sim::Scenario& s, const Settings& settings, uint64_t seed, Bug bug)
      : scenario_(s), settings_(settings), bug_(bug), asks_(asks_of(settings, seed)) {}

  std::vector<std::unique_ptr<Service>> make_services() override {
    std::vector<std::unique_ptr<Service>> out;
    out.push_back(std::make_unique<Desk>(settings_.timeout));
    out.push_back(std::make_unique<Vault>(bug_));
    out.push_back(std::make_unique<Ledger>(bug_));
    return out;
  }
  void open(sim::OpeningState& state) override {
    for (size_t i = 0; i < settings_.accounts.size(); ++i) {
      Transaction txn(state.store("vault"), "setup");
      const int64_t units = settings_.accounts[i];
      txn.put(kAccounts, account_id(i), Account{account_id(i), units, units, 0});
      txn.commit();
    }
  }
  size_t placements() const override { return asks_.size(); }
  Duration placement_at(size_t i) const override { return asks_[i].at; }
  void place(size_t i, sim::Client& client) override {
    const AskSpec& a = asks_[i];
    placed_.emplace_back(a.id, client.now().us);
    client.send(kAsks, a.id, Ask{a.id, a.account, a.units});
  }

  // Safety at every commit: units conserved and never negative; holds only
  // move forward (none -> HELD | REFUSED | VOIDED, HELD -> RELEASED).
  void on_commit(const WriteSet& ws, Time now) override {
    for (const Put& put : ws.puts) {
      if (put.table == kAccounts) {
        const Account* a = record_as<Account>(put.record);
        if (a && (a->available < 0 || a->held < 0 || a->available + a->held != a->capacity))
          add(kUnitsConserved, "", fmt::format("account {}: available {} + held {} vs capacity {}", a->id, a->available,
                                               a->held, a->capacity), now);
      } else if (put.table == kHolds) {
        const Hold* before = record_as<Hold>(put.before);
        const Hold* after = record_as<Hold>(put.record);
        const bool ok = after && (before ? before->status == HoldStatus::Held && after->status == HoldStatus::Released
                                         : after->status != HoldStatus::Released);
        if (!ok) add(kHoldsMoveForward, put.key, "a hold moved backwards or twice", now);
      } else if (put.table == kRequests) {
        const Request* before = record_as<Request>(put.before);
        const Request* after = record_as<Request>(put.record);
        if (after && after->status != RequestStatus::Pending && (!before || before->status == RequestStatus::Pending))
          decided_at_.emplace(put.key, now.us);
        if (after && !before) created_at_.emplace(put.key, now.us);
      }
    }
  }

  void finish(const sim::FinalView& view, sim::RunResult& r, std::vector<inv::Violation>& out) override {
    out = violations_;
    std::map<std::string, Hold> holds;
    view.store("vault").scan(kHolds, [&](const std::string& id, const RecordPtr& rec) { holds[id] = *record_as<Hold>(rec); });
    std::map<std::string, Entry> entries;
    view.store("ledger").scan(kEntries, [&](const std::string& id, const RecordPtr& rec) {
      entries[id] = *record_as<Entry>(rec);
    });
    std::map<std::string, Total> totals;
    view.store("ledger").scan(kTotals, [&](const std::string& a, const RecordPtr& rec) { totals[a] = *record_as<Total>(rec); });
    std::map<std::string, int64_t> held;  // account -> units in HELD holds
    for (const auto& [id, h] : holds)
      if (h.status == HoldStatus::Held) held[h.account] += h.units;
    view.store("vault").scan(kAccounts, [&](const std::string& id, const RecordPtr& rec) {
      const Account& a = *record_as<Account>(rec);
      if (a.held != held[id])
        out.push_back({std::string(kUnitsConserved), "", fmt::format("account {}: held {} but {} in HELD holds", id,
                                                                    a.held, held[id])});
    });
    std::map<std::string, Total> granted;  // account -> what the desk granted
    r.instances.total = static_cast<int>(placed_.size());
    for (const auto& [id, placed_us] : placed_) {
      const Request* req = record_as<Request>(view.store("desk").get(kRequests, id));
      if (!req || req->status == RequestStatus::Pending) {
        ++r.instances.undecided;
        ++r.paths["pending"];
        if (view.quiesced()) out.push_back({std::string(kDecided), id, "still undecided after the run went quiet"});
        continue;
      }
      auto decided = decided_at_.find(id);
      if (view.quiesced() && decided != decided_at_.end() && decided->second - placed_us > scenario_.liveness_bound.us)
        out.push_back({std::string(kDecided), id, fmt::format("decided after {} ms", (decided->second - placed_us) / 1000)});
      // Decided by the deadline, or as soon as a desk instance ran again.
      if (auto created = created_at_.find(id); decided != decided_at_.end() && created != created_at_.end())
        if (auto fires = view.timer_fires_at("desk", Time{req->deadline_us}, Time{created->second});
            fires && decided->second > fires->us + kDeadlineTolerance.us)
          out.push_back({std::string(kByDeadline), id,
                         fmt::format("decided {} ms after its timeout could fire", (decided->second - fires->us) / 1000)});
      auto hold = holds.find(id);
      const bool is_held = hold != holds.end() && hold->second.status == HoldStatus::Held;
      if (req->status == RequestStatus::Granted) {
        ++r.instances.completed;
        ++r.paths["granted"];
        granted[req->account].units += req->units;
        ++granted[req->account].grants;
        if (view.quiesced() && (!is_held || !entries.count(id)))
          out.push_back({std::string(kGrantedHeld), id, fmt::format("GRANTED but {}", !is_held ? "not held by the vault"
                                                                                            : "not in the ledger")});
      } else {
        ++r.instances.compensated;
        const bool released = hold != holds.end() && hold->second.status == HoldStatus::Released;
        ++r.paths[req->status == RequestStatus::Refused ? "refused" : released ? "timeout_released" : "timeout"];
        if (view.quiesced() && (is_held || entries.count(id)))
          out.push_back({std::string(kUndoneHoldsNothing), id,
                         fmt::format("{} but {}", req->status_name(), is_held ? "still held" : "in the ledger")});
      }
    }
    // The log: one answer per ask. A redelivered Take is answered again only
    // under the same event id (the outbox row kept it); a second answer with
    // a new id is an effect the vault produced twice.
    std::map<std::string, std::set<std::string>> answers;  // ask -> answer event ids
    for (const inv::LoggedEvent& e : view.log())
      if (e.topic == kAnswers) answers[e.event->key].insert(e.event->event_id);
    for (const auto& [id, ids] : answers)
      if (ids.size() > 1)
        out.push_back({std::string(kAnsweredOnce), id, fmt::format("{} distinct answers from the vault", ids.size())});
    if (view.quiesced())
      for (const auto& [account, t] : totals) {
        const Total g = granted.count(account) ? granted.at(account) : Total{};
        if (t.units != g.units || t.grants != g.grants)
          out.push_back({std::string(kRecordedOnce), "",
                         fmt::format("account {}: the ledger counts {} grant(s) of {} unit(s), the desk granted {} of {}",
                                     account, t.grants, t.units, g.grants, g.units)});
      }
  }

 private:
  void add(std::string_view invariant, std::string id, std::string message, Time now) {
    if (violations_.size() < 1000) violations_.push_back({std::string(invariant), std::move(id), std::move(message), now.us});
  }
  const sim::Scenario& scenario_;
  const Settings& settings_;
  Bug bug_;
  std::vector<AskSpec> asks_;
  std::vector<std::pair<std::string, int64_t>> placed_;
  std::map<std::string, int64_t> decided_at_;
  std::map<std::string, int64_t> created_at_;
  std::vector<inv::Violation> violations_;
  static constexpr Duration kDeadlineTolerance = Duration::millis(250);
};

class TallySaga final : public sim::SagaDefinition {
 public:
  std::string_view name() const override { return "tally"; }
  sim::InstanceWords instance_words() const override { return {"asks", "granted", "undone", "pending"}; }
  std::vector<sim::VariantInfo> variants() const override {
    return {{std::string(kLedgerNoDedupe), "the ledger has no inbox and no business-key check", {}},
            {std::string(kUndoNoTombstone), "an Undo that overtakes its Take leaves no tombstone", {}},
            {std::string(kLedgerCountsInMemory), "the ledger keeps its totals in process memory", {}}};
  }
  std::vector<std::string> services(std::string_view) const override { return {"desk", "vault", "ledger"}; }
  std::vector<std::string> topics(std::string_view) const override {
    return {std::string(kAsks), std::string(kTakes), std::string(kAnswers), std::string(kGrants),
            std::string(kReceipts)};
  }
  void parse_settings(JsonObject& saga, sim::Scenario& out) const override {
    Settings& s = out.settings_to_fill<Settings>();
    s.timeout = sim::ms_field(saga, "timeout_ms", 2000);
    if (out.liveness_bound < s.timeout) saga.fail(saga.at("liveness_bound_ms"), "is shorter than timeout_ms");
  }
  void parse_workload(JsonObject& root, sim::Scenario& out) const override {
    Settings& s = out.settings_to_fill<Settings>();
    JsonObject w(root.require("workload"), "/workload", out.source);
    const json& accounts = w.require("accounts");
    if (!accounts.is_array() || accounts.empty()) w.fail(w.at("accounts"), "expected a non-empty array of units");
    for (size_t i = 0; i < accounts.size(); ++i) {
      if (!accounts[i].is_number_integer() || accounts[i].get<int64_t>() < 0)
        w.fail(fmt::format("/workload/accounts/{}", i), "expected a number of units >= 0");
      s.accounts.push_back(accounts[i].get<int64_t>());
    }
    const json& asks = w.require("asks");
    if (asks.is_array()) {
      std::set<std::string> ids;
      for (size_t i = 0; i < asks.size(); ++i) {
        JsonObject a(asks[i], fmt::format("/workload/asks/{}", i), out.source);
        AskSpec spec{a.string("id"), a.string("account"), a.integer("units", 1, 1000000, 1), sim::ms_field(a, "at_ms", 0)};
        if (!ids.insert(spec.id).second) a.fail(a.at("id"), "duplicate ask id");
        bool known = false;
        for (size_t k = 0; k < s.accounts.size(); ++k) known = known || account_id(k) == spec.account;
        if (!known) a.fail(a.at("account"), fmt::format("no account '{}'", spec.account));
        a.finish();
        s.asks.push_back(std::move(spec));
      }
    } else {
      JsonObject g(asks, "/workload/asks", out.source);
      s.generate = static_cast<int>(g.integer("count", 0, 1000000));
      s.interarrival_ms = g.number("interarrival_ms", 0.001, 3600000, 20);
      s.max_units = g.integer("max_units", 1, 1000000, 3);
      g.finish();
    }
    w.finish();
  }
  std::vector<std::string> invariants(std::string_view) const override {
    return {std::string(kUnitsConserved), std::string(kHoldsMoveForward), std::string(kDecided),
            std::string(kGrantedHeld),    std::string(kUndoneHoldsNothing), std::string(kRecordedOnce),
            std::string(kAnsweredOnce),   std::string(kByDeadline)};
  }
  std::vector<std::string> paths(std::string_view) const override {
    return {"granted", "refused", "timeout", "timeout_released"};
  }
  json explicit_workload(const sim::Scenario& s, uint64_t seed) const override {
    json w = s.spec["workload"];
    json asks = json::array();
    for (const AskSpec& a : asks_of(s.settings<Settings>(), seed))
      asks.push_back({{"id", a.id}, {"at_ms", static_cast<double>(a.at.us) / 1000.0}, {"account", a.account},
                      {"units", a.units}});
    w["asks"] = asks;
    return w;
  }
  size_t workload_size(const json& scenario) const override {
    const json::json_pointer p("/workload/asks");
    return scenario.contains(p) && scenario.at(p).is_array() ? scenario.at(p).size() : 0;
  }
  void shrink_workload(json& best, const std::function<bool(const json&)>& fails) const override {
    sim::reduce_list(best, json::json_pointer("/workload/asks"), fails);
  }
  std::unique_ptr<sim::SagaRun> start(const sim::Scenario& s, const sim::RunOptions& o) const override {
    const Bug bug = o.mutant == kLedgerNoDedupe          ? Bug::LedgerNoDedupe
                    : o.mutant == kUndoNoTombstone       ? Bug::UndoNoTombstone
                    : o.mutant == kLedgerCountsInMemory  ? Bug::LedgerCountsInMemory
                                                         : Bug::None;
    return std::make_unique<TallyRun>(s, s.settings<Settings>(), o.seed, bug);
  }
};

}  // namespace

std::shared_ptr<const sim::SagaDefinition> tally_saga() {
  static const std::shared_ptr<const sim::SagaDefinition> saga = std::make_shared<TallySaga>();
  return saga;
}

nlohmann::json tally_scenario(int asks, int partitions, int vault_instances) {
  return {{"format_version", 1},
          {"name", "tally"},
          {"topology", {{"partitions", partitions}, {"instances", {{"desk", 1}, {"vault", vault_instances}, {"ledger", 1}}}}},
          {"broker", {{"delivery_latency", {{"dist", "exponential"}, {"mean_ms", 3}}}}},
          {"saga", {{"name", "tally"}, {"timeout_ms", 2000}, {"liveness_bound_ms", 30000}}},
          {"workload", {{"accounts", {4, 6, 3, 9}}, {"asks", {{"count", asks}, {"interarrival_ms", 15}, {"max_units", 3}}}}}};
}

}  // namespace sagasim::testing
