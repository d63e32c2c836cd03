// One conformance suite for the store contract (core/store.h), written once
// and run against every implementation: MemoryStore (the simulator's),
// SqliteStore and PostgresStore (production's; PostgreSQL only when
// SAGASIM_TEST_POSTGRES names a server, skipped otherwise). A fixture per
// store says how it opens and how it survives a crash:
//
//   crash()    The instance dies without warning. MemoryStore lives in the
//              simulated world, outside the instance, so it stays as it is.
//              For SQLite the database file and its WAL are copied as they
//              are at that instant — what a killed process leaves on disk:
//              every write() it made, no checkpoint, no clean close — and
//              the copy is opened. (store_sqlite_test.cc also kills a real
//              process.)
//              For PostgreSQL the server ends the store's session
//              (pg_terminate_backend, what it does to a dead client's), so
//              whatever was not committed is rolled back, and a new store
//              connects.
//   restart()  A clean stop and start: SQLite's store object is destroyed
//              (closing the connection) and the same file reopened.
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/memory_store.h"
#include "kafka/store/sqlite_store.h"
#ifdef SAGASIM_HAVE_POSTGRES
#include "kafka/store/postgres_store.h"
#include "tests/kafka/pg_test_server.h"
#endif
#include "sagas/order/order_service.h"
#include "sagas/order/payment_service.h"
#include "sagas/order/state.h"

namespace sagasim {
namespace {

namespace fs = std::filesystem;

// ---- a minimal service whose records are counters ---------------------------

struct Counter {
  int64_t n = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Counter, n)

constexpr std::string_view kCounters = "counters";
constexpr std::string_view kOther = "other";

class CounterService final : public Service {
 public:
  std::string_view name() const override { return "counter"; }
  std::span<const std::string_view> subscriptions() const override { return {}; }
  void handle(const Event&, Context&) override {}
  RecordPtr decode_record(std::string_view table, const nlohmann::json& j) const override {
    if (table == kCounters || table == kOther) return saga::decode_record_as<Counter>(table, j);
    return Service::decode_record(table, j);
  }
};

// A record or a payload whose serialisation fails: a commit that breaks half way.
struct ExplodingRecord final : Record {
  void to_json(nlohmann::json&) const override { throw std::runtime_error("record exploded"); }
};
struct ExplodingPayload final : Payload {
  void to_json(nlohmann::json&) const override { throw std::runtime_error("payload exploded"); }
};

int64_t counter(const Store& store, std::string_view key, std::string_view table = kCounters) {
  const Counter* c = record_as<Counter>(store.get(table, key));
  return c ? c->n : -1;
}

EventPtr tick(std::string id, int64_t n) {
  auto e = std::make_shared<Event>();
  e->event_id = std::move(id);
  e->type = "Tick";
  e->key = "k-" + std::to_string(n);
  e->occurred_at = kSimEpoch + Duration::millis(n);
  e->correlation_id = e->key;
  e->payload = std::make_shared<JsonPayload>(nlohmann::json{{"n", n}});
  return e;
}

std::vector<uint64_t> seqs(const std::vector<OutboxEntry>& rows) {
  std::vector<uint64_t> out;
  for (const auto& r : rows) out.push_back(r.seq);
  return out;
}

class FixedEnv final : public Env {
 public:
  Time now() const override { return now_; }
  std::string next_event_id() override { return "gen-" + std::to_string(++ids_); }
  Time now_ = kSimEpoch;

 private:
  int ids_ = 0;
};

// ---- the two stores ---------------------------------------------------------

class MemoryFixture {
 public:
  static constexpr const char* kName = "Memory";
  static constexpr bool kSerialises = false;  // keeps objects: a to_json is never called
  Store& open(const Service&) { return store_; }
  Store& crash() { return store_; }
  Store& restart() { return store_; }

 private:
  MemoryStore store_;
};

// Exclusive mode (one process per file) and shared mode (a service's
// instances on one file) must keep the same contract.
template <bool Shared>
class SqliteFixtureOf {
 public:
  static constexpr const char* kName = Shared ? "SqliteShared" : "Sqlite";
  static constexpr bool kSerialises = true;

