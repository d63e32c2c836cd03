#include "kafka/store/postgres_store.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <libpq-fe.h>

#include "core/error.h"

namespace sagasim::kafka {

// Every statement the store runs, prepared on each new connection.
enum class PostgresStore::Stmt : int {
  kBegin,
  kLock,
  kCommit,
  kRollback,
  kGet,
  kPut,
  kDelete,
  kScan,
  kInboxContains,
  kInboxInsert,
  kOutboxInsert,
  kOutboxAll,
  kOutboxOfOwner,
  kOutboxKeys,
  kOutboxRow,
  kOutboxCount,
  kOutboxMark,
  kTimerSet,
  kTimerCancel,
  kTimerNext,
  kTimerDue,
  kMetaGet,
  kMetaPut,
  kOutboxClaim,
  kCount
};

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kStatements = 24;  // PostgresStore::Stmt::kCount, checked in prepare_all

// The SQL of each Stmt, `{s}` the quoted schema. BEGIN and the writer lock
// are separate statements: a prepared statement cannot hold two.
std::vector<std::string> statement_sql(const std::string& s) {
  std::vector<std::string> out(kStatements);
  auto set = [&](int i, std::string sql) { out[static_cast<size_t>(i)] = std::move(sql); };
  set(0, "BEGIN ISOLATION LEVEL READ COMMITTED");
  set(1, fmt::format("SELECT value FROM {}.meta WHERE name = 'service' FOR UPDATE", s));
  set(2, "COMMIT");
  set(3, "ROLLBACK");
  set(4, fmt::format("SELECT json FROM {}.records WHERE tbl = $1 AND key = $2", s));
  set(5, fmt::format("INSERT INTO {}.records(tbl, key, json) VALUES($1, $2, $3) "
                     "ON CONFLICT(tbl, key) DO UPDATE SET json = excluded.json",
                     s));
  set(6, fmt::format("DELETE FROM {}.records WHERE tbl = $1 AND key = $2", s));
  set(7, fmt::format("SELECT key, json FROM {}.records WHERE tbl = $1 ORDER BY key", s));
  set(8, fmt::format("SELECT 1 FROM {}.inbox WHERE event_id = $1", s));
  set(9, fmt::format("INSERT INTO {}.inbox(event_id) VALUES($1) ON CONFLICT DO NOTHING", s));
  set(10, fmt::format("INSERT INTO {}.outbox(topic, owner, event) VALUES($1, $2, $3) RETURNING seq", s));
  set(11, fmt::format("SELECT seq, topic, owner, event FROM {}.outbox ORDER BY seq", s));
  set(12, fmt::format("SELECT seq, topic, owner, event FROM {}.outbox WHERE owner = $1 ORDER BY seq", s));
  set(13, fmt::format("SELECT seq, owner FROM {}.outbox ORDER BY seq", s));
  set(14, fmt::format("SELECT seq, topic, owner, event FROM {}.outbox WHERE seq = $1", s));
  set(15, fmt::format("SELECT count(*) FROM {}.outbox", s));
  set(16, fmt::format("DELETE FROM {}.outbox WHERE seq = $1", s));
  set(17, fmt::format("INSERT INTO {}.timers(key, at_us) VALUES($1, $2) "
                      "ON CONFLICT(key) DO UPDATE SET at_us = excluded.at_us",
                      s));
  set(18, fmt::format("DELETE FROM {}.timers WHERE key = $1", s));
  set(19, fmt::format("SELECT at_us FROM {}.timers ORDER BY at_us LIMIT 1", s));
  set(20, fmt::format("SELECT key FROM {}.timers WHERE at_us <= $1 ORDER BY at_us, key", s));
  set(21, fmt::format("SELECT value FROM {}.meta WHERE name = $1", s));
  set(22, fmt::format("INSERT INTO {}.meta(name, value) VALUES($1, $2)", s));
  set(23, fmt::format("UPDATE {}.outbox SET owner = $1 WHERE seq = $2 AND owner = $3", s));
  return out;
}

// The tables, as sqlite_store.cc's. Keys are COLLATE "C" so that ORDER BY
// key is byte-wise, whatever the database's collation. The outbox has no
// `published` column: a published row is deleted.
std::string schema_sql(const std::string& s) {
  return fmt::format(R"sql(
CREATE TABLE {0}.records(tbl TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL, json TEXT NOT NULL,
                         PRIMARY KEY(tbl, key));
CREATE TABLE {0}.inbox(event_id TEXT COLLATE "C" PRIMARY KEY);
CREATE TABLE {0}.outbox(seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, topic TEXT NOT NULL,
                        owner TEXT NOT NULL, event TEXT NOT NULL);
CREATE TABLE {0}.timers(key TEXT COLLATE "C" PRIMARY KEY, at_us BIGINT NOT NULL);
CREATE INDEX timers_by_time ON {0}.timers(at_us, key);
)sql",
                     s);
}

