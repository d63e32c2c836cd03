// The librdkafka mock-cluster leg of the speed-up comparison (docs/benchmarks.md):
// the live workload of scripts/bench-live (bench/live-1k.json: 1,000 orders at
// 20/s, the built-in live customers and SKUs, 3 partitions; 1 order, 2 payment,
// 1 inventory instance) run on librdkafka's in-process mock cluster instead of
// a real broker, wall clock measured.
//
//   mock_cluster_bench [--orders 1000] [--rate 20] [--warmup 100] [--unpaced N] [--check] [--keep DIR]
//
// One process, one thread driving everything (librdkafka's threads aside):
// the mock cluster, the four service instances — each a kafka::ServiceRunner
// with its own SQLite file in a temporary directory, exactly the loop of
// `sagasim serve`, driven one step() at a time — and the client that places
// PlaceOrder commands at --rate and reads the decisions back from the orders
// topic. Timed from the first measured order sent to the last decision read.
// With --unpaced N, N more orders follow as fast as they can be placed, on the
// same services: the mock cluster's saga throughput (orders/s).
// With --check, the invariants' final check of `sagasim check` runs over the
// topics and the databases afterwards (not timed).
//
// Differences from the real broker, on purpose:
//  - topics are created through the mock's own API (librdkafka 2.0.2's mock
//    has no CreateTopics);
//  - fetch.wait.max.ms=5: the mock holds an empty fetch for the whole wait
//    and does not answer early when a record arrives, as a broker does, so
//    librdkafka's default (500 ms) would add up to half a second per hop;
//  - session.timeout.ms=4000: the mock answers a JoinGroup after
//    session.timeout.ms - 1 s (see tests/kafka/client_mock_test.cc).
// Prints one JSON object on stdout. A benchmark, not a test: it exits non-zero
// only when something breaks (orders left undecided, invariants violated), never
// on a time.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/codec.h"
#include "sagas/order/order_saga.h"
#include "core/error.h"
#include "sagas/order/checker.h"
#include "sagas/order/workload.h"
#include "kafka/client/consumer.h"
#include "kafka/client/producer.h"
#include "kafka/runtime/env.h"
#include "kafka/runtime/log.h"
#include "kafka/runtime/record.h"
#include "kafka/runtime/runner.h"
#include "kafka/runtime/topic_reader.h"
#include "kafka/store/sqlite_store.h"
#include "sagas/order/events.h"
#include "sagas/order/inventory_service.h"
#include "sagas/order/order_service.h"
#include "sagas/order/payment_service.h"
#include "sim/scenario.h"

using namespace sagasim;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

// The built-in live workload of `sagasim serve` / `place-orders` (cli/live.cc,
// live_workload() without --scenario), which bench/live-1k.json restates.
saga::Workload live_workload(int64_t orders, uint64_t seed) {
  saga::Workload w;
  w.customer_count = 50;
  w.balance_cents = {200'000, 2'000'000};
  w.sku_count = 20;
  w.stock = {100, 1000};
  w.lines_per_order = {1, 3};
  w.quantity = {1, 3};
  w.price_cents = {100, 5000};
  w.order_count = static_cast<int>(orders);
  return saga::materialize_workload(w, seed);
}

// One service instance: its service object, log file and runner.
struct Instance {
  std::string name;
  std::unique_ptr<Service> service;
  std::unique_ptr<std::ofstream> log_file;
  std::unique_ptr<kafka::JsonLog> log;
  std::unique_ptr<kafka::ServiceRunner> runner;
  bool running = false;
};

}  // namespace

