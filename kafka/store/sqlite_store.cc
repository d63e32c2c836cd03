#include "kafka/store/sqlite_store.h"

#include <filesystem>
#include <stdexcept>

#include "core/service.h"

#include <fmt/format.h>
#include <sqlite3.h>

namespace sagasim::kafka {

namespace {

// Every statement that writes the schema, in one string for sqlite3_exec.
// WITHOUT ROWID: the tables are looked up by their text primary keys only.
// The outbox keeps its rowid, which AUTOINCREMENT makes the never-reused,
// increasing sequence number, even once published rows are deleted; its
// partial index finds the unpublished rows without reading the published
// ones an older build left (it marked them instead of deleting them). (at_us, key) orders due timers with
// ties by key, as the contract says.
constexpr const char* kSchemaSql = R"sql(
CREATE TABLE records(tbl TEXT NOT NULL, key TEXT NOT NULL, json TEXT NOT NULL,
                     PRIMARY KEY(tbl, key)) WITHOUT ROWID;
CREATE TABLE inbox(event_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, owner TEXT NOT NULL,
                    event TEXT NOT NULL, published INTEGER NOT NULL DEFAULT 0);
CREATE INDEX outbox_unpublished ON outbox(seq) WHERE published = 0;
CREATE TABLE timers(key TEXT PRIMARY KEY, at_us INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX timers_by_time ON timers(at_us, key);
)sql";

// Resets a cached statement when its use ends, however it ends: a statement
// left half stepped would keep its read snapshot (and SQLite's WAL) pinned.
class Use {
 public:
  explicit Use(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Use() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  Use& text(int index, std::string_view s) {
    // A null pointer would bind SQL NULL: an empty key must stay ''.
    sqlite3_bind_text64(stmt_, index, s.data() ? s.data() : "", s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
  }
  Use& integer(int index, int64_t v) {
    sqlite3_bind_int64(stmt_, index, v);
    return *this;
  }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

std::string_view column_text(sqlite3_stmt* stmt, int column) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt, column))) : std::string_view();
}

}  // namespace

void SqliteStore::DbCloser::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void SqliteStore::StmtFinalizer::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

SqliteStore::SqliteStore(std::string path, const Service& service, PayloadRegistry registry,
                         SqliteStoreOptions options)
    : path_(std::move(path)), service_(service), registry_(std::move(registry)), options_(options) {
  opening_ = true;
  open();
  create_schema();
  prepare_statements();
  opening_ = false;
}

SqliteStore::~SqliteStore() = default;

void SqliteStore::fail(int rc, const std::string& doing) const {
  std::string what = fmt::format("{}: {} (SQLite error {})", doing,
                                 db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc), rc);
  if ((rc & 0xff) == SQLITE_BUSY)
    what += "; another process (a second instance on the same file?) holds the database";
  // While opening, the file is the user's input (--db): a wrong path or a
  // file that is not ours is their mistake, reported as such.
  if (opening_) throw InputError(path_, "", "cannot open the store: " + what);
  throw std::runtime_error(path_ + ": " + what);
}

