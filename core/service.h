// The service contract. A service is written once against this header and
// runs unchanged in the simulator (sim/) and on Kafka (kafka/).
//
//   class PaymentService : public Service {
//     void handle(const Event& e, Context& ctx) override {
//       if (e.type == OrderCreated::kType) {
//         auto& oc = e.payload_as<OrderCreated>();
//         ... ctx.txn().put(kAccounts, oc.customer_id, account);
//         ctx.emit(kPaymentsTopic, oc.order_id, PaymentProcessed{...});
//       }
//     }
//   };
//
// Everything nondeterministic (time, new ids) comes from the Env; a handler
// must be a pure function of the event, the store and the Env. The runtime
// calls `process_event`, which skips events already in the inbox and commits
// the inbox entry, the state and the outbox in one transaction.
//
// A Service object is one process's: each instance of a service builds its
// own when it starts and loses it when it crashes, in the simulator as in
// production (SagaRun::make_service). Anything a handler keeps in the object
// instead of the store (a cache, a counter, a "seen" set) is therefore split
// between instances and gone after a restart, and the simulator shows what
// that does (the inventory-caches-stock variant). Keep configuration there,
// never state.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/codec.h"
#include "core/store.h"
#include "core/trace_context.h"

namespace sagasim {

// The one door for nondeterminism. The simulator's Env reads the virtual
// clock and counts ids; production's reads the wall clock and random ids.
class Env {
 public:
  virtual ~Env() = default;
  virtual Time now() const = 0;
  virtual std::string next_event_id() = 0;
};

class Transaction {
 public:
  Transaction(Store& store, std::string_view owner) : store_(store), owner_(owner) {}
  // Reuses the buffers of an earlier write set (a runtime's per-instance
  // scratch) so that a transaction allocates nothing for its bookkeeping.
  Transaction(Store& store, std::string_view owner, WriteSet&& scratch)
      : store_(store), owner_(owner), ws_(std::move(scratch)) {
    ws_.clear();
  }
  WriteSet release() { return std::move(ws_); }

  // Reads see this transaction's own writes first, then committed data.
  RecordPtr get(std::string_view table, std::string_view key) const;
  // The pointer stays valid until the transaction ends, whatever the store
  // does: the record is pinned here (a store that decodes on demand, like
  // SQLite, holds no other reference, and a later put may replace it).
  template <class T>
  const T* get_as(std::string_view table, std::string_view key) const {
    RecordPtr r = get(table, key);
    const T* p = record_as<T>(r);
    if (p) ws_.pinned.push_back(std::move(r));
    return p;
  }

  // `value` is taken by reference so that `put(t, o.id, std::move(o))` is
  // safe: the key is copied before anything is moved from `o`.
  template <class T>
  void put(std::string_view table, std::string key, T&& value) {
    put_record(table, std::move(key), std::make_shared<RecordOf<std::decay_t<T>>>(std::forward<T>(value)));
  }
  void put_record(std::string_view table, std::string key, RecordPtr record);

  void publish(std::string topic, EventPtr event);
  void set_timer(std::string key, Time at) { ws_.timers.push_back({std::move(key), at}); }
  void cancel_timer(std::string key) { ws_.timers.push_back({std::move(key), std::nullopt}); }
  void mark_processed(std::string event_id) { ws_.inbox_event_id = std::move(event_id); }
  bool already_processed(std::string_view event_id) const { return store_.inbox_contains(event_id); }

  const WriteSet& writes() const { return ws_; }
  WriteSet& mutable_writes() { return ws_; }
  // Hands the write set to the store; afterwards writes() holds the outbox
  // rows with their sequence numbers, for the runtime to relay.
  void commit() { store_.commit(ws_); }

 private:
  Store& store_;
  std::string_view owner_;
  mutable WriteSet ws_;  // mutable only for WriteSet::pinned
};

class Context {
 public:
  Context(Env& env, Transaction& txn, const Event* cause) : env_(env), txn_(txn), cause_(cause) {}

  Time now() const { return env_.now(); }
  Transaction& txn() { return txn_; }
  const Event* cause() const { return cause_; }

  // Creates an event caused by the one being handled and puts it in the outbox.
  template <class T>
  EventPtr emit(std::string_view topic, std::string key, T payload) {
    auto e = std::make_shared<Event>();
    e->event_id = env_.next_event_id();
    e->type = std::string(T::kType);
    e->schema_version = T::kVersion;
    e->occurred_at = env_.now();
    e->correlation_id = cause_ && !cause_->correlation_id.empty() ? cause_->correlation_id : key;
    e->causation_id = cause_ ? cause_->event_id : std::string();
    e->key = std::move(key);
    // A client's trace goes on (core/trace_context.h); else it is derived.
    if (cause_)
      if (std::optional<std::string> tp = continued_traceparent(*cause_, e->event_id))
        e->headers.emplace_back(kTraceparentHeader, std::move(*tp));
    e->payload = std::make_shared<PayloadOf<T>>(std::move(payload));
    EventPtr ptr = std::move(e);
    txn_.publish(std::string(topic), ptr);
    return ptr;
  }

 private:
  Env& env_;
  Transaction& txn_;
  const Event* cause_;
};

class Service {
 public:
  virtual ~Service() = default;
  virtual std::string_view name() const = 0;
  virtual std::span<const std::string_view> subscriptions() const = 0;
  virtual void handle(const Event& event, Context& ctx) = 0;
  virtual void on_timer(std::string_view /*key*/, Context& /*ctx*/) {}
  virtual void register_payloads(PayloadRegistry& /*registry*/) const {}
  // Rebuilds a record of one of this service's tables from its JSON form
  // (Record::to_json), for a store that keeps records serialised (SQLite).
  // Throws InputError naming the table and the JSON pointer of the problem;
  // the store adds where the JSON came from (its file and the record's key).
  virtual RecordPtr decode_record(std::string_view table, const nlohmann::json& /*j*/) const {
    throw InputError("table " + std::string(table), "",
                     "the " + std::string(name()) + " service keeps no table of that name");
  }
  // False only for deliberately broken variants (sagas/order/mutants.h): the
  // runtime then neither checks nor records the inbox.
  virtual bool uses_inbox() const { return true; }
};

// Processed: effects committed. Ignored: the handler changed nothing (an
// event type this service does not act on), so nothing is committed, not even
// the inbox entry: replaying it is harmless by construction. Duplicate: the
// inbox already holds its id.
enum class Outcome { Processed, Ignored, Duplicate };

// Runs `service` on `event` in one local transaction: skips an event whose id
// is in the inbox, else handles it and commits inbox + state + outbox.
// `txn` is the caller's so that it can inspect the committed write set.
enum class CommitPolicy { Commit, Defer };
// With CommitPolicy::Defer the caller commits `txn` itself (only the bug
// zoo's "outbox before commit" runtime does that).
Outcome process_event(Service& service, Env& env, Transaction& txn, const Event& event,
                      CommitPolicy policy = CommitPolicy::Commit);

// Fires every timer due at env.now(), each in its own transaction; `each`
// sees every committed write set. Returns how many fired.
int fire_due_timers(Service& service, Store& store, Env& env, std::string_view owner,
                    const std::function<void(const WriteSet&)>& each);

}  // namespace sagasim
