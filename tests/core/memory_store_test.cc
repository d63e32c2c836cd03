#include "core/memory_store.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>

#include "core/service.h"

namespace sagasim {
namespace {

struct Counter {
  int64_t n = 0;
};
void to_json(nlohmann::json& j, const Counter& c) { j = {{"n", c.n}}; }

TEST(MemoryStore, CommittedWorkSurvivesAndUncommittedWorkIsLost) {
  MemoryStore store;  // owned by the world, not by an instance
  {
    Transaction txn(store, "svc-1");
    txn.put("counters", "a", Counter{1});
    txn.mark_processed("e-1");
    txn.commit();
  }
  {
    Transaction txn(store, "svc-1");
    txn.put("counters", "a", Counter{2});
    txn.put("counters", "b", Counter{5});
    EXPECT_EQ(txn.get_as<Counter>("counters", "a")->n, 2);  // sees its own write
    // the instance crashes here: the transaction is dropped, never committed
  }
  EXPECT_EQ(record_as<Counter>(store.get("counters", "a"))->n, 1);
  EXPECT_EQ(store.get("counters", "b"), nullptr);
  EXPECT_TRUE(store.inbox_contains("e-1"));
  EXPECT_FALSE(store.inbox_contains("e-2"));
}

TEST(MemoryStore, OutboxRowsStayUntilMarkedPublished) {
  MemoryStore store;
  auto e = std::make_shared<Event>();
  e->event_id = "e-9";
  Transaction txn(store, "svc-2");
  txn.publish("orders", e);
  txn.publish("orders", e);
  txn.commit();
  ASSERT_EQ(txn.writes().outbox.size(), 2u);
  const uint64_t first = txn.writes().outbox[0].seq;
  EXPECT_LT(first, txn.writes().outbox[1].seq);
  EXPECT_EQ(store.unpublished("svc-2").size(), 2u);
  EXPECT_TRUE(store.unpublished("svc-1").empty());
  store.mark_published(first);
  ASSERT_EQ(store.unpublished("").size(), 1u);
  EXPECT_EQ(store.unpublished("")[0].seq, txn.writes().outbox[1].seq);
}

TEST(MemoryStore, TimersAreDurableOrderedAndCancellable) {
  MemoryStore store;
  Transaction txn(store, "svc");
  txn.set_timer("o-2", Time{200});
  txn.set_timer("o-1", Time{100});
  txn.set_timer("o-3", Time{100});
  txn.commit();
  EXPECT_EQ(store.next_timer(), Time{100});
  EXPECT_EQ(store.due_timers(Time{150}), (std::vector<std::string>{"o-1", "o-3"}));
  Transaction cancel(store, "svc");
  cancel.cancel_timer("o-1");
  cancel.set_timer("o-3", Time{300});  // moved, not duplicated
  cancel.commit();
  EXPECT_TRUE(store.due_timers(Time{150}).empty());
  EXPECT_EQ(store.due_timers(Time{1000}), (std::vector<std::string>{"o-2", "o-3"}));
}

TEST(MemoryStore, ScanIsInKeyOrder) {
  MemoryStore store;
  Transaction txn(store, "svc");
  for (const char* k : {"b", "c", "a", "aa"}) txn.put("t", k, Counter{1});
  txn.commit();
  std::vector<std::string> keys;
  store.scan("t", [&](const std::string& k, const RecordPtr&) { keys.push_back(k); });
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "aa", "b", "c"}));
}

// Rows keyed <prefix><counter> sit in a vector, every other key in a hash
// map (core/memory_store.h). Whichever place a key lands in, get() and scan()
// must answer as one ordered map would: checked against std::map over keys
// of every kind — the table's counters (in and out of order, spaced apart,
// far past the rest), leading zeros, another prefix, no digits — written more
// than once, some as null records.
TEST(MemoryStore, RowsAnswerAsOneOrderedMapWhateverTheirKeys) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20; ++round) {
    MemoryStore store;
    std::map<std::string, std::optional<int64_t>> model;  // nullopt: a null record
    std::vector<std::string> keys;
    auto pick = [&]() -> std::string {
      const uint64_t n = rng() % 3000 + 1;
      switch (rng() % 10) {
        case 0: return "o-0" + std::to_string(n);
        case 1: return "o-" + std::to_string(n * 1000003);     // far past the rows held
        case 2: return "x-" + std::to_string(n);                // another prefix
        case 3: return "o-" + std::to_string(n) + "a";
        case 4: return round % 2 ? "o-" : "o";
        case 5: return "o-" + std::to_string(uint64_t{1} << 41);  // past any counter
        case 6: return "o-" + std::to_string(n * 997);              // spaced apart
        default: return "o-" + std::to_string(n);
      }
    };
    for (int step = 0; step < 4000; ++step) {
      const std::string key = step < 200 || rng() % 4 ? pick() : keys[rng() % keys.size()];
      keys.push_back(key);
      WriteSet ws;
      Put p;
      p.table = "t";
      p.key = key;
      if (rng() % 8) {
        const auto v = static_cast<int64_t>(rng() % 1000);
        p.record = std::make_shared<RecordOf<Counter>>(Counter{v});
        model[key] = v;
      } else {
        model[key] = std::nullopt;
      }
      ws.puts.push_back(std::move(p));
      store.commit(ws);
    }
    for (const auto& k : keys) {
      const RecordPtr r = store.get("t", k);
      const auto& want = model.at(k);
      ASSERT_EQ(r != nullptr, want.has_value()) << k;
      if (want) {
        EXPECT_EQ(record_as<Counter>(r)->n, *want) << k;
      }
    }
    for (const char* absent : {"o-1000000", "o-3001", "o-00", "y-1", ""}) {
      if (!model.count(absent)) {
        EXPECT_EQ(store.get("t", absent), nullptr) << absent;
      }
    }
    std::vector<std::pair<std::string, std::optional<int64_t>>> scanned;
    store.scan("t", [&](const std::string& k, const RecordPtr& r) {
      scanned.emplace_back(k, r ? std::optional<int64_t>(record_as<Counter>(r)->n) : std::nullopt);
    });
    const std::vector<std::pair<std::string, std::optional<int64_t>>> want(model.begin(), model.end());
    ASSERT_EQ(scanned, want) << "round " << round;
  }
}

}  // namespace
}  // namespace sagasim
