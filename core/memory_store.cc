#include "core/memory_store.h"

#include <algorithm>

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

RecordPtr MemoryStore::get(std::string_view table_name, std::string_view key) const {
  const Table* t = table(table_name);
  if (!t) return nullptr;
  auto it = t->rows.find(key);
  return it == t->rows.end() ? nullptr : it->second;
}

bool MemoryStore::counter_id(std::string_view id, uint64_t& n) {
  // "e-1" .. "e-18446744073709551615" would overflow; ids this long are kept as strings.
  if (id.size() < 3 || id.size() > 20 || id[0] != 'e' || id[1] != '-' || id[2] == '0') return false;
  n = 0;
  for (size_t i = 2; i < id.size(); ++i) {
    const char c = id[i];
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n < (uint64_t{1} << 40);  // larger counters (never reached) are kept as strings
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
    if (!t) t = &tables_.emplace_back(Table{std::string(p.table), {}});
    t->rows[p.key] = p.record;
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
  for (auto* kv : rows) fn(kv->first, kv->second);
}

}  // namespace sagasim
