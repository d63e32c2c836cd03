#include "core/memory_store.h"

#include <algorithm>
#include <charconv>

namespace sagasim {

MemoryStore::Table* MemoryStore::table(std::string_view name) {
  for (auto& t : tables_)
    if (t.name.size() == name.size() && t.name == name) return &t;
  return nullptr;
}

const MemoryStore::Table* MemoryStore::table(std::string_view name) const {
  for (const auto& t : tables_)
    if (t.name == name) return &t;
  return nullptr;
}

namespace {

// A decimal counter without a leading zero, below 2^40 (13 digits at most).
bool parse_counter(std::string_view digits, uint64_t& n) {
  if (digits.empty() || digits.size() > 13 || digits[0] == '0') return false;
  n = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n < (uint64_t{1} << 40);
}

// How far past the rows it holds a table indexes densely: a counter beyond
// this goes to the hash map, so a stray large id cannot grow the chunk list
// (8 bytes per kChunkRows counters) without bound.
uint64_t dense_reach(size_t dense_rows) { return 64 * (static_cast<uint64_t>(dense_rows) + 65536); }

// Whether a table may open another chunk: the first few freely, then one per
// 256 rows held, so that sparse counters cost at most ≈ 64 bytes a row.
bool may_open_chunk(size_t chunk_count, size_t dense_rows) { return chunk_count < 4 + dense_rows / 256; }

}  // namespace

bool MemoryStore::Table::dense_index(std::string_view key, uint64_t& n) const {
  return has_prefix && key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0 &&
         parse_counter(key.substr(prefix.size()), n);
}

const RecordPtr* MemoryStore::Table::dense_row(uint64_t n) const {
  const uint64_t c = n / kChunkRows;
  if (c >= chunks.size() || !chunks[static_cast<size_t>(c)]) return nullptr;
  const Chunk& chunk = *chunks[static_cast<size_t>(c)];
  const size_t i = static_cast<size_t>(n % kChunkRows);
  return (chunk.present[i / 64] >> (i % 64) & 1) != 0 ? &chunk.rows[i] : nullptr;
}

const RecordPtr* MemoryStore::Table::find(std::string_view key) const {
  uint64_t n = 0;
  if (dense_index(key, n))
    if (const RecordPtr* r = dense_row(n)) return r;
  if (rows.empty()) return nullptr;
  auto it = rows.find(key);
  return it == rows.end() ? nullptr : &it->second;
}

void MemoryStore::Table::put(std::string_view key, RecordPtr record) {
  if (!rows.empty())
    if (auto it = rows.find(key); it != rows.end()) {
      it->second = std::move(record);
      return;
    }
  if (!has_prefix) {
    size_t digits = key.size();
    while (digits > 0 && key[digits - 1] >= '0' && key[digits - 1] <= '9') --digits;
    uint64_t n = 0;
    if (parse_counter(key.substr(digits), n)) {
      prefix = std::string(key.substr(0, digits));
      has_prefix = true;
    }
  }
  uint64_t n = 0;
  if (dense_index(key, n) && (n < dense_end() || n < dense_reach(dense_rows))) {
    const size_t c = static_cast<size_t>(n / kChunkRows);
    const bool open = c < chunks.size() && chunks[c];
    if (open || may_open_chunk(chunk_count, dense_rows)) {
      if (c >= chunks.size()) chunks.resize(c + 1);
      if (!open) {
        chunks[c] = std::make_unique<Chunk>();
        ++chunk_count;
      }
      Chunk& chunk = *chunks[c];
      const size_t i = static_cast<size_t>(n % kChunkRows);
      const uint64_t bit = uint64_t{1} << (i % 64);
      if (!(chunk.present[i / 64] & bit)) ++dense_rows;
      chunk.present[i / 64] |= bit;
      chunk.rows[i] = std::move(record);
      return;
    }
  }
  rows.insert_or_assign(std::string(key), std::move(record));
}

RecordPtr MemoryStore::get(std::string_view table_name, std::string_view key) const {
  const Table* t = table(table_name);
  if (!t) return nullptr;
  const RecordPtr* r = t->find(key);
  return r ? *r : nullptr;
}

bool MemoryStore::counter_id(std::string_view id, uint64_t& n) {
  return id.size() > 2 && id[0] == 'e' && id[1] == '-' && parse_counter(id.substr(2), n);
}

bool MemoryStore::inbox_contains(std::string_view event_id) const {
  uint64_t n = 0;
  if (counter_id(event_id, n)) {
    const size_t word = static_cast<size_t>(n >> 6);
    return word < inbox_bits_.size() && (inbox_bits_[word] >> (n & 63) & 1) != 0;
  }
  return inbox_.find(event_id) != inbox_.end();
}

void MemoryStore::commit(WriteSet& ws) {
  // Nothing below can fail half way: the write set was built by the
  // transaction, so applying it is atomic in a single-threaded simulator.
  if (!ws.inbox_event_id.empty()) {
    uint64_t n = 0;
    if (counter_id(ws.inbox_event_id, n)) {
      const size_t word = static_cast<size_t>(n >> 6);
      if (word >= inbox_bits_.size()) inbox_bits_.resize(std::max(word + 1, inbox_bits_.size() * 2), 0);
      const uint64_t bit = uint64_t{1} << (n & 63);
      if (!(inbox_bits_[word] & bit)) ++inbox_count_;
      inbox_bits_[word] |= bit;
    } else if (inbox_.insert(ws.inbox_event_id).second) {
      ++inbox_count_;
    }
  }
  for (auto& p : ws.puts) {
    Table* t = table(p.table);
    if (!t) {
      t = &tables_.emplace_back();
      t->name = std::string(p.table);
    }
    t->put(p.key, p.record);
  }
  for (auto& o : ws.outbox) {
    o.seq = next_seq_++;
    outbox_.emplace(o.seq, o);
  }
  for (auto& tw : ws.timers) {
    if (auto it = timer_at_.find(tw.key); it != timer_at_.end()) {
      timers_.erase({it->second, tw.key});
      timer_at_.erase(it);
    }
    if (tw.at) {
      timer_at_.emplace(tw.key, *tw.at);
      timers_.emplace(*tw.at, tw.key);
    }
  }
}

std::vector<OutboxEntry> MemoryStore::unpublished(std::string_view owner) const {
  std::vector<OutboxEntry> out;
  for (const auto& [seq, o] : outbox_)
    if (owner.empty() || o.owner == owner) out.push_back(o);
  std::sort(out.begin(), out.end(), [](const OutboxEntry& a, const OutboxEntry& b) { return a.seq < b.seq; });
  return out;
}

void MemoryStore::mark_published(uint64_t seq) { outbox_.erase(seq); }

std::optional<Time> MemoryStore::next_timer() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first;
}

