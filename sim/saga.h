// A saga definition: everything the simulator needs to know about one saga,
// so that it can run any team's services, not only the built-in order saga.
//
// A definition names its services and topics, reads its own part of a
// scenario file (the "saga" settings and the "workload"), and for each run
// makes a SagaRun: the service objects, the opening state of their stores,
// the workload driver (what the client places, and when) and the invariants
// (safety at every commit over the write set, final checks over the stores
// and the event log). The simulator owns everything else: the broker, the
// virtual clock, instances, consumer groups, outboxes, timers, the trace and
// fault injection (faults/ names services and instances by the definition's
// names, so every fault class works for every definition).
//
//   class TripSaga final : public sagasim::sim::SagaDefinition {
//     std::string_view name() const override { return "trip"; }
//     std::vector<std::string> services(std::string_view) const override {
//       return {"trip", "flight", "hotel", "car"};
//     }
//     std::vector<std::string> topics(std::string_view) const override { ... }
//     void parse_workload(JsonObject& root, Scenario& out) const override { ... }
//     std::vector<std::string> invariants(std::string_view) const override { ... }
//     std::unique_ptr<SagaRun> start(const Scenario& s, const RunOptions& o) const override { ... }
//   };
//   auto saga = std::make_shared<TripSaga>();
//   Scenario s = load_scenario_file("trip.json", saga);   // names it: "saga": {"name": "trip"}
//   RunResult r = run_scenario(s, RunOptions{.seed = 7});   // or faults::run(...) with faults
//
// docs/writing-your-own-saga.md walks through a complete one (examples/trip-booking).
//
// Determinism: everything a SagaRun does must be a function of the scenario,
// the seed (RunOptions::seed; derive your own streams with derive_seed) and
// the calls the simulator makes, in the order it makes them. No wall clock,
// no unseeded randomness, no iteration over unordered containers that can
// leak into behaviour. Not thread-safe: one SagaRun belongs to one run; a
// definition is shared read-only between runs (sweeps run them on threads).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "core/service.h"
#include "core/store.h"
#include "core/codec.h"
#include "core/violation.h"

namespace sagasim::sim {

struct Scenario;
struct RunOptions;
struct RunResult;

// A deliberately broken variant (the bug zoo): a mistake real teams make, to
// show that the checks catch it. A saga brings its own (SagaDefinition::
// variants()); the runtime mutants break the simulator's own runtime and
// apply to every saga. `--mutant NAME` selects either kind.
struct VariantInfo {
  std::string name;         // "payment-no-dedupe": lower case, dashes
  std::string description;  // one line: what the broken code does
  // The styles it changes anything in (empty: every style).
  std::vector<std::string> styles;
};

// The runtime's own mutants: the simulator's instance runtime broken in a way
// every saga must be protected from by the runtime, not by its handlers.
enum class RuntimeMutant {
  None,
  OutboxBeforeCommit,      // publishes a transaction's outbox before its local commit
  CommitBeforeProcessing,  // commits the consumer offset before handling the record
  TimersNotRearmed,        // a restarted instance does not look for timers that fell due while it was down
  // The simulated broker itself broken: what the broker's self-check
  // (broker_kafka_guarantees) exists to see, since a gentler broker hides
  // bugs from every other check.
  BrokerResumesPastCommit,   // a partition's new owner starts one record after the committed offset
  BrokerSkipsRedelivery,     // a partition's new owner starts where the old one stopped, not at the commit
  BrokerForgetsSequences,    // idempotent producers' retries are appended again (no dedup by sequence)
};
std::span<const VariantInfo> runtime_mutants();
RuntimeMutant runtime_mutant(std::string_view name);  // None for any other name

// How a saga speaks of its instances (SagaDefinition::instance_words): for
// the order saga "orders: 146 confirmed, 154 cancelled, 0 pending".
struct InstanceWords {
  std::string noun = "instances";                // plural: "orders", "trips"
  std::string completed_word = "completed";      // "confirmed", "booked"
  std::string compensated_word = "compensated";  // "cancelled"
  std::string undecided_word = "pending";
};

// A run's summary of its saga instances, in the saga's own words (the
// simulator fills the words; SagaRun::finish the counts).
struct InstanceSummary : InstanceWords {
  int total = 0;        // started (placed by the workload)
  int completed = 0;    // reached the saga's successful end
  int compensated = 0;  // ended cancelled, with what was done undone
  int undecided = 0;    // neither, when the run ended
};

// A definition's own scenario settings (what it read in parse_settings and
// parse_workload), kept in Scenario::settings. The simulator never looks inside.
class SagaSettings {
 public:
  virtual ~SagaSettings() = default;
};

// The outside world's producer: how a workload driver places work (a
// PlaceOrder, a BookTrip). Its producer is idempotent and named "client" in
// traces and fault plans.
class Client {
 public:
  virtual ~Client() = default;
  virtual Time now() const = 0;