void SqliteStore::open() {
  if (path_.empty()) throw InputError("", "", "the store needs a database file path, got an empty one");
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path_.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_.reset(raw);  // closed even when opening failed
  if (rc != SQLITE_OK) {
    std::string hint;
    const std::filesystem::path p(path_);
    std::error_code ec;
    const std::filesystem::path dir = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
    if (!std::filesystem::is_directory(dir, ec)) hint = fmt::format("; the directory {} does not exist", dir.string());
    else if (std::filesystem::is_directory(p, ec)) hint = "; it is a directory";
    throw InputError(path_, "", fmt::format("cannot open the store: {} (SQLite error {}){}",
                                            raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc), rc, hint));
  }
  sqlite3_extended_result_codes(db_.get(), 1);
  sqlite3_busy_timeout(db_.get(), options_.busy_timeout_ms);
  if (sqlite3_db_readonly(db_.get(), "main") == 1)
    throw InputError(path_, "", "cannot open the store: the file is read-only");

  // Exclusive mode: one writer per file, enforced: the lock taken by the
  // first write below is kept until close. Set before WAL is entered, it also
  // keeps the WAL index in this process's memory (no -shm file). Shared mode
  // uses the -shm file, so the file must be on a local file system.
  if (!options_.shared) exec("PRAGMA locking_mode=EXCLUSIVE", "setting the locking mode");
  // The first statement that reads the file: a non-database fails here.
  if (const std::string mode = journal_mode_set("PRAGMA journal_mode=WAL"); mode != "wal")
    throw InputError(path_, "", fmt::format("cannot open the store: SQLite cannot use WAL here (journal mode "
                                            "stays '{}'); use a file on a local file system",
                                            mode));
  // See the header: NORMAL survives a killed process; make_durable() covers
  // power loss in batches, where FULL would fsync every single commit.
  exec("PRAGMA synchronous=NORMAL", "setting synchronous=NORMAL");
  // Each checkpoint costs two fsyncs (~10 ms on this project's machines) and
  // runs inside the commit that crosses the threshold: SQLite's default of
  // 1000 pages made them a third of the time of a payment event (measured:
  // 2,500 vs 3,900 events/s with 10,000 pages). Recovery on open reads at
  // most that much WAL (40 MB).
  if (const int rc = sqlite3_wal_autocheckpoint(db_.get(), options_.wal_autocheckpoint_pages); rc != SQLITE_OK)
    fail(rc, "setting the WAL checkpoint threshold");
}

std::string SqliteStore::service_of(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw InputError(path, "", "no such store file");
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  DbPtr db(raw);
  sqlite3_stmt* stmt = nullptr;
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(raw, 5000);
    rc = sqlite3_prepare_v2(raw, "SELECT value FROM meta WHERE name = 'service'", -1, &stmt, nullptr);
  }
  StmtPtr owned(stmt);
  if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) return std::string(column_text(stmt, 0));
  throw InputError(path, "", fmt::format("not a sagasim store: {}", raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
}

std::string SqliteStore::journal_mode_set(const char* sql) const {
  StmtPtr stmt = prepare(sql);
  const int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) fail(rc, "setting the journal mode");
  return std::string(column_text(stmt.get(), 0));
}

std::string SqliteStore::journal_mode() const { return journal_mode_set("PRAGMA journal_mode"); }

void SqliteStore::create_schema() {
  exec("BEGIN IMMEDIATE", "starting the schema transaction");
  try {
    auto count = [&](const char* sql) {
      StmtPtr stmt = prepare(sql);
      const int rc = sqlite3_step(stmt.get());
      if (rc != SQLITE_ROW) fail(rc, "reading the schema");
      return sqlite3_column_int64(stmt.get(), 0);
    };
    if (count("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'") == 0) {
      if (count("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'") != 0)
        throw InputError(path_, "", "cannot open the store: the file is a SQLite database, but not a sagasim store "
                                    "(it has tables and no meta table)");
      exec(kSchemaSql, "creating the schema");
      exec("CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID", "creating the schema");
      StmtPtr insert = prepare("INSERT INTO meta(name, value) VALUES(?1, ?2)");
      for (const auto& [name, value] : {std::pair<std::string, std::string>{"schema_version", std::to_string(kSchemaVersion)},
                                        {"service", std::string(service_.name())},
                                        {"opens", "0"}}) {
        Use use(insert.get());
        use.text(1, name).text(2, value);
        if (const int rc = sqlite3_step(insert.get()); rc != SQLITE_DONE) fail(rc, "writing the meta table");
      }
    } else {
      const std::string version = meta("schema_version").value_or("(none)");
      if (version != std::to_string(kSchemaVersion))
        throw InputError(path_, "", fmt::format("cannot open the store: its schema version is {}; this build reads "
                                                "version {}",
                                                version, kSchemaVersion));
      const std::string owner = meta("service").value_or("(none)");
      if (owner != service_.name())
        throw InputError(path_, "", fmt::format("cannot open the store: it belongs to the {} service, not to {}",
                                                owner, service_.name()));
    }
    // Also the write that takes the exclusive lock for this connection's life.
    exec("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE name = 'opens'", "counting the open");
    exec("COMMIT", "committing the schema");
  } catch (...) {
    rollback();
    throw;
  }
}

SqliteStore::StmtPtr SqliteStore::prepare(const char* sql) const {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) fail(rc, fmt::format("preparing `{}`", sql));
  return stmt;
}