// SQLSTATEs that mean the connection, not the statement, failed: class 08
// (connection exception), 57P01-57P03 (the server shutting down or starting).
bool connection_lost(const char* sqlstate) {
  if (!sqlstate) return false;
  return std::strncmp(sqlstate, "08", 2) == 0 || std::strcmp(sqlstate, "57P01") == 0 ||
         std::strcmp(sqlstate, "57P02") == 0 || std::strcmp(sqlstate, "57P03") == 0;
}

std::string trimmed(const char* message) {
  std::string m = message ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

std::string schema_for_name(std::string_view name) {
  std::string s = "sagasim_";
  for (char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    s.push_back(std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '_');
  }
  return s;
}

std::string quote_identifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string_view value_of(const pg_result* r, int row, int column) {
  return std::string_view(PQgetvalue(r, row, column), static_cast<size_t>(PQgetlength(r, row, column)));
}

}  // namespace

void PostgresStore::ConnCloser::operator()(pg_conn* c) const { PQfinish(c); }
void PostgresStore::ResultClearer::operator()(pg_result* r) const { PQclear(r); }

bool PostgresStore::is_url(std::string_view db) {
  return db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0;
}

std::string PostgresStore::redacted(std::string_view url) {
  std::string out(url);
  // postgresql://user:secret@host -> postgresql://user:***@host
  if (const size_t scheme = out.find("://"); scheme != std::string::npos) {
    const size_t start = scheme + 3;
    const size_t at = out.find('@', start);
    const size_t slash = out.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // ?password=secret&... -> ?password=***&...
  for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    const size_t v = p + std::strlen("password=");
    const size_t end = out.find_first_of("& ", v);
    out.replace(v, (end == std::string::npos ? out.size() : end) - v, "***");
  }
  return out;
}

PostgresStore::PostgresStore(std::string url, const Service& service, PayloadRegistry registry,
                             PostgresStoreOptions options)
    : url_(std::move(url)), service_(service), registry_(std::move(registry)), options_(std::move(options)) {
  schema_ = options_.schema.empty() ? schema_for_name(service_.name()) : options_.schema;
  where_ = fmt::format("{} (schema {})", redacted(url_), schema_);
  opening_ = true;
  connect_first();
  create_schema();  // and prepares the statements
  opening_ = false;
}

PostgresStore::~PostgresStore() = default;

