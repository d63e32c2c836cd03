// What production mode needs of a store beyond core/store.h: the shared
// database of a service whose instances run as separate processes, maybe on
// separate hosts. Two implementations: SqliteStore (one file, the instances
// on one host) and PostgresStore (a database server, instances anywhere).
// The runner (runtime/runner.h) and `check` use only this interface; which
// one a `--db` names is open_store()'s business (open_store.h).
//
//   std::unique_ptr<DurableStore> store = open_store(db, service, registry, {});
//   {
//     DurableStore::Batch b = store->begin_batch();   // one write transaction
//     Transaction txn(*store, "payment-2");
//     process_event(payment, env, txn, event);         // inbox check, reads, writes
//     b.commit();                                     // all of the batch, or none
//   }
//
// The contract, for both:
//   * A unit (begin_unit) or a batch (begin_batch) is one write transaction
//     that excludes every other instance's unit and batch on the same
//     service's store: its inbox check and reads see every commit made
//     before it began, and nothing commits beside it. So two instances given
//     the same event (a redelivery after a rebalance) apply it once.
//   * commit() outside a unit or batch is a transaction of its own; inside
//     a unit it commits the unit; inside a batch it only applies.
//   * Reads outside a unit are a consistent, possibly stale view.
//   * Outbox seqs are never reused and increase in commit order.
//   * A failure is an exception and leaves nothing half applied. A
//     StoreUnavailable says the database could not be reached for a while
//     (a restarted server): the unit or batch did not commit or its COMMIT's
//     outcome is unknown, and the caller may do the work again (the inbox
//     makes a repeat of committed work a duplicate). Any other
//     std::runtime_error is fatal to the caller.
//
// Not thread-safe: one thread at a time per store object.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/service.h"
#include "core/store.h"

namespace sagasim::kafka {

// The database could not be reached (connection lost, server restarting):
// the current unit or batch is gone and may be redone. See the contract above.
class StoreUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class DurableStore : public Store {
 public:
  // A write transaction for one unit of work. commit() inside it commits it;
  // a unit that commits nothing is rolled back when it ends. Units do not nest.
  class [[nodiscard]] Unit {
   public:
    explicit Unit(DurableStore& store) : store_(&store) {}
    Unit(Unit&& o) noexcept : store_(std::exchange(o.store_, nullptr)) {}
    Unit& operator=(Unit&&) = delete;
    ~Unit() {
      if (store_) store_->end_unit();
    }

   private:
    DurableStore* store_;
  };

  // Group commit: several units of work in one transaction. Inside a batch,
  // commit() applies a write set without committing it (later reads in the
  // batch see it), and mark_published joins the transaction too;
  // Batch::commit() makes all of it durable at once, and a batch that ends
  // without it rolls everything back. A runtime hands the batch's outbox rows
  // to Kafka only after Batch::commit().
  class [[nodiscard]] Batch {
   public:
    explicit Batch(DurableStore& store) : store_(&store) {}
    Batch(Batch&& o) noexcept : store_(std::exchange(o.store_, nullptr)) {}
    Batch& operator=(Batch&&) = delete;
    ~Batch() {
      if (store_) store_->end_batch(false);
    }
    void commit() {
      if (store_) std::exchange(store_, nullptr)->end_batch(true);
    }

   private:
    DurableStore* store_;
  };

  virtual Unit begin_unit() = 0;
  virtual Batch begin_batch() = 0;

  // Makes every committed transaction survive a power loss too (SQLite: a
  // WAL checkpoint; PostgreSQL: nothing to do, a COMMIT is flushed).
  virtual void make_durable() = 0;

  // Outbox rows of every instance not yet marked published (the backlog).
  virtual int64_t unpublished_count() const = 0;

  // The backlog's rows as seq and owner only, in seq order: what a relay
  // needs to tell its own rows from another instance's without decoding
  // every event.
  struct OutboxKey {
    uint64_t seq;
    std::string owner;
  };
  virtual std::vector<OutboxKey> unpublished_keys() const = 0;
  // One outbox row, decoded; nullopt if it is published or does not exist.
  virtual std::optional<OutboxEntry> unpublished_row(uint64_t seq) const = 0;
  // Makes `to` the owner of unpublished row `seq` if `from` still owns it,
  // atomically: of several instances adopting a dead instance's row, exactly
  // one gets it, so it is published once. False if another got it first or
  // it is published.
  virtual bool claim(uint64_t seq, std::string_view from, std::string_view to) = 0;

  // A value of the meta table (schema_version, service, and whatever
  // initialize_once wrote), or nullopt.
  virtual std::optional<std::string> meta(std::string_view name) const = 0;

  // Runs `fill` and commits what it wrote, together with `meta` rows and the
  // row (`marker`, "done"), unless `marker` is in the meta table already: the
  // opening state of a store, written exactly once however many instances
  // start at the same time. Returns whether this call wrote it.
  virtual bool initialize_once(std::string_view marker, const std::function<void(Transaction&)>& fill,
                               const std::vector<std::pair<std::string, std::string>>& meta) = 0;

  // Where the store is, for messages: a file path, or a PostgreSQL URL
  // (without its password) and schema. Every error about a stored record
  // starts with it.
  virtual const std::string& path() const = 0;

  // How many times the store has had to reconnect to its database since it
  // opened (a server restart, a dropped connection); always 0 for SQLite.
  virtual int reconnections() const { return 0; }

 protected:
  virtual void end_unit() noexcept = 0;
  virtual void end_batch(bool commit) = 0;
};

}  // namespace sagasim::kafka
