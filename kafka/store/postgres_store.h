// Production's store on a PostgreSQL server: core/store.h and
// durable_store.h for a service whose instances run on several hosts.
//
//   kafka::PostgresStore store("postgresql://saga@db.internal/shop", payment, registry,
//                              {.application_name = "payment-2"});
//   DurableStore::Batch b = store.begin_batch();   // BEGIN; lock the service's writer row
//   Transaction txn(store, "payment-2");
//   process_event(payment, env, txn, event);       // inbox check, reads, writes
//   b.commit();                                   // COMMIT: state + inbox + outbox at once
//
// Layout: one PostgreSQL schema per service, `sagasim_<service>` by default
// (PostgresStoreOptions::schema), so every service of a deployment can share
// one database (one per deployment: two deployments in one database would
// share their services' schemas). Tables as SQLite's (sqlite_store.h):
//   meta(name PRIMARY KEY, value)            schema_version, service, the opening state's rows
//   records(tbl, key, json, PK(tbl,key))     keys COLLATE "C": scan in byte-wise order
//   inbox(event_id PRIMARY KEY)
//   outbox(seq bigint identity PRIMARY KEY, topic, owner, event)   mark_published deletes
//   timers(key PRIMARY KEY, at_us)           + index (at_us, key)
//
// Concurrency: one writer at a time per service, by a row lock. Every unit,
// batch and standalone commit starts with
//     SELECT value FROM meta WHERE name = 'service' FOR UPDATE
// and holds that lock until it commits or rolls back; reads run at READ
// COMMITTED, each statement on a fresh snapshot taken after the lock was
// granted, so the inbox check and every read see all work committed before
// (a committing transaction is visible before its locks are released). This
// is SQLite's BEGIN IMMEDIATE, across hosts, and was chosen over the others:
//   * per-record locks (SELECT ... FOR UPDATE on each record read, an
//     advisory lock per absent key and per inbox id) let two instances work
//     at once, but a handler reads records in an order only it knows and a
//     batch holds up to 256 events' worth: two batches deadlock in practice,
//     and PostgreSQL's answer (abort one after deadlock_timeout, 1 s) costs
//     more than the waiting it saves;
//   * SERIALIZABLE with retry aborts whole 256-event batches whenever two
//     touch one customer's balance (every few milliseconds under load), and
//     redoing a batch means handing Kafka's records to the handlers again.
// One lock per service gives exactly SQLite's semantics (the conformance
// suite is the same), never deadlocks, never retries, and each batch costs
// one extra round trip. The price: a service's writes are serial, as they
// are with SQLite; instances add availability and spread Kafka's work, not
// database throughput (docs/benchmarks.md has the figures).
//
// Connection loss (a server restart, a dropped TCP connection): the server
// rolls back the open transaction and releases its lock. The store then
// reconnects, with backoff (100 ms doubling to 2 s), for up to
// reconnect_timeout_ms, before any further statement:
//   * a read, a timer scan or a mark_published outside a unit or batch is
//     retried on the new connection (each is idempotent);
//   * inside a unit or batch, or in a standalone commit, it throws
//     StoreUnavailable: the work did not commit, or its COMMIT's fate is
//     unknown; the caller redoes it, and if it had committed, the inbox makes
//     the repeat a duplicate and its outbox rows wait in the table for the
//     relay. Nothing is applied twice, nothing is lost.
// Beyond reconnect_timeout_ms it throws std::runtime_error (fatal).
// Opening is different: a URL libpq refuses or a server that cannot be
// reached when the store opens is the user's input, an InputError.
//
// Durability: a COMMIT returns once the server has flushed it
// (synchronous_commit as the server or URL sets it; on by default), so
// make_durable() has nothing to do.
//
// Errors name path(): the URL without its password, and the schema.
// Not thread-safe: one thread at a time per store (one connection).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/codec.h"
#include "core/service.h"
#include "core/store.h"
#include "kafka/store/durable_store.h"

struct pg_conn;
struct pg_result;

