#include "trip_saga.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include <sagasim/core/error.h>
#include <sagasim/core/service.h>
#include <sagasim/sim/random.h>
#include <sagasim/sim/scenario.h>
#include <sagasim/sim/simulation.h>

namespace trip {

using namespace sagasim;
using nlohmann::json;

namespace {

enum class Bug { None, KeepsLateReservation };

// --- events ----------------------------------------------------------------
constexpr std::string_view kRequests = "trip-requests";
constexpr std::string_view kCommands = "trip-commands";
constexpr std::string_view kReplies = "trip-replies";
constexpr std::string_view kOutcomes = "trip-outcomes";  // the traveller is told
constexpr const char* kProviders[] = {"flight", "hotel", "car"};

struct BookTrip {
  static constexpr std::string_view kType = "BookTrip";
  static constexpr int kVersion = 1;
  std::string trip_id, flight, hotel, car;  // the item wanted from each provider
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(BookTrip, trip_id, flight, hotel, car)

struct Reserve {  // orchestrator -> one provider
  static constexpr std::string_view kType = "Reserve";
  static constexpr int kVersion = 1;
  std::string trip_id, provider, item;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Reserve, trip_id, provider, item)

struct Release {  // compensation: sent only for a reservation the orchestrator heard of
  static constexpr std::string_view kType = "Release";
  static constexpr int kVersion = 1;
  std::string trip_id, provider;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Release, trip_id, provider)

struct Reply {  // Reserved, Unavailable and Released share one shape
  std::string trip_id, provider;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Reply, trip_id, provider)
struct Reserved : Reply {
  static constexpr std::string_view kType = "Reserved";
  static constexpr int kVersion = 1;
};
struct Unavailable : Reply {
  static constexpr std::string_view kType = "Unavailable";
  static constexpr int kVersion = 1;
};
struct Released : Reply {
  static constexpr std::string_view kType = "Released";
  static constexpr int kVersion = 1;
};
void to_json(json& j, const Reserved& r) { to_json(j, static_cast<const Reply&>(r)); }
void to_json(json& j, const Unavailable& r) { to_json(j, static_cast<const Reply&>(r)); }
void to_json(json& j, const Released& r) { to_json(j, static_cast<const Reply&>(r)); }
void from_json(const json& j, Reserved& r) { from_json(j, static_cast<Reply&>(r)); }
void from_json(const json& j, Unavailable& r) { from_json(j, static_cast<Reply&>(r)); }
void from_json(const json& j, Released& r) { from_json(j, static_cast<Reply&>(r)); }

struct TripDecided {  // orchestrator -> the traveller: booked, or cancelled and why
  static constexpr std::string_view kType = "TripDecided";
  static constexpr int kVersion = 1;
  std::string trip_id, outcome;  // "booked", "cancelled: timeout", ...
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TripDecided, trip_id, outcome)

// Every service reads and writes the same types (on the wire, and in
// production mode on real Kafka).
void register_trip_payloads(PayloadRegistry& r) {
  r.add<BookTrip>();
  r.add<Reserve>();
  r.add<Release>();
  r.add<Reserved>();
  r.add<Unavailable>();
  r.add<Released>();
  r.add<TripDecided>();
}

const Reply* reply_of(const Event& e) {
  if (e.type == Reserved::kType) return &e.payload_as<Reserved>();
  if (e.type == Unavailable::kType) return &e.payload_as<Unavailable>();
  if (e.type == Released::kType) return &e.payload_as<Released>();
  return nullptr;
}

// --- records -------------------------------------------------------------
constexpr std::string_view kTrips = "trips";        // trip service
constexpr std::string_view kItems = "items";        // each provider: capacity per item
constexpr std::string_view kBookings = "bookings";  // each provider: one per trip

enum class TripStatus { Pending, Confirmed, Cancelled };
NLOHMANN_JSON_SERIALIZE_ENUM(TripStatus, {{TripStatus::Pending, "PENDING"},
                                          {TripStatus::Confirmed, "CONFIRMED"},
                                          {TripStatus::Cancelled, "CANCELLED"}})

// The orchestrator's record is also its saga log: what it asked for and heard.
struct Trip {
  std::string trip_id;
  std::vector<std::string> items;  // flight, hotel, car item ids
  TripStatus status = TripStatus::Pending;
  std::string reason;              // why it was cancelled
  int step = 0;                    // the provider asked last (0 flight, 1 hotel, 2 car)
  std::vector<std::string> held;   // providers that replied Reserved
  std::vector<std::string> releasing;  // Release sent
  std::vector<std::string> released;   // Released heard
  int64_t placed_at_us = 0;
  std::string_view status_name() const {
    return status == TripStatus::Pending ? "PENDING" : status == TripStatus::Confirmed ? "CONFIRMED" : "CANCELLED";
  }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Trip, trip_id, items, status, reason, step, held, releasing, released, placed_at_us)

struct Item {
  std::string id;
  int64_t capacity = 0, available = 0, held = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Item, id, capacity, available, held)

enum class BookingStatus { Held, Rejected, Released };
NLOHMANN_JSON_SERIALIZE_ENUM(BookingStatus, {{BookingStatus::Held, "HELD"},
                                             {BookingStatus::Rejected, "REJECTED"},
                                             {BookingStatus::Released, "RELEASED"}})
struct Booking {
  std::string trip_id, item;
  BookingStatus status = BookingStatus::Rejected;
  std::string_view status_name() const {
    return status == BookingStatus::Held ? "HELD" : status == BookingStatus::Rejected ? "REJECTED" : "RELEASED";
  }
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Booking, trip_id, item, status)

bool contains(const std::vector<std::string>& v, std::string_view x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// --- services ----------------------------------------------------------------

class TripOrchestrator final : public Service {
 public:
  TripOrchestrator(Duration timeout, Bug bug) : timeout_(timeout), bug_(bug) {}
  std::string_view name() const override { return "trip"; }
  std::span<const std::string_view> subscriptions() const override {
    static constexpr std::string_view kTopics[] = {kRequests, kReplies};
    return kTopics;
  }

  void handle(const Event& event, Context& ctx) override {
    Transaction& txn = ctx.txn();
    if (event.type == BookTrip::kType) {
      const auto& b = event.payload_as<BookTrip>();
      if (txn.get(kTrips, b.trip_id)) return;  // the trip id is the business key
      Trip t{b.trip_id, {b.flight, b.hotel, b.car}};
      t.placed_at_us = event.occurred_at.us;
      txn.set_timer(t.trip_id, event.occurred_at + timeout_);
      ctx.emit(kCommands, t.trip_id, Reserve{t.trip_id, kProviders[0], t.items[0]});
      txn.put(kTrips, t.trip_id, std::move(t));
      return;
    }
    const Reply* reply = reply_of(event);
    if (!reply) return;
    const Trip* current = txn.get_as<Trip>(kTrips, reply->trip_id);
    if (!current) return;
    Trip t = *current;
    const bool pending = t.status == TripStatus::Pending;
    if (event.type == Reserved::kType) {
      if (contains(t.held, reply->provider)) return;  // heard it already
      if (!pending && bug_ == Bug::KeepsLateReservation) return;
      t.held.push_back(reply->provider);
      if (!pending) {
        release(t, reply->provider, ctx);  // landed after the decision: undo it
      } else if (t.step < 2) {
        ++t.step;
        ctx.emit(kCommands, t.trip_id, Reserve{t.trip_id, kProviders[t.step], t.items[static_cast<size_t>(t.step)]});
      } else {
        t.status = TripStatus::Confirmed;
        txn.cancel_timer(t.trip_id);
        ctx.emit(kOutcomes, t.trip_id, TripDecided{t.trip_id, "booked"});
      }
    } else if (event.type == Unavailable::kType) {
      if (!pending) return;
      cancel(t, reply->provider + "_unavailable", ctx);
    } else {  // Released
      if (contains(t.released, reply->provider)) return;
      t.released.push_back(reply->provider);
    }
    txn.put(kTrips, t.trip_id, std::move(t));
  }

  void on_timer(std::string_view trip_id, Context& ctx) override {
    const Trip* current = ctx.txn().get_as<Trip>(kTrips, trip_id);
    if (!current || current->status != TripStatus::Pending) return;
    Trip t = *current;
    cancel(t, "timeout", ctx);
    ctx.txn().put(kTrips, t.trip_id, std::move(t));
  }

  void register_payloads(PayloadRegistry& r) const override { register_trip_payloads(r); }
  RecordPtr decode_record(std::string_view table, const json& j) const override {
    if (table == kTrips) return std::make_shared<RecordOf<Trip>>(j.get<Trip>());
    return Service::decode_record(table, j);
  }

 private:
  void cancel(Trip& t, std::string reason, Context& ctx) {
    t.status = TripStatus::Cancelled;
    t.reason = std::move(reason);
    ctx.txn().cancel_timer(t.trip_id);
    ctx.emit(kOutcomes, t.trip_id, TripDecided{t.trip_id, "cancelled: " + t.reason});
    for (const std::string& p : std::vector<std::string>(t.held)) release(t, p, ctx);
  }
  void release(Trip& t, const std::string& provider, Context& ctx) {
    if (contains(t.releasing, provider)) return;
    t.releasing.push_back(provider);
    ctx.emit(kCommands, t.trip_id, Release{t.trip_id, provider});
  }
  Duration timeout_;
  Bug bug_;
};

// Flight, hotel and car: the same provider, three names.
class Provider final : public Service {
 public:
  explicit Provider(std::string name) : name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  std::span<const std::string_view> subscriptions() const override {
    static constexpr std::string_view kTopics[] = {kCommands};
    return kTopics;
  }

  void handle(const Event& event, Context& ctx) override {
    Transaction& txn = ctx.txn();
    if (event.type == Reserve::kType) {
      const auto& r = event.payload_as<Reserve>();
      if (r.provider != name_ || txn.get(kBookings, r.trip_id)) return;  // not ours, or decided already
      const Item* item = txn.get_as<Item>(kItems, r.item);
      if (!item || item->available <= 0) {
        txn.put(kBookings, r.trip_id, Booking{r.trip_id, r.item, BookingStatus::Rejected});
        ctx.emit(kReplies, r.trip_id, Unavailable{{r.trip_id, name_}});
        return;
      }
      Item i = *item;
      --i.available;
      ++i.held;
      txn.put(kItems, i.id, std::move(i));
      txn.put(kBookings, r.trip_id, Booking{r.trip_id, r.item, BookingStatus::Held});
      ctx.emit(kReplies, r.trip_id, Reserved{{r.trip_id, name_}});
    } else if (event.type == Release::kType) {
      const auto& r = event.payload_as<Release>();
      if (r.provider != name_) return;
      const Booking* booking = txn.get_as<Booking>(kBookings, r.trip_id);
      if (!booking || booking->status != BookingStatus::Held) return;  // released already
      Booking b = *booking;
      Item i = *txn.get_as<Item>(kItems, b.item);
      ++i.available;
      --i.held;
      b.status = BookingStatus::Released;
      txn.put(kItems, i.id, std::move(i));
      txn.put(kBookings, b.trip_id, std::move(b));
      ctx.emit(kReplies, r.trip_id, Released{{r.trip_id, name_}});
    }
  }

  void register_payloads(PayloadRegistry& r) const override { register_trip_payloads(r); }
  RecordPtr decode_record(std::string_view table, const json& j) const override {
    if (table == kItems) return std::make_shared<RecordOf<Item>>(j.get<Item>());
    if (table == kBookings) return std::make_shared<RecordOf<Booking>>(j.get<Booking>());
    return Service::decode_record(table, j);
  }

 private:
  std::string name_;
};

// --- scenario settings ---------------------------------------------------
//
//   "saga": {"name": "trip", "trip_timeout_ms": 2000, "liveness_bound_ms": 20000},
//   "workload": {
//     "items": {"flight": [{"id": "FL-1", "capacity": 3}], "hotel": [...], "car": [...]},
//     "trips": [{"id": "t-1", "at_ms": 0, "flight": "FL-1", "hotel": "H-1", "car": "C-1"}]
//        or   {"count": 40, "spacing_ms": 25}    (each trip picks items from the seed)
//   }
struct TripSpec {
  std::string id;
  Duration at;
  std::string items[3];
};
struct Settings final : sim::SagaSettings {
  Duration timeout = Duration::seconds(2);
  std::map<std::string, std::vector<std::pair<std::string, int64_t>>> items;  // provider -> (item, capacity)
  std::vector<TripSpec> trips;
  int generate = 0;
  double spacing_ms = 25;
};

// --- invariants ----------------------------------------------------------
constexpr std::string_view kSeatsConserved = "capacity_conserved";
constexpr std::string_view kBookingsForward = "bookings_move_forward";
constexpr std::string_view kDecided = "trips_decided_within_bound";
constexpr std::string_view kConfirmedHoldsAll = "confirmed_trip_holds_all_three";
constexpr std::string_view kCancelledHoldsNothing = "cancelled_trip_holds_nothing";

// The trips a run places: the listed ones, or `count` drawn from the run's
// own stream (the same seed, the same trips), in time order.
std::vector<TripSpec> trips_of(const Settings& settings, uint64_t seed) {
  std::vector<TripSpec> trips = settings.trips;
  if (settings.generate > 0) {
    sim::Prng rng(sim::derive_seed(seed, "trip-workload"));
    for (int i = 0; i < settings.generate; ++i) {
      TripSpec t{fmt::format("t-{}", i + 1),
                 Duration{static_cast<int64_t>(settings.spacing_ms * 1000 * i) +
                          static_cast<int64_t>(rng.below(static_cast<uint64_t>(settings.spacing_ms * 1000) + 1))}};
      for (int p = 0; p < 3; ++p) {
        const auto& options = settings.items.at(kProviders[p]);
        t.items[p] = options[rng.below(options.size())].first;
      }
      trips.push_back(std::move(t));
    }
  }
  std::stable_sort(trips.begin(), trips.end(), [](const TripSpec& a, const TripSpec& b) { return a.at < b.at; });
  return trips;
}

// Production mode (`trip-sim place --count N`): N trips "<prefix>-t-<n>",
// each wanting the items of the scenario's trips in turn.
std::vector<TripSpec> live_trips(const Settings& settings, uint64_t seed, const sim::LivePlan& plan) {
  const std::vector<TripSpec> shapes = trips_of(settings, seed);
  std::vector<TripSpec> out;
  if (shapes.empty()) return out;
  out.reserve(plan.count);
  for (size_t i = 0; i < plan.count; ++i) {
    TripSpec t = shapes[i % shapes.size()];
    t.id = fmt::format("{}-t-{}", plan.id_prefix, i + 1);
    t.at = Duration{0};
    out.push_back(std::move(t));
  }
  return out;
}

class TripRun final : public sim::SagaRun {
 public:
  TripRun(const sim::Scenario& s, const Settings& settings, uint64_t seed, Bug bug,
          const sim::LivePlan* live = nullptr)
      : scenario_(s), settings_(settings), bug_(bug),
        trips_(live ? live_trips(settings, seed, *live) : trips_of(settings, seed)) {}

  // Production mode: `check` tells the run which trips travellers placed.
  void placed(const Event& e) override {
    if (e.type == BookTrip::kType && placed_ids_.insert(e.key).second) placed_.emplace_back(e.key, e.occurred_at.us);
  }

  std::vector<std::unique_ptr<Service>> make_services() override {
    std::vector<std::unique_ptr<Service>> out;
    out.push_back(std::make_unique<TripOrchestrator>(settings_.timeout, bug_));
    for (const char* p : kProviders) out.push_back(std::make_unique<Provider>(p));
    return out;
  }

  void open(sim::OpeningState& state) override {
    for (const char* p : kProviders)
      for (const auto& [id, capacity] : settings_.items.at(p)) {
        Transaction txn(state.store(p), "setup");
        txn.put(kItems, id, Item{id, capacity, capacity, 0});
        txn.commit();
      }
  }

  size_t placements() const override { return trips_.size(); }
  Duration placement_at(size_t i) const override { return trips_[i].at; }
  void place(size_t i, sim::Client& client) override {
    const TripSpec& t = trips_[i];
    placed_.emplace_back(t.id, client.now().us);
    client.send(kRequests, t.id, BookTrip{t.id, t.items[0], t.items[1], t.items[2]});
  }

  // Safety at every commit: capacity conserved and never negative; bookings
  // only move forward (none -> HELD | REJECTED, HELD -> RELEASED).
  void on_commit(const WriteSet& ws, Time now) override {
    for (const Put& put : ws.puts) {
      if (put.table == kItems) {
        const Item* i = record_as<Item>(put.record);
        if (i && (i->available < 0 || i->held < 0 || i->available + i->held != i->capacity))
          add(kSeatsConserved, "", fmt::format("item {}: available {} + held {} vs capacity {}", i->id, i->available,
                                               i->held, i->capacity), now);
      } else if (put.table == kBookings) {
        const Booking* before = record_as<Booking>(put.before);
        const Booking* after = record_as<Booking>(put.record);
        const bool ok = after && (before ? before->status == BookingStatus::Held && after->status == BookingStatus::Released
                                         : after->status != BookingStatus::Released);
        if (!ok) add(kBookingsForward, put.key, "booking moved backwards or twice", now);
      } else if (put.table == kTrips) {
        const Trip* before = record_as<Trip>(put.before);
        const Trip* after = record_as<Trip>(put.record);
        if (after && after->status != TripStatus::Pending && (!before || before->status == TripStatus::Pending))
          decided_at_.emplace(put.key, now.us);
      }
    }
  }

  void finish(const sim::FinalView& view, sim::RunResult& r, std::vector<inv::Violation>& out) override {
    out = violations_;
    std::map<std::string, std::map<std::string, Booking>> bookings;  // provider -> trip -> booking
    std::map<std::string, int64_t> held_by_bookings;                 // item -> HELD bookings
    for (const char* p : kProviders)
      view.store(p).scan(kBookings, [&](const std::string& trip, const RecordPtr& rec) {
        const Booking& b = *record_as<Booking>(rec);
        bookings[p][trip] = b;
        if (b.status == BookingStatus::Held) ++held_by_bookings[b.item];
      });
    for (const char* p : kProviders)
      view.store(p).scan(kItems, [&](const std::string& id, const RecordPtr& rec) {
        const Item& i = *record_as<Item>(rec);
        if (i.held != held_by_bookings[id])
          out.push_back({std::string(kSeatsConserved), "", fmt::format("item {}: held {} but {} HELD bookings", id, i.held,
                                                                      held_by_bookings[id])});
      });
    r.instances.total = static_cast<int>(placed_.size());
    for (const auto& [id, placed_us] : placed_) {
      const Trip* t = record_as<Trip>(view.store("trip").get(kTrips, id));
      if (!t || t->status == TripStatus::Pending) {
        ++r.instances.undecided;
        ++r.paths["pending"];
        if (view.quiesced()) out.push_back({std::string(kDecided), id, "still undecided after the run went quiet"});
        continue;
      }
      auto decided = decided_at_.find(id);
      if (view.quiesced() && decided != decided_at_.end() && decided->second - placed_us > scenario_.liveness_bound.us)
        out.push_back({std::string(kDecided), id, fmt::format("decided after {} ms", (decided->second - placed_us) / 1000)});
      int held = 0;
      for (const char* p : kProviders) {
        auto b = bookings[p].find(id);
        held += b != bookings[p].end() && b->second.status == BookingStatus::Held;
      }
      if (t->status == TripStatus::Confirmed) {
        ++r.instances.completed;
        ++r.paths["booked"];
        if (view.quiesced() && held != 3)
          out.push_back({std::string(kConfirmedHoldsAll), id, fmt::format("CONFIRMED with {} of 3 held", held)});
      } else {
        ++r.instances.compensated;
        ++r.paths[t->reason == "timeout" ? (t->held.empty() ? "timeout" : "timeout_compensated")
                                         : "unavailable:" + t->reason.substr(0, t->reason.find('_'))];
        if (view.quiesced() && held != 0)
          out.push_back({std::string(kCancelledHoldsNothing), id,
                         fmt::format("CANCELLED ({}) but {} booking(s) still held", t->reason, held)});
      }
    }
  }

 private:
  void add(std::string_view invariant, std::string id, std::string message, Time now) {
    if (violations_.size() < 1000) violations_.push_back({std::string(invariant), std::move(id), std::move(message), now.us});
  }
  const sim::Scenario& scenario_;
  const Settings& settings_;
  Bug bug_;
  std::vector<TripSpec> trips_;
  std::vector<std::pair<std::string, int64_t>> placed_;
  std::map<std::string, int64_t> decided_at_;
  std::vector<inv::Violation> violations_;
  std::set<std::string> placed_ids_;
};

class TripSaga final : public sim::SagaDefinition {
 public:
  std::string_view name() const override { return "trip"; }
  sim::InstanceWords instance_words() const override { return {"trips", "booked", "cancelled", "pending"}; }
  // The bug zoo, selected with --mutant (RunOptions::mutant).
  std::vector<sim::VariantInfo> variants() const override {
    return {{std::string(kKeepsLateReservation),
             "the orchestrator ignores a reservation that arrives after it cancelled the trip, so it stays booked", {}}};
  }
  std::vector<std::string> services(std::string_view) const override { return {"trip", "flight", "hotel", "car"}; }
  std::vector<std::string> topics(std::string_view) const override {
    return {std::string(kRequests), std::string(kCommands), std::string(kReplies), std::string(kOutcomes)};
  }

  void parse_settings(JsonObject& saga, sim::Scenario& out) const override {
    Settings* settings = &out.settings_to_fill<Settings>();
    settings->timeout = sim::ms_field(saga, "trip_timeout_ms", 2000);
    if (settings->timeout.us <= 0) saga.fail(saga.at("trip_timeout_ms"), "must be greater than 0");
    if (out.liveness_bound < settings->timeout)
      saga.fail(saga.at("liveness_bound_ms"), "is shorter than trip_timeout_ms");
  }

  void parse_workload(JsonObject& root, sim::Scenario& out) const override {
    Settings* settings = &out.settings_to_fill<Settings>();
    JsonObject w(root.require("workload"), "/workload", out.source);
    JsonObject items(w.require("items"), "/workload/items", out.source);
    std::set<std::string> known[3];
    for (int p = 0; p < 3; ++p) {
      const json& list = items.require(kProviders[p]);
      const std::string path = fmt::format("/workload/items/{}", kProviders[p]);
      if (!list.is_array() || list.empty()) items.fail(path, "expected a non-empty array of items");
      for (size_t i = 0; i < list.size(); ++i) {
        JsonObject item(list[i], fmt::format("{}/{}", path, i), out.source);
        const std::string id = item.string("id");
        if (!known[p].insert(id).second) item.fail(item.at("id"), "duplicate item id");
        settings->items[kProviders[p]].emplace_back(id, item.integer("capacity", 0, 1000000));
        item.finish();
      }
    }
    items.finish();
    const json& trips = w.require("trips");
    if (trips.is_array()) {
      std::set<std::string> ids;
      for (size_t i = 0; i < trips.size(); ++i) {
        JsonObject t(trips[i], fmt::format("/workload/trips/{}", i), out.source);
        TripSpec spec{t.string("id"), sim::ms_field(t, "at_ms", 0)};
        if (!ids.insert(spec.id).second) t.fail(t.at("id"), "duplicate trip id");
        for (int p = 0; p < 3; ++p) {
          spec.items[p] = t.string(kProviders[p]);
          if (!known[p].count(spec.items[p]))
            t.fail(t.at(kProviders[p]), fmt::format("no {} item '{}'", kProviders[p], spec.items[p]));
        }
        t.finish();
        settings->trips.push_back(std::move(spec));
      }
    } else {
      JsonObject g(trips, "/workload/trips", out.source);
      settings->generate = static_cast<int>(g.integer("count", 0, 1000000));
      settings->spacing_ms = g.number("spacing_ms", 0.001, 3600000, 25);
      g.finish();
    }
    w.finish();
  }

  std::vector<std::string> invariants(std::string_view) const override {
    return {std::string(kSeatsConserved), std::string(kBookingsForward), std::string(kDecided),
            std::string(kConfirmedHoldsAll), std::string(kCancelledHoldsNothing)};
  }
  std::vector<std::string> paths(std::string_view) const override {
    return {"booked", "unavailable:flight", "unavailable:hotel", "unavailable:car", "timeout", "timeout_compensated"};
  }
  // Shrinking: the generated trips written out, then removed while it still fails.
  json explicit_workload(const sim::Scenario& s, uint64_t seed) const override {
    json w = s.spec["workload"];
    json trips = json::array();
    for (const TripSpec& t : trips_of(s.settings<Settings>(), seed)) {
      json j = {{"id", t.id}, {"at_ms", static_cast<double>(t.at.us) / 1000.0}};
      for (int p = 0; p < 3; ++p) j[kProviders[p]] = t.items[p];
      trips.push_back(j);
    }
    w["trips"] = trips;
    return w;
  }
  size_t workload_size(const json& scenario) const override {
    const json::json_pointer p("/workload/trips");
    return scenario.contains(p) && scenario.at(p).is_array() ? scenario.at(p).size() : 0;
  }
  void shrink_workload(json& best, const std::function<bool(const json&)>& fails) const override {
    sim::reduce_list(best, json::json_pointer("/workload/trips"), fails);
  }

  std::unique_ptr<sim::SagaRun> start(const sim::Scenario& s, const sim::RunOptions& o) const override {
    // The CLI has checked the name (sim::check_mutant); a runtime mutant leaves the saga as written.
    const Bug bug = o.mutant == kKeepsLateReservation ? Bug::KeepsLateReservation : Bug::None;
    return std::make_unique<TripRun>(s, s.settings<Settings>(), o.seed, bug);
  }

  // Production mode: the same run on real Kafka (trip-sim serve, place, check).
  std::unique_ptr<sim::SagaRun> start_live(const sim::Scenario& s, const sim::RunOptions& o,
                                           const sim::LivePlan& plan) const override {
    const Settings& settings = s.settings<Settings>();
    if (plan.count > 0 && settings.trips.empty() && settings.generate == 0)
      throw sagasim::InputError(s.source, "/workload/trips", "the live workload needs trips to copy (a list or a count)");
    const Bug bug = o.mutant == kKeepsLateReservation ? Bug::KeepsLateReservation : Bug::None;
    return std::make_unique<TripRun>(s, settings, o.seed, bug, &plan);
  }
  std::optional<sim::Decision> decision(const Event& e) const override {
    if (e.type != TripDecided::kType) return std::nullopt;
    return sim::Decision{e.key, e.payload_as<TripDecided>().outcome};
  }
};

}  // namespace

std::shared_ptr<const sim::SagaDefinition> trip_saga() {
  static const std::shared_ptr<const sim::SagaDefinition> saga = std::make_shared<TripSaga>();
  return saga;
}

}  // namespace trip
