// The PostgreSQL server the store's tests run against: SAGASIM_TEST_POSTGRES
// (postgresql://...; scripts/test starts one with scripts/pg-local and sets
// it). Unset: the PostgreSQL tests skip, saying why.
#pragma once

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include <libpq-fe.h>

namespace sagasim::testing_pg {

inline const char* kSkipReason =
    "SAGASIM_TEST_POSTGRES is unset: no PostgreSQL server to test against (scripts/test starts one with "
    "scripts/pg-local; or: eval \"$(scripts/pg-local env)\")";

// The server's URL, or empty.
inline std::string url() {
  const char* u = std::getenv("SAGASIM_TEST_POSTGRES");
  return u ? std::string(u) : std::string();
}

// Runs `sql` on a connection of its own (an administrator beside the stores
// under test); throws with the server's message on failure. Returns the
// first column of the first row, or "".
inline std::string admin(const std::string& sql, const std::string& on = url()) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(on.c_str()), &PQfinish);
  if (PQstatus(c.get()) != CONNECTION_OK) throw std::runtime_error(std::string("admin connect: ") + PQerrorMessage(c.get()));
  PQsetNoticeProcessor(c.get(), [](void*, const char*) {}, nullptr);  // "drop cascades to ..."
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), sql.c_str()), &PQclear);
  const ExecStatusType s = PQresultStatus(r.get());
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
    throw std::runtime_error("admin `" + sql + "`: " + PQresultErrorMessage(r.get()));
  if (s == PGRES_TUPLES_OK && PQntuples(r.get()) > 0) return PQgetvalue(r.get(), 0, 0);
  return "";
}

// Ends a backend as a crash of its client or a server-side failure would.
inline void terminate_backend(int pid) {
  admin("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
}

// `url()` with its database replaced by `db`.
inline std::string url_of_database(const std::string& db) {
  std::string u = url();
  const size_t scheme = u.find("://");
  const size_t slash = u.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  const size_t query = u.find('?', slash == std::string::npos ? 0 : slash);
  const std::string tail = query == std::string::npos ? "" : u.substr(query);
  return (slash == std::string::npos ? u : u.substr(0, slash)) + "/" + db + tail;
}

// A database of its own for a test (dropped first if a killed run left it).
inline std::string fresh_database(const std::string& db) {
  admin("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
  admin("CREATE DATABASE " + db);
  return url_of_database(db);
}

}  // namespace sagasim::testing_pg