int main(int argc, char** argv) {
  int64_t orders = 1000;
  double rate = 20;
  int64_t warmup = 100;
  int64_t unpaced = 0;
  int partitions = 3;
  int payment_instances = 2;
  uint64_t seed = 1;
  bool check = false;
  std::string keep;
  double wait_s = 600;
  CLI::App app{"The saga on librdkafka's mock cluster, in one process: the mock-cluster leg of the speed-up comparison"};
  app.add_option("--orders", orders, "Orders measured")->check(CLI::Range(int64_t{1}, int64_t{10'000'000}));
  app.add_option("--rate", rate, "Orders per second (0: as fast as the producer takes them)")
      ->check(CLI::Range(0.0, 1e9));
  app.add_option("--warmup", warmup, "Orders placed as fast as possible and decided before measuring")
      ->check(CLI::Range(int64_t{0}, int64_t{1'000'000}));
  app.add_option("--unpaced", unpaced,
                 "Then, on the same cluster and services, this many more orders as fast as possible (orders/s)")
      ->check(CLI::Range(int64_t{0}, int64_t{10'000'000}));
  app.add_option("--partitions", partitions, "Partitions of each saga topic")->check(CLI::Range(1, 64));
  app.add_option("--payment-instances", payment_instances, "Payment service instances")->check(CLI::Range(1, 8));
  app.add_option("--seed", seed, "Workload seed (as place-orders --seed)");
  app.add_option("--wait", wait_s, "Give up when the orders are not all decided after this many seconds")
      ->check(CLI::Range(1.0, 86400.0));
  app.add_flag("--check", check, "Then apply the invariants' final check (as `sagasim check`) to topics and databases");
  app.add_option("--keep", keep, "Write the databases and service logs here (a new directory) and keep them");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;  // --help is not an error; a bad argument is exit 2, as everywhere
  }

  namespace fs = std::filesystem;
  fs::path dir;
  if (keep.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "sagasim-mock-bench.XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      std::cerr << "mock_cluster_bench: cannot create a temporary directory\n";
      return 1;
    }
    dir = tmpl;
  } else {
    dir = keep;
    std::error_code ec;
    if (!fs::create_directory(dir, ec)) {
      std::cerr << fmt::format("mock_cluster_bench: --keep {}: {}\n", keep,
                               ec ? ec.message() : "exists already (give a new directory)");
      return 2;
    }
  }
  struct Cleanup {
    fs::path dir;
    bool keep;
    ~Cleanup() {
      std::error_code ec;
      if (!keep) fs::remove_all(dir, ec);
    }
  } cleanup{dir, !keep.empty()};

  // ---- the mock cluster and its topics ----------------------------------------------
  // Kept until the process exits, never destroyed (reachable from a static, so
  // leak checkers agree): in librdkafka 2.0.2, rd_kafka_mock_cluster_destroy()
  // often stalls for a second (see tests/kafka/client_mock_test.cc).
  const auto setup_start = Clock::now();
  struct Mock {
    rd_kafka_t* owner = nullptr;  // the handle the cluster belongs to
    rd_kafka_mock_cluster_t* cluster = nullptr;
  };
  static Mock* const mock = new Mock;
  char reason[512] = "";
  rd_kafka_conf_t* owner_conf = rd_kafka_conf_new();
  rd_kafka_conf_set(owner_conf, "log_level", "3", reason, sizeof reason);  // no "no bootstrap.servers" notice
  mock->owner = rd_kafka_new(RD_KAFKA_PRODUCER, owner_conf, reason, sizeof reason);
  if (!mock->owner) {
    std::cerr << "mock_cluster_bench: " << reason << "\n";
    return 1;
  }
  mock->cluster = rd_kafka_mock_cluster_new(mock->owner, 1);
  rd_kafka_mock_cluster_t* cluster = mock->cluster;
  if (!cluster) {
    std::cerr << "mock_cluster_bench: rd_kafka_mock_cluster_new failed\n";
    return 1;
  }
  const std::vector<std::string_view> saga_topics = {saga::kOrderRequestsTopic, saga::kOrdersTopic,
                                                     saga::kPaymentsTopic, saga::kInventoryTopic};
  for (std::string_view t : saga_topics) {
    const std::string name(t);
    const std::string dlq = kafka::dlq_topic(name);
    if (rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, 1) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_mock_topic_create(cluster, dlq.c_str(), 1, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::cerr << "mock_cluster_bench: cannot create topic " << name << " on the mock cluster\n";
      return 1;
    }
  }
  kafka::Config config;
  config.set("bootstrap.servers", rd_kafka_mock_cluster_bootstraps(cluster), "mock_cluster_bench");
  config.set("fetch.wait.max.ms", "5", "mock_cluster_bench");
  config.set("session.timeout.ms", "4000", "mock_cluster_bench");
  config.set("heartbeat.interval.ms", "100", "mock_cluster_bench");
  config.set("log_level", "4", "mock_cluster_bench");

  // ---- the services: as `sagasim serve` sets them up (cli/serve_command.cc) ----------
  const saga::Workload w = live_workload(warmup + orders + unpaced, seed);
  const Duration order_timeout = Duration::seconds(30);
  std::vector<Instance> instances;
  auto add = [&](std::string name, std::unique_ptr<Service> service) {
    Instance in;
    in.name = std::move(name);
    in.service = std::move(service);
    in.log_file = std::make_unique<std::ofstream>(dir / (in.name + ".log"));
    in.log = std::make_unique<kafka::JsonLog>(
        *in.log_file, nlohmann::json{{"service", std::string(in.service->name())}, {"instance", in.name}},
        kafka::LogLevel::kInfo);
    kafka::RunnerOptions o;
    o.instance_id = in.name;
    o.kafka = config;
    o.db_path = (dir / (std::string(in.service->name()) + ".db")).string();
    // Four runners and the client share one thread: a short poll keeps an
    // idle runner from holding up the others (serve's default is 20 ms).
    o.poll_timeout = Duration::millis(1);
    in.runner = std::make_unique<kafka::ServiceRunner>(*in.service, std::move(o), *in.log);
    instances.push_back(std::move(in));
  };
  add("order-1", std::make_unique<saga::OrderService>(order_timeout));
  for (int i = 1; i <= payment_instances; ++i) add(fmt::format("payment-{}", i), std::make_unique<saga::PaymentService>());
  add("inventory-1", std::make_unique<saga::InventoryService>());

  int64_t money = 0;
  for (const auto& c : w.customers) money += c.balance_cents;
  nlohmann::json stock = nlohmann::json::object();
  for (const auto& s : w.skus) stock[s.sku] = s.stock;
  for (Instance& in : instances) {
    if (in.service->name() == "payment") {
      in.runner->initialize(
          "opening_state",
          [&](Transaction& txn) {
            for (const auto& c : w.customers) saga::PaymentService::open_account(txn, c.id, c.balance_cents);
          },
          {{"opening_money_cents", std::to_string(money)}, {"opening_customers", std::to_string(w.customers.size())}});
    } else if (in.service->name() == "inventory") {
      in.runner->initialize(
          "opening_state",
          [&](Transaction& txn) {
            for (const auto& s : w.skus) saga::InventoryService::stock_item(txn, s.sku, s.stock);
          },
          {{"opening_stock", stock.dump()}});
    }
  }
  auto fail = [&](const std::string& what) {
    std::cerr << "mock_cluster_bench: " << what << " (service logs in " << dir.string()
              << (keep.empty() ? ", removed on exit: use --keep DIR to keep them" : "") << ")\n";
    return 1;
  };
  for (Instance& in : instances) {
    if (!in.runner->start()) return fail(in.name + " did not start");
    in.running = true;
  }
  auto step_all = [&]() -> bool {
    for (Instance& in : instances)
      if (in.running && !in.runner->step()) {
        in.running = false;
        return false;
      }
    return true;
  };

  // ---- the client: as `sagasim place-orders` (cli/place_orders_command.cc) -----------
  uint64_t send_failures = 0;
  // Errors only: the shared config's consumer properties make a producer warn.
  auto quiet = [](int level, std::string_view facility, std::string_view message) {
    if (level <= 3) std::cerr << "mock_cluster_bench: librdkafka " << facility << ": " << message << "\n";
  };
  kafka::Producer::Hooks ph;
  ph.on_log = quiet;
  ph.on_delivery = [&](const kafka::DeliveryReport& r) { send_failures += !r.ok(); };
  kafka::Result<kafka::Producer> producer = kafka::Producer::create(config, std::move(ph));
  if (!producer.ok()) return fail(producer.error().to_string());
  kafka::Consumer::Hooks ch;
  ch.on_log = quiet;
  kafka::Result<kafka::Consumer> decisions_c = kafka::Consumer::create(config, "sagasim-mock-bench", std::move(ch));
  if (!decisions_c.ok()) return fail(decisions_c.error().to_string());
  kafka::Producer& p = producer.value();
  kafka::Consumer& decisions = decisions_c.value();
  (void)p.prepare_topics({std::string(saga::kOrderRequestsTopic)}, Duration::seconds(10));
  {
    std::vector<kafka::CommitOffset> starts;
    for (int32_t i = 0; i < partitions; ++i) starts.push_back({std::string(saga::kOrdersTopic), PartitionId{i}, Offset{0}});
    if (kafka::Status s = decisions.assign_at(starts); !s.ok()) return fail(s.error().to_string());
  }

  // Every group has its partitions: the mock answers a new group's JoinGroup after 3 s.
  std::map<std::string, size_t> expected;  // service -> partitions its group must own
  for (const Instance& in : instances) expected[std::string(in.service->name())] = in.service->subscriptions().size() * partitions;
  auto ready = [&] {
    std::map<std::string, size_t> owned;
    for (const Instance& in : instances) {
      const size_t n = in.runner->assignment().size();
      if (n == 0) return false;
      owned[std::string(in.service->name())] += n;
    }
    return owned == expected;
  };
  const auto ready_deadline = Clock::now() + std::chrono::seconds(60);
  while (!ready()) {
    if (!step_all()) return fail("a service stopped with a fatal error");
    if (Clock::now() > ready_deadline) return fail("the groups did not get their partitions within 60 s");
  }
  const double setup_s = seconds_between(setup_start, Clock::now());

  PayloadRegistry registry;
  saga::register_saga_payloads(registry);
  std::map<std::string, Clock::time_point> sent_at;
  std::map<std::string, double> latency_s;
  std::map<std::string, uint64_t> outcomes;
  Clock::time_point last_decision{};
  auto read_decisions = [&] {
    p.poll(Duration::millis(0));
    for (int n = 0; n < 1000; ++n) {
      kafka::PollResult r = decisions.poll(Duration::millis(0));
      auto* m = std::get_if<kafka::Message>(&r);
      if (!m) return;
      kafka::RecordView view{m->topic(), m->partition(), m->offset(), m->has_key(), m->key(), m->value(), {}};
      auto decoded = kafka::decode_record(view, registry);
      auto* e = std::get_if<EventPtr>(&decoded);
      if (!e) continue;
      const Event& ev = **e;
      std::string outcome;
      if (ev.type == saga::OrderConfirmed::kType) outcome = "confirmed";
      else if (ev.type == saga::OrderCancelled::kType) outcome = "cancelled: " + ev.payload_as<saga::OrderCancelled>().reason;
      else continue;
      auto sent = sent_at.find(ev.key);
      if (sent == sent_at.end() || latency_s.contains(ev.key)) continue;
      last_decision = Clock::now();
      latency_s[ev.key] = seconds_between(sent->second, last_decision);
      ++outcomes[outcome];
    }
  };
  auto place = [&](const std::string& run, size_t index) -> bool {
    const saga::OrderSpec& spec = w.orders[index];
    const Event e = saga::place_order_command(run, index, spec.id, spec.customer, spec.lines, kafka::wall_now());
    const std::string value = encode_event(e);
    for (;;) {
      kafka::Status s = p.send(saga::kOrderRequestsTopic, e.key, value, kafka::record_headers(e), 0);
      if (s.ok()) break;
      if (s.error().code != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        std::cerr << "mock_cluster_bench: cannot send order " << e.key << ": " << s.error().to_string() << "\n";
        return false;
      }
      if (!step_all()) return false;
      p.poll(Duration::millis(1));
    }
    sent_at[e.key] = Clock::now();
    return true;
  };
  // Steps everything until every order sent is decided; false on a fatal error or the deadline.
  auto drain = [&](Clock::time_point deadline) -> bool {
    while (latency_s.size() < sent_at.size()) {
      if (!step_all()) return false;
      read_decisions();
      if (Clock::now() > deadline) return false;
    }
    return true;
  };

  // Steps everything until nothing moves for a second. A decision is not the
  // end of a saga: a cancelled order's compensations (refund, release) follow
  // it, and stopping the services at the last decision would leave them
  // undone for the check to find. False on a fatal error or the deadline.
  auto quiesce = [&](Clock::time_point deadline) -> bool {
    auto progress = [&] {
      uint64_t n = 0;
      for (const Instance& in : instances) {
        const kafka::RunnerCounters& c = in.runner->counters();
        n += c.records + c.published + c.relayed + c.timers_fired + c.offset_commits;
      }
      return n;
    };
    uint64_t last = progress();
    auto still_since = Clock::now();
    while (Clock::now() - still_since < std::chrono::seconds(1)) {
      if (!step_all()) return false;
      read_decisions();
      if (const uint64_t n = progress(); n != last) {
        last = n;
        still_since = Clock::now();
      }
      if (Clock::now() > deadline) return false;
    }
    return true;
  };

  // Unpaced orders go out back to back, as `place-orders --rate 0` sends them,
  // with a step of the services every so often: stepping after every order
  // would make the placing loop itself the limit (four 1 ms polls per order
  // while the services are idle).
  constexpr int64_t kBurstStride = 64;

  // ---- warm-up (not measured): every path has run, the files and caches are warm ----
  for (int64_t i = 0; i < warmup; ++i) {
    if (!place("warmup", static_cast<size_t>(i))) return fail("placing the warm-up orders failed");
    if (i % kBurstStride == kBurstStride - 1 && !step_all()) return fail("a service stopped with a fatal error");
  }
  if (!drain(Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait_s))))
    return fail(fmt::format("the warm-up orders were not all decided ({} of {})", latency_s.size(), sent_at.size()));
  if (!quiesce(Clock::now() + std::chrono::seconds(60))) return fail("the services did not go quiet after the warm-up");
  sent_at.clear();
  latency_s.clear();
  outcomes.clear();

  // ---- measured: N orders at the rate, timed until the last decision ---------------
  const auto start = Clock::now();
  for (int64_t i = 0; i < orders; ++i) {
    if (rate > 0) {
      const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(i) / rate));
      while (Clock::now() < due) {
        if (!step_all()) return fail("a service stopped with a fatal error");
        read_decisions();
      }
    }
    if (!place("run", static_cast<size_t>(warmup + i))) return fail("placing the orders failed");
    if (!step_all()) return fail("a service stopped with a fatal error");
    read_decisions();
  }
  const double placing_s = seconds_between(start, Clock::now());
  const bool all_decided =
      drain(Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait_s)));
  const double wall_s = latency_s.empty() ? seconds_between(start, Clock::now()) : seconds_between(start, last_decision);

  // Copied before the unpaced phase reuses the maps.
  std::vector<double> lat;
  for (const auto& [id, s] : latency_s) lat.push_back(s * 1000);
  const size_t decided = latency_s.size();
  const std::map<std::string, uint64_t> paced_outcomes = outcomes;

  // ---- unpaced (optional): as fast as the producer takes them, timed to the last decision ----
  nlohmann::json unpaced_j;
  bool unpaced_decided = true;
  if (unpaced > 0 && all_decided) {
    sent_at.clear();
    latency_s.clear();
    outcomes.clear();
    const auto burst_start = Clock::now();
    for (int64_t i = 0; i < unpaced; ++i) {
      if (!place("burst", static_cast<size_t>(warmup + orders + i))) return fail("placing the unpaced orders failed");
      if (i % kBurstStride == kBurstStride - 1 && !step_all()) return fail("a service stopped with a fatal error");
    }
    unpaced_decided =
        drain(Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait_s)));
    const double burst_s = seconds_between(burst_start, latency_s.empty() ? Clock::now() : last_decision);
    std::vector<double> burst_lat;
    for (const auto& [id, s] : latency_s) burst_lat.push_back(s * 1000);
    unpaced_j = {{"orders", unpaced},
                 {"decided", latency_s.size()},
                 {"wall_s", burst_s},
                 {"orders_per_s", burst_s > 0 ? static_cast<double>(latency_s.size()) / burst_s : 0},
                 {"latency_ms", {{"p50", percentile(burst_lat, 0.5)}, {"p99", percentile(burst_lat, 0.99)}}}};
  }

  // ---- quiet, then shutdown as on SIGTERM: flush, commit, leave the groups ---------------
  const auto quiet_start = Clock::now();
  int code = 0;
  if (!quiesce(Clock::now() + std::chrono::seconds(120))) {
    std::cerr << "mock_cluster_bench: the services did not go quiet within 120 s of the last decision\n";
    code = 1;
  }
  const double quiesce_s = seconds_between(quiet_start, Clock::now());
  const auto stop_start = Clock::now();
  for (Instance& in : instances) {
    const int c = in.runner->finish();
    if (c != 0) {
      code = 1;
      std::cerr << "mock_cluster_bench: " << in.name << " stopped after a fatal error (see its log)\n";
    }
  }
  (void)decisions.close();
  (void)p.flush(Duration::seconds(10));
  const double shutdown_s = seconds_between(stop_start, Clock::now());

  uint64_t confirmed = 0;
  uint64_t cancelled = 0;
  for (const auto& [o, n] : paced_outcomes) (o == "confirmed" ? confirmed : cancelled) += n;
  const double real_time_s = rate > 0 ? static_cast<double>(orders - 1) / rate : 0;
  nlohmann::json j = {{"runtime", "librdkafka mock cluster"},
                      {"librdkafka", rd_kafka_version_str()},
                      {"orders", orders},
                      {"rate_per_s", rate},
                      {"warmup_orders", warmup},
                      {"instances", instances.size()},
                      {"partitions", partitions},
                      {"setup_s", setup_s},
                      {"placing_s", placing_s},
                      {"wall_s", wall_s},
                      {"decided", decided},
                      {"confirmed", confirmed},
                      {"cancelled", cancelled},
                      {"outcomes", paced_outcomes},
                      {"orders_per_s", wall_s > 0 ? static_cast<double>(decided) / wall_s : 0},
                      {"latency_ms", {{"p50", percentile(lat, 0.5)}, {"p90", percentile(lat, 0.9)},
                                      {"p99", percentile(lat, 0.99)}, {"max", percentile(lat, 1.0)}}},
                      // The workload's own span (first to last arrival) over the wall clock it took:
                      // a paced run on any real-time runtime cannot exceed ≈ 1.
                      {"real_time_s", real_time_s},
                      {"speedup_vs_real_time", rate > 0 && wall_s > 0 ? nlohmann::json(real_time_s / wall_s) : nlohmann::json()},
                      {"quiesce_s", quiesce_s},  // until nothing moved for 1 s (compensations included)
                      {"shutdown_s", shutdown_s},
                      {"send_failures", send_failures}};
  if (unpaced > 0) j["unpaced"] = unpaced_j;
  if (!all_decided || confirmed + cancelled != static_cast<uint64_t>(orders)) {
    code = 1;
    std::cerr << fmt::format("mock_cluster_bench: {} of {} orders decided within {} s\n", decided, orders, wait_s);
  }
  if (unpaced > 0 && (!unpaced_decided || unpaced_j.value("decided", size_t{0}) != static_cast<size_t>(unpaced))) {
    code = 1;
    std::cerr << fmt::format("mock_cluster_bench: {} of {} unpaced orders decided within {} s\n",
                             unpaced_j.value("decided", size_t{0}), unpaced, wait_s);
  }

  // ---- the invariants' final check (as `sagasim check`), not timed ----------------------
  if (check) {
    const auto check_start = Clock::now();
    std::vector<std::string> topics;
    for (std::string_view t : saga_topics) topics.emplace_back(t);
    kafka::Result<std::vector<kafka::ReadRecord>> log = kafka::read_topics(config, topics, Duration::seconds(120));
    if (!log.ok()) return fail("cannot read the saga topics: " + log.error().to_string());
    inv::SagaState state;
    std::map<std::string, int64_t> placed;
    std::vector<std::string> placed_order;
    std::vector<std::string_view> topic_names(saga_topics.begin(), saga_topics.end());
    for (const kafka::ReadRecord& r : log.value()) {
      kafka::RecordView view{r.topic, r.partition, r.offset, r.has_key, r.key, r.value, r.headers};
      auto decoded = kafka::decode_record(view, registry);
      auto* e = std::get_if<EventPtr>(&decoded);
      if (!e) continue;
      const auto topic = std::find(topic_names.begin(), topic_names.end(), r.topic);
      state.log.push_back(inv::LoggedEvent{topic == topic_names.end() ? std::string_view("?") : *topic,
                                           to_int(r.partition), to_int(r.offset), *e});
      if ((*e)->type == saga::PlaceOrder::kType && !placed.contains((*e)->key)) {
        placed[(*e)->key] = (*e)->occurred_at.us;
        placed_order.push_back((*e)->key);
      }
    }
    for (const std::string& id : placed_order) state.placed.push_back({id, placed[id]});
    saga::OrderService order(order_timeout);
    saga::PaymentService payment;
    saga::InventoryService inventory;
    auto open = [&](const Service& s) {
      return std::make_unique<kafka::SqliteStore>((dir / (std::string(s.name()) + ".db")).string(), s, registry,
                                                  kafka::SqliteStoreOptions{.shared = true});
    };
    auto os = open(order);
    auto ps = open(payment);
    auto is = open(inventory);
    inv::load_state(*os, *ps, *is, state);
    inv::Baseline baseline;
    baseline.money_cents = money;
    for (const auto& s : w.skus) baseline.stock[s.sku] = s.stock;
    inv::FinalCheckOptions options;
    options.liveness_bound = Duration::seconds(120);
    const std::vector<inv::Violation> violations = inv::check_final(state, baseline, options);
    nlohmann::json v = nlohmann::json::array();
    for (const inv::Violation& x : violations)
      v.push_back({{"invariant", x.invariant}, {"order", x.entity}, {"message", x.message}});
    j["check"] = {{"ok", violations.empty()},
                  {"orders_placed", state.placed.size()},
                  {"records", log.value().size()},
                  {"violations", v},
                  {"seconds", seconds_between(check_start, Clock::now())}};
    const size_t expected_placed = static_cast<size_t>(warmup + orders + (all_decided ? unpaced : 0));
    if (!violations.empty()) {
      code = 1;
      std::cerr << fmt::format("mock_cluster_bench: the check found {} violation(s); the first: {} order {}: {}\n",
                               violations.size(), violations[0].invariant, violations[0].entity,
                               violations[0].message);
    }
    if (state.placed.size() != expected_placed) {
      code = 1;
      std::cerr << fmt::format("mock_cluster_bench: the check read {} placed orders in the topics, expected {}\n",
                               state.placed.size(), expected_placed);
    }
  }
  std::cout << j.dump() << "\n";
  if (code != 0) return fail("failed");
  return 0;
}