void SqliteStore::exec(const char* sql, const char* doing) const {
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(rc, doing);
}

void SqliteStore::prepare_statements() {
  begin_ = prepare("BEGIN IMMEDIATE");
  commit_ = prepare("COMMIT");
  rollback_ = prepare("ROLLBACK");
  get_record_ = prepare("SELECT json FROM records WHERE tbl = ?1 AND key = ?2");
  put_record_ = prepare(
      "INSERT INTO records(tbl, key, json) VALUES(?1, ?2, ?3) "
      "ON CONFLICT(tbl, key) DO UPDATE SET json = excluded.json");
  delete_record_ = prepare("DELETE FROM records WHERE tbl = ?1 AND key = ?2");
  scan_records_ = prepare("SELECT key, json FROM records WHERE tbl = ?1 ORDER BY key");
  inbox_contains_ = prepare("SELECT 1 FROM inbox WHERE event_id = ?1");
  inbox_insert_ = prepare("INSERT INTO inbox(event_id) VALUES(?1)");
  outbox_insert_ = prepare("INSERT INTO outbox(topic, owner, event) VALUES(?1, ?2, ?3)");
  outbox_all_ = prepare("SELECT seq, topic, owner, event FROM outbox WHERE published = 0 ORDER BY seq");
  outbox_of_owner_ =
      prepare("SELECT seq, topic, owner, event FROM outbox WHERE published = 0 AND owner = ?1 ORDER BY seq");
  outbox_keys_ = prepare("SELECT seq, owner FROM outbox WHERE published = 0 ORDER BY seq");
  outbox_row_ = prepare("SELECT seq, topic, owner, event FROM outbox WHERE published = 0 AND seq = ?1");
  outbox_claim_ = prepare("UPDATE outbox SET owner = ?1 WHERE seq = ?2 AND owner = ?3 AND published = 0");
  outbox_mark_ = prepare("DELETE FROM outbox WHERE seq = ?1");  // the event is in Kafka: the table keeps the backlog only
  timer_set_ = prepare(
      "INSERT INTO timers(key, at_us) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET at_us = excluded.at_us");
  timer_cancel_ = prepare("DELETE FROM timers WHERE key = ?1");
  timer_next_ = prepare("SELECT at_us FROM timers ORDER BY at_us LIMIT 1");
  timer_due_ = prepare("SELECT key FROM timers WHERE at_us <= ?1 ORDER BY at_us, key");
}

