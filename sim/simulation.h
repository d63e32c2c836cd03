// One simulated world: the virtual clock and scheduler, the broker, the
// saga's services (sim/saga.h: the saga the scenario names) with their
// stores and instances, the workload client, the
// trace and the saga's safety checks. `run` drives it until it is quiet (or
// reaches the scenario's time limit) and returns what happened.
//
//   Scenario s = load_scenario_file("scenarios/happy-path.json");
//   RunResult r = run_scenario(s, RunOptions{.seed = 7});
//   // r.trace_hash is the same on every run and every machine for seed 7.
//
// Single-threaded and deterministic: everything the services see comes
// through their SimEnv (virtual time, counted event ids).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/memory_store.h"
#include "core/service.h"
#include "core/violation.h"
#include "sim/broker.h"
#include "sim/saga.h"
#include "sim/scenario.h"
#include "sim/trace.h"

namespace sagasim::sim {

struct RunOptions {
  uint64_t seed = 1;
  TraceSink* trace = nullptr;  // null: hash only, write nothing
  std::string version = "0.1.0";
  // Extra fields for the trace header (e.g. the scenario itself, for
  // replay): a JSON object's text ("" for none), which the header splices in.
  std::string header_text;
  // A deliberately broken variant, by name ("" none): one of the saga's
  // (SagaDefinition::variants(), made by its start()) or a runtime mutant
  // (sim/saga.h: outbox-before-commit, commit-before-processing), which
  // breaks the simulator's own runtime whatever the saga. check_mutant
  // validates a name given by a user.
  std::string mutant;
  // The producers' idempotence for this run, when it is not the scenario's
  // (swarm draws it per seed): set here rather than in a copy of the scenario
  // made for each run.
  std::optional<bool> idempotent_producer;
};

struct InvariantOutcome {
  std::string name;
  bool pass = true;
  std::vector<inv::Violation> violations;
};

struct RunResult {
  std::string scenario;
  uint64_t seed = 0;
  std::string trace_hash;
  uint64_t steps = 0;
  // Filled by the saga (SagaRun::finish): its instances placed, completed,
  // compensated, undecided; and the ways through the saga they took.
  InstanceSummary instances;
  std::map<std::string, int> paths;  // "confirmed", "cancelled:timeout", ...
  std::vector<InvariantOutcome> invariants;
  std::map<std::string, uint64_t> faults_fired;
  uint64_t deliveries = 0;
  uint64_t appends = 0;
  uint64_t duplicates_skipped = 0;  // deliveries the inbox recognised
  uint64_t producer_retries = 0;
  uint64_t scheduler_events = 0;
  int64_t virtual_ms = 0;
  bool quiesced = true;  // false when max_virtual_ms stopped the run
  bool ok() const;
};

RunResult run_scenario(const Scenario& scenario, const RunOptions& options);

class Instance;

// The world, exposed for tests that poke at instances (crash, restart, join).
class Simulation final : public Actor {
 public:
  Simulation(const Scenario& scenario, const RunOptions& options);
  ~Simulation() override;

  void start();                  // seeds stores, starts instances, schedules the workload
  void run_until(Time t) { scheduler_.run_until(t); }
  void run_until_quiet(Time limit);
  // Where a run has got to, for a long run's progress line.
  struct Progress {
    size_t placed = 0;      // saga instances the workload has placed
    size_t placements = 0;  // of this many
    uint64_t deliveries = 0;
    Time now;
  };
  Progress progress() const;
  // run_until_quiet, calling `report` every `every` scheduler steps. The
  // report only reads (the CLI prints from it by the wall clock): the run is
  // the same with it or without.
  void run_until_quiet(Time limit, uint64_t every, const std::function<void(const Progress&)>& report);
  RunResult finish();            // final checks and the summary

