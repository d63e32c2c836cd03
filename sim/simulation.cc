#include "sim/simulation.h"

#include <algorithm>
#include <charconv>
#include <numeric>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/error.h"

namespace sagasim::sim {

namespace {
constexpr uint32_t kNoSlot = UINT32_MAX;
// Cookies of sends that have no outbox row (the outbox-before-commit mutant).
constexpr uint64_t kDirectCookie = uint64_t{1} << 63;

// The event as a producer with `registry` writes it: the same envelope, its
// payload as the JSON on the wire (at the version that producer writes).
EventPtr wire_form(EventPtr event, const PayloadRegistry& registry) {
  auto w = std::make_shared<Event>(*event);
  nlohmann::json payload;
  w->schema_version = registry.to_wire(*event, payload);
  w->payload = std::make_shared<JsonPayload>(std::move(payload));
  return w;
}

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::Processed: return "processed";
    case Outcome::Ignored: return "ignored";
    case Outcome::Duplicate: return "duplicate";
  }
  return "?";
}
}  // namespace

std::string_view to_string(CrashPoint p) {
  switch (p) {
    case CrashPoint::BeforeHandle: return "before_handle";
    case CrashPoint::AfterCommitBeforePublish: return "after_commit_before_publish";
    case CrashPoint::AfterPublishBeforeCommit: return "after_publish_before_commit";
  }
  return "?";
}

bool RunResult::ok() const {
  return std::all_of(invariants.begin(), invariants.end(), [](const auto& i) { return i.pass; });
}

// The saga's workload sends through the client's producer.
class Simulation::ClientPort final : public Client {
 public:
  explicit ClientPort(Simulation& sim) : sim_(sim) {}
  Time now() const override { return sim_.scheduler_.now(); }
  std::string next_event_id() override { return sim_.next_event_id(); }
  void send_event(std::string_view topic, EventPtr event) override {
    if (sim_.wire_) event = wire_form(std::move(event), sim_.client_registry_);
    const TopicId t = sim_.broker_.topic_id(topic);
    // A client that will time out on this command and send it again.
    std::optional<ClientResend> again;
    if (sim_.hooks_) again = sim_.hooks_->client_resend(topic, SimBroker::identity_of(*event, "client"));
    if (again) {
      sim_.resends_.push_back(Resend{event, t, again->same_id});
      sim_.scheduler_.after(again->after, &sim_, kResend, static_cast<uint32_t>(sim_.resends_.size() - 1));
    }
    sim_.broker_.send(sim_.client_, t, std::move(event), 0);
  }

 private:
  Simulation& sim_;
};

class Simulation::Stores final : public OpeningState {
 public:
  explicit Stores(Simulation& sim) : sim_(sim) {}
  Store& store(std::string_view service) override { return sim_.store(service); }

 private:
  Simulation& sim_;
};

class Simulation::View final : public FinalView {
 public:
  View(Simulation& sim, bool quiesced) : sim_(sim), quiesced_(quiesced) {}
  const Store& store(std::string_view service) const override { return sim_.store(service); }
  std::span<const inv::LoggedEvent> log() const override { return log_; }
  bool quiesced() const override { return quiesced_; }
  Time now() const override { return sim_.scheduler_.now(); }
  bool stores_in_memory() const override { return true; }
  std::optional<Time> timer_fires_at(std::string_view service, Time service_due, Time set_at) const override {
    for (uint32_t si = 0; si < sim_.services_.size(); ++si)
      if (sim_.services_[si].service->name() == service) return sim_.timer_fires_at(si, service_due, set_at);
    return std::nullopt;
  }
  std::vector<inv::LoggedEvent> log_;

 private:
  Simulation& sim_;
  bool quiesced_;
};