  // Sends a new event: a fresh id, occurred now, correlation id = key, no cause.
  template <class T>
  EventPtr send(std::string_view topic, std::string key, T payload) {
    auto e = std::make_shared<Event>();
    e->event_id = next_event_id();
    e->type = std::string(T::kType);
    e->schema_version = T::kVersion;
    e->key = key;
    e->occurred_at = now();
    e->correlation_id = std::move(key);
    e->payload = std::make_shared<PayloadOf<T>>(std::move(payload));
    EventPtr ptr = std::move(e);
    send_event(topic, ptr);
    return ptr;
  }
  virtual std::string next_event_id() = 0;
  virtual void send_event(std::string_view topic, EventPtr event) = 0;
};

// The stores, by service name, before any instance starts: where a run
// commits its opening state (balances, stock, seats...).
class OpeningState {
 public:
  virtual ~OpeningState() = default;
  virtual Store& store(std::string_view service) = 0;
};

// What the final checks see: every service's committed store and the whole
// event log (every record of every topic, topic by topic in the definition's
// order, then partition, then offset) — empty for a run that folded the log
// as it grew (SagaRun::folds_log).
class FinalView {
 public:
  virtual ~FinalView() = default;
  virtual const Store& store(std::string_view service) const = 0;
  virtual std::span<const inv::LoggedEvent> log() const = 0;
  // False when run.max_virtual_ms stopped the run before it went quiet:
  // liveness cannot be judged then, only safety.
  virtual bool quiesced() const = 0;
  virtual Time now() const = 0;
  // True when store(s).get and scan are in-memory operations (the
  // simulator's stores): the final checks may then read the stores in place,
  // key by key, instead of loading a copy of them (as they do from a
  // database, where a lookup per key is a round trip).
  virtual bool stores_in_memory() const { return false; }
  // When a timer of `service` due at `service_due` (on the service's own
  // clock, which a clock_skew fault may skew) and set no earlier than
  // `set_at` (true time) fires, in true time: when it is due (or set, if
  // later) if an instance of the service is running then, else when the
  // first one is back (a timer belongs to the service's store, and any
  // running instance fires it). nullopt when no instance ever runs again, or
  // when the runtime cannot tell (a live deployment): deadlines are then not
  // judged.
  virtual std::optional<Time> timer_fires_at(std::string_view /*service*/, Time /*service_due*/,
                                             Time /*set_at*/) const {
    return std::nullopt;
  }
};

// Production mode, `monitor`: the saga's invariants applied to a live
// deployment continuously, one record of its topics at a time, with nothing
// but the records (no store). Made by SagaRun::live_monitor.
//
// The caller reads every saga topic and hands over each record it can decode
// (per partition in offset order; across partitions and topics in any
// order), and tells it how far the log has been read in time (on_time). A
// monitor reports each violation once: what it has reported is part of the
// state it saves, so a monitor restored from save() and fed the records
// after the saved offsets reports neither a violation twice nor misses one.
//
// Determinism: a function of the records, the times given and the restored
// state (it reads no clock); the caller owns the clock, the consumer and
// where the state is kept. Not thread-safe.
struct RecordRef {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string type;
  std::string event_id;
  int64_t occurred_at_us = 0;  // when its producer created it
};
// A violation and the records it is about (at most a few dozen, oldest first).
struct LiveViolation {
  inv::Violation violation;
  std::vector<RecordRef> records;
  // The record that broke it (a second charge, a charge of the wrong
  // amount); none when time did (a deadline passed).
  std::optional<RecordRef> at_fault;
};
struct LiveReport {
  std::vector<LiveViolation> violations;
  // An instance decided for the first time, and how long after its placement
  // (by its records' producer times); only when its placement was seen.
  std::vector<Duration> decided_after;
};
class LiveMonitor {
 public:
  virtual ~LiveMonitor() = default;
  // One record, decoded.
  virtual void on_record(const inv::LoggedEvent& record, LiveReport& out) = 0;
  // Every record produced before `log_time` has been read (the caller's
  // low watermark over every partition of every topic): deadlines up to
  // then are judged (the liveness bound, and what must hold once an
  // instance has had its bound to settle), and instances settled long ago
  // are forgotten.
  virtual void on_time(Time log_time, LiveReport& out) = 0;
  // Instances placed or seen and not yet decided.
  virtual size_t in_flight() const = 0;
  // Everything needed to resume: JSON, small (forgotten instances are not in it).
  virtual nlohmann::json save() const = 0;
  // save() as JSON text; a monitor that remembers many instances writes it
  // directly (restore() reads either).
  virtual std::string save_text() const { return save().dump(); }
  // From save(); InputError naming `where` when it is not a state this saga wrote.
  virtual void restore(const nlohmann::json& state, const std::string& where) = 0;
};

// One run's worth of a saga. Made by SagaDefinition::start, used by one
// Simulation, in this order: make_services, open, then place / on_commit as
// the run goes, then finish.
class SagaRun {
 public:
  virtual ~SagaRun() = default;

