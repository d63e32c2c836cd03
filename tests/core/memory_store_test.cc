#include "core/memory_store.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sagasim