Simulation::Simulation(const Scenario& scenario, const RunOptions& options)
    : scenario_(scenario),
      options_(options),
      runtime_mutant_(runtime_mutant(options.mutant)),
      saga_(scenario.saga ? scenario.saga->start(scenario, options) : nullptr),
      scheduler_(kSimEpoch),
      trace_(options.trace, kSimEpoch),
      broker_(scheduler_, trace_, derive_seed(options.seed, "broker"), scenario.broker),
      idempotent_producer_(options.idempotent_producer.value_or(scenario.idempotent_producer)) {
  if (!saga_) throw InternalError(fmt::format("scenario {} has no saga, or its definition started no run", scenario.source));
  switch (runtime_mutant_) {
    case RuntimeMutant::BrokerResumesPastCommit: broker_.set_flaw(BrokerFlaw::ResumesPastCommit); break;
    case RuntimeMutant::BrokerSkipsRedelivery: broker_.set_flaw(BrokerFlaw::SkipsRedelivery); break;
    case RuntimeMutant::BrokerForgetsSequences: broker_.set_flaw(BrokerFlaw::ForgetsSequences); break;
    default: break;
  }
  for (const std::string& t : scenario.topics) broker_.add_topic(t, scenario.partitions);

  std::vector<std::unique_ptr<Service>> services = saga_->make_services();
  if (services.size() != scenario.instances.size())
    throw InternalError(fmt::format("the saga made {} services for the {} it names", services.size(),
                                    scenario.instances.size()));
  services_.resize(services.size());
  for (size_t i = 0; i < services.size(); ++i) {
    ServiceRuntime& rt = services_[i];
    rt.service = std::move(services[i]);
    if (!rt.service || rt.service->name() != scenario.instances[i].first)
      throw InternalError(fmt::format("the saga's service {} is named '{}', not '{}'", i,
                                      rt.service ? rt.service->name() : "(null)", scenario.instances[i].first));
    for (std::string_view topic : rt.service->subscriptions())
      if (std::find(scenario.topics.begin(), scenario.topics.end(), topic) == scenario.topics.end())
        throw InternalError(fmt::format("service '{}' subscribes to '{}', which is not one of the saga's topics",
                                        rt.service->name(), topic));
    rt.group = broker_.add_group(std::string(rt.service->name()), rt.service->subscriptions());
  }
  client_port_ = std::make_unique<ClientPort>(*this);
  wire_ = scenario.wire || !scenario.versions.empty() || saga_->needs_wire();
  if (wire_)
    for (auto& rt : services_) rt.service->register_payloads(client_registry_);
  if (saga_->folds_log()) {
    // The saga folds the log as it grows: the broker keeps only what a group
    // may still fetch (tests that replay the whole log turn retention off).
    broker_.set_retention(true);
    broker_.on_append([this](TopicId t, PartitionId p, Offset o, const EventPtr& e) {
      saga_->on_append(inv::LoggedEvent{broker_.topic_name(t), to_int(p), to_int(o), e});
    });
  }
}

Simulation::~Simulation() = default;

Duration Simulation::workload_end() const {
  Duration last{0};
  for (size_t i = 0; i < saga_->placements(); ++i) last = std::max(last, saga_->placement_at(i));
  return last;
}

Simulation::ServiceRuntime& Simulation::runtime(std::string_view service) {
  for (auto& rt : services_)
    if (rt.service->name() == service) return rt;
  throw InternalError(fmt::format("no service '{}'", service));
}

std::string Simulation::next_event_id() {
  char buf[24] = {'e', '-'};
  const auto end = std::to_chars(buf + 2, buf + sizeof buf, ++event_counter_).ptr;
  return std::string(buf, end);
}

Store& Simulation::store(std::string_view service) { return runtime(service).store; }

Service& Simulation::service(std::string_view name) { return *runtime(name).service; }

Instance& Simulation::instance(std::string_view id) {
  for (auto& rt : services_)
    for (auto& i : rt.instances)
      if (i->id() == id) return *i;
  throw InternalError(fmt::format("no instance '{}'", id));
}

Instance& Simulation::add_instance(std::string_view service) {
  for (uint32_t si = 0; si < services_.size(); ++si) {
    ServiceRuntime& rt = services_[si];
    if (rt.service->name() != service) continue;
    auto inst = std::make_unique<Instance>(*this, si, static_cast<uint32_t>(all_instances_.size()),
                                           fmt::format("{}-{}", service, rt.next_instance++));
    Instance& ref = *inst;
    all_instances_.push_back(&ref);
    rt.instances.push_back(std::move(inst));
    ref.start();
    return ref;
  }
  throw InternalError(fmt::format("no service '{}'", service));
}