  // The services, one per name in SagaDefinition::services(style), in that order.
  virtual std::vector<std::unique_ptr<Service>> make_services() = 0;
  // One service object, for one process: every instance builds its own when
  // it starts and loses it when it crashes or leaves, as a real process does,
  // so state a handler keeps in memory (a cache, a counter) is split between
  // instances and gone after a restart. Default: the one of that name from
  // make_services().
  virtual std::unique_ptr<Service> make_service(std::string_view name);
  // Commits the opening state, before any instance starts. Use small
  // transactions (Transaction(store, "setup")): each one is a commit.
  virtual void open(OpeningState& state) = 0;

  // The workload: placement i happens at placement_at(i) after the start
  // (non-decreasing in i); place(i) sends what it places through the client.
  virtual size_t placements() const = 0;
  virtual Duration placement_at(size_t i) const = 0;
  virtual void place(size_t i, Client& client) = 0;

  // The event log as it grows, for a saga whose final checks fold it
  // incrementally instead of reading FinalView::log() at the end. When
  // folds_log() is true the simulator hands every record the broker appends
  // to on_append (every topic; per partition in offset order, across
  // partitions and topics in append order; duplicates included), lets the
  // broker drop the records every consumer group has committed past, and
  // FinalView::log() is empty at finish(): memory then grows with the work in
  // flight, not with the run's history. Default: false, the whole log is kept
  // and handed over at the end (a saga needs nothing more to work).
  virtual bool folds_log() const { return false; }
  virtual void on_append(const inv::LoggedEvent& /*record*/) {}

  // Safety: called after every committed local transaction of every service
  // (handlers, timers; not the opening state) with its write set. Each Put
  // carries the record before and after. Keep it O(write set).
  virtual void on_commit(const WriteSet& ws, Time now) = 0;

  // Whether this run's records must travel encoded (as with the scenario's
  // "wire"): a variant that breaks the wire format needs it to be seen.
  virtual bool needs_wire() const { return false; }
  // An instance of `service` builds its codec: the saga may change it after
  // the service registered its payloads (a variant that writes an
  // incompatible version). Called on the wire only.
  virtual void adjust_codec(std::string_view /*service*/, PayloadRegistry& /*registry*/) const {}

