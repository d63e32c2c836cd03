#include "kafka/store/open_store.h"

#include "core/error.h"
#include "kafka/store/sqlite_store.h"
#ifdef SAGASIM_HAVE_POSTGRES
#include "kafka/store/postgres_store.h"
#endif

namespace sagasim::kafka {

bool is_postgres_url(std::string_view db) {
  return db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0;
}

bool postgres_supported() {
#ifdef SAGASIM_HAVE_POSTGRES
  return true;
#else
  return false;
#endif
}

#ifndef SAGASIM_HAVE_POSTGRES
namespace {

[[noreturn]] void no_postgres(const std::string& db) {
  throw InputError(store_display_name(db), "",
                   "this build has no PostgreSQL store (configured with -DSAGASIM_POSTGRES=OFF); give a SQLite file "
                   "path, or rebuild with libpq (scripts/setup installs it)");
}

}  // namespace
#endif

std::unique_ptr<DurableStore> open_store(const std::string& db, const Service& service, PayloadRegistry registry,
                                         const StoreOpenOptions& options) {
  if (is_postgres_url(db)) {
#ifdef SAGASIM_HAVE_POSTGRES
    PostgresStoreOptions o;
    o.application_name = options.instance;
    o.lock_timeout_ms = options.busy_timeout_ms;
    return std::make_unique<PostgresStore>(db, service, std::move(registry), o);
#else
    no_postgres(db);
#endif
  }
  SqliteStoreOptions o;
  o.shared = options.shared;
  o.busy_timeout_ms = options.busy_timeout_ms;
  return std::make_unique<SqliteStore>(db, service, std::move(registry), o);
}

std::vector<std::string> services_in_store(const std::string& db) {
  if (is_postgres_url(db)) {
#ifdef SAGASIM_HAVE_POSTGRES
    std::vector<std::string> out;
    for (auto& [service, schema] : PostgresStore::services_in(db)) out.push_back(service);
    return out;
#else
    no_postgres(db);
#endif
  }
  return {SqliteStore::service_of(db)};
}

std::string store_display_name(const std::string& db) {
#ifdef SAGASIM_HAVE_POSTGRES
  if (is_postgres_url(db)) return PostgresStore::redacted(db);
#endif
  if (is_postgres_url(db)) {
    // Without libpq: the same redaction, kept simple (user:***@).
    std::string out = db;
    const size_t start = out.find("://") + 3;
    const size_t at = out.find('@', start);
    const size_t colon = out.find(':', start);
    if (at != std::string::npos && colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    return out;
  }
  return db;
}

}  // namespace sagasim::kafka