  Scheduler& scheduler() { return scheduler_; }
  SimBroker& broker() { return broker_; }
  Trace& trace() { return trace_; }
  Time epoch() const { return kSimEpoch; }
  Instance& instance(std::string_view id);
  Instance& add_instance(std::string_view service);  // a new member joins its group
  Store& store(std::string_view service);
  Service& service(std::string_view name);
  std::vector<Instance*> instances_of(std::string_view service);
  const Scenario& scenario() const { return scenario_; }
  // Whether the services' producers are idempotent: the scenario's setting,
  // or RunOptions::idempotent_producer.
  bool idempotent_producer() const { return idempotent_producer_; }
  // When the workload places its last saga instance (since the start).
  Duration workload_end() const;

  // Fault injection (faults/ drives these).
  void set_hooks(FaultHooks* hooks);
  // A service's clock runs `skew` ahead of true virtual time and drifts by
  // `drift_ppm` parts per million from now on. It moves occurred_at and timeouts.
  void set_clock(std::string_view service, Duration skew, int64_t drift_ppm);
  // Counts a fault that took effect and records it in the trace.
  void note_fault(std::string_view fault_class, std::string_view actor, std::string_view detail);
  const std::map<std::string, uint64_t>& faults_fired() const { return faults_fired_; }

  void fire(uint32_t kind, uint32_t x, uint64_t y) override;

  // Whether records travel encoded (Scenario::wire, a rolling upgrade, or a
  // saga variant that needs the wire: SagaRun::needs_wire).
  bool on_wire() const { return wire_; }

 private:
  friend class Instance;
  struct ServiceClock {
    Duration skew;
    int64_t drift_ppm = 0;
    Time since;  // true time the drift starts from
  };
  struct ServiceRuntime {
    // The definition's object: the service's name, subscriptions and codec,
    // and what tests poke at. Records are handled by each instance's own
    // object (Instance::service), never by this one.
    std::unique_ptr<Service> service;
    MemoryStore store;
    GroupId group{};
    std::vector<std::unique_ptr<Instance>> instances;
    int next_instance = 1;
    ServiceClock clock;
  };
  enum Kind : uint32_t { kPlace, kTimer, kRejoin, kRelaySweep, kUpgrade, kResend };
  struct Resend {  // a command the client will send again (FaultHooks::client_resend)
    EventPtr event;
    TopicId topic;
    bool same_id;
  };
  class ClientPort;
  class Stores;
  class View;

  Time service_now(uint32_t si) const;
  Time true_time_of(uint32_t si, Time service_time) const;

  std::optional<Time> timer_fires_at(uint32_t service_index, Time service_due, Time set_at) const;
  void on_committed(Instance& by, const WriteSet& ws);
  void schedule_timers(uint32_t service_index, const WriteSet& ws);
  void fire_timers(uint32_t service_index);
  void place(uint32_t index);
  void resend(uint32_t index);
  std::string next_event_id();
  ServiceRuntime& runtime(std::string_view service);

  const Scenario& scenario_;
  RunOptions options_;
  RuntimeMutant runtime_mutant_ = RuntimeMutant::None;
  std::unique_ptr<SagaRun> saga_;
  size_t placed_ = 0;  // the workload's placements so far
  Scheduler scheduler_;
  Trace trace_;
  SimBroker broker_;
  std::vector<ServiceRuntime> services_;
  ProducerId client_{};
  std::unique_ptr<ClientPort> client_port_;
  uint64_t event_counter_ = 0;
  uint64_t duplicates_skipped_ = 0;
  std::vector<Instance*> all_instances_;
  bool wire_ = false;
  bool idempotent_producer_ = true;
  PayloadRegistry client_registry_;  // the workload client's codec, on the wire
  // Records a consumer could not read (records_readable).
  std::vector<inv::Violation> unreadable_;
  FaultHooks* hooks_ = nullptr;
  std::vector<Resend> resends_;