std::vector<Instance*> Simulation::instances_of(std::string_view service) {
  std::vector<Instance*> out;
  for (auto& rt : services_)
    if (rt.service->name() == service)
      for (auto& i : rt.instances) out.push_back(i.get());
  return out;
}

void Simulation::set_hooks(FaultHooks* hooks) {
  hooks_ = hooks;
  broker_.set_hooks(hooks);
}

void Simulation::set_clock(std::string_view service, Duration skew, int64_t drift_ppm) {
  for (uint32_t si = 0; si < services_.size(); ++si) {
    ServiceRuntime& rt = services_[si];
    if (rt.service->name() != service) continue;
    rt.clock = ServiceClock{skew, drift_ppm, scheduler_.now()};
    // Pending timers were scheduled against the old clock: wake up for the
    // earliest one again by the new clock (stale wake-ups find nothing due).
    if (auto next = rt.store.next_timer()) scheduler_.at(true_time_of(si, *next), this, kTimer, si);
  }
}

Time Simulation::service_now(uint32_t si) const {
  const ServiceClock& c = services_[si].clock;
  const Time t = scheduler_.now();
  // Integer arithmetic only: the same answer on every machine.
  const int64_t drift_us = (t - c.since).us / 1000000 * c.drift_ppm + (t - c.since).us % 1000000 * c.drift_ppm / 1000000;
  return t + c.skew + Duration{drift_us};
}

Time Simulation::true_time_of(uint32_t si, Time service_time) const {
  // Inverse of service_now: the true time at which the service's clock reads
  // `service_time` (to within a microsecond).
  const ServiceClock& c = services_[si].clock;
  const int64_t local = (service_time - c.skew - c.since).us;  // µs of drifting clock since `since`
  // local * 1e6 / (1e6 + ppm), written so that it cannot overflow for a year
  // of virtual time and |drift| <= 100,000 ppm (the loader's limit).
  const int64_t scaled = local - local * c.drift_ppm / (1000000 + c.drift_ppm);
  return c.since + Duration{scaled};
}

std::optional<Time> Simulation::timer_fires_at(uint32_t si, Time service_due, Time set_at) const {
  // The first moment at or after the due time (or the time it was set) when
  // an instance is running: that moment, or the end of one of the service's
  // outages.
  const Time due = std::max({true_time_of(si, service_due), set_at, kSimEpoch});
  bool outage_ends_later = false;
  for (const auto& i : services_[si].instances)
    for (const auto& [from, to] : i->unavailable()) outage_ends_later |= to >= due && to != Time::max();
  if (!outage_ends_later) {  // the rule: due is the only candidate, and no list is built
    for (const auto& i : services_[si].instances)
      if (i->available_at(due)) return due;
    return std::nullopt;
  }
  std::vector<Time> candidates{due};
  for (const auto& i : services_[si].instances)
    for (const auto& [from, to] : i->unavailable())
      if (to >= due && to != Time::max()) candidates.push_back(to);
  std::sort(candidates.begin(), candidates.end());
  for (Time t : candidates)
    for (const auto& i : services_[si].instances)
      if (i->available_at(t)) return t;
  return std::nullopt;
}

void Simulation::note_fault(std::string_view fault_class, std::string_view actor, std::string_view detail) {
  ++faults_fired_[std::string(fault_class)];
  const std::string d = detail.empty() ? std::string(fault_class) : fmt::format("{}: {}", fault_class, detail);
  trace_.record(scheduler_.now(), Step{.kind = StepKind::Fault, .actor = actor, .detail = d});
}

void Simulation::start() {
  trace_.header_text(scenario_.name, options_.seed, options_.version, options_.header_text);

  // The opening state: set-up, committed before any saga runs.
  Stores stores(*this);
  saga_->open(stores);

  client_ = broker_.add_producer("client", /*idempotent=*/true, nullptr);
  for (const auto& [service, count] : scenario_.instances)
    for (int i = 0; i < count; ++i) add_instance(service);

  for (const VersionPin& v : scenario_.versions)
    if (v.upgrade_at) scheduler_.at(kSimEpoch + *v.upgrade_at, this, kUpgrade, instance(v.instance).index());

  // Each placement schedules the next, so the heap never holds the whole workload.
  if (saga_->placements() > 0) scheduler_.at(kSimEpoch + saga_->placement_at(0), this, kPlace, 0);
}

