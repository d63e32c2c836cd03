// PROGRAM check: the invariants of a live deployment, judged by the saga's own
// final checks (SagaRun::finish, the same code a simulated run ends with):
// every record of the saga topics from the beginning, plus every service's
// database.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include <unistd.h>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/live.h"
#include "cli/trace_file.h"
#include "core/codec.h"
#include "core/error.h"
#include "kafka/runtime/env.h"
#include "kafka/runtime/record.h"
#include "kafka/runtime/topic_reader.h"
#include "kafka/store/open_store.h"
#include "sim/trace.h"

namespace sagasim::cli {

namespace {

// Unreadable records named one by one in the report; the rest are counted.
constexpr size_t kUnreadableShown = 20;

// A decimal header value (dlq.partition, dlq.offset); nullopt if it is not one.
std::optional<int64_t> parse_int64(std::string_view s) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  int64_t n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

// Who produced an event, from its id: `serve` makes "<instance>-<12 hex>-<n>"
// (kafka/runtime/env.h), `place` makes "<run>-place-<n>".
std::string producer_of(const Event& e) {
  const std::string& id = e.event_id;
  if (id.find("-place-") != std::string::npos) return "client";
  const size_t last = id.rfind('-');
  if (last != std::string::npos && last >= 13 && id[last - 13] == '-') {
    const std::string_view hex = std::string_view(id).substr(last - 12, 12);
    if (std::all_of(hex.begin(), hex.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
      return id.substr(0, last - 13);
  }
  return "unknown";
}

// What the saga's final checks see of a live deployment.
class LiveFinalView final : public sim::FinalView {
 public:
  LiveFinalView(const std::map<std::string, std::unique_ptr<kafka::DurableStore>, std::less<>>& stores,
                std::span<const inv::LoggedEvent> log)
      : stores_(stores), log_(log) {}
  const Store& store(std::string_view service) const override {
    auto it = stores_.find(service);
    if (it == stores_.end()) throw InternalError(fmt::format("check opened no store for service '{}'", service));
    return *it->second;
  }
  std::span<const inv::LoggedEvent> log() const override { return log_; }
  // Judged as a run that went quiet: an instance still undecided after --wait
  // is one the saga failed to decide.
  bool quiesced() const override { return true; }
  Time now() const override { return kafka::wall_now(); }

 private:
  const std::map<std::string, std::unique_ptr<kafka::DurableStore>, std::less<>>& stores_;
  std::span<const inv::LoggedEvent> log_;
};

struct Snapshot {
  std::vector<inv::LoggedEvent> log;
  // With --trace: the decision each logged record carries, read from the
  // decoded event (the log then holds the records as written).
  std::vector<std::optional<sim::Decision>> decisions;
  size_t records = 0;
  size_t poison = 0;
  std::vector<std::string> unreadable;  // where each poison record is, and why (the first few)
  size_t placed_records = 0;
  size_t out_of_scope_records = 0;     // skipped by --run-id/--since/--until
  std::set<std::string> in_scope;      // the instances judged, when scoped
  int64_t unsent = 0;  // outbox rows committed but not yet acknowledged by the broker
  sim::RunResult result;
  std::vector<inv::Violation> violations;
};

// The live run as a sagasim trace (sim/trace.h), for the viewer and
// `export`: a publish step per record in the saga topics, at the time its
// producer created it, and a state step per decision (SagaDefinition::
// decision). What a live log cannot tell (deliveries, handling, offset
// commits) is absent.
void write_live_trace(const std::string& path, const sim::SagaDefinition& saga, const Snapshot& snap) {
  std::vector<size_t> events;  // indices into snap.log, by the time each was created
  for (size_t i = 0; i < snap.log.size(); ++i) events.push_back(i);
  std::stable_sort(events.begin(), events.end(), [&](size_t a, size_t b) {
    return snap.log[a].event->occurred_at.us < snap.log[b].event->occurred_at.us;
  });
  const Time first = events.empty() ? kafka::wall_now() : snap.log[events.front()].event->occurred_at;
  TraceFile file(path);
  sim::Trace trace(&file, first);
  trace.header("live", 0, kVersion, {{"source", "sagasim check"}, {"saga", std::string(saga.name())}});
  std::vector<std::string> kept;  // strings the trace's steps refer to, alive until the footer
  kept.reserve(2 * events.size());
  for (size_t i : events) {
    const inv::LoggedEvent* le = &snap.log[i];
    kept.push_back(producer_of(*le->event));
    trace.record(le->event->occurred_at, sim::Step{.kind = sim::StepKind::Publish, .actor = kept.back(),
                                                    .topic = le->topic, .partition = le->partition,
                                                    .offset = le->offset, .event = le->event.get()});
    if (const std::optional<sim::Decision>& d = snap.decisions[i]) {
      kept.push_back(d->outcome);
      trace.record(le->event->occurred_at, sim::Step{.kind = sim::StepKind::State, .actor = kept[kept.size() - 2],
                                                      .table = "decision", .key = d->entity,
                                                      .detail = kept.back()});
    }
  }
  trace.footer();
  file.close();
}

}  // namespace

int check_command(const Program& program, const CheckArgs& args) {
  kafka::Config config = load_kafka_config(args.kafka);
  // The scope: which instances are judged.
  const bool scoped = !args.run_ids.empty() || !args.since.empty() || !args.until.empty();
  std::optional<int64_t> since_ms, until_ms;
  if (!args.since.empty()) since_ms = parse_timestamp(args.since, "--since", "").us / 1000;
  if (!args.until.empty()) until_ms = parse_timestamp(args.until, "--until", "").us / 1000;
  if (since_ms && until_ms && *since_ms >= *until_ms)
    throw InputError("--until", "", fmt::format("{} is not after --since {}", args.until, args.since));
  for (const std::string& run : args.run_ids)
    if (run.empty()) throw InputError("--run-id", "", "expected a run id, got an empty one");
  LiveSetup live = live_setup(program, args.live);
  live.scenario.liveness_bound = Duration::millis(args.liveness_bound_ms);
  const sim::SagaDefinition& saga = *live.saga;
  const std::string& style = live.scenario.style;
  const std::string noun = saga.instance_noun();

  // The services (to read their records) and the opening state, as every
  // `serve` of this deployment computed it from the same scenario and seed.
  auto make_run = [&] { return saga.start_live(live.scenario, live.options, sim::LivePlan{}); };
  const std::unique_ptr<sim::SagaRun> reference = make_run();
  const std::vector<std::unique_ptr<Service>> services = reference->make_services();
  PayloadRegistry registry;
  for (const auto& s : services) s->register_payloads(registry);
  LiveOpening opening;
  reference->open(opening);

  // Which database is which: each store file names its service; a
  // PostgreSQL database holds a store per service (a schema each).
  std::map<std::string, std::string> db_of;  // service -> path or URL
  for (const std::string& db : args.dbs) {
    const std::string shown = kafka::store_display_name(db);
    const std::vector<std::string> found = kafka::services_in_store(db);
    if (found.empty())
      throw InputError(shown, "", "no sagasim store in this PostgreSQL database (has `serve` run with it?)");
    for (const std::string& service : found) {
      if (db_of.contains(service))
        throw InputError(shown, "", fmt::format("a second {} database (the first is {})", service,
                                                kafka::store_display_name(db_of[service])));
      if (std::none_of(services.begin(), services.end(), [&](const auto& s) { return s->name() == service; })) {
        if (kafka::is_postgres_url(db)) continue;  // a database may hold other sagas' services too
        throw InputError(shown, "", fmt::format("a {} database, but the {} saga ({} style) has no such service",
                                                service, saga.name(), style.empty() ? "its" : style));
      }
      db_of[service] = db;
    }
  }
  for (const auto& s : services)
    if (!db_of.contains(std::string(s->name())))
      throw InputError("--db", "",
                       fmt::format("no {} database given; pass --db once per service's file, or a PostgreSQL URL "
                                   "whose database holds it",
                                   s->name()));

  auto open_stores = [&] {
    std::map<std::string, std::unique_ptr<kafka::DurableStore>, std::less<>> stores;
    for (const auto& s : services)
      stores.emplace(std::string(s->name()),
                     kafka::open_store(db_of[std::string(s->name())], *s, registry,
                                       kafka::StoreOpenOptions{.instance = program.name + " check", .shared = true}));
    return stores;
  };
  // The same opening state: or the conservation checks would judge against
  // another workload's (a different --scenario or --seed).
  {
    auto stores = open_stores();
    for (const auto& [name, store] : stores) {
      const std::optional<std::string> stored = store->meta(kOpeningDigestKey);
      if (!stored)
        throw InputError(store->path(), "",
                         fmt::format("no opening state: was this database written by `{} serve {}`?", program.name, name));
      const std::string mine = opening.store(name).digest();
      if (*stored != mine)
        throw InputError(store->path(), "",
                         fmt::format("its opening state (digest {}, seed {}) is not the one this check computes from "
                                     "{} and --seed {} (digest {}): give check the --scenario and --seed that `serve` had",
                                     *stored, store->meta("opening_seed").value_or("?"),
                                     args.live.scenario.empty() ? "the built-in live workload" : args.live.scenario,
                                     args.live.seed, mine));
    }
  }

  const std::vector<std::string> topics = saga.topics(style);
  const std::string prefix = args.kafka.prefix();
  std::vector<std::string> physical, dlqs;  // with the namespace's prefix
  for (const std::string& t : topics) {
    physical.push_back(prefix + t);
    dlqs.push_back(kafka::dlq_topic(prefix + t));
  }
  if (!config.get("client.id")) config.set("client.id", prefix + "sagasim-check", "check");
  auto interned_topic = [&](const std::string& t) -> std::string_view {
    for (size_t i = 0; i < topics.size(); ++i)
      if (physical[i] == t) return topics[i];
    return "?";
  };

  auto in_run = [&](const std::string& instance) {
    if (args.run_ids.empty()) return true;
    return std::any_of(args.run_ids.begin(), args.run_ids.end(), [&](const std::string& run) {
      return instance.size() > run.size() && instance.compare(0, run.size(), run) == 0 && instance[run.size()] == '-';
    });
  };
  auto in_window = [&](std::optional<int64_t> ts) {
    if (!since_ms && !until_ms) return true;
    if (!ts) return false;
    return (!since_ms || *ts >= *since_ms) && (!until_ms || *ts < *until_ms);
  };

  auto take_snapshot = [&](Snapshot& snap) -> bool {
    kafka::Result<std::vector<kafka::ReadRecord>> records =
        kafka::read_topics(config, physical, Duration::seconds(120), prefix + "sagasim-reader");
    if (!records.ok()) {
      std::cerr << program.name << ": cannot read the saga topics: " << records.error().to_string() << "\n";
      return false;
    }
    // What the services dead-lettered, by where it was read: a record that
    // decodes but that a handler refused (a PlaceOrder that contradicts
    // itself) is poison too, and never part of the saga.
    std::map<std::tuple<std::string, int32_t, int64_t>, std::string> refused;
    {
      kafka::Result<std::vector<kafka::ReadRecord>> dead =
          kafka::read_topics(config, dlqs, Duration::seconds(120), prefix + "sagasim-reader");
      if (!dead.ok()) {
        std::cerr << program.name << ": cannot read the dead-letter topics: " << dead.error().to_string() << "\n";
        return false;
      }
      for (const kafka::ReadRecord& d : dead.value()) {
        std::string topic, error;
        std::optional<int64_t> partition, offset;
        for (const auto& [k, v] : d.headers) {
          if (k == "dlq.topic") topic = v;
          else if (k == "dlq.error") error = v;
          else if (k == "dlq.partition" || k == "dlq.offset") {
            const std::optional<int64_t> n = parse_int64(v);
            (k == "dlq.partition" ? partition : offset) = n;
          }
        }
        if (!topic.empty() && partition && offset)
          refused.emplace(std::make_tuple(topic, static_cast<int32_t>(*partition), *offset), error);
      }
    }

    // Every record, decoded once, with the instance it belongs to (the
    // event's correlation id, else its key; an undecodable record's key).
    struct Read {
      const kafka::ReadRecord* r;
      EventPtr event;     // null: poison
      std::string why;    // for poison
      std::string instance;
    };
    std::vector<Read> read;
    read.reserve(records.value().size());
    std::map<std::string, int64_t> first_ms;  // instance -> its first record's timestamp
    for (const kafka::ReadRecord& r : records.value()) {
      kafka::RecordView view{r.topic, r.partition, r.offset, r.has_key, r.key, r.value, r.headers};
      Read x{&r, nullptr, {}, r.has_key ? r.key : std::string()};
      auto decoded = kafka::decode_record(view, registry);
      if (auto* e = std::get_if<EventPtr>(&decoded)) {
        x.instance = (*e)->correlation_id.empty() ? (*e)->key : (*e)->correlation_id;
        auto dl = refused.find(std::make_tuple(r.topic, to_int(r.partition), to_int(r.offset)));
        if (dl == refused.end()) x.event = *e;
        else x.why = dl->second.empty() ? view.where() + ": dead-lettered" : dl->second;
      } else {
        x.why = std::get<std::string>(decoded);
      }
      if (r.timestamp_ms && !x.instance.empty()) {
        auto [it, fresh] = first_ms.emplace(x.instance, *r.timestamp_ms);
        if (!fresh) it->second = std::min(it->second, *r.timestamp_ms);
      }
      read.push_back(std::move(x));
    }
    auto in_scope = [&](const Read& x) {
      if (!scoped) return true;
      if (x.instance.empty()) return args.run_ids.empty() && in_window(x.r->timestamp_ms);
      if (!in_run(x.instance)) return false;
      auto f = first_ms.find(x.instance);
      return in_window(f == first_ms.end() ? std::nullopt : std::optional<int64_t>(f->second));
    };

    const std::unique_ptr<sim::SagaRun> run = make_run();
    static_cast<sim::InstanceWords&>(snap.result.instances) = saga.instance_words();
    LiveOpening scratch;
    run->open(scratch);
    for (const Read& x : read) {
      const kafka::ReadRecord& r = *x.r;
      if (!in_scope(x)) {
        ++snap.out_of_scope_records;
        continue;
      }
      if (scoped && !x.instance.empty()) snap.in_scope.insert(x.instance);
      ++snap.records;
      if (!x.event) {
        ++snap.poison;  // the services dead-lettered it; it carries no saga effect
        if (snap.unreadable.size() < kUnreadableShown) snap.unreadable.push_back(x.why);
        continue;
      }
      EventPtr logged = x.event;
      // The trace shows each record as it is on the wire (the version its
      // producer wrote), as the simulator's does; the checks read types and ids only.
      if (!args.trace.empty()) {
        kafka::RecordView view{r.topic, r.partition, r.offset, r.has_key, r.key, r.value, r.headers};
        logged = std::make_shared<const Event>(decode_event(r.value, nullptr, view.where()));
        snap.decisions.push_back(saga.decision(*x.event));
      }
      snap.log.push_back(inv::LoggedEvent{interned_topic(r.topic), to_int(r.partition), to_int(r.offset), logged});
      if (producer_of(*x.event) == "client") ++snap.placed_records;
      // The saga knows its placing records by their type (the order saga's
      // PlaceOrder), whoever wrote them: `place` or a client of its own.
      run->placed(*x.event);
    }
    auto stores = open_stores();
    for (const auto& [name, store] : stores) snap.unsent += store->unpublished_count();
    run->finish(LiveFinalView(stores, snap.log), snap.result, snap.violations);
    return true;
  };

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(args.wait_s));
  // Quiet: every instance decided, every outbox drained, and no record added
  // for a second. Deciding comes before compensating (a refund follows the
  // cancellation), so "all decided" alone would judge a saga halfway through
  // its compensation.
  // Progress while waiting: one line rewritten in place on a terminal, else
  // a line every kProgressEvery (a log file gets a few lines, not one a second).
  constexpr auto kProgressEvery = std::chrono::seconds(5);
  const bool terminal = isatty(STDERR_FILENO) == 1;
  std::optional<Clock::time_point> last_progress;
  size_t progress_width = 0;
  Snapshot snap;
  size_t records_before = SIZE_MAX;
  bool quiet = false;
  for (;;) {
    snap = Snapshot{};
    if (!take_snapshot(snap)) return 1;
    quiet = snap.result.instances.undecided == 0 && snap.unsent == 0 && snap.records == records_before;
    if (quiet || Clock::now() >= deadline) break;
    if (!args.json && records_before != SIZE_MAX) {
      const std::string line =
          fmt::format("waiting: {} of {} {} undecided, {} outbox rows unsent, {} records so far",
                      snap.result.instances.undecided, snap.result.instances.total, noun, snap.unsent, snap.records);
      if (terminal) {
        std::cerr << "\r" << line << std::string(progress_width > line.size() ? progress_width - line.size() : 0, ' ')
                  << std::flush;
        progress_width = line.size();
      } else if (!last_progress || Clock::now() - *last_progress >= kProgressEvery) {
        std::cerr << line << "\n";
        last_progress = Clock::now();
      }
    }
    records_before = snap.records;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (progress_width > 0) std::cerr << "\r" << std::string(progress_width, ' ') << "\r" << std::flush;
  if (!quiet && args.wait_s > 0 && !args.json)
    std::cerr << fmt::format("{} check: not quiet after --wait {} s ({} {} undecided, {} outbox rows unsent); "
                             "judging what is there\n",
                             program.name, args.wait_s, snap.result.instances.undecided, noun, snap.unsent);

  if (!args.trace.empty()) write_live_trace(args.trace, saga, snap);

  std::vector<inv::Violation> violations;
  // Scoped: an instance outside the scope is not judged, even where the
  // saga's checks found it in the stores (which hold every run's). What
  // belongs to no instance (money and stock conservation) is the whole
  // deployment's, and is judged as it is.
  size_t outside_scope = 0;
  for (inv::Violation& v : snap.violations) {
    if (scoped && !v.entity.empty() && !snap.in_scope.contains(v.entity)) ++outside_scope;
    else violations.push_back(std::move(v));
  }
  std::string scope;
  if (scoped) {
    std::vector<std::string> parts;
    for (const std::string& run : args.run_ids) parts.push_back("run " + run);
    if (!args.since.empty()) parts.push_back("since " + args.since);
    if (!args.until.empty()) parts.push_back("until " + args.until);
    for (const std::string& p : parts) scope += (scope.empty() ? "" : ", ") + p;
  }
  // As in the simulator: a record the services cannot read went to a DLQ
  // instead of into the saga. Unless the caller knows why (--allow-poison).
  if (!args.allow_poison) {
    for (const std::string& where : snap.unreadable)
      violations.push_back({std::string(inv::kRecordsReadable), "", "dead-lettered, unreadable: " + where});
    if (snap.poison > snap.unreadable.size())
      violations.push_back({std::string(inv::kRecordsReadable), "",
                            fmt::format("and {} more unreadable records", snap.poison - snap.unreadable.size())});
  }

  auto events_of = [&](const std::string& entity) {
    std::vector<std::string> out;
    for (const inv::LoggedEvent& le : snap.log)
      if (le.event->correlation_id == entity)
        out.push_back(fmt::format("{}[{}]@{} {} {} at {}", le.topic, le.partition, le.offset, le.event->type,
                                  le.event->event_id, format_timestamp(le.event->occurred_at)));
    return out;
  };
  const sim::InstanceSummary& n = snap.result.instances;
  std::vector<std::string> names = saga.invariants(style);
  names.emplace_back(inv::kRecordsReadable);
  // A violation of an invariant the saga did not list is reported too.
  for (const inv::Violation& v : violations)
    if (std::find(names.begin(), names.end(), v.invariant) == names.end()) names.push_back(v.invariant);

  if (args.json) {
    nlohmann::json j = {{"ok", violations.empty()},
                        {"saga", std::string(saga.name())},
                        {"instances", instances_json(n)},
                        {"paths", snap.result.paths},
                        {"records", snap.records},
                        {"poison_records", snap.poison},
                        {"outbox_unsent", snap.unsent},
                        {"quiet", quiet},
                        {"violations", nlohmann::json::array()}};
    if (scoped) {
      j["scope"] = {{"run_ids", args.run_ids},
                    {"since", args.since.empty() ? nlohmann::json() : nlohmann::json(args.since)},
                    {"until", args.until.empty() ? nlohmann::json() : nlohmann::json(args.until)},
                    {"records_outside", snap.out_of_scope_records},
                    {"violations_outside", outside_scope}};
    }
    for (const inv::Violation& v : violations)
      j["violations"].push_back({{"invariant", v.invariant}, {"entity", v.entity}, {"message", v.message},
                                 {"events", v.entity.empty() ? std::vector<std::string>{} : events_of(v.entity)}});
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << fmt::format("checked {} {} placed, {} records in the saga topics ({} poison, dead-lettered)\n",
                             n.total, noun, snap.records, snap.poison);
    if (scoped)
      std::cout << fmt::format("  scope: {} ({} records of other {} skipped{})\n", scope, snap.out_of_scope_records,
                               noun,
                               outside_scope > 0 ? fmt::format(", {} violations of theirs not judged", outside_scope)
                                                 : std::string());
    std::cout << fmt::format("  {}: {} {}, {} {}, {} {}\n", noun, n.completed, n.completed_word, n.compensated,
                             n.compensated_word, n.undecided, n.undecided_word);
    for (const auto& [path, count] : snap.result.paths) std::cout << fmt::format("    {:<30} {}\n", path, count);
    for (const std::string& name : names) {
      size_t k = 0;
      for (const inv::Violation& v : violations) k += v.invariant == name;
      const bool allowed = name == inv::kRecordsReadable && args.allow_poison && snap.poison > 0;
      std::cout << fmt::format("  {:<36} {}\n", name,
                               k > 0 ? fmt::format("FAIL ({})", k) : allowed ? "PASS (poison allowed)" : "PASS");
    }
    const std::string singular = n.noun.size() > 1 && n.noun.back() == 's' ? n.noun.substr(0, n.noun.size() - 1) : n.noun;
    for (const inv::Violation& v : violations) {
      std::cout << fmt::format("\nVIOLATION {}{}: {}\n", v.invariant, v.entity.empty() ? "" : " " + singular + " " + v.entity,
                               v.message);
      if (!v.entity.empty())
        for (const std::string& line : events_of(v.entity)) std::cout << "  " << line << "\n";
    }
  }
  return violations.empty() ? 0 : kExitViolation;
}

}  // namespace sagasim::cli