PostgresStore::ConnPtr PostgresStore::connect_once(std::string* error) const {
  // The defaults come first: whatever the URL says overrides them.
  const std::string lock_timeout = std::to_string(options_.lock_timeout_ms);
  const std::string idle = std::to_string(options_.idle_in_transaction_timeout_ms);
  const std::string opts =
      fmt::format("-c lock_timeout={} -c idle_in_transaction_session_timeout={}", lock_timeout, idle);
  const char* keys[] = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "application_name", "options", "client_encoding", "dbname", nullptr};
  const char* values[] = {"10", "1", "10", "5", "3", options_.application_name.c_str(), opts.c_str(), "UTF8",
                          url_.c_str(), nullptr};
  ConnPtr c(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (!c) {
    *error = "out of memory";
    return nullptr;
  }
  if (PQstatus(c.get()) != CONNECTION_OK) {
    *error = trimmed(PQerrorMessage(c.get()));
    return nullptr;
  }
  // The server's NOTICEs (e.g. "relation exists, skipping") are not ours to print.
  PQsetNoticeProcessor(c.get(), [](void*, const char*) {}, nullptr);
  ++connections_;
  return c;
}

void PostgresStore::connect_first() {
  if (!is_url(url_))
    throw InputError(url_, "", "not a PostgreSQL URL: expected postgresql://[user[:password]@]host[:port]/database");
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url_.c_str(), &err);
  if (!parsed) {
    std::string why = err ? trimmed(err) : "out of memory";
    PQfreemem(err);
    throw InputError(redacted(url_), "", "not a valid PostgreSQL URL: " + why);
  }
  PQconninfoFree(parsed);
  std::string error;
  conn_ = connect_once(&error);
  // A server that answers but is starting up, shutting down or recovering (a
  // restart under way: SQLSTATE 57P03) will take connections shortly: an
  // instance started in that moment waits for it, as a running one does
  // (ensure_connected). Anything else (a wrong URL, a refused port, bad
  // credentials) is the user's to fix at once.
  auto restarting = [](const std::string& e) {
    return e.find("the database system is starting up") != std::string::npos ||
           e.find("the database system is shutting down") != std::string::npos ||
           e.find("the database system is in recovery mode") != std::string::npos ||
           e.find("the database system is not yet accepting connections") != std::string::npos;
  };
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.reconnect_timeout_ms);
  auto backoff = std::chrono::milliseconds(100);
  while (!conn_ && restarting(error) && Clock::now() + backoff <= deadline) {
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    conn_ = connect_once(&error);
  }
  if (!conn_) throw InputError(redacted(url_), "", "cannot connect to PostgreSQL: " + error);
}

void PostgresStore::ensure_connected() const {
  if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) return;
  conn_.reset();
  in_txn_ = false;
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.reconnect_timeout_ms);
  auto backoff = std::chrono::milliseconds(100);
  std::string error;
  for (;;) {
    if (ConnPtr c = connect_once(&error)) {
      conn_ = std::move(c);
      try {
        prepare_all();
        return;
      } catch (const StoreUnavailable& e) {
        error = e.what();
        conn_.reset();
      }
    }
    if (Clock::now() + backoff > deadline)
      throw std::runtime_error(fmt::format("{}: lost the connection to PostgreSQL and could not reconnect within {} ms: {}",
                                           where_, options_.reconnect_timeout_ms, error));
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

void PostgresStore::prepare_all() const {
  static_assert(static_cast<int>(Stmt::kCount) == kStatements);
  const std::vector<std::string> sql = statement_sql(quote_identifier(schema_));
  for (int i = 0; i < static_cast<int>(Stmt::kCount); ++i) {
    const std::string name = "sagasim_" + std::to_string(i);
    check(ResultPtr(PQprepare(conn_.get(), name.c_str(), sql[static_cast<size_t>(i)].c_str(), 0, nullptr)),
          fmt::format("preparing `{}`", sql[static_cast<size_t>(i)]));
  }
}

PostgresStore::ResultPtr PostgresStore::check(ResultPtr r, const std::string& doing) const {
  const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
  const char* sqlstate = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
  const std::string message = trimmed(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_.get()));
  const std::string what = fmt::format("{}: {}{}", doing, message.empty() ? trimmed(PQerrorMessage(conn_.get())) : message,
                                       sqlstate ? fmt::format(" (SQLSTATE {})", sqlstate) : "");
  if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK || connection_lost(sqlstate)) {
    // The server rolled back whatever was open. Reconnect before the next statement.
    conn_.reset();
    in_txn_ = false;
    if (opening_) throw InputError(where_, "", "cannot open the store: " + what);
    throw StoreUnavailable(fmt::format("{}: the connection to PostgreSQL was lost: {}", where_, what));
  }
  if (opening_) throw InputError(where_, "", "cannot open the store: " + what);
  throw std::runtime_error(where_ + ": " + what);
}

