// The durable store contract: what a service instance keeps across a crash.
//
// A service's state is a set of tables of typed records. Every change happens
// in one local Transaction (core/service.h) that commits, atomically:
//   - the id of the event it handled (the inbox: a redelivered event is skipped),
//   - the records it wrote,
//   - the events it will publish (the outbox),
//   - the timers it set or cancelled.
// Uncommitted work is simply never handed to the store: a crash loses it.
// Committed work survives a crash. Two implementations: MemoryStore (the
// simulator's, core/memory_store.h) and SQLite (production, kafka/).
//
// Records are immutable and shared by pointer, like events, so the simulator
// never serialises state; `to_json` exists for SQLite, traces and checks.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/event.h"
#include "core/types.h"

namespace sagasim {

class Record {
 public:
  virtual ~Record() = default;
  // A one-word summary for traces ("PENDING", "CHARGED"); empty when none.
  virtual std::string_view status() const { return {}; }
  virtual void to_json(nlohmann::json& out) const = 0;
};

template <class T>
concept HasStatus = requires(const T& t) {
  { t.status_name() } -> std::convertible_to<std::string_view>;
};

template <class T>
class RecordOf final : public Record {
 public:
  explicit RecordOf(T v) : value(std::move(v)) {}
  std::string_view status() const override {
    if constexpr (HasStatus<T>) return value.status_name();
    return {};
  }
  void to_json(nlohmann::json& out) const override { out = value; }
  T value;
};

using RecordPtr = std::shared_ptr<const Record>;

// RecordOf is final, so comparing the dynamic type is the same test as a
// dynamic_cast, without walking the class hierarchy (a hot path: every
// service's read of its own rows).
template <class T>
const T* record_as(const RecordPtr& r) {
  const Record* p = r.get();
  if (!p || typeid(*p) != typeid(RecordOf<T>)) return nullptr;
  return &static_cast<const RecordOf<T>*>(p)->value;
}

struct OutboxEntry {
  uint64_t seq = 0;     // assigned by the store at commit, increasing
  std::string topic;
  EventPtr event;
  std::string owner;    // the instance whose relay publishes it
};

struct Put {
  std::string_view table;  // a service's table names are static constants
  std::string key;
  RecordPtr record;
  RecordPtr before;        // the committed value it replaces (null if new)
};

struct TimerWrite {
  std::string key;
  std::optional<Time> at;  // nullopt cancels
};

struct WriteSet {
  std::string inbox_event_id;  // empty for timer work and commands without an id
  std::vector<Put> puts;
  std::vector<OutboxEntry> outbox;
  std::vector<TimerWrite> timers;
  // Records the transaction handed out by pointer (Transaction::get_as),
  // kept alive until it ends. Not part of what is committed.
  std::vector<RecordPtr> pinned;
  bool empty() const { return inbox_event_id.empty() && puts.empty() && outbox.empty() && timers.empty(); }
  void clear() {  // keeps capacity
    inbox_event_id.clear();
    puts.clear();
    outbox.clear();
    timers.clear();
    pinned.clear();
  }
};

class Store {
 public:
  virtual ~Store() = default;

  virtual RecordPtr get(std::string_view table, std::string_view key) const = 0;
  virtual bool inbox_contains(std::string_view event_id) const = 0;

  // Applies every part of `ws` or none. Assigns outbox sequence numbers.
  virtual void commit(WriteSet& ws) = 0;

  // Outbox rows not yet marked published, in sequence order. Empty owner: all.
  virtual std::vector<OutboxEntry> unpublished(std::string_view owner) const = 0;
  virtual void mark_published(uint64_t seq) = 0;

  virtual std::optional<Time> next_timer() const = 0;
  // Keys of timers due at `now`, earliest first (ties by key).
  virtual std::vector<std::string> due_timers(Time now) const = 0;

  // Every record of `table` in key order.
  virtual void scan(std::string_view table,
                    const std::function<void(const std::string&, const RecordPtr&)>& fn) const = 0;
};

}  // namespace sagasim
