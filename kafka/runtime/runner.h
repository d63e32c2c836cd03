// Runs one instance of a service (services/) on real Kafka: the production
// twin of the simulator's sim::Instance.
//
//   saga::PaymentService payment;
//   JsonLog log(std::cerr, {{"service", "payment"}, {"instance", "payment-2"}});
//   ServiceRunner runner(payment, options, log);
//   runner.initialize("opening_state", fill, meta);   // once per database, whoever starts first
//   int code = runner.run(stop_flag);                  // until SIGTERM sets stop_flag
//
// or, for a driver that runs several runners on one thread (one iteration of
// the loop below at a time; bench/mock_cluster_bench.cc runs the whole saga
// in one process this way):
//
//   if (runner.start())
//     while (!done() && runner.step()) {}
//   int code = runner.finish();
//
// The loop, on one thread (librdkafka's own threads aside):
//   1. poll one record from the service's consumer group;
//   2. poison (record.h) goes to <topic>.dlq, counted;
//   3. otherwise process_event: inbox check, handler, state + inbox + outbox
//      applied in SQLite. The records already waiting (up to max_batch) share
//      one transaction (BEGIN IMMEDIATE ... COMMIT: group commit);
//   4. once it has committed, the batch's outbox rows are handed to the
//      idempotent producer; delivery reports mark rows published (in the next
//      batch's transaction);
//   5. every commit_interval: commit, per partition, the offset after the last
//      handled record whose outbox rows (and dead letters) the broker has all
//      acknowledged, after making the database durable: offsets never move past
//      an event that is not in Kafka yet. Nothing waits for this: a slow
//      partition holds back only its own offsets;
//   6. due timers fire in their own units; the relay re-sends rows whose
//      delivery failed (kept in memory while they are in flight), rows left by
//      a previous run of this instance (read at start), and rows of other
//      instances that stay unpublished for orphan_grace (an instance that
//      never came back; its periodic pass reads only the backlog's seqs and
//      owners and decodes just those rows), so no committed event is lost.
//      Such a row is first claimed (DurableStore::claim: its owner becomes
//      this instance, if nobody else's claim came first), so of several
//      surviving instances exactly one sends it;
//   7. a store that becomes unavailable (StoreUnavailable: a PostgreSQL
//      restart) costs the batch in progress, which is handled again, whole,
//      once the store has reconnected; a timer waits for the next round;
// until `stop` becomes true: then it finishes the current record, flushes,
// commits and leaves the group (graceful shutdown).
//
// A crash anywhere loses nothing: work not committed to SQLite is redone from
// the uncommitted offsets, and committed work is in the outbox. Duplicates
// that this creates downstream are skipped by the consumers' inboxes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/service.h"
#include "kafka/client/admin.h"
#include "kafka/client/config.h"
#include "kafka/client/consumer.h"
#include "kafka/client/producer.h"
#include "kafka/runtime/env.h"
#include "kafka/runtime/log.h"
#include "kafka/runtime/metrics.h"
#include "kafka/runtime/record.h"
#include "kafka/store/open_store.h"

namespace sagasim::kafka {

struct RunnerOptions {
  std::string instance_id;  // "payment-2": owner of its outbox rows, and its log name
  Config kafka;             // the user's client properties (+ overrides)
  // The service's store, shared by its instances: a SQLite file (instances on
  // one host) or a postgresql:// URL (instances anywhere); open_store.h.
  std::string db_path;
  // A deployment's namespace as a prefix ("team-a." or ""): put before every
  // topic the service reads or writes and before its group id, so that two
  // deployments share a cluster without sharing anything else. The service
  // and its outbox name topics without it.
  std::string prefix;
  // Topics created (idempotently) at start, with their partition counts
  // (with the prefix).
  std::vector<NewTopic> topics;
  Duration commit_interval = Duration::millis(100);
  Duration relay_interval = Duration::seconds(1);
  Duration timer_interval = Duration::millis(50);
  Duration stats_interval = Duration::seconds(10);
  Duration orphan_grace = Duration::seconds(10);
  Duration poll_timeout = Duration::millis(20);
  // Event versions this instance reads and writes instead of the current ones
  // (PayloadRegistry::pin): {"OrderCreated", 1} runs it as the build before
  // OrderCreated v2, one step of a rolling upgrade. InputError if impossible.
  std::vector<std::pair<std::string, int>> pins;
  // Records handled in one SQLite transaction, at most (group commit).
  size_t max_batch = 256;
  // How long a unit of work waits for another instance's write lock.
  int busy_timeout_ms = 30000;
  // fsync (a WAL checkpoint) before each offset commit; see sqlite_store.h.
  bool durable_offsets = true;
  // Prometheus endpoint (metrics.h): -1 off, 0 any free port, else this port.
  int metrics_port = -1;
  std::string metrics_host = "127.0.0.1";
  Duration metrics_interval = Duration::seconds(1);
};

// The librdkafka client.id of a service instance, as the broker's tools show
// it (kafka-consumer-groups --describe): "sagasim-payment-payment-2", with the
// namespace prefix in front ("team-a.sagasim-payment-payment-2"). A client.id
// in the user's configuration wins.
std::string instance_client_id(std::string_view prefix, std::string_view service, std::string_view instance);

struct RunnerCounters {
  uint64_t records = 0;      // consumed
  uint64_t processed = 0;    // handled and committed
  uint64_t duplicates = 0;   // skipped: already in the inbox
  uint64_t ignored = 0;      // types this service does not act on
  uint64_t dead_lettered = 0;
  uint64_t published = 0;    // outbox rows acknowledged by the broker
  uint64_t relayed = 0;      // rows sent again by the relay
  uint64_t timers_fired = 0;
  uint64_t offset_commits = 0;
  uint64_t store_reconnections = 0;  // the store had to reconnect (PostgreSQL)
  std::map<std::string, uint64_t> processed_by_type;
};

class ServiceRunner {
 public:
  // Opens the database (InputError for a bad path or a foreign file).
  ServiceRunner(Service& service, RunnerOptions options, JsonLog& log);
  ~ServiceRunner();