PostgresStore::ResultPtr PostgresStore::run(Stmt stmt, std::initializer_list<std::string_view> params,
                                            const std::string& doing) const {
  if (!conn_) throw StoreUnavailable(where_ + ": not connected to PostgreSQL");
  // libpq takes text parameters as C strings.
  std::vector<std::string> owned;
  owned.reserve(params.size());
  for (std::string_view p : params) {
    if (p.find('\0') != std::string_view::npos)
      throw std::runtime_error(fmt::format("{}: {}: a value with a NUL byte cannot be stored in PostgreSQL", where_, doing));
    owned.emplace_back(p);
  }
  std::vector<const char*> values;
  for (const std::string& p : owned) values.push_back(p.c_str());
  const std::string name = "sagasim_" + std::to_string(static_cast<int>(stmt));
  return check(ResultPtr(PQexecPrepared(conn_.get(), name.c_str(), static_cast<int>(values.size()), values.data(),
                                        nullptr, nullptr, 0)),
               doing);
}

PostgresStore::ResultPtr PostgresStore::exec(const std::string& sql, const std::string& doing) const {
  if (!conn_) throw StoreUnavailable(where_ + ": not connected to PostgreSQL");
  return check(ResultPtr(PQexec(conn_.get(), sql.c_str())), doing);
}

template <class F>
auto PostgresStore::retrying(F&& f) const -> decltype(f()) {
  for (int attempt = 0;; ++attempt) {
    if (!in_txn_) ensure_connected();
    try {
      return f();
    } catch (const StoreUnavailable&) {
      // Inside a transaction the caller must redo its work; outside one the
      // statement is a read or an idempotent write: run it again.
      if (in_unit_ || in_batch_ || attempt >= 5) throw;
    }
  }
}

void PostgresStore::create_schema() {
  const std::string s = quote_identifier(schema_);
  exec("BEGIN", "starting the schema transaction");
  try {
    // Instances starting together must not both create the schema: a
    // transaction-scoped advisory lock on the schema's name orders them.
    const std::string lit_schema = [&] {
      std::string q = "'";
      for (char c : schema_) {
        if (c == '\'') q.push_back('\'');
        q.push_back(c);
      }
      return q + "'";
    }();
    exec(fmt::format("SELECT pg_advisory_xact_lock(hashtext('sagasim schema ' || {}))", lit_schema),
         "locking the schema's creation");
    ResultPtr has_meta = exec(fmt::format("SELECT to_regclass('{}.meta') IS NOT NULL, "
                                          "EXISTS(SELECT 1 FROM pg_namespace WHERE nspname = {})",
                                          s, lit_schema),
                              "reading the schema");
    const bool meta_exists = value_of(has_meta.get(), 0, 0) == "t";
    const bool schema_exists = value_of(has_meta.get(), 0, 1) == "t";
    if (!meta_exists) {
      if (schema_exists) {
        ResultPtr tables =
            exec(fmt::format("SELECT count(*) FROM pg_tables WHERE schemaname = {}", lit_schema), "reading the schema");
        if (value_of(tables.get(), 0, 0) != "0")
          throw InputError(where_, "", "cannot open the store: the schema exists and has tables, but is not a sagasim "
                                       "store (no meta table)");
      } else {
        exec(fmt::format("CREATE SCHEMA {}", s), "creating the schema");
      }
      exec(schema_sql(s), "creating the tables");
      exec(fmt::format("CREATE TABLE {}.meta(name TEXT COLLATE \"C\" PRIMARY KEY, value TEXT NOT NULL)", s),
           "creating the meta table");
      // Bound, never spliced into the SQL: a service's name is the user's.
      const std::string version = std::to_string(kSchemaVersion);
      const std::string service(service_.name());
      const char* values[] = {version.c_str(), service.c_str()};
      const std::string insert =
          fmt::format("INSERT INTO {}.meta(name, value) VALUES('schema_version', $1), ('service', $2)", s);
      check(ResultPtr(PQexecParams(conn_.get(), insert.c_str(), 2, nullptr, values, nullptr, nullptr, 0)),
            "writing the meta table");
    }
    exec("COMMIT", "committing the schema");
  } catch (...) {
    rollback();
    throw;
  }
  prepare_all();
  const std::string version = meta("schema_version").value_or("(none)");
  if (version != std::to_string(kSchemaVersion))
    throw InputError(where_, "", fmt::format("cannot open the store: its schema version is {}; this build reads "
                                             "version {}",
                                             version, kSchemaVersion));
  const std::string owner = meta("service").value_or("(none)");
  if (owner != service_.name())
    throw InputError(where_, "", fmt::format("cannot open the store: it belongs to the {} service, not to {}", owner,
                                             service_.name()));
}