void Simulation::fire(uint32_t kind, uint32_t x, uint64_t /*y*/) {
  switch (kind) {
    case kPlace: place(x); break;
    case kTimer: fire_timers(x); break;
    case kRejoin: all_instances_[x]->rejoin(); break;
    case kRelaySweep: all_instances_[x]->relay_sweep(); break;
    case kUpgrade: all_instances_[x]->upgrade(); break;
    case kResend: resend(x); break;
    default: throw InternalError("simulation: unknown task kind");
  }
}

void Simulation::place(uint32_t index) {
  placed_ = static_cast<size_t>(index) + 1;
  saga_->place(index, *client_port_);
  if (index + 1 < saga_->placements())
    scheduler_.at(kSimEpoch + saga_->placement_at(index + 1), this, kPlace, index + 1);
}

void Simulation::resend(uint32_t index) {
  Resend r = std::move(resends_[index]);
  resends_[index].event.reset();
  EventPtr e = std::move(r.event);
  if (!r.same_id) {  // the client builds the command again: a new id, sent now
    auto rebuilt = std::make_shared<Event>(*e);
    rebuilt->event_id = next_event_id();
    rebuilt->occurred_at = scheduler_.now();
    e = std::move(rebuilt);
  }
  note_fault("client_retry", "client",
             fmt::format("no answer to {} for {}: sent again as {}{}", e->type, e->key, e->event_id,
                         r.same_id ? " (the same id)" : ""));
  broker_.send(client_, r.topic, std::move(e), 0);
}

void Simulation::on_committed(Instance& by, const WriteSet& ws) {
  const Time now = scheduler_.now();
  for (const Put& p : ws.puts)
    trace_.record(now, Step{.kind = StepKind::State, .actor = by.id(), .table = p.table, .key = p.key,
                            .detail = p.record ? p.record->status() : std::string_view()});
  saga_->on_commit(ws, now);
  schedule_timers(by.service_index(), ws);
}

void Simulation::schedule_timers(uint32_t si, const WriteSet& ws) {
  // Timers are stored in the service's own clock; wake up when it reads `at`.
  for (const TimerWrite& t : ws.timers)
    if (t.at) scheduler_.at(true_time_of(si, *t.at), this, kTimer, si);
}

void Simulation::fire_timers(uint32_t si) {
  ServiceRuntime& rt = services_[si];
  // Timers belong to the service's store, not to an instance: the first live
  // instance fires them. With none alive they wait for a restart.
  Instance* runner = nullptr;
  for (auto& i : rt.instances)
    if (i->available()) {
      runner = i.get();
      break;
    }
  if (!runner) return;  // each instance checks its service's timers when it comes back
  fire_due_timers(runner->service(), rt.store, *runner, runner->id(), [&](const WriteSet& ws) {
    trace_.record(scheduler_.now(), Step{.kind = StepKind::Timer, .actor = runner->id(),
                                         .key = ws.timers.empty() ? std::string_view() : std::string_view(ws.timers[0].key)});
    on_committed(*runner, ws);
    runner->relay(ws, kNoSlot);
  });
}

void Simulation::run_until_quiet(Time limit) {
  while (!scheduler_.empty() && scheduler_.next_time() <= limit) scheduler_.step();
}

Simulation::Progress Simulation::progress() const {
  return Progress{placed_, saga_->placements(), broker_.deliveries(), scheduler_.now()};
}

void Simulation::run_until_quiet(Time limit, uint64_t every, const std::function<void(const Progress&)>& report) {
  for (uint64_t until_report = every; !scheduler_.empty() && scheduler_.next_time() <= limit; scheduler_.step())
    if (--until_report == 0) {
      report(progress());
      until_report = every;
    }
}