void SqliteStore::rollback() noexcept {
  // A failed statement may already have ended the transaction (SQLite rolls
  // back by itself on some errors): roll back only what is still open.
  if (sqlite3_get_autocommit(db_.get())) return;
  if (rollback_) {
    Use use(rollback_.get());
    sqlite3_step(rollback_.get());
  } else {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

// ---- records --------------------------------------------------------------

std::string SqliteStore::cache_key(std::string_view table, std::string_view key) {
  std::string k;
  k.reserve(table.size() + 1 + key.size());
  k.append(table).push_back('\0');  // table names hold no NUL: unambiguous
  k.append(key);
  return k;
}


RecordPtr SqliteStore::decode(std::string_view table, std::string_view key, std::string_view text) const {
  auto where = [&] { return fmt::format("{} table {} key '{}'", path_, table, key); };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(where(), "", fmt::format("the stored record is not valid JSON (byte {}): {}", e.byte, e.what()));
  } catch (const nlohmann::json::out_of_range& e) {  // a number too big for a double (out_of_range.406)
    throw InputError(where(), "", fmt::format("the stored record is not valid JSON: {}", e.what()));
  }
  try {
    RecordPtr r = service_.decode_record(table, j);
    if (!r) throw InputError(where(), "", "the service decoded the record as nothing");
    return r;
  } catch (const InputError& e) {
    if (e.where().rfind(path_, 0) == 0) throw;  // ours already
    throw InputError(where(), e.path(), e.detail());
  } catch (const nlohmann::json::exception& e) {  // a decoder that let one through
    throw InputError(where(), "", e.what());
  }
}

RecordPtr SqliteStore::get(std::string_view table, std::string_view key) const {
  std::string ck = cache_key(table, key);
  if (auto it = cache_.find(ck); it != cache_.end()) return it->second;
  RecordPtr record;
  {
    Use use(get_record_.get());
    use.text(1, table).text(2, key);
    const int rc = sqlite3_step(get_record_.get());
    if (rc == SQLITE_ROW) record = decode(table, key, column_text(get_record_.get(), 0));
    else if (rc != SQLITE_DONE) fail(rc, fmt::format("reading table {} key '{}'", table, key));
  }
  // Kept (never evicted here) until the next commit: Transaction::get_as
  // hands the handler a raw pointer into this record.
  cache_.emplace(std::move(ck), record);
  return record;
}

void SqliteStore::scan(std::string_view table,
                       const std::function<void(const std::string&, const RecordPtr&)>& fn) const {
  // Read everything first: `fn` may use this store (and these statements).
  std::vector<std::pair<std::string, std::string>> rows;
  {
    Use use(scan_records_.get());
    use.text(1, table);
    int rc;
    while ((rc = sqlite3_step(scan_records_.get())) == SQLITE_ROW)
      rows.emplace_back(column_text(scan_records_.get(), 0), column_text(scan_records_.get(), 1));
    if (rc != SQLITE_DONE) fail(rc, fmt::format("scanning table {}", table));
  }
  for (const auto& [key, text] : rows) fn(key, decode(table, key, text));
}

bool SqliteStore::inbox_contains(std::string_view event_id) const {
  Use use(inbox_contains_.get());
  use.text(1, event_id);
  const int rc = sqlite3_step(inbox_contains_.get());
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail(rc, fmt::format("reading the inbox for '{}'", event_id));
  return rc == SQLITE_ROW;
}

// ---- commit ---------------------------------------------------------------

void SqliteStore::begin_write() {
  Use use(begin_.get());
  if (const int rc = sqlite3_step(begin_.get()); rc != SQLITE_DONE) fail(rc, "BEGIN IMMEDIATE");
}

SqliteStore::Batch SqliteStore::begin_batch() {
  if (in_unit_ || in_batch_) throw InternalError(path_ + ": begin_batch inside a unit or batch");
  begin_write();
  in_batch_ = true;
  if (options_.shared) cache_.clear();
  return Batch(*this);
}

void SqliteStore::end_batch(bool commit) {
  if (!in_batch_) return;
  in_batch_ = false;
  if (!commit) {
    rollback();
    cache_.clear();  // it learned values that were never committed
    return;
  }
  Use use(commit_.get());
  if (const int rc = sqlite3_step(commit_.get()); rc != SQLITE_DONE) {
    rollback();
    cache_.clear();
    fail(rc, "COMMIT");
  }
}

SqliteStore::Unit SqliteStore::begin_unit() {
  if (in_unit_ || in_batch_) throw InternalError(path_ + ": begin_unit inside a unit or batch (they do not nest)");
  begin_write();
  in_unit_ = true;
  // Other instances may have committed since the last unit: what the cache
  // holds is only known to be current while this lock is held.
  if (options_.shared) cache_.clear();
  return Unit(*this);
}

void SqliteStore::end_unit() noexcept {
  if (!in_unit_) return;
  in_unit_ = false;
  rollback();  // nothing was committed in it; releases the lock
}

void SqliteStore::commit(WriteSet& ws) {
  if (ws.empty()) return;  // inside a unit: the unit's end releases the lock
  if (in_batch_) {
    // Applied in the batch's transaction; a failure leaves it to the batch
    // (the caller's error ends the batch, which rolls back).
    apply(ws);
    for (const Put& p : ws.puts) cache_.insert_or_assign(cache_key(p.table, p.key), p.record);
    return;
  }
  if (!in_unit_) begin_write();
  in_unit_ = false;  // this commit ends the unit's transaction, whatever happens
  try {
    apply(ws);
    Use use(commit_.get());
    if (const int rc = sqlite3_step(commit_.get()); rc != SQLITE_DONE) fail(rc, "COMMIT");
  } catch (...) {
    rollback();
    for (OutboxEntry& o : ws.outbox) o.seq = 0;  // those numbers were never committed
    throw;
  }
  // Committed: the transaction that read the cached records is over, so this
  // is where the cache may shrink; then it learns the new values without
  // decoding anything.
  if (cache_.size() + ws.puts.size() > options_.cache_records_max) cache_.clear();
  for (const Put& p : ws.puts) cache_.insert_or_assign(cache_key(p.table, p.key), p.record);
}

void SqliteStore::apply(WriteSet& ws) {
  {
    // `doing` words the failure: formatted only if there is one (not per row).
    auto done = [&](sqlite3_stmt* stmt, auto&& doing) {
      if (const int rc = sqlite3_step(stmt); rc != SQLITE_DONE) fail(rc, doing());
    };
    if (!ws.inbox_event_id.empty()) {
      Use use(inbox_insert_.get());
      use.text(1, ws.inbox_event_id);
      const int rc = sqlite3_step(inbox_insert_.get());
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        throw std::runtime_error(fmt::format("{}: event '{}' is in the inbox already: it was handled since this "
                                             "transaction checked; nothing of this one was committed",
                                             path_, ws.inbox_event_id));
      if (rc != SQLITE_DONE) fail(rc, fmt::format("adding '{}' to the inbox", ws.inbox_event_id));
    }
    for (const Put& p : ws.puts) {
      if (!p.record) {  // MemoryStore's get() answers null for it too
        Use use(delete_record_.get());
        use.text(1, p.table).text(2, p.key);
        done(delete_record_.get(), [&] { return fmt::format("deleting table {} key '{}'", p.table, p.key); });
        continue;
      }
      std::string text;
      try {
        nlohmann::json j;
        p.record->to_json(j);
        text = j.dump();  // strict: invalid UTF-8 is an error, not a silently altered record
      } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(
            fmt::format("{}: cannot store table {} key '{}' as JSON: {}", path_, p.table, p.key, e.what()));
      }
      Use use(put_record_.get());
      use.text(1, p.table).text(2, p.key).text(3, text);
      done(put_record_.get(), [&] { return fmt::format("writing table {} key '{}'", p.table, p.key); });
    }
    for (OutboxEntry& o : ws.outbox) {
      if (!o.event) throw InternalError(fmt::format("{}: outbox row for topic {} has no event", path_, o.topic));
      const std::string text = encode_event(*o.event);
      Use use(outbox_insert_.get());
      use.text(1, o.topic).text(2, o.owner).text(3, text);
      done(outbox_insert_.get(), [&] { return fmt::format("adding event '{}' to the outbox", o.event->event_id); });
      o.seq = static_cast<uint64_t>(sqlite3_last_insert_rowid(db_.get()));
    }
    for (const TimerWrite& t : ws.timers) {
      if (t.at) {
        Use use(timer_set_.get());
        use.text(1, t.key).integer(2, t.at->us);
        done(timer_set_.get(), [&] { return fmt::format("setting timer '{}'", t.key); });
      } else {
        Use use(timer_cancel_.get());
        use.text(1, t.key);
        done(timer_cancel_.get(), [&] { return fmt::format("cancelling timer '{}'", t.key); });
      }
    }
  }
}