  SqliteFixtureOf() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = fmt::format("sagasim-store-{}-{}-{}", info->test_suite_name(), info->name(), getpid());
    for (char& c : name)
      if (c == '/') c = '_';  // a typed suite is named "StoreConformance/Sqlite"
    dir_ = fs::path(::testing::TempDir()) / name;
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~SqliteFixtureOf() {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Store& open(const Service& service) {
    service_ = &service;
    path_ = (dir_ / "store.db").string();
    return reopen();
  }
  Store& crash() {
    const std::string copy = (dir_ / fmt::format("crash-{}.db", ++crashes_)).string();
    for (const char* suffix : {"", "-wal", "-shm"})
      if (fs::exists(path_ + suffix)) fs::copy_file(path_ + suffix, copy + suffix);
    store_.reset();  // the dead process's connection: nothing it does now is looked at
    path_ = copy;
    return reopen();
  }
  Store& restart() {
    store_.reset();
    return reopen();
  }

 private:
  Store& reopen() {
    PayloadRegistry registry;
    service_->register_payloads(registry);
    store_ = std::make_unique<kafka::SqliteStore>(path_, *service_, std::move(registry),
                                                  kafka::SqliteStoreOptions{.shared = Shared});
    return *store_;
  }

  fs::path dir_;
  std::string path_;
  const Service* service_ = nullptr;
  int crashes_ = 0;
  std::unique_ptr<kafka::SqliteStore> store_;
};

#ifdef SAGASIM_HAVE_POSTGRES
// Each test in a schema of its own, dropped at the end.
class PostgresFixture {
 public:
  static constexpr const char* kName = "Postgres";
  static constexpr bool kSerialises = true;
  static const char* skip_reason() { return testing_pg::url().empty() ? testing_pg::kSkipReason : nullptr; }

