// Production's durable store: core/store.h on one SQLite database file per
// service, shared by the service's instances (shared mode), or owned by one
// process (the default, exclusive mode).
//
//   saga::PaymentService payment;
//   PayloadRegistry registry;
//   payment.register_payloads(registry);
//   kafka::SqliteStore store("/var/lib/sagasim/payment-1.db", payment, registry);
//   Transaction txn(store, "payment-1");
//   process_event(payment, env, txn, event);   // one BEGIN IMMEDIATE ... COMMIT
//
// Schema (version 1):
//   meta(name PRIMARY KEY, value)                 schema_version, service
//   records(tbl, key, json, PRIMARY KEY(tbl,key)) Record::to_json, decoded by
//                                                 the owning Service::decode_record
//   inbox(event_id PRIMARY KEY)
//   outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, topic, owner, event, published)
//                                                 event is core/codec.h's wire form;
//                                                 mark_published deletes the row (the
//                                                 event is in Kafka), so the table holds
//                                                 the backlog only. `published` stays for
//                                                 files written before that (rows with 1)
//   timers(key PRIMARY KEY, at_us)                + index (at_us, key)
//
// commit() applies a write set in one BEGIN IMMEDIATE transaction and rolls
// it back on any error (SQLite's or a record's to_json), then rethrows: all
// or nothing. A commit whose inbox id is already present fails too (the id
// was absent when the transaction checked it, so someone else handled it).
//
// Exclusive mode (the default): the connection holds SQLite's EXCLUSIVE lock
// from open to close, so a second store (another process) on the same file
// fails to open with "database is locked" after the busy timeout instead of
// racing. That is what makes the in-memory record cache and the reads outside
// the write transaction (Transaction::get runs before commit) correct.
//
// Shared mode (SqliteStoreOptions::shared): a service's instances are
// separate processes that share one file, because the service's state is not
// partitioned the way Kafka partitions its input (a customer's balance is
// touched by orders on every partition, and a partition that moves to another
// instance at a rebalance must find the records its old owner wrote). Each
// unit of work then runs inside begin_unit():
//
//   SqliteStore::Unit unit = store.begin_unit();   // BEGIN IMMEDIATE
//   Transaction txn(store, "payment-2");
//   process_event(payment, env, txn, event);       // reads, then COMMIT
//   // ~Unit rolls back a unit that committed nothing (a duplicate, an ignored event)
//
// so the inbox check, the reads and the commit happen under one write lock
// and see every other instance's committed work; the record cache lives only
// for the unit. Outside a unit, reads are a consistent but possibly stale
// snapshot (fine for the outbox relay, the timer scan and checks).
//
// Record lifetime: every record get() returns stays alive, held by the
// store, until the next commit(), even if the caller drops its RecordPtr.
// Transaction::get_as (core/service.h) returns a raw `const T*` into the
// record and drops the RecordPtr, and handlers keep that pointer across
// further reads; MemoryStore holds every record anyway, this store must pin
// the ones it decodes. So the cache is not optional, only its size after a
// commit is.
//
// Durability: WAL with synchronous=NORMAL. A commit survives the process
// being killed (the WAL frames are in the OS before commit returns) and the
// file is never corrupted; a power loss or kernel crash may roll back the
// latest commits. make_durable() is the barrier against that: one fsync for
// everything committed so far, for a runtime to call before it commits
// consumer offsets (group commit). FULL would fsync every commit, ~5 ms on
// this project's machines: 200 commits/s, ten times too slow.
//
// Errors: an unopenable, non-database, locked or foreign file is an
// InputError naming the path; a failure while running is a
// std::runtime_error with the path and SQLite's message; a stored record or
// outbox event that does not decode is an InputError naming the path, the
// table and key (or outbox seq) and the JSON pointer.
//
// Not thread-safe: one thread at a time (the connection is opened NOMUTEX).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/codec.h"
#include "core/service.h"
#include "core/store.h"
#include "kafka/store/durable_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace sagasim::kafka {

struct SqliteStoreOptions {
  // How long opening waits for another connection's lock before failing.
  int busy_timeout_ms = 5000;
  // Decoded records (and known-absent keys) kept in memory. A commit that
  // finds more than this drops them all. Between two commits nothing is
  // dropped: see "Record lifetime" above.
  size_t cache_records_max = 65536;
  // WAL pages after which a commit also checkpoints (see sqlite_store.cc).
  int wal_autocheckpoint_pages = 10000;
  // Several processes on one file, each unit of work under begin_unit().
  bool shared = false;
};

