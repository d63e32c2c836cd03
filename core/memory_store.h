// The simulator's durable store: committed data lives in memory owned by the
// simulated world, outside any service instance, so it survives that
// instance's crash exactly as a database would. Deterministic: scans sort keys.
#pragma once

#include <map>
#include <memory>
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
  // A table's rows. Keys of the form <prefix><n> — one prefix per table, the
  // first such key's, and a decimal counter n without a leading zero, as the
  // generated ids "o-17" or "sku-3" are — live in chunks of kChunkRows slots
  // indexed by n: 16 bytes a row where a hash-map node with its key costs
  // ≈ 90 and a cache miss more per lookup, allocated as the counters reach
  // them (never moved, so no copy when the table grows). Every other key, and
  // a counter too far past the rows held or one that would open a chunk where
  // the table's chunks would then hold under 256 rows each on average (keys
  // spaced apart), is kept in the hash map; a key is in one place only.
  static constexpr size_t kChunkRows = 1024;
  struct Chunk {
    RecordPtr rows[kChunkRows];
    uint64_t present[kChunkRows / 64] = {};  // bit i: rows[i] holds a row (which may be null)
  };
  struct Table {
    std::string name;
    std::string prefix;
    bool has_prefix = false;
    std::vector<std::unique_ptr<Chunk>> chunks;
    size_t chunk_count = 0;  // allocated
    size_t dense_rows = 0;
    StringMap<RecordPtr> rows;

    // n when `key` is this table's prefix and a counter, else false.
    bool dense_index(std::string_view key, uint64_t& n) const;
    const RecordPtr* dense_row(uint64_t n) const;
    uint64_t dense_end() const { return chunks.size() * kChunkRows; }  // counters below it may be dense
    const RecordPtr* find(std::string_view key) const;
    void put(std::string_view key, RecordPtr record);
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