  PostgresFixture() {
    static int tests = 0;
    schema_ = fmt::format("conformance_{}_{}", getpid(), ++tests);
  }
  ~PostgresFixture() {
    store_.reset();
    if (!testing_pg::url().empty()) {
      try {
        testing_pg::admin(fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", schema_));
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    }
  }

  Store& open(const Service& service) {
    service_ = &service;
    return reopen();
  }
  Store& crash() {
    testing_pg::terminate_backend(store_->backend_pid());
    store_.reset();
    return reopen();
  }
  Store& restart() {
    store_.reset();
    return reopen();
  }

 private:
  Store& reopen() {
    PayloadRegistry registry;
    service_->register_payloads(registry);
    store_ = std::make_unique<kafka::PostgresStore>(testing_pg::url(), *service_, std::move(registry),
                                                    kafka::PostgresStoreOptions{.schema = schema_});
    return *store_;
  }

  std::string schema_;
  const Service* service_ = nullptr;
  std::unique_ptr<kafka::PostgresStore> store_;
};
#endif

template <class F>
class StoreConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    if constexpr (requires { F::skip_reason(); }) {
      if (const char* why = F::skip_reason()) GTEST_SKIP() << why;
    }
  }
  F fixture_;
  CounterService counters_;
};

struct StoreName {
  template <class F>
  static std::string GetName(int) {
    return F::kName;
  }
};
using Stores = ::testing::Types<MemoryFixture, SqliteFixtureOf<false>, SqliteFixtureOf<true>
#ifdef SAGASIM_HAVE_POSTGRES
                                , PostgresFixture
#endif
                                >;
TYPED_TEST_SUITE(StoreConformance, Stores, StoreName);

// ---- durability -------------------------------------------------------------

TYPED_TEST(StoreConformance, CommittedWorkSurvivesACrashAndUncommittedWorkIsLost) {
  Store* store = &this->fixture_.open(this->counters_);
  {
    Transaction txn(*store, "svc-1");
    txn.put(kCounters, "a", Counter{1});
    txn.mark_processed("e-1");
    txn.publish("ticks", tick("t-1", 1));
    txn.set_timer("a", Time{100});
    txn.commit();
  }
  {
    Transaction txn(*store, "svc-1");
    txn.put(kCounters, "a", Counter{2});
    txn.put(kCounters, "b", Counter{5});
    txn.mark_processed("e-2");
    txn.publish("ticks", tick("t-2", 2));
    txn.set_timer("b", Time{50});
    EXPECT_EQ(txn.get_as<Counter>(kCounters, "a")->n, 2);
    // the instance dies here: the transaction is dropped, never committed
  }
  auto expect_first_commit_only = [](const Store& s) {
    EXPECT_EQ(counter(s, "a"), 1);
    EXPECT_EQ(s.get(kCounters, "b"), nullptr);
    EXPECT_TRUE(s.inbox_contains("e-1"));
    EXPECT_FALSE(s.inbox_contains("e-2"));
    const auto rows = s.unpublished("");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].event->event_id, "t-1");
    EXPECT_EQ(s.next_timer(), Time{100});
  };
  store = &this->fixture_.crash();
  SCOPED_TRACE("after a crash");
  expect_first_commit_only(*store);
  store = &this->fixture_.restart();
  SCOPED_TRACE("after a clean restart");
  expect_first_commit_only(*store);
}

TYPED_TEST(StoreConformance, InboxHoldsExactlyTheCommittedEventIds) {
  Store* store = &this->fixture_.open(this->counters_);
  for (const char* id : {"e-1", "e-2", "e-3"}) {
    Transaction txn(*store, "svc");
    txn.put(kCounters, id, Counter{1});
    txn.mark_processed(id);
    txn.commit();
  }
  {
    Transaction timer_work(*store, "svc");  // no event: nothing enters the inbox
    timer_work.set_timer("x", Time{1});
    timer_work.commit();
  }
  store = &this->fixture_.crash();
  for (const char* id : {"e-1", "e-2", "e-3"}) EXPECT_TRUE(store->inbox_contains(id)) << id;
  EXPECT_FALSE(store->inbox_contains("e-4"));
  EXPECT_FALSE(store->inbox_contains(""));
  EXPECT_FALSE(store->inbox_contains("e-"));
}

// ---- outbox -----------------------------------------------------------------

TYPED_TEST(StoreConformance, OutboxSeqsIncreaseAndRowsStayUntilMarkedPublished) {
  Store* store = &this->fixture_.open(this->counters_);
  Transaction one(*store, "svc-1");
  one.publish("ticks", tick("t-1", 1));
  one.publish("tocks", tick("t-2", 2));
  one.commit();
  Transaction two(*store, "svc-2");
  two.publish("ticks", tick("t-3", 3));
  two.commit();
  const auto& a = one.writes().outbox;
  const auto& b = two.writes().outbox;
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_GT(a[0].seq, 0u);
  EXPECT_LT(a[0].seq, a[1].seq);
  EXPECT_LT(a[1].seq, b[0].seq);

  store = &this->fixture_.crash();
  const auto all = store->unpublished("");
  EXPECT_EQ(seqs(all), (std::vector<uint64_t>{a[0].seq, a[1].seq, b[0].seq}));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].topic, "tocks");
  EXPECT_EQ(all[1].owner, "svc-1");
  EXPECT_EQ(encode_event(*all[1].event), encode_event(*a[1].event));  // the whole envelope
  EXPECT_EQ(seqs(store->unpublished("svc-1")), (std::vector<uint64_t>{a[0].seq, a[1].seq}));
  EXPECT_EQ(seqs(store->unpublished("svc-2")), (std::vector<uint64_t>{b[0].seq}));
  EXPECT_TRUE(store->unpublished("svc-3").empty());

  store->mark_published(a[0].seq);
  store->mark_published(b[0].seq);
  store->mark_published(b[0].seq);  // twice: harmless (a relay retrying)
  store = &this->fixture_.crash();
  EXPECT_EQ(seqs(store->unpublished("")), (std::vector<uint64_t>{a[1].seq}));

  // Sequence numbers are never reused, not even after the newest row was
  // published and the instance crashed.
  Transaction three(*store, "svc-2");
  three.publish("ticks", tick("t-4", 4));
  three.commit();
  EXPECT_GT(three.writes().outbox[0].seq, b[0].seq);
  EXPECT_EQ(seqs(store->unpublished("")), (std::vector<uint64_t>{a[1].seq, three.writes().outbox[0].seq}));
}