RunResult Simulation::finish() {
  RunResult r;
  r.scenario = scenario_.name;
  r.seed = options_.seed;
  r.quiesced = scheduler_.empty();

  View view(*this, r.quiesced);
  for (uint32_t ti = 0; ti < scenario_.topics.size() && !saga_->folds_log(); ++ti) {
    const TopicId t{ti};
    for (int32_t p = 0; p < broker_.partitions(t); ++p)
      for (size_t o = 0; o < broker_.log_size(t, PartitionId{p}); ++o)
        view.log_.push_back(inv::LoggedEvent{broker_.topic_name(t), p, static_cast<int64_t>(o),
                                             broker_.record(t, PartitionId{p}, Offset{static_cast<int64_t>(o)})});
  }

  std::vector<inv::Violation> all;
  static_cast<InstanceWords&>(r.instances) = scenario_.saga->instance_words();
  saga_->finish(view, r, all);
  all.insert(all.end(), unreadable_.begin(), unreadable_.end());
  for (const auto& msg : broker_.guarantee_violations())
    all.push_back(inv::Violation{std::string(inv::kBrokerGuarantees), "", msg});
  // Report order: the saga's invariants, the broker's guarantees, then any
  // name the saga reported without declaring it (never dropped).
  const SagaDefinition& def = *scenario_.saga;
  std::vector<std::string> names = def.invariants(scenario_.style);
  names.emplace_back(inv::kRecordsReadable);
  names.emplace_back(inv::kBrokerGuarantees);
  for (const auto& v : all)
    if (std::find(names.begin(), names.end(), v.invariant) == names.end()) names.push_back(v.invariant);
  for (const std::string& name : names) {
    InvariantOutcome io{name, true, {}};
    for (const auto& v : all)
      if (v.invariant == name) {
        io.pass = false;
        io.violations.push_back(v);
      }
    r.invariants.push_back(std::move(io));
  }

  r.faults_fired = faults_fired_;
  trace_.footer();
  r.trace_hash = trace_.hash_hex();
  r.steps = trace_.steps();
  r.deliveries = broker_.deliveries();
  r.appends = broker_.appends();
  r.duplicates_skipped = duplicates_skipped_;
  r.producer_retries = broker_.retries();
  r.scheduler_events = scheduler_.fired();
  r.virtual_ms = (scheduler_.now() - kSimEpoch).ms();
  return r;
}

RunResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  Simulation sim(scenario, options);
  sim.start();
  sim.run_until_quiet(kSimEpoch + scenario.max_virtual);
  return sim.finish();
}

// --- Instance ----------------------------------------------------------------

Instance::Instance(Simulation& sim, uint32_t service_index, uint32_t index, std::string id)
    : sim_(sim), service_(service_index), index_(index), id_(std::move(id)) {}

void Instance::build_registry() {
  auto& rt = sim_.services_[service_];
  registry_ = std::make_unique<PayloadRegistry>();
  rt.service->register_payloads(*registry_);
  sim_.saga_->adjust_codec(rt.service->name(), *registry_);
  if (upgraded_) return;
  for (const VersionPin& v : sim_.scenario_.versions) {
    if (v.instance != id_) continue;
    for (const auto& [type, version] : v.pins)
      registry_->pin(type, version, fmt::format("{} at {}/pins/{}", sim_.scenario_.source, v.path, type));
  }
}

EventPtr Instance::to_wire(const EventPtr& event) const {
  return registry_ ? wire_form(event, *registry_) : event;
}

void Instance::upgrade() {
  // A rolling upgrade's step: stop the old build, start the new one on the
  // same store (its outbox rows are relayed again, now in the new format).
  const bool was_up = up_;
  crash();
  upgraded_ = true;
  build_registry();
  sim_.trace_.record(sim_.scheduler_.now(), Step{.kind = StepKind::Lifecycle, .actor = id_, .detail = "upgrade"});
  if (was_up) start();
}