std::vector<std::string> MemoryStore::due_timers(Time now) const {
  std::vector<std::string> out;
  for (const auto& [at, key] : timers_) {
    if (at > now) break;
    out.push_back(key);
  }
  return out;
}

void MemoryStore::scan(std::string_view table_name,
                       const std::function<void(const std::string&, const RecordPtr&)>& fn) const {
  const Table* t = table(table_name);
  if (!t) return;
  std::vector<const std::pair<const std::string, RecordPtr>*> rows;
  rows.reserve(t->rows.size());
  for (const auto& kv : t->rows) rows.push_back(&kv);
  std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->first < b->first; });
  // The dense rows in the order of their keys' text: the counters 1..m in
  // lexicographic order of their digits (1, 10, 100, 101, ..., 11, ...),
  // walked without sorting, merged with the sorted hash-map rows.
  size_t next = 0;
  std::string key = t->prefix;
  const uint64_t m = t->dense_end() == 0 ? 0 : t->dense_end() - 1;
  uint64_t n = 1;
  for (uint64_t visited = 0; visited < m; ++visited) {
    if (const RecordPtr* r = t->dense_row(n)) {
      char digits[20];
      const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
      key.resize(t->prefix.size());
      key.append(digits, end);
      for (; next < rows.size() && rows[next]->first < key; ++next) fn(rows[next]->first, rows[next]->second);
      fn(key, *r);
    }
    if (n * 10 <= m) {
      n *= 10;
    } else {
      while (n % 10 == 9 || n + 1 > m) n /= 10;
      ++n;
    }
  }
  for (; next < rows.size(); ++next) fn(rows[next]->first, rows[next]->second);
}

}  // namespace sagasim