int64_t SqliteStore::unpublished_count() const {
  StmtPtr stmt = prepare("SELECT count(*) FROM outbox WHERE published = 0");
  const int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) fail(rc, "counting the outbox backlog");
  return sqlite3_column_int64(stmt.get(), 0);
}

std::optional<std::string> SqliteStore::meta(std::string_view name) const {
  StmtPtr stmt = prepare("SELECT value FROM meta WHERE name = ?1");
  Use use(stmt.get());
  use.text(1, name);
  const int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail(rc, "reading the meta table");
  return std::string(column_text(stmt.get(), 0));
}

bool SqliteStore::initialize_once(std::string_view marker, const std::function<void(Transaction&)>& fill,
                                  const std::vector<std::pair<std::string, std::string>>& meta_rows) {
  Unit unit = begin_unit();
  if (meta(marker)) return false;  // another instance, or an earlier start, did it
  Transaction txn(*this, "setup");
  fill(txn);
  WriteSet& ws = txn.mutable_writes();
  in_unit_ = false;
  try {
    apply(ws);
    StmtPtr insert = prepare("INSERT INTO meta(name, value) VALUES(?1, ?2)");
    auto put_meta = [&](std::string_view name, std::string_view value) {
      Use use(insert.get());
      use.text(1, name).text(2, value);
      if (const int rc = sqlite3_step(insert.get()); rc != SQLITE_DONE) fail(rc, "writing the meta table");
    };
    for (const auto& [name, value] : meta_rows) put_meta(name, value);
    put_meta(marker, "done");
    Use use(commit_.get());
    if (const int rc = sqlite3_step(commit_.get()); rc != SQLITE_DONE) fail(rc, "COMMIT");
  } catch (...) {
    rollback();
    throw;
  }
  cache_.clear();
  return true;
}