// ---- timers -----------------------------------------------------------------

TYPED_TEST(StoreConformance, TimersAreDueInTimeOrderTiesByKeyMovableAndCancellable) {
  Store* store = &this->fixture_.open(this->counters_);
  EXPECT_EQ(store->next_timer(), std::nullopt);
  EXPECT_TRUE(store->due_timers(Time::max()).empty());
  {
    Transaction txn(*store, "svc");
    txn.set_timer("o-2", Time{200});
    txn.set_timer("o-3", Time{100});
    txn.set_timer("o-1", Time{100});
    txn.set_timer("o-9", Time{50});
    txn.cancel_timer("o-9");  // set then cancelled in one transaction: gone
    txn.cancel_timer("o-8");  // never set: harmless
    txn.set_timer("o-8", Time{400});
    txn.commit();
  }
  store = &this->fixture_.crash();
  EXPECT_EQ(store->next_timer(), Time{100});
  EXPECT_TRUE(store->due_timers(Time{99}).empty());
  EXPECT_EQ(store->due_timers(Time{100}), (std::vector<std::string>{"o-1", "o-3"}));
  EXPECT_EQ(store->due_timers(Time{1000}), (std::vector<std::string>{"o-1", "o-3", "o-2", "o-8"}));
  {
    Transaction txn(*store, "svc");
    txn.cancel_timer("o-1");
    txn.set_timer("o-3", Time{300});  // moved, not duplicated
    txn.commit();
  }
  store = &this->fixture_.crash();
  EXPECT_EQ(store->next_timer(), Time{200});
  EXPECT_TRUE(store->due_timers(Time{150}).empty());
  EXPECT_EQ(store->due_timers(Time{1000}), (std::vector<std::string>{"o-2", "o-3", "o-8"}));
}

// ---- records ----------------------------------------------------------------

TYPED_TEST(StoreConformance, ScanVisitsOneTableInByteWiseKeyOrder) {
  Store* store = &this->fixture_.open(this->counters_);
  const std::vector<std::string> keys = {"b", "\xc3\xa9", "c", "", "a", "Z", "aa", "a b"};
  {
    Transaction txn(*store, "svc");
    int64_t n = 0;
    for (const auto& k : keys) txn.put(kCounters, k, Counter{++n});
    txn.put(kOther, "a", Counter{100});
    txn.commit();
  }
  store = &this->fixture_.crash();
  std::vector<std::string> seen;
  std::vector<int64_t> values;
  store->scan(kCounters, [&](const std::string& k, const RecordPtr& r) {
    seen.push_back(k);
    values.push_back(record_as<Counter>(r)->n);
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"", "Z", "a", "a b", "aa", "b", "c", "\xc3\xa9"}));
  EXPECT_EQ(values, (std::vector<int64_t>{4, 6, 5, 8, 7, 1, 3, 2}));
  int others = 0;
  store->scan(kOther, [&](const std::string&, const RecordPtr&) { ++others; });
  EXPECT_EQ(others, 1);
  store->scan("nothing", [&](const std::string&, const RecordPtr&) { ADD_FAILURE() << "no such table"; });
  EXPECT_EQ(counter(*store, ""), 4);  // the empty key is a key like any other
}

TYPED_TEST(StoreConformance, TransactionReadsItsOwnWritesThenCommittedData) {
  Store& store = this->fixture_.open(this->counters_);
  {
    Transaction txn(store, "svc");
    txn.put(kCounters, "a", Counter{1});
    txn.commit();
  }
  Transaction txn(store, "svc");
  EXPECT_EQ(txn.get_as<Counter>(kCounters, "a")->n, 1);
  txn.put(kCounters, "a", Counter{2});
  EXPECT_EQ(txn.get_as<Counter>(kCounters, "a")->n, 2);
  txn.put(kCounters, "a", Counter{3});  // one put per key, the latest value
  EXPECT_EQ(txn.get_as<Counter>(kCounters, "a")->n, 3);
  EXPECT_EQ(counter(store, "a"), 1);  // not committed: the store still has the old value
  ASSERT_EQ(txn.writes().puts.size(), 1u);
  EXPECT_EQ(record_as<Counter>(txn.writes().puts[0].before)->n, 1);
  EXPECT_EQ(txn.get(kCounters, "b"), nullptr);
  txn.put(kCounters, "b", Counter{7});
  EXPECT_EQ(txn.get_as<Counter>(kCounters, "b")->n, 7);
  EXPECT_EQ(store.get(kCounters, "b"), nullptr);
  EXPECT_EQ(txn.get(kOther, "b"), nullptr);  // tables are separate
  txn.commit();
  EXPECT_EQ(counter(store, "a"), 3);
  EXPECT_EQ(counter(store, "b"), 7);
}