void Instance::start() {
  SAGASIM_ASSERT(!up_, "start() of a running instance: it would join and produce twice");
  auto& rt = sim_.services_[service_];
  if (sim_.wire_ && !registry_) build_registry();
  const Time now = sim_.scheduler_.now();
  if (!started_before_ && now > sim_.epoch()) unavailable_.push_back({sim_.epoch(), now});  // joined late
  if (!unavailable_.empty() && unavailable_.back().second == Time::max()) unavailable_.back().second = now;
  process_ = sim_.saga_->make_service(rt.service->name());
  SAGASIM_ASSERT(process_ && process_->name() == rt.service->name(),
                 "SagaRun::make_service(name) must make the service of that name");
  up_ = true;
  producer_ = sim_.broker_.add_producer(id_, sim_.idempotent_producer_, this, sim_.scenario_.max_in_flight);
  member_ = sim_.broker_.join(rt.group, id_, this);
  sim_.trace_.record(sim_.scheduler_.now(), Step{.kind = StepKind::Lifecycle, .actor = id_, .detail = "start"});
  // Rows committed before a crash but never acknowledged: publish them again
  // (downstream inboxes drop the copies that did make it).
  std::vector<OutboxEntry> pending = rt.store.unpublished(id_);
  if (!pending.empty()) {
    WriteSet ws;
    ws.outbox = std::move(pending);
    relay(ws, kNoSlot);
  }
  const bool rearm = !(started_before_ && sim_.runtime_mutant_ == RuntimeMutant::TimersNotRearmed);
  started_before_ = true;
  if (rearm && rt.store.next_timer())
    sim_.scheduler_.at(sim_.true_time_of(service_, *rt.store.next_timer()), &sim_, Simulation::kTimer, service_);
}

void Instance::crash() {
  if (!up_) return;
  up_ = false;
  sim_.broker_.crash_producer(producer_);
  sim_.broker_.crash_member(member_);
  waiting_.clear();
  free_waiting_.clear();
  seq_to_slot_.clear();
  process_.reset();  // whatever the process kept in memory dies with it
  went_down();
  sim_.trace_.record(sim_.scheduler_.now(), Step{.kind = StepKind::Lifecycle, .actor = id_, .detail = "crash"});
}

void Instance::went_down() { unavailable_.push_back({sim_.scheduler_.now(), Time::max()}); }

bool Instance::available_at(Time t) const {
  for (const auto& [from, to] : unavailable_)
    if (from <= t && t < to) return false;
  return true;
}

Service& Instance::service() {
  SAGASIM_ASSERT(process_ != nullptr, "service() of a stopped instance: a stopped process runs no code");
  return *process_;
}

void Instance::restart() {
  // Each crash or leave schedules at most one restart, and nothing else starts
  // a stopped instance but start() and upgrade(): a running one here means
  // two restarts were scheduled for one stop.
  SAGASIM_ASSERT(!up_, "restart() of a running instance");
  start();
}

void Instance::pause(Time until, bool network) {
  if (!up_) return;
  paused_until_ = std::max(paused_until_, until);
  unavailable_.push_back({sim_.scheduler_.now(), until});
  if (network) sim_.broker_.isolate_producer(producer_, until);
  const bool evicted = sim_.broker_.pause_member(member_, until);
  // Evicted from the group: when it wakes up it finds itself a stranger and
  // joins again as a new member. Anything it commits meanwhile is rejected.
  if (evicted) sim_.scheduler_.at(until, &sim_, Simulation::kRejoin, index_);
  // Its service's timers wait for it (or for another instance).
  sim_.scheduler_.at(until, &sim_, Simulation::kTimer, service_);
}

void Instance::stall(Time until) { pause(until, /*network=*/false); }
void Instance::isolate(Time until) { pause(until, /*network=*/true); }

void Instance::rejoin() {
  if (!up_) return;
  // One member per instance: if the coordinator still holds the old
  // membership, there is nothing to rejoin.
  if (sim_.broker_.member_active(member_)) return;
  // Work in flight from the old membership stays tracked: its acks still
  // arrive, and its offset commits are rejected by the broker (wrong
  // generation), exactly as a zombie consumer's would be.
  member_ = sim_.broker_.join(sim_.services_[service_].group, id_, this);
  sim_.trace_.record(sim_.scheduler_.now(), Step{.kind = StepKind::Lifecycle, .actor = id_, .detail = "rejoin"});
}

