// Which store a `--db` names: a PostgreSQL URL (postgresql://... or
// postgres://...) opens a PostgresStore, anything else is a SQLite file path.
//
//   std::unique_ptr<DurableStore> s = open_store("postgresql://saga@db/shop", payment, registry,
//                                                {.instance = "payment-2"});
//
// Errors: InputError naming the --db for a bad path or URL, a server that
// cannot be reached, a foreign store, or a URL given to a build without
// PostgreSQL (SAGASIM_POSTGRES=OFF).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/codec.h"
#include "core/service.h"
#include "kafka/store/durable_store.h"

namespace sagasim::kafka {

struct StoreOpenOptions {
  std::string instance = "sagasim";  // PostgreSQL's application_name
  // How long a unit waits for another instance's write lock.
  int busy_timeout_ms = 30000;
  // SQLite: instances share the file (serve, check); false: one owner.
  bool shared = true;
};

// True if `db` is a PostgreSQL URL.
bool is_postgres_url(std::string_view db);
// Whether this build can open PostgreSQL stores.
bool postgres_supported();

std::unique_ptr<DurableStore> open_store(const std::string& db, const Service& service, PayloadRegistry registry,
                                         const StoreOpenOptions& options = {});

// The services a --db holds, {service, db}: a SQLite file holds one (it names
// it), a PostgreSQL database one per schema with a store in it.
std::vector<std::string> services_in_store(const std::string& db);

// `db` as it may appear in logs: a URL without its password.
std::string store_display_name(const std::string& db);

}  // namespace sagasim::kafka