  // The end of the run: the violations found at commits and by the final
  // checks (safety again from scratch; liveness and agreement when quiesced),
  // in report order, and the run's summary: RunResult::instances (started,
  // completed, compensated, undecided, in the saga's words) and paths (which
  // ways through the saga it took).
  virtual void finish(const FinalView& view, RunResult& result, std::vector<inv::Violation>& violations) = 0;

  // Production mode: `check` judges a live deployment with finish(), in a
  // process that placed nothing itself. Before finish() it hands the run each
  // record an outside client placed (in log order, duplicates included), so
  // the run knows its instances and when each began, as place() would have
  // told it. The default ignores them (a saga whose finish() reads its
  // instances from the stores alone).
  virtual void placed(const Event& /*record*/) {}

  // Production mode: `monitor` judges a live deployment continuously, from
  // its records alone (LiveMonitor), with the same checks as finish() where
  // records can tell: an instance must be decided within `liveness_bound` of
  // its placement. Default: null, this saga has no record-by-record checks.
  virtual std::unique_ptr<LiveMonitor> live_monitor(Duration /*liveness_bound*/) { return nullptr; }
};

// Production mode (`serve`, `place`, `check` on real Kafka; cli/live.h): how
// many instances a live run places, and the prefix of their ids. Ids must
// never repeat on a cluster (a second start for a known id is a duplicate),
// so every live run has its own prefix.
struct LivePlan {
  size_t count = 0;
  std::string id_prefix;  // "r1795672541-3f2a": ids are "<prefix>-<the saga's own id>"
};

// A record that ends a saga instance, and how (`place --wait` times the
// sagas by it): the instance's id (the key its placement was sent with) and
// its outcome ("confirmed", "cancelled: out_of_stock").
struct Decision {
  std::string entity;
  std::string outcome;
};

class SagaDefinition {
 public:
  virtual ~SagaDefinition() = default;

  virtual std::string_view name() const = 0;

  // Ways this saga can be run ("choreography", "orchestration"), the default
  // first, chosen by the scenario's "style" (and `--style`). Empty: the
  // scenario may not name a style.
  virtual std::vector<std::string> styles() const { return {}; }

  // Service names (consumer groups; instances are "<name>-<n>") and topics,
  // in creation order. Fault plans and `topology.instances` name these.
  virtual std::vector<std::string> services(std::string_view style) const = 0;
  virtual std::vector<std::string> topics(std::string_view style) const = 0;

  // Reads this saga's keys of the scenario's "saga" object (`saga` has
  // already read the generic liveness_bound_ms into out.liveness_bound; keys
  // nobody reads are rejected afterwards). Throws InputError (saga.fail(...)).
  virtual void parse_settings(JsonObject& /*saga*/, Scenario& /*out*/) const {}
  // Reads the scenario's top-level "workload" (or whatever top-level keys
  // this saga uses) from `root`, typically into out.settings.
  virtual void parse_workload(JsonObject& root, Scenario& out) const = 0;

  // Invariant names in report order. The simulator appends
  // inv::kBrokerGuarantees; a violation naming anything else is reported too.
  virtual std::vector<std::string> invariants(std::string_view style) const = 0;
  // The saga paths a sweep expects to see (RunResult::paths keys), for its
  // coverage report. Empty: no coverage report.
  virtual std::vector<std::string> paths(std::string_view /*style*/) const { return {}; }

  // What its instances are called in summaries (RunResult::instances).
  virtual InstanceWords instance_words() const { return {}; }
  std::string instance_noun() const { return instance_words().noun; }

  // The saga's bug zoo: deliberately broken variants, selected by name
  // (RunOptions::mutant; `--mutant NAME`). start() makes the broken services
  // for a variant's name. Empty: none.
  virtual std::vector<VariantInfo> variants() const { return {}; }