  // The opening state (accounts, stock), written once per database.
  bool initialize(std::string_view marker, const std::function<void(Transaction&)>& fill,
                  const std::vector<std::pair<std::string, std::string>>& meta);

  // Runs until `stop`. Returns 0 after a graceful shutdown, 1 after a fatal
  // error (logged): a fatal Kafka client error, a store failure, topics that
  // cannot be created. Throws InputError for configuration the user must fix.
  // The same as start(), step() until `stop` or false, finish().
  int run(const std::atomic<bool>& stop);

  // The loop of run(), one piece at a time. Not thread-safe: one thread drives
  // a runner (librdkafka's own threads aside), but one thread may drive many.
  //
  // start(): creates the topics, the producer and the consumer, joins the
  // group (asynchronously: the assignment arrives during later steps) and
  // relays what a previous run left. False after a fatal error (logged);
  // finish() then returns 1. Throws InputError as run() does. Once only.
  bool start();
  // One iteration: polls for up to poll_timeout (less if records are waiting),
  // handles up to max_batch records in one transaction, then commits offsets,
  // fires timers, relays and renders metrics when each is due. False once a
  // fatal error has stopped the runner (call finish()); true otherwise.
  bool step();
  // Graceful shutdown after start() and steps (flush, commit, leave the group)
  // or the fatal path's clean-up. Returns run()'s exit code. Once only.
  int finish();

  // The partitions this instance owns now (empty before the group's first
  // assignment, and before start()).
  std::vector<TopicPartition> assignment() const;

  const RunnerCounters& counters() const { return counters_; }
  // The metrics endpoint's port once run() has started it (0 when off).
  int metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }
  // The Prometheus text, as the endpoint serves it.
  std::string render_metrics();

 private:
  void create_topics();
  void process_batch(std::vector<Message>& batch);
  void handle(const Message& m, std::vector<OutboxEntry>& out);  // inside a store batch
  std::vector<uint64_t> take_marks();  // inside a store batch
  void flush_marks();
  void dead_letter(const RecordView& r, const std::string& why);
  void send_outbox(const WriteSet& ws);
  void send_row(const OutboxEntry& row, bool relayed);
  void send(std::string_view topic, std::string_view key, std::string_view value, const Headers& headers,
            uint64_t opaque);
  void on_delivery(const DeliveryReport& r);
  void on_rebalance(RebalanceKind kind, const std::vector<TopicPartition>& tps);
  // Commits, for each partition (only those in `only`, when given), the
  // offset after the last handled record whose sends are all acknowledged;
  // with `flush`, waits for every send's report first. Makes the store
  // durable before committing.
  void commit_offsets(const std::vector<TopicPartition>* only, bool flush);
  void fire_timers();
  // At start: every unpublished row of this instance, and other instances'
  // rows older than orphan_grace (by their events' timestamps).
  void relay_backlog();
  // Every relay_interval: failed sends from memory; other instances' rows
  // unpublished for orphan_grace since this instance first saw them.
  void relay();
  void log_stats();

  Service& service_;
  RunnerOptions options_;
  JsonLog& log_;
  PayloadRegistry registry_;
  std::unique_ptr<DurableStore> store_;
  WallClockEnv env_;
  std::unique_ptr<Producer> producer_;
  std::unique_ptr<Consumer> consumer_;
  WriteSet scratch_;

  // A handled record whose offset is not committed yet, and the sends it made
  // (outbox seqs, DLQ opaques): its offset may be committed once every one of
  // them is acknowledged, and every record before it on its partition is too.
  struct Handled {
    Offset next;
    std::vector<uint64_t> sends;
  };
  std::map<TopicPartition, std::deque<Handled>> handled_;
  std::vector<uint64_t>* current_sends_ = nullptr;  // the record being handled
  // Sends without a successful delivery report: opaque -> failed (the relay
  // sends a failed outbox row again).
  std::map<uint64_t, bool> unacked_;
  // The outbox rows among them, by seq: a failed one is sent again from here.
  std::map<uint64_t, OutboxEntry> sending_;
  // Other instances' unpublished rows, by seq, with when this instance's
  // relay first saw each with its current owner: adopted once that is
  // orphan_grace ago.
  struct Stranger {
    std::string owner;  // whose it was when first seen: a new owner restarts the grace
    std::chrono::steady_clock::time_point first_seen;
  };
  std::map<uint64_t, Stranger> strangers_;
  std::set<uint64_t> to_mark_;  // delivered outbox rows, marked published with the next batch
  uint64_t next_dlq_opaque_ = 0;  // DLQ sends: opaque with the top bit set
  bool fatal_ = false;
  // Where the step-by-step loop is (start/step/finish), and its schedule.
  enum class Phase { kNew, kFailedToStart, kRunning, kFinished };
  Phase phase_ = Phase::kNew;
  int code_ = 0;
  using TimePoint = std::chrono::steady_clock::time_point;
  TimePoint next_commit_{}, next_relay_{}, next_timers_{}, next_stats_{}, next_metrics_{};
  std::vector<Message> batch_;
  RunnerCounters counters_;
  Histogram handler_seconds_;
  MetricsText metrics_text_;
  std::unique_ptr<MetricsServer> metrics_server_;
};

}  // namespace sagasim::kafka