void Instance::relay_sweep() {
  sweep_scheduled_ = false;
  if (!up_) return;
  WriteSet ws;
  for (OutboxEntry& row : sim_.services_[service_].store.unpublished(id_)) {
    const bool in_flight = std::any_of(seq_to_slot_.begin(), seq_to_slot_.end(),
                                       [&](const auto& e) { return e.seq == row.seq; });
    if (!in_flight) ws.outbox.push_back(std::move(row));
  }
  if (!ws.outbox.empty()) relay(ws, kNoSlot);
}

void Instance::leave() {
  if (!up_) return;
  up_ = false;
  sim_.broker_.leave(member_);
  sim_.broker_.crash_producer(producer_);
  process_.reset();  // the process ends
  went_down();
  sim_.trace_.record(sim_.scheduler_.now(), Step{.kind = StepKind::Lifecycle, .actor = id_, .detail = "leave"});
}

void Instance::on_record(const Delivery& d) {
  // crash() and leave() stop the member; the broker delivers to active ones only.
  SAGASIM_ASSERT(up_, "a record delivered to a stopped instance");
  auto& rt = sim_.services_[service_];
  Trace& trace = sim_.trace_;
  FaultHooks* hooks = sim_.hooks_;
  const RuntimeMutant mutant = sim_.runtime_mutant_;
  const Time t = sim_.scheduler_.now();
  // The broker names its members by instance id, so its subject is ours.
  const uint64_t subject = hooks ? (d.subject != 0 ? d.subject : SimBroker::identity_of(*d.event, id_)) : 0;
  trace.record(t, Step{.kind = StepKind::Deliver, .actor = id_, .topic = d.topic, .partition = to_int(d.partition),
                       .offset = to_int(d.offset), .event = d.event});
  const bool committed_early = mutant == RuntimeMutant::CommitBeforeProcessing;
  if (committed_early) sim_.broker_.done(member_, d, next(d.offset), CommitMode::Commit);
  if (hooks && hooks->crash_at(id_, CrashPoint::BeforeHandle, subject)) {
    crash();
    return;
  }
  const bool publish_first = mutant == RuntimeMutant::OutboxBeforeCommit;
  Transaction txn(rt.store, id_, std::move(scratch_));
  Outcome outcome = Outcome::Ignored;
  std::string poison;
  try {
    // On the wire the record is read as production reads it: envelope text
    // decoded by this instance's codec, schema checks and upcasting included.
    const Event* event = d.event;
    std::optional<Event> decoded;
    if (registry_) event = &decoded.emplace(decode_event(encode_event(*d.event), registry_.get(), ""));
    outcome = process_event(*process_, *this, txn, *event, publish_first ? CommitPolicy::Defer : CommitPolicy::Commit);
  } catch (const InputError& e) {
    // A record this service cannot read. Production sends it to the dead
    // letter topic; here it is traced and skipped so the partition moves on,
    // and the run fails records_readable.
    poison = std::string("poison: ") + e.what();
    sim_.unreadable_.push_back(inv::Violation{
        std::string(inv::kRecordsReadable), d.event->correlation_id,
        fmt::format("{} could not read {} v{} ({}) at {}[{}]@{}: {}", id_, d.event->type, d.event->schema_version,
                    d.event->event_id, d.topic, to_int(d.partition), to_int(d.offset), e.what()),
        t.us});
  }
  trace.record(t, Step{.kind = StepKind::Handle, .actor = id_, .topic = d.topic, .partition = to_int(d.partition),
                       .offset = to_int(d.offset), .event = d.event,
                       .detail = poison.empty() ? outcome_name(outcome) : std::string_view(poison)});
  if (outcome == Outcome::Duplicate) ++sim_.duplicates_skipped_;
  uint32_t slot = kNoSlot;
  auto take_slot = [&] {
    if (!free_waiting_.empty()) {
      slot = free_waiting_.back();
      free_waiting_.pop_back();
      waiting_[slot] = Waiting{d, 0, committed_early};
    } else {
      slot = static_cast<uint32_t>(waiting_.size());
      waiting_.push_back(Waiting{d, 0, committed_early});
    }
  };
  if (outcome == Outcome::Processed && publish_first) {
    // The mutant: events go straight to the broker, then the local commit.
    // A crash in between leaves published facts that the database never saw.
    WriteSet& ws = txn.mutable_writes();
    if (!ws.outbox.empty()) {
      take_slot();
      for (const OutboxEntry& row : ws.outbox) {
        const uint64_t cookie = kDirectCookie | ++direct_sends_;
        sim_.broker_.send(producer_, sim_.broker_.topic_id(row.topic), to_wire(row.event), cookie);
        seq_to_slot_.push_back({cookie, slot, 0});
      }
      waiting_[slot].remaining = static_cast<int>(ws.outbox.size());
    }
    if (hooks && hooks->crash_at(id_, CrashPoint::AfterCommitBeforePublish, subject)) {
      scratch_ = txn.release();  // never committed
      crash();
      return;
    }
    ws.outbox.clear();
    txn.commit();
    sim_.on_committed(*this, txn.writes());
  } else if (outcome == Outcome::Processed) {
    sim_.on_committed(*this, txn.writes());
    if (hooks && hooks->crash_at(id_, CrashPoint::AfterCommitBeforePublish, subject)) {
      scratch_ = txn.release();
      crash();
      return;
    }
    if (!txn.writes().outbox.empty()) {
      take_slot();
      relay(txn.writes(), slot);
    }
  }
  if (outcome == Outcome::Processed && hooks && hooks->crash_at(id_, CrashPoint::AfterPublishBeforeCommit, subject)) {
    scratch_ = txn.release();
    crash();
    return;
  }
  scratch_ = txn.release();
  // With outbox rows in flight, the offset is committed once all are acknowledged.
  if (slot == kNoSlot && !committed_early) sim_.broker_.done(member_, d, next(d.offset), CommitMode::Commit);
}