std::vector<std::pair<std::string, std::string>> PostgresStore::services_in(const std::string& url) {
  if (!is_url(url)) throw InputError(url, "", "not a PostgreSQL URL");
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"10", "sagasim check", url.c_str(), nullptr};
  ConnPtr c(PQconnectdbParams(keys, values, 1));
  if (!c || PQstatus(c.get()) != CONNECTION_OK)
    throw InputError(redacted(url), "", "cannot connect to PostgreSQL: " + trimmed(c ? PQerrorMessage(c.get()) : "out of memory"));
  ResultPtr schemas(PQexec(c.get(), "SELECT table_schema FROM information_schema.tables WHERE table_name = 'meta' "
                                    "ORDER BY table_schema"));
  if (PQresultStatus(schemas.get()) != PGRES_TUPLES_OK)
    throw InputError(redacted(url), "", "cannot list the stores: " + trimmed(PQresultErrorMessage(schemas.get())));
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < PQntuples(schemas.get()); ++i) {
    const std::string schema(value_of(schemas.get(), i, 0));
    const std::string sql = fmt::format("SELECT value FROM {}.meta WHERE name = 'service'", quote_identifier(schema));
    ResultPtr r(PQexec(c.get(), sql.c_str()));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) != 1) continue;
    // Only the schema `serve` uses for that service (tests and tools may
    // keep stores under other names in the same database).
    std::string service(value_of(r.get(), 0, 0));
    if (schema == schema_for_name(service)) out.emplace_back(std::move(service), schema);
  }
  return out;
}

int PostgresStore::backend_pid() const { return conn_ ? PQbackendPID(conn_.get()) : 0; }

void PostgresStore::rollback() noexcept {
  if (!conn_ || PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) {
    in_txn_ = false;
    return;
  }
  ResultPtr r(PQexec(conn_.get(), "ROLLBACK"));
  in_txn_ = false;
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) conn_.reset();  // unusable: reconnect next time
}

// ---- records --------------------------------------------------------------

std::string PostgresStore::cache_key(std::string_view table, std::string_view key) {
  std::string k;
  k.reserve(table.size() + 1 + key.size());
  k.append(table).push_back('\0');
  k.append(key);
  return k;
}

