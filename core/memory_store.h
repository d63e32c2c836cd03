// The simulator's durable store: committed data lives in memory owned by the
// simulated world, outside any service instance, so it survives that
// instance's crash exactly as a database would. Deterministic: scans sort keys.
#pragma once

#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/store.h"

namespace sagasim {

class MemoryStore final : public Store {
 public:
  RecordPtr get(std::string_view table, std::string_view key) const override;
  bool inbox_contains(std::string_view event_id) const override;
  void commit(WriteSet& ws) override;
  std::vector<OutboxEntry> unpublished(std::string_view owner) const override;
  void mark_published(uint64_t seq) override;
  std::optional<Time> next_timer() const override;
  std::vector<std::string> due_timers(Time now) const override;
  void scan(std::string_view table,
            const std::function<void(const std::string&, const RecordPtr&)>& fn) const override;

  size_t inbox_size() const { return inbox_count_; }
  size_t outbox_pending() const { return outbox_.size(); }

 private:
  // Transparent hashing: lookups by string_view allocate nothing.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <class V>
  using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;
  struct Table {
    std::string name;
    StringMap<RecordPtr> rows;
  };
  Table* table(std::string_view name);
  const Table* table(std::string_view name) const;

  std::vector<Table> tables_;  // few per service: a linear search beats hashing
  // The inbox. Ids of the simulator's own form "e-<n>" (no leading zero) are
  // bits of a bitmap indexed by n: one bit per event ever processed, where a
  // hash set of strings costs ≈ 60 bytes per id and a cache miss per lookup
  // that grows with the run. Any other id is kept as a string.
  static bool counter_id(std::string_view id, uint64_t& n);
  std::vector<uint64_t> inbox_bits_;
  std::unordered_set<std::string, StringHash, std::equal_to<>> inbox_;
  size_t inbox_count_ = 0;
  std::unordered_map<uint64_t, OutboxEntry> outbox_;  // unpublished only; listed in seq order
  uint64_t next_seq_ = 1;
  StringMap<Time> timer_at_;
  std::set<std::pair<Time, std::string>> timers_;
};

}  // namespace sagasim