  std::map<std::string, uint64_t> faults_fired_;
};

// One service instance: a consumer-group member, a producer and an outbox
// relay over its service's store. Volatile state (positions, in-flight
// publishes) dies with crash(); the store does not.
//
// Lifecycle preconditions, asserted in every build type (core/assert.h):
// start() and restart() need a stopped instance (one restart per crash or
// leave; starting twice would join a second member), and records, acks and
// relays reach only a running one (the broker stops both when the instance
// crashes). crash(), leave(), stall() and isolate() of a stopped instance are
// no-ops, not violations: a rolling upgrade or a fault's scheduled end can
// reach an instance that another fault has already stopped.
class Instance final : public ConsumerListener, public ProducerListener, public Env {
 public:
  Instance(Simulation& sim, uint32_t service_index, uint32_t index, std::string id);

  const std::string& id() const { return id_; }
  uint32_t service_index() const { return service_; }
  uint32_t index() const { return index_; }  // among all the run's instances
  bool up() const { return up_; }
  // Up, and neither paused nor cut off from the broker.
  bool available() const { return up_ && paused_until_ <= sim_.scheduler_.now(); }
  void start();    // precondition: not up
  void crash();    // no-op when not up
  void restart();  // precondition: not up
  void leave();    // no-op when not up
  // A frozen process (GC pause, stop-the-world) until `until`.
  void stall(Time until);
  // A network partition between this instance and the broker until `until`.
  void isolate(Time until);

  // This process's own service object (precondition: up): built at start,
  // thrown away at a crash or leave.
  Service& service();
  // When it could not run code (before its first start, down, paused): the
  // half-open intervals [from, to), Time::max() for one that has not ended.
  const std::vector<std::pair<Time, Time>>& unavailable() const { return unavailable_; }
  bool available_at(Time t) const;

  // Env: this service's clock, which faults may skew.
  Time now() const override { return sim_.service_now(service_); }
  std::string next_event_id() override { return sim_.next_event_id(); }

  void on_record(const Delivery& d) override;
  void on_ack(uint64_t cookie, TopicId topic, PartitionId partition, Offset offset) override;

  // Relays the outbox rows of a committed write set; `slot` is the delivery
  // waiting for them (UINT32_MAX: none). Precondition: up.
  void relay(const WriteSet& ws, uint32_t slot);
  // Republishes committed outbox rows that are neither published nor in flight.
  void relay_sweep();
  void rejoin();
  // A rolling upgrade reaches this instance: restarted on the current code.
  void upgrade();
  // The event as this instance's producer puts it on the wire (itself, off the wire).
  EventPtr to_wire(const EventPtr& event) const;

 private:
  void build_registry();
  void pause(Time until, bool network);
  struct Waiting {
    Delivery delivery;
    int remaining = 0;
    bool committed_early = false;  // the commit-before-processing mutant already committed
  };
  Simulation& sim_;
  uint32_t service_;
  uint32_t index_;
  std::string id_;
  bool up_ = false;
  std::unique_ptr<Service> process_;  // this process's service object, while up
  bool started_before_ = false;
  std::vector<std::pair<Time, Time>> unavailable_;
  void went_down();  // opens an unavailable interval now
  Time paused_until_;
  bool sweep_scheduled_ = false;
  ProducerId producer_{};
  MemberId member_{};
  std::vector<Waiting> waiting_;
  std::vector<uint32_t> free_waiting_;
  struct InFlightRow {
    uint64_t seq;      // the outbox row (or a direct send's cookie)
    uint32_t slot;     // the delivery waiting for it, or none
    uint64_t subject;  // its identity, for the fault hooks
  };
  std::vector<InFlightRow> seq_to_slot_;  // small: in-flight outbox rows
  WriteSet scratch_;  // recycled by every transaction this instance runs
  uint64_t direct_sends_ = 0;  // the outbox-before-commit mutant's sends, which have no outbox row
  // On the wire: this instance's codec (its service's events, its version pins).
  std::unique_ptr<PayloadRegistry> registry_;
  bool upgraded_ = false;
};

}  // namespace sagasim::sim