class SqliteStore final : public DurableStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens `path`, creating the file and the schema if needed. `service`
  // decodes records and must outlive the store; `registry` decodes outbox
  // events (an unregistered type stays a JsonPayload).
  SqliteStore(std::string path, const Service& service, PayloadRegistry registry,
              SqliteStoreOptions options = {});
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  RecordPtr get(std::string_view table, std::string_view key) const override;
  bool inbox_contains(std::string_view event_id) const override;
  void commit(WriteSet& ws) override;
  std::vector<OutboxEntry> unpublished(std::string_view owner) const override;
  void mark_published(uint64_t seq) override;
  std::optional<Time> next_timer() const override;
  std::vector<std::string> due_timers(Time now) const override;
  void scan(std::string_view table,
            const std::function<void(const std::string&, const RecordPtr&)>& fn) const override;

  // Makes every committed transaction survive a power loss too (a WAL
  // checkpoint: fsync of the WAL, then of the database file). In shared mode
  // another instance's checkpoint may be running; then this one is skipped.
  void make_durable() override;

  // A write transaction for one unit of work (shared mode; allowed in
  // exclusive mode too): DurableStore::Unit.
  Unit begin_unit() override;
  bool in_unit() const { return in_unit_; }

  // Group commit: several units of work in one SQLite transaction
  // (DurableStore::Batch).
  Batch begin_batch() override;
  bool in_batch() const { return in_batch_; }

  // Outbox rows of every instance not yet marked published (the backlog).
  int64_t unpublished_count() const override;

  std::vector<OutboxKey> unpublished_keys() const override;
  // One outbox row, decoded; nullopt if it is published or does not exist.
  std::optional<OutboxEntry> unpublished_row(uint64_t seq) const override;
  bool claim(uint64_t seq, std::string_view from, std::string_view to) override;

  // A value of the meta table (schema_version, service, opens, and whatever
  // initialize_once wrote), or nullopt.
  std::optional<std::string> meta(std::string_view name) const override;

  // Runs `fill` and commits what it wrote, together with `meta` rows and the
  // row (`marker`, "done"), unless `marker` is in the meta table already: the
  // opening state of a store, written exactly once however many instances
  // start at the same time. Returns whether this call wrote it.
  bool initialize_once(std::string_view marker, const std::function<void(Transaction&)>& fill,
                       const std::vector<std::pair<std::string, std::string>>& meta) override;

  // The service an existing store file belongs to, read without creating or
  // changing anything. InputError naming the path for a missing file or one
  // that is not a sagasim store.
  static std::string service_of(const std::string& path);

  const std::string& path() const override { return path_; }
  // "wal" once open; the file header says so too (bytes 18 and 19 are 2).
  std::string journal_mode() const;

 private:
  struct DbCloser {
    void operator()(sqlite3* db) const;
  };
  struct StmtFinalizer {
    void operator()(sqlite3_stmt* stmt) const;
  };
  using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
  using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

  void open();
  void create_schema();
  void prepare_statements();
  StmtPtr prepare(const char* sql) const;
  void exec(const char* sql, const char* doing) const;
  std::string journal_mode_set(const char* sql) const;
  [[noreturn]] void fail(int rc, const std::string& doing) const;
  void rollback() noexcept;
  RecordPtr decode(std::string_view table, std::string_view key, std::string_view text) const;
  std::vector<OutboxEntry> read_outbox(sqlite3_stmt* stmt) const;
  void begin_write();
  void apply(WriteSet& ws);  // inside begin_write()
  void end_unit() noexcept override;
  void end_batch(bool commit) override;

  static std::string cache_key(std::string_view table, std::string_view key);

  std::string path_;
  const Service& service_;
  PayloadRegistry registry_;
  SqliteStoreOptions options_;
  bool opening_ = false;  // errors while opening are the user's input (InputError)
  bool in_unit_ = false;  // a begin_unit() transaction is open
  bool in_batch_ = false;  // a begin_batch() transaction is open

  DbPtr db_;  // declared before the statements: destroyed after them
  StmtPtr begin_, commit_, rollback_;
  StmtPtr get_record_, put_record_, delete_record_, scan_records_;
  StmtPtr inbox_contains_, inbox_insert_;
  StmtPtr outbox_insert_, outbox_all_, outbox_of_owner_, outbox_keys_, outbox_row_, outbox_mark_, outbox_claim_;
  StmtPtr timer_set_, timer_cancel_, timer_next_, timer_due_;

  // "table\0key" -> the committed record, or null for a key known absent.
  mutable std::unordered_map<std::string, RecordPtr> cache_;
};

}  // namespace sagasim::kafka