RecordPtr PostgresStore::decode(std::string_view table, std::string_view key, std::string_view text) const {
  auto where = [&] { return fmt::format("{} table {} key '{}'", where_, table, key); };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(where(), "", fmt::format("the stored record is not valid JSON (byte {}): {}", e.byte, e.what()));
  } catch (const nlohmann::json::out_of_range& e) {
    throw InputError(where(), "", fmt::format("the stored record is not valid JSON: {}", e.what()));
  }
  try {
    RecordPtr r = service_.decode_record(table, j);
    if (!r) throw InputError(where(), "", "the service decoded the record as nothing");
    return r;
  } catch (const InputError& e) {
    if (e.where().rfind(where_, 0) == 0) throw;
    throw InputError(where(), e.path(), e.detail());
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where(), "", e.what());
  }
}

RecordPtr PostgresStore::get(std::string_view table, std::string_view key) const {
  std::string ck = cache_key(table, key);
  const bool locked = in_unit_ || in_batch_;
  if (locked)
    if (auto it = cache_.find(ck); it != cache_.end()) return it->second;
  RecordPtr record = retrying([&] {
    ResultPtr r = run(Stmt::kGet, {table, key}, fmt::format("reading table {} key '{}'", table, key));
    return PQntuples(r.get()) == 0 ? RecordPtr() : decode(table, key, value_of(r.get(), 0, 0));
  });
  // Kept until the next commit (Transaction::get_as hands out raw pointers).
  cache_.insert_or_assign(std::move(ck), record);
  return record;
}

void PostgresStore::scan(std::string_view table,
                         const std::function<void(const std::string&, const RecordPtr&)>& fn) const {
  std::vector<std::pair<std::string, std::string>> rows = retrying([&] {
    ResultPtr r = run(Stmt::kScan, {table}, fmt::format("scanning table {}", table));
    std::vector<std::pair<std::string, std::string>> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) out.emplace_back(value_of(r.get(), i, 0), value_of(r.get(), i, 1));
    return out;
  });
  for (const auto& [key, text] : rows) fn(key, decode(table, key, text));
}

bool PostgresStore::inbox_contains(std::string_view event_id) const {
  return retrying([&] {
    ResultPtr r = run(Stmt::kInboxContains, {event_id}, fmt::format("reading the inbox for '{}'", event_id));
    return PQntuples(r.get()) > 0;
  });
}

// ---- transactions -----------------------------------------------------------

void PostgresStore::begin_write() {
  // Nothing has happened yet, so a lost connection here is simply retried.
  try {
    retrying([&] {
      run(Stmt::kBegin, {}, "BEGIN");
      in_txn_ = true;
      ResultPtr lock = run(Stmt::kLock, {}, "taking the service's writer lock");
      if (PQntuples(lock.get()) != 1)
        throw std::runtime_error(where_ + ": the meta table has no 'service' row to lock (was the schema changed?)");
      return 0;
    });
  } catch (...) {
    rollback();  // a lock timeout leaves an aborted transaction open
    throw;
  }
}

DurableStore::Unit PostgresStore::begin_unit() {
  if (in_unit_ || in_batch_) throw InternalError(where_ + ": begin_unit inside a unit or batch (they do not nest)");
  begin_write();
  in_unit_ = true;
  cache_.clear();  // other instances may have committed since
  return Unit(*this);
}

void PostgresStore::end_unit() noexcept {
  if (!in_unit_) return;
  in_unit_ = false;
  rollback();  // nothing was committed in it; releases the lock
}

DurableStore::Batch PostgresStore::begin_batch() {
  if (in_unit_ || in_batch_) throw InternalError(where_ + ": begin_batch inside a unit or batch");
  begin_write();
  in_batch_ = true;
  cache_.clear();
  return Batch(*this);
}

void PostgresStore::end_batch(bool commit) {
  if (!in_batch_) return;
  in_batch_ = false;
  if (!commit) {
    rollback();
    cache_.clear();
    return;
  }
  try {
    run(Stmt::kCommit, {}, "COMMIT");
    in_txn_ = false;
  } catch (...) {
    rollback();
    cache_.clear();
    throw;
  }
}

