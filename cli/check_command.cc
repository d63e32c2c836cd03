// sagasim check: the invariants of a live deployment, judged by the same
// library as a simulated run (invariants/): every record of the saga topics
// from the beginning, plus the three services' databases.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <iostream>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/live.h"
#include "cli/trace_file.h"
#include "core/error.h"
#include "sagas/order/checker.h"
#include "kafka/runtime/env.h"
#include "kafka/runtime/record.h"
#include "kafka/runtime/topic_reader.h"
#include "kafka/store/sqlite_store.h"
#include "sagas/order/inventory_service.h"
#include "sagas/order/order_orchestrator.h"
#include "sagas/order/payment_service.h"

namespace sagasim::cli {

namespace {

constexpr std::string_view kSagaTopics[] = {saga::kOrderRequestsTopic, saga::kOrdersTopic, saga::kPaymentsTopic,
                                            saga::kInventoryTopic};

std::string_view interned_topic(std::string_view t) {
  for (std::string_view s : kSagaTopics)
    if (s == t) return s;
  return "?";
}

// Unreadable records named one by one in the report; the rest are counted.
constexpr size_t kUnreadableShown = 20;

struct Snapshot {
  inv::SagaState state;
  size_t records = 0;
  size_t poison = 0;
  std::vector<std::string> unreadable;  // where each poison record is, and why (the first few)
  size_t undecided = 0;
  int64_t unsent = 0;  // outbox rows committed but not yet acknowledged by the broker
};

// Who produced an event, from its id: `serve` makes "<instance>-<12 hex>-<n>"
// (kafka/runtime/env.h), `place-orders` makes "<run>-place-<n>".
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

// The live run as a sagasim trace (sim/trace.h), for the viewer and
// `sagasim export`: a publish step per record in the saga topics, at the time
// its producer created it, and a state step per decided order. What a live
// log cannot tell (deliveries, handling, offset commits) is absent.
void write_live_trace(const std::string& path, const Snapshot& snap) {
  std::vector<const inv::LoggedEvent*> events;
  for (const inv::LoggedEvent& le : snap.state.log) events.push_back(&le);
  std::stable_sort(events.begin(), events.end(), [](const inv::LoggedEvent* a, const inv::LoggedEvent* b) {
    return a->event->occurred_at.us < b->event->occurred_at.us;
  });
  struct Decision {
    int64_t at;
    const saga::Order* order;
  };
  std::vector<Decision> decisions;
  for (const auto& [id, o] : snap.state.orders)
    if (o.status != saga::OrderStatus::Pending) decisions.push_back({o.decided_at_us, &o});
  std::stable_sort(decisions.begin(), decisions.end(), [](const Decision& a, const Decision& b) { return a.at < b.at; });

  int64_t first = events.empty() ? kafka::wall_now().us : events.front()->event->occurred_at.us;
  if (!decisions.empty()) first = std::min(first, decisions.front().at);
  TraceFile file(path);
  sim::Trace trace(&file, Time{first});
  trace.header("live", 0, kVersion, {{"source", "sagasim check"}});
  std::vector<std::string> actors;  // kept alive while the trace refers to them
  actors.reserve(events.size());
  size_t d = 0;
  auto decisions_until = [&](int64_t t) {
    for (; d < decisions.size() && decisions[d].at <= t; ++d) {
      const saga::Order& o = *decisions[d].order;
      trace.record(Time{decisions[d].at}, sim::Step{.kind = sim::StepKind::State, .actor = "order", .table = saga::kOrdersTable,
                                                     .key = o.order_id, .detail = o.status_name()});
    }
  };
  for (const inv::LoggedEvent* le : events) {
    decisions_until(le->event->occurred_at.us - 1);
    actors.push_back(producer_of(*le->event));
    trace.record(le->event->occurred_at, sim::Step{.kind = sim::StepKind::Publish, .actor = actors.back(),
                                                    .topic = le->topic, .partition = le->partition,
                                                    .offset = le->offset, .event = le->event.get()});
  }
  decisions_until(INT64_MAX);
  trace.footer();
  file.close();
}

}  // namespace

int check_command(const CheckArgs& args) {
  kafka::Config config = load_kafka_config(args.kafka);

  // Which database is which: each store file names its service.
  std::map<std::string, std::string> db_of;  // service -> path
  for (const std::string& path : args.dbs) {
    const std::string service = kafka::SqliteStore::service_of(path);
    if (db_of.contains(service))
      throw InputError(path, "", fmt::format("a second {} database (the first is {})", service, db_of[service]));
    db_of[service] = path;
  }
  for (const char* s : {"order", "payment", "inventory"})
    if (!db_of.contains(s))
      throw InputError("--db", "", fmt::format("no {} database given; pass --db once per service's file", s));

  // The orchestrator reads the order service's records in either style: the
  // orders table, and in orchestration its saga log too (the timeout plays no
  // part in reading records).
  saga::OrderOrchestrator order(Duration::seconds(30));
  saga::PaymentService payment;
  saga::InventoryService inventory;
  PayloadRegistry registry;
  saga::register_saga_payloads(registry);
  auto open = [&](const Service& service) {
    return std::make_unique<kafka::SqliteStore>(db_of[std::string(service.name())], service, registry,
                                                kafka::SqliteStoreOptions{.shared = true});
  };

  // The reference for conservation, written by `serve` with the opening state.
  inv::Baseline baseline;
  {
    auto p = open(payment);
    auto i = open(inventory);
    const std::optional<std::string> money = p->meta("opening_money_cents");
    const std::optional<std::string> stock = i->meta("opening_stock");
    if (!money) throw InputError(p->path(), "", "no opening state: was this database written by `sagasim serve payment`?");
    if (!stock) throw InputError(i->path(), "", "no opening state: was this database written by `sagasim serve inventory`?");
    baseline.money_cents = std::stoll(*money);
    try {
      const nlohmann::json j = nlohmann::json::parse(*stock);
      for (auto it = j.begin(); it != j.end(); ++it) baseline.stock[it.key()] = it.value().get<int64_t>();
    } catch (const nlohmann::json::exception& e) {
      throw InputError(i->path(), "", fmt::format("the opening stock in the meta table is not readable: {}", e.what()));
    }
  }

  std::vector<std::string> topics;
  for (std::string_view t : kSagaTopics) topics.emplace_back(t);
  auto take_snapshot = [&](Snapshot& snap) -> bool {
    kafka::Result<std::vector<kafka::ReadRecord>> log = kafka::read_topics(config, topics, Duration::seconds(120));
    if (!log.ok()) {
      std::cerr << "sagasim: cannot read the saga topics: " << log.error().to_string() << "\n";
      return false;
    }
    std::map<std::string, int64_t> placed;
    std::vector<std::string> placed_order;
    for (const kafka::ReadRecord& r : log.value()) {
      ++snap.records;
      kafka::RecordView view{r.topic, r.partition, r.offset, r.has_key, r.key, r.value, r.headers};
      auto decoded = kafka::decode_record(view, registry);
      auto* e = std::get_if<EventPtr>(&decoded);
      if (!e) {
        ++snap.poison;  // the services dead-lettered it; it carries no saga effect
        if (snap.unreadable.size() < kUnreadableShown)
          snap.unreadable.push_back(fmt::format("{}: {}", view.where(), std::get<std::string>(decoded)));
        continue;
      }
      EventPtr logged = *e;
      // The trace shows each record as it is on the wire (the version its
      // producer wrote), as the simulator's does; the checks read types and ids only.
      if (!args.trace.empty()) logged = std::make_shared<const Event>(decode_event(r.value, nullptr, view.where()));
      snap.state.log.push_back(inv::LoggedEvent{interned_topic(r.topic), to_int(r.partition), to_int(r.offset), logged});
      if ((*e)->type == saga::PlaceOrder::kType && !placed.contains((*e)->key)) {
        placed[(*e)->key] = (*e)->occurred_at.us;
        placed_order.push_back((*e)->key);
      }
    }
    for (const std::string& id : placed_order) snap.state.placed.push_back({id, placed[id]});
    auto o = open(order);
    auto p = open(payment);
    auto i = open(inventory);
    inv::load_state(*o, *p, *i, snap.state);
    snap.unsent = o->unpublished_count() + p->unpublished_count() + i->unpublished_count();
    for (const inv::PlacedOrder& po : snap.state.placed) {
      auto it = snap.state.orders.find(po.order_id);
      if (it == snap.state.orders.end() || it->second.status == saga::OrderStatus::Pending) ++snap.undecided;
    }
    return true;
  };

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(args.wait_s));
  // Quiet: every order decided, every outbox drained, and no record added
  // for a second. Deciding an order comes before compensating it (a refund
  // follows the cancellation), so "all decided" alone would judge a saga
  // halfway through its compensation.
  Snapshot snap;
  size_t records_before = SIZE_MAX;
  bool quiet = false;
  for (;;) {
    snap = Snapshot{};
    if (!take_snapshot(snap)) return 1;
    quiet = snap.undecided == 0 && snap.unsent == 0 && snap.records == records_before;
    if (quiet || Clock::now() >= deadline) break;
    if (!args.json && records_before != SIZE_MAX)
      std::cerr << fmt::format("waiting: {} of {} orders undecided, {} outbox rows unsent, {} records so far\n",
                               snap.undecided, snap.state.placed.size(), snap.unsent, snap.records);
    records_before = snap.records;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (!quiet && args.wait_s > 0 && !args.json)
    std::cerr << fmt::format("sagasim check: not quiet after --wait {} s ({} orders undecided, {} outbox rows unsent); "
                             "judging what is there\n",
                             args.wait_s, snap.undecided, snap.unsent);

  if (!args.trace.empty()) write_live_trace(args.trace, snap);

  inv::FinalCheckOptions options;
  options.liveness_bound = Duration::millis(args.liveness_bound_ms);
  std::vector<inv::Violation> violations = inv::check_final(snap.state, baseline, options);
  // An orchestrated deployment keeps a saga log: judge it too.
  const bool orchestrated = !snap.state.saga_logs.empty();
  if (orchestrated)
    for (auto& v : inv::check_saga_log(snap.state, options)) violations.push_back(std::move(v));
  // As in the simulator: a record the services cannot read went to a DLQ
  // instead of into the saga. Unless the caller knows why (--allow-poison).
  if (!args.allow_poison) {
    for (const std::string& where : snap.unreadable)
      violations.push_back({std::string(inv::kRecordsReadable), "", "dead-lettered, unreadable: " + where});
    if (snap.poison > snap.unreadable.size())
      violations.push_back({std::string(inv::kRecordsReadable), "",
                            fmt::format("and {} more unreadable records", snap.poison - snap.unreadable.size())});
  }

  std::map<std::string, size_t> outcomes;
  for (const auto& [id, o] : snap.state.orders)
    ++outcomes[o.status == saga::OrderStatus::Cancelled ? "cancelled: " + o.cancel_reason : std::string(to_string(o.status))];
  auto events_of = [&](const std::string& order_id) {
    std::vector<std::string> out;
    for (const inv::LoggedEvent& le : snap.state.log)
      if (le.event->correlation_id == order_id)
        out.push_back(fmt::format("{}[{}]@{} {} {} at {}", le.topic, le.partition, le.offset, le.event->type,
                                  le.event->event_id, format_timestamp(le.event->occurred_at)));
    return out;
  };

  if (args.json) {
    nlohmann::json j = {{"ok", violations.empty()},
                        {"orders_placed", snap.state.placed.size()},
                        {"orders", outcomes},
                        {"records", snap.records},
                        {"poison_records", snap.poison},
                        {"outbox_unsent", snap.unsent},
                        {"quiet", quiet},
                        {"violations", nlohmann::json::array()}};
    for (const inv::Violation& v : violations)
      j["violations"].push_back({{"invariant", v.invariant}, {"order", v.entity}, {"message", v.message},
                                 {"events", v.entity.empty() ? std::vector<std::string>{} : events_of(v.entity)}});
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << fmt::format("checked {} orders placed, {} records in the saga topics ({} poison, dead-lettered)\n",
                             snap.state.placed.size(), snap.records, snap.poison);
    for (const auto& [o, n] : outcomes) std::cout << fmt::format("  {:<32} {}\n", o, n);
    std::vector<std::string_view> names(inv::all_invariants().begin(), inv::all_invariants().end());
    if (orchestrated) names.push_back(inv::kSagaLogComplete);
    names.push_back(inv::kRecordsReadable);
    for (std::string_view name : names) {
      if (name == inv::kBrokerGuarantees) continue;  // the simulated broker's self-check
      size_t n = 0;
      for (const inv::Violation& v : violations) n += v.invariant == name;
      const bool allowed = name == inv::kRecordsReadable && args.allow_poison && snap.poison > 0;
      std::cout << fmt::format("  {:<36} {}\n", name,
                               n > 0 ? fmt::format("FAIL ({})", n) : allowed ? "PASS (poison allowed)" : "PASS");
    }
    for (const inv::Violation& v : violations) {
      std::cout << fmt::format("\nVIOLATION {}{}: {}\n", v.invariant, v.entity.empty() ? "" : " order " + v.entity,
                               v.message);
      if (!v.entity.empty())
        for (const std::string& line : events_of(v.entity)) std::cout << "  " << line << "\n";
    }
  }
  return violations.empty() ? 0 : kExitViolation;
}

}  // namespace sagasim::cli