namespace sagasim::kafka {

struct PostgresStoreOptions {
  // The service's schema; empty: "sagasim_" + the service's name.
  std::string schema;
  // Sent to the server (pg_stat_activity shows it): the instance's name.
  std::string application_name = "sagasim";
  // How long a unit waits for another instance's writer lock (lock_timeout).
  int lock_timeout_ms = 30000;
  // After a lost connection, how long to keep trying before failing.
  int reconnect_timeout_ms = 60000;
  // The server ends a session idle inside a transaction this long (an
  // instance stopped while holding the writer lock): the others go on.
  int idle_in_transaction_timeout_ms = 60000;
  // Decoded records kept within one unit or batch, at most; see sqlite_store.h.
  size_t cache_records_max = 65536;
};

class PostgresStore final : public DurableStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Connects to `url` (postgresql://... or postgres://..., anything libpq
  // takes) and creates the schema if needed. InputError for a URL libpq
  // refuses, a server that cannot be reached, or a schema of another
  // service or a newer version.
  PostgresStore(std::string url, const Service& service, PayloadRegistry registry,
                PostgresStoreOptions options = {});
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  RecordPtr get(std::string_view table, std::string_view key) const override;
  bool inbox_contains(std::string_view event_id) const override;
  void commit(WriteSet& ws) override;
  std::vector<OutboxEntry> unpublished(std::string_view owner) const override;
  void mark_published(uint64_t seq) override;
  std::optional<Time> next_timer() const override;
  std::vector<std::string> due_timers(Time now) const override;
  void scan(std::string_view table,
            const std::function<void(const std::string&, const RecordPtr&)>& fn) const override;

  Unit begin_unit() override;
  Batch begin_batch() override;
  bool in_unit() const { return in_unit_; }
  bool in_batch() const { return in_batch_; }
  void make_durable() override {}
  int64_t unpublished_count() const override;
  std::vector<OutboxKey> unpublished_keys() const override;
  std::optional<OutboxEntry> unpublished_row(uint64_t seq) const override;
  bool claim(uint64_t seq, std::string_view from, std::string_view to) override;
  std::optional<std::string> meta(std::string_view name) const override;
  bool initialize_once(std::string_view marker, const std::function<void(Transaction&)>& fill,
                       const std::vector<std::pair<std::string, std::string>>& meta) override;
  const std::string& path() const override { return where_; }
  int reconnections() const override { return connections_ - 1; }

  const std::string& schema() const { return schema_; }
  // The server process of the current connection (0 when disconnected): tests
  // end it with pg_terminate_backend to cut the connection.
  int backend_pid() const;
  // Connections made since the store opened (1 until a connection is lost).
  int connections() const { return connections_; }

  // Whether `db` names a PostgreSQL database (postgresql:// or postgres://)
  // rather than a SQLite file.
  static bool is_url(std::string_view db);
  // `url` without its password (user:***@host, password=***).
  static std::string redacted(std::string_view url);
  // The services with a store in the database `url`, by the schema each
  // lives in: {service, schema}, sorted by schema. InputError if `url` cannot
  // be reached.
  static std::vector<std::pair<std::string, std::string>> services_in(const std::string& url);

 private:
  struct ConnCloser {
    void operator()(pg_conn* c) const;
  };
  struct ResultClearer {
    void operator()(pg_result* r) const;
  };
  using ConnPtr = std::unique_ptr<pg_conn, ConnCloser>;
  using ResultPtr = std::unique_ptr<pg_result, ResultClearer>;
  enum class Stmt : int;

  ConnPtr connect_once(std::string* error) const;
  void connect_first();
  void ensure_connected() const;  // reconnects with backoff, or throws runtime_error
  void prepare_all() const;
  void create_schema();
  // Runs a prepared statement; classifies failures (StoreUnavailable for a
  // lost connection, InputError while opening, runtime_error otherwise).
  ResultPtr run(Stmt stmt, std::initializer_list<std::string_view> params, const std::string& doing) const;
  ResultPtr exec(const std::string& sql, const std::string& doing) const;
  ResultPtr check(ResultPtr r, const std::string& doing) const;
  // Runs `f` (reads, or idempotent writes outside a transaction), again on a
  // new connection if the connection is lost, unless inside a transaction.
  template <class F>
  auto retrying(F&& f) const -> decltype(f());
  void begin_write();  // BEGIN + the writer lock, retried across a reconnect
  void rollback() noexcept;
  void apply(WriteSet& ws);
  void end_unit() noexcept override;
  void end_batch(bool commit) override;
  RecordPtr decode(std::string_view table, std::string_view key, std::string_view text) const;
  std::vector<OutboxEntry> read_outbox(const pg_result* r) const;
  static std::string cache_key(std::string_view table, std::string_view key);

  std::string url_;
  std::string where_;  // redacted url + schema
  const Service& service_;
  PayloadRegistry registry_;
  PostgresStoreOptions options_;
  std::string schema_;
  bool opening_ = false;
  bool in_unit_ = false;
  bool in_batch_ = false;
  mutable bool in_txn_ = false;  // a transaction is open on the connection
  mutable ConnPtr conn_;         // null after a lost connection, until reconnected
  mutable int connections_ = 0;
  // "table\0key" -> the record, or null for a key known absent. Used for
  // lookups only inside a unit or batch (under the writer lock); outside one
  // it only keeps what get() returned alive until the next commit.
  mutable std::unordered_map<std::string, RecordPtr> cache_;
};

}  // namespace sagasim::kafka