void PostgresStore::commit(WriteSet& ws) {
  if (ws.empty()) return;
  if (in_batch_) {
    apply(ws);
    for (const Put& p : ws.puts) cache_.insert_or_assign(cache_key(p.table, p.key), p.record);
    return;
  }
  if (!in_unit_) begin_write();
  in_unit_ = false;  // this commit ends the unit's transaction, whatever happens
  try {
    apply(ws);
    run(Stmt::kCommit, {}, "COMMIT");
    in_txn_ = false;
  } catch (...) {
    rollback();
    for (OutboxEntry& o : ws.outbox) o.seq = 0;  // never committed (or not known to be)
    cache_.clear();
    throw;
  }
  if (cache_.size() + ws.puts.size() > options_.cache_records_max) cache_.clear();
  for (const Put& p : ws.puts) cache_.insert_or_assign(cache_key(p.table, p.key), p.record);
}

void PostgresStore::apply(WriteSet& ws) {
  if (!ws.inbox_event_id.empty()) {
    ResultPtr r =
        run(Stmt::kInboxInsert, {ws.inbox_event_id}, fmt::format("adding '{}' to the inbox", ws.inbox_event_id));
    if (std::strcmp(PQcmdTuples(r.get()), "0") == 0)
      throw std::runtime_error(fmt::format("{}: event '{}' is in the inbox already: it was handled since this "
                                           "transaction checked; nothing of this one was committed",
                                           where_, ws.inbox_event_id));
  }
  for (const Put& p : ws.puts) {
    if (!p.record) {
      run(Stmt::kDelete, {p.table, p.key}, fmt::format("deleting table {} key '{}'", p.table, p.key));
      continue;
    }
    std::string text;
    try {
      nlohmann::json j;
      p.record->to_json(j);
      text = j.dump();
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(
          fmt::format("{}: cannot store table {} key '{}' as JSON: {}", where_, p.table, p.key, e.what()));
    }
    run(Stmt::kPut, {p.table, p.key, text}, fmt::format("writing table {} key '{}'", p.table, p.key));
  }
  for (OutboxEntry& o : ws.outbox) {
    if (!o.event) throw InternalError(fmt::format("{}: outbox row for topic {} has no event", where_, o.topic));
    const std::string text = encode_event(*o.event);
    ResultPtr r = run(Stmt::kOutboxInsert, {o.topic, o.owner, text},
                      fmt::format("adding event '{}' to the outbox", o.event->event_id));
    o.seq = std::stoull(std::string(value_of(r.get(), 0, 0)));
  }
  for (const TimerWrite& t : ws.timers) {
    if (t.at) {
      run(Stmt::kTimerSet, {t.key, std::to_string(t.at->us)}, fmt::format("setting timer '{}'", t.key));
    } else {
      run(Stmt::kTimerCancel, {t.key}, fmt::format("cancelling timer '{}'", t.key));
    }
  }
}

bool PostgresStore::initialize_once(std::string_view marker, const std::function<void(Transaction&)>& fill,
                                    const std::vector<std::pair<std::string, std::string>>& meta_rows) {
  Unit unit = begin_unit();
  if (meta(marker)) return false;
  Transaction txn(*this, "setup");
  fill(txn);
  WriteSet& ws = txn.mutable_writes();
  in_unit_ = false;
  try {
    apply(ws);
    for (const auto& [name, value] : meta_rows) run(Stmt::kMetaPut, {name, value}, "writing the meta table");
    run(Stmt::kMetaPut, {marker, "done"}, "writing the meta table");
    run(Stmt::kCommit, {}, "COMMIT");
    in_txn_ = false;
  } catch (...) {
    rollback();
    throw;
  }
  cache_.clear();
  return true;
}

std::optional<std::string> PostgresStore::meta(std::string_view name) const {
  return retrying([&]() -> std::optional<std::string> {
    ResultPtr r = run(Stmt::kMetaGet, {name}, "reading the meta table");
    if (PQntuples(r.get()) == 0) return std::nullopt;
    return std::string(value_of(r.get(), 0, 0));
  });
}