// ---- atomicity --------------------------------------------------------------

enum class BreakAt { SecondRecord, OutboxEvent };

template <class F>
void commit_that_breaks_half_way(F& fixture, const Service& service, BreakAt where) {
  Store* store = &fixture.open(service);
  {
    Transaction txn(*store, "svc");
    txn.put(kCounters, "a", Counter{1});
    txn.mark_processed("e-0");
    txn.publish("ticks", tick("t-0", 0));
    txn.commit();
  }
  Transaction txn(*store, "svc");
  txn.mark_processed("e-1");                        // written first
  txn.put(kCounters, "a", Counter{2});              // then the records
  txn.put(kCounters, "b", Counter{3});
  if (where == BreakAt::SecondRecord) txn.put_record(kCounters, "boom", std::make_shared<ExplodingRecord>());
  txn.publish("ticks", tick("t-1", 1));             // then the outbox
  if (where == BreakAt::OutboxEvent) {
    auto e = std::make_shared<Event>(*tick("t-2", 2));
    e->payload = std::make_shared<ExplodingPayload>();
    txn.publish("ticks", e);
  }
  txn.set_timer("a", Time{10});                     // then the timers
  bool threw = false;
  try {
    txn.commit();
  } catch (const std::exception& e) {
    threw = true;
    EXPECT_NE(std::string(e.what()).find("exploded"), std::string::npos) << e.what();
  }
  if (F::kSerialises) {
    EXPECT_TRUE(threw) << "this store serialises, so the exploding value must fail the commit";
  }

  store = &fixture.crash();
  if (threw) {  // none of it
    for (const auto& o : txn.writes().outbox) EXPECT_EQ(o.seq, 0u) << "a seq of a rolled-back row";
    EXPECT_EQ(counter(*store, "a"), 1);
    EXPECT_EQ(store->get(kCounters, "b"), nullptr);
    EXPECT_FALSE(store->inbox_contains("e-1"));
    EXPECT_EQ(seqs(store->unpublished("")).size(), 1u);
    EXPECT_EQ(store->next_timer(), std::nullopt);
  } else {      // all of it
    EXPECT_EQ(counter(*store, "a"), 2);
    EXPECT_EQ(counter(*store, "b"), 3);
    EXPECT_TRUE(store->inbox_contains("e-1"));
    EXPECT_GE(store->unpublished("").size(), 2u);
    EXPECT_EQ(store->next_timer(), Time{10});
  }
  EXPECT_TRUE(store->inbox_contains("e-0"));

  // The store keeps working after a failed commit.
  Transaction next(*store, "svc");
  next.put(kCounters, "c", Counter{4});
  next.publish("ticks", tick("t-3", 3));
  next.commit();
  EXPECT_EQ(counter(*store, "c"), 4);
  EXPECT_GT(next.writes().outbox[0].seq, store->unpublished("").front().seq);
}

TYPED_TEST(StoreConformance, CommitFailingAtARecordLeavesNothing) {
  commit_that_breaks_half_way(this->fixture_, this->counters_, BreakAt::SecondRecord);
}

TYPED_TEST(StoreConformance, CommitFailingAtAnOutboxEventLeavesNothing) {
  commit_that_breaks_half_way(this->fixture_, this->counters_, BreakAt::OutboxEvent);
}

// ---- the saga's services on each store --------------------------------------