void Instance::relay(const WriteSet& ws, uint32_t slot) {
  SAGASIM_ASSERT(up_, "a stopped instance relays nothing: its producer died with it");
  for (const OutboxEntry& row : ws.outbox) {
    // The producer is named by the instance id and the wire form keeps the
    // event's identity fields, so the broker's identity is the subject.
    const uint64_t identity = sim_.broker_.send(producer_, sim_.broker_.topic_id(row.topic), to_wire(row.event), row.seq);
    seq_to_slot_.push_back({row.seq, slot, sim_.hooks_ ? identity : 0});
  }
  if (slot != kNoSlot) waiting_[slot].remaining = static_cast<int>(ws.outbox.size());
}

void Instance::on_ack(uint64_t seq, TopicId, PartitionId, Offset) {
  // crash() and leave() crash the producer, and the broker acks only live
  // producers; a restart adds a new one.
  SAGASIM_ASSERT(up_, "an ack delivered to a stopped instance");
  auto it = std::find_if(seq_to_slot_.begin(), seq_to_slot_.end(), [&](const InFlightRow& e) { return e.seq == seq; });
  if (it == seq_to_slot_.end()) {  // not expected: every send is tracked until its ack
    if (!(seq & kDirectCookie)) sim_.services_[service_].store.mark_published(seq);
    return;
  }
  const InFlightRow row = *it;
  *it = seq_to_slot_.back();
  seq_to_slot_.pop_back();
  if (seq & kDirectCookie) {
    // No outbox row behind it (the outbox-before-commit mutant).
  } else if (sim_.hooks_ && sim_.hooks_->lose_mark_published(id_, row.subject)) {
    // Published, but the relay dies before recording it: the row stays
    // unpublished and the next relay pass sends it again.
    if (!sweep_scheduled_) {
      sweep_scheduled_ = true;
      sim_.scheduler_.after(Duration::millis(500), &sim_, Simulation::kRelaySweep, index_);
    }
  } else {
    sim_.services_[service_].store.mark_published(seq);
  }
  if (row.slot == kNoSlot) return;
  Waiting& w = waiting_[row.slot];
  if (w.remaining <= 0) throw InternalError(fmt::format("{}: an outbox ack for a delivery that was already complete", id_));
  if (--w.remaining > 0) return;
  const Delivery d = w.delivery;
  const bool committed_early = w.committed_early;
  free_waiting_.push_back(row.slot);
  if (!committed_early) sim_.broker_.done(member_, d, next(d.offset), CommitMode::Commit);
}

}  // namespace sagasim::sim