// ---- outbox ---------------------------------------------------------------

std::vector<OutboxEntry> PostgresStore::read_outbox(const pg_result* r) const {
  std::vector<OutboxEntry> out;
  for (int i = 0; i < PQntuples(r); ++i) {
    OutboxEntry o;
    o.seq = std::stoull(std::string(value_of(r, i, 0)));
    o.topic = std::string(value_of(r, i, 1));
    o.owner = std::string(value_of(r, i, 2));
    o.event = std::make_shared<const Event>(
        decode_event(value_of(r, i, 3), &registry_, fmt::format("{} outbox seq {}", where_, o.seq)));
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<OutboxEntry> PostgresStore::unpublished(std::string_view owner) const {
  return retrying([&] {
    ResultPtr r = owner.empty() ? run(Stmt::kOutboxAll, {}, "reading the outbox")
                                : run(Stmt::kOutboxOfOwner, {owner}, "reading the outbox");
    return read_outbox(r.get());
  });
}

std::vector<DurableStore::OutboxKey> PostgresStore::unpublished_keys() const {
  return retrying([&] {
    ResultPtr r = run(Stmt::kOutboxKeys, {}, "reading the outbox");
    std::vector<OutboxKey> out;
    for (int i = 0; i < PQntuples(r.get()); ++i)
      out.push_back({std::stoull(std::string(value_of(r.get(), i, 0))), std::string(value_of(r.get(), i, 1))});
    return out;
  });
}

std::optional<OutboxEntry> PostgresStore::unpublished_row(uint64_t seq) const {
  return retrying([&]() -> std::optional<OutboxEntry> {
    ResultPtr r = run(Stmt::kOutboxRow, {std::to_string(seq)}, "reading the outbox");
    std::vector<OutboxEntry> rows = read_outbox(r.get());
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
  });
}

int64_t PostgresStore::unpublished_count() const {
  return retrying([&] {
    ResultPtr r = run(Stmt::kOutboxCount, {}, "counting the outbox backlog");
    return std::stoll(std::string(value_of(r.get(), 0, 0)));
  });
}

bool PostgresStore::claim(uint64_t seq, std::string_view from, std::string_view to) {
  // One statement: the row lock makes a second claimant wait, then find the
  // owner changed (READ COMMITTED re-checks the WHERE on the new row version).
  // Retried after a lost connection: a claim that did commit then finds the
  // owner changed and answers false, and the row waits out another grace.
  return retrying([&] {
    ResultPtr r = run(Stmt::kOutboxClaim, {to, std::to_string(seq), from}, fmt::format("claiming outbox seq {}", seq));
    return std::strcmp(PQcmdTuples(r.get()), "1") == 0;
  });
}

void PostgresStore::mark_published(uint64_t seq) {
  // Idempotent (a DELETE): outside a batch it is simply run again after a
  // lost connection.
  retrying([&] {
    run(Stmt::kOutboxMark, {std::to_string(seq)}, fmt::format("marking outbox seq {} published", seq));
    return 0;
  });
}

// ---- timers ---------------------------------------------------------------

std::optional<Time> PostgresStore::next_timer() const {
  return retrying([&]() -> std::optional<Time> {
    ResultPtr r = run(Stmt::kTimerNext, {}, "reading the next timer");
    if (PQntuples(r.get()) == 0) return std::nullopt;
    return Time{std::stoll(std::string(value_of(r.get(), 0, 0)))};
  });
}

std::vector<std::string> PostgresStore::due_timers(Time now) const {
  return retrying([&] {
    ResultPtr r = run(Stmt::kTimerDue, {std::to_string(now.us)}, "reading due timers");
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) out.emplace_back(value_of(r.get(), i, 0));
    return out;
  });
}

}  // namespace sagasim::kafka