Event order_created(std::string event_id, std::string order_id, int64_t amount_cents) {
  Event e;
  e.event_id = std::move(event_id);
  e.type = std::string(saga::OrderCreated::kType);
  e.key = order_id;
  e.occurred_at = kSimEpoch;
  e.correlation_id = order_id;
  e.payload = std::make_shared<PayloadOf<saga::OrderCreated>>(
      saga::OrderCreated{order_id, "c-1", {{"sku-1", 1, amount_cents}}, amount_cents});
  return e;
}

TYPED_TEST(StoreConformance, PaymentChargesOnceForAnEventRedeliveredAfterACrash) {
  saga::PaymentService payment;
  FixedEnv env;
  Store* store = &this->fixture_.open(payment);
  {
    Transaction setup(*store, "setup");
    saga::PaymentService::open_account(setup, "c-1", 1000);
    setup.commit();
  }
  const Event created = order_created("e-1", "o-1", 300);
  {
    Transaction txn(*store, "payment-1");
    EXPECT_EQ(process_event(payment, env, txn, created), Outcome::Processed);
  }
  // Killed before the consumer offset was committed: Kafka delivers e-1 again.
  store = &this->fixture_.crash();
  {
    Transaction txn(*store, "payment-1");
    EXPECT_EQ(process_event(payment, env, txn, created), Outcome::Duplicate);
  }
  {
    // The same order under a new event id (a producer that retried): the
    // payment record is the business key, so nothing is charged either.
    Transaction txn(*store, "payment-1");
    EXPECT_EQ(process_event(payment, env, txn, order_created("e-2", "o-1", 300)), Outcome::Ignored);
  }
  store = &this->fixture_.crash();
  const auto* account = record_as<saga::Account>(store->get(saga::kAccountsTable, "c-1"));
  ASSERT_NE(account, nullptr);
  EXPECT_EQ(account->balance_cents, 700);
  const auto* paid = record_as<saga::Payment>(store->get(saga::kPaymentsTable, "o-1"));
  ASSERT_NE(paid, nullptr);
  EXPECT_EQ(paid->status, saga::PaymentStatus::Charged);
  const auto rows = store->unpublished("payment-1");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].topic, saga::kPaymentsTopic);
  EXPECT_EQ(rows[0].event->payload_as<saga::PaymentProcessed>().amount_cents, 300);  // typed again
  EXPECT_EQ(rows[0].event->causation_id, "e-1");
}

TYPED_TEST(StoreConformance, OrderTimeoutFiresFromADurableTimerAfterACrash) {
  saga::OrderService order(Duration::seconds(30));
  FixedEnv env;
  Store* store = &this->fixture_.open(order);
  Event place;
  place.event_id = "cmd-1";
  place.type = std::string(saga::PlaceOrder::kType);
  place.key = "o-1";
  place.occurred_at = kSimEpoch;
  place.payload = std::make_shared<PayloadOf<saga::PlaceOrder>>(
      saga::PlaceOrder{"o-1", "c-1", {{"sku-1", 2, 150}, {"sku-2", 1, 700}}, 1000});
  {
    Transaction txn(*store, "order-1");
    EXPECT_EQ(process_event(order, env, txn, place), Outcome::Processed);
  }
  store = &this->fixture_.crash();
  EXPECT_EQ(store->next_timer(), kSimEpoch + Duration::seconds(30));
  env.now_ = kSimEpoch + Duration::seconds(30);
  EXPECT_EQ(fire_due_timers(order, *store, env, "order-1", [](const WriteSet&) {}), 1);
  store = &this->fixture_.crash();
  const auto* o = record_as<saga::Order>(store->get(saga::kOrdersTable, "o-1"));
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->status, saga::OrderStatus::Cancelled);
  EXPECT_EQ(o->cancel_reason, "timeout");
  EXPECT_EQ(o->lines.size(), 2u);
  EXPECT_EQ(store->next_timer(), std::nullopt);
  const auto rows = store->unpublished("");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].event->type, saga::OrderCreated::kType);
  EXPECT_EQ(rows[1].event->payload_as<saga::OrderCancelled>().reason, "timeout");
}

}  // namespace
}  // namespace sagasim