// ---- outbox ---------------------------------------------------------------

std::vector<OutboxEntry> SqliteStore::read_outbox(sqlite3_stmt* stmt) const {
  std::vector<OutboxEntry> out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    OutboxEntry o;
    o.seq = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
    o.topic = std::string(column_text(stmt, 1));
    o.owner = std::string(column_text(stmt, 2));
    o.event = std::make_shared<const Event>(
        decode_event(column_text(stmt, 3), &registry_, fmt::format("{} outbox seq {}", path_, o.seq)));
    out.push_back(std::move(o));
  }
  if (rc != SQLITE_DONE) fail(rc, "reading the outbox");
  return out;
}

std::vector<OutboxEntry> SqliteStore::unpublished(std::string_view owner) const {
  if (owner.empty()) {
    Use use(outbox_all_.get());
    return read_outbox(outbox_all_.get());
  }
  Use use(outbox_of_owner_.get());
  use.text(1, owner);
  return read_outbox(outbox_of_owner_.get());
}

std::vector<DurableStore::OutboxKey> SqliteStore::unpublished_keys() const {
  Use use(outbox_keys_.get());
  std::vector<OutboxKey> out;
  int rc;
  while ((rc = sqlite3_step(outbox_keys_.get())) == SQLITE_ROW)
    out.push_back({static_cast<uint64_t>(sqlite3_column_int64(outbox_keys_.get(), 0)),
                   std::string(column_text(outbox_keys_.get(), 1))});
  if (rc != SQLITE_DONE) fail(rc, "reading the outbox");
  return out;
}

std::optional<OutboxEntry> SqliteStore::unpublished_row(uint64_t seq) const {
  Use use(outbox_row_.get());
  use.integer(1, static_cast<int64_t>(seq));
  std::vector<OutboxEntry> rows = read_outbox(outbox_row_.get());
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

bool SqliteStore::claim(uint64_t seq, std::string_view from, std::string_view to) {
  Use use(outbox_claim_.get());
  use.text(1, to).integer(2, static_cast<int64_t>(seq)).text(3, from);
  if (const int rc = sqlite3_step(outbox_claim_.get()); rc != SQLITE_DONE)
    fail(rc, fmt::format("claiming outbox seq {}", seq));
  return sqlite3_changes(db_.get()) == 1;
}

void SqliteStore::mark_published(uint64_t seq) {
  Use use(outbox_mark_.get());
  use.integer(1, static_cast<int64_t>(seq));
  if (const int rc = sqlite3_step(outbox_mark_.get()); rc != SQLITE_DONE)
    fail(rc, fmt::format("marking outbox seq {} published", seq));
}

// ---- timers ---------------------------------------------------------------

std::optional<Time> SqliteStore::next_timer() const {
  Use use(timer_next_.get());
  const int rc = sqlite3_step(timer_next_.get());
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail(rc, "reading the next timer");
  return Time{sqlite3_column_int64(timer_next_.get(), 0)};
}

std::vector<std::string> SqliteStore::due_timers(Time now) const {
  Use use(timer_due_.get());
  use.integer(1, now.us);
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(timer_due_.get())) == SQLITE_ROW) out.emplace_back(column_text(timer_due_.get(), 0));
  if (rc != SQLITE_DONE) fail(rc, "reading due timers");
  return out;
}

// ---- durability -----------------------------------------------------------

void SqliteStore::make_durable() {
  // With synchronous=NORMAL a checkpoint syncs the WAL before copying it into
  // the database file, and the database file after: every commit so far is
  // then on disk. This connection holds the only lock, so PASSIVE completes.
  int log_frames = 0;
  int checkpointed_frames = 0;
  const int rc =
      sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &checkpointed_frames);
  if (options_.shared && (rc & 0xff) == SQLITE_BUSY) return;  // another instance is checkpointing
  if (rc != SQLITE_OK) fail(rc, "checkpointing the WAL");
}

}  // namespace sagasim::kafka