  // The fault entries (scenario "faults" JSON) that swarm mode starts from
  // when a scenario has none. The default spreads every fault class over this
  // saga's services and topics (faults/plan.h: default_chaos_plan).
  virtual nlohmann::json chaos_faults(const Scenario& scenario) const;

  // Shrinking (faults/shrink.h). explicit_workload: the scenario's workload
  // with everything the seed generates written out (default: unchanged).
  // shrink_workload: make `best` smaller while `fails(candidate)` holds
  // (default: nothing; see reduce_list). Called between other reductions.
  virtual nlohmann::json explicit_workload(const Scenario& scenario, uint64_t seed) const;
  virtual void shrink_workload(nlohmann::json& /*best*/,
                               const std::function<bool(const nlohmann::json&)>& /*fails*/) const {}
  // The last step: drop reference data nothing uses any more (customers, SKUs).
  virtual void tidy_workload(nlohmann::json& /*best*/,
                             const std::function<bool(const nlohmann::json&)>& /*fails*/) const {}
  // How many saga instances a scenario JSON places (for shrink's report).
  virtual size_t workload_size(const nlohmann::json& /*scenario*/) const { return 0; }

  virtual std::unique_ptr<SagaRun> start(const Scenario& scenario, const RunOptions& options) const = 0;

  // ---- Production mode (cli/live.h: serve, place, check on real Kafka) ----
  //
  // The production commands run the same SagaRun on a real broker:
  //   serve SERVICE  make_services() gives the service (a variant's, with
  //                  --mutant); open() gives its opening state, written
  //                  once into its database (the other services' parts are
  //                  dropped);
  //   place          start_live(plan) places plan.count instances through a
  //                  Kafka client (placement_at is ignored: --rate paces it);
  //   check          a start_live run with count 0 is told of every placed
  //                  record (SagaRun::placed), then finish() judges the live
  //                  stores and the topics' records. Every process of one
  //                  deployment is given the same scenario and seed, so each
  //                  computes the same opening state (checked: serve records
  //                  a digest of it in each database).
  //
  // live_scenario: the scenario (JSON) production mode uses when no
  // --scenario is given; null: --scenario is required.
  virtual nlohmann::json live_scenario() const { return nullptr; }
  // A run whose workload places plan.count instances with ids under
  // plan.id_prefix, over the scenario's reference data (the opening state must
  // not depend on the count). Default: InputError, this saga has no
  // production mode.
  virtual std::unique_ptr<SagaRun> start_live(const Scenario& scenario, const RunOptions& options,
                                              const LivePlan& plan) const;
  // The decision a record carries, if it is one (`place --wait`). Default:
  // none, and `place --wait` says the saga does not tell.
  virtual std::optional<Decision> decision(const Event& /*record*/) const { return std::nullopt; }
};

// The variant or runtime mutant called `name` ("" is the saga as written),
// checked: InputError naming the known ones when there is none of that name,
// or when it changes nothing in `style`. `where` names the option or field.
void check_mutant(const SagaDefinition& saga, const std::string& name, std::string_view style,
                  const std::string& where = "--mutant");
// Every variant of the saga, then the runtime mutants.
std::vector<VariantInfo> all_mutants(const SagaDefinition& saga);

// Delta debugging over the JSON array at `pointer` in `best`: removes chunks,
// then single items, keeping each removal after which `fails` still holds.
void reduce_list(nlohmann::json& best, const nlohmann::json::json_pointer& pointer,
                 const std::function<bool(const nlohmann::json&)>& fails);
// Makes the number at `pointer` in `best` as small as it can, down to `lo`,
// while `fails` holds: tries `lo`, then bisects towards it (integers stay
// integers; a fraction is bisected in whole steps of `step`). Stock, balances,
// durations: a counterexample with small numbers needs fewer instances to
// reach the same state. Returns whether it changed anything.
bool reduce_number(nlohmann::json& best, const nlohmann::json::json_pointer& pointer,
                   const std::function<bool(const nlohmann::json&)>& fails, double lo = 0, double step = 1);

}  // namespace sagasim::sim
