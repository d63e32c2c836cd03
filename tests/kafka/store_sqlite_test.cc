// What only the SQLite store has: a file (WAL, lock, schema, bad paths,
// corruption), records decoded from JSON, and a process that really dies.
// The behaviour every store shares is in store_conformance_test.cc.
#include <csignal>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include "kafka/store/sqlite_store.h"
#include "sagas/order/order_service.h"
#include "sagas/order/payment_service.h"

namespace sagasim::kafka {
namespace {

namespace fs = std::filesystem;
using saga::Account;
using saga::PaymentService;

class SqliteStoreTest : public ::testing::Test {
 protected:
  SqliteStoreTest() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / fmt::format("sagasim-sqlite-{}-{}", info->name(), getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "payment.db").string();
  }
  ~SqliteStoreTest() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<SqliteStore> open(const Service& service, SqliteStoreOptions options = {}) {
    PayloadRegistry registry;
    service.register_payloads(registry);
    return std::make_unique<SqliteStore>(path_, service, std::move(registry), options);
  }
  void seed(Store& store, int accounts) {
    Transaction txn(store, "setup");
    for (int i = 0; i < accounts; ++i) PaymentService::open_account(txn, fmt::format("c-{:04}", i), 1000 + i);
    txn.commit();
  }
  // Runs SQL on the closed file behind the store's back (a hand edit, a bug).
  void tamper(const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
  // The InputError that `f` throws, or a failure.
  template <class F>
  std::string input_error(F&& f) {
    try {
      f();
    } catch (const InputError& e) {
      return e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not an InputError: " << e.what();
      return {};
    }
    ADD_FAILURE() << "no error";
    return {};
  }

  fs::path dir_;
  std::string path_;
  PaymentService payment_;
};

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

TEST_F(SqliteStoreTest, TheFileIsInWalMode) {
  auto store = open(payment_);
  seed(*store, 1);
  EXPECT_EQ(store->journal_mode(), "wal");
  EXPECT_TRUE(fs::exists(path_ + "-wal"));
  // The database header itself says WAL: file format bytes 18 and 19 are 2.
  std::ifstream in(path_, std::ios::binary);
  char header[20] = {};
  in.read(header, sizeof header);
  ASSERT_TRUE(in);
  EXPECT_EQ(std::string(header, 16), std::string("SQLite format 3\0", 16));
  EXPECT_EQ(header[18], 2);
  EXPECT_EQ(header[19], 2);
  store.reset();
  EXPECT_FALSE(fs::exists(path_ + "-wal"));  // a clean close checkpoints it away
}

TEST_F(SqliteStoreTest, AMissingDirectoryIsAClearError) {
  path_ = (dir_ / "no-such-dir" / "payment.db").string();
  const std::string what = input_error([&] { open(payment_); });
  EXPECT_TRUE(Contains(what, path_));
  EXPECT_TRUE(Contains(what, "unable to open database file"));
  EXPECT_TRUE(Contains(what, "does not exist"));
  EXPECT_FALSE(fs::exists(dir_ / "no-such-dir"));
}

TEST_F(SqliteStoreTest, ADirectoryIsAClearError) {
  path_ = dir_.string();
  EXPECT_TRUE(Contains(input_error([&] { open(payment_); }), path_));
}

TEST_F(SqliteStoreTest, AFileThatIsNotADatabaseIsAClearError) {
  std::ofstream(path_) << std::string(8192, 'x');
  const std::string what = input_error([&] { open(payment_); });
  EXPECT_TRUE(Contains(what, path_));
  EXPECT_TRUE(Contains(what, "file is not a database"));
}

TEST_F(SqliteStoreTest, CorruptPagesAreAnErrorNotACrash) {
  {
    auto store = open(payment_);
    seed(*store, 2000);  // many pages
  }
  const auto size = fs::file_size(path_);
  ASSERT_GT(size, 16u * 4096u);
  {
    std::fstream f(path_, std::ios::binary | std::ios::in | std::ios::out);
    for (uint64_t at = 4096; at + 4096 <= size; at += 8192) {  // every other page after the first
      f.seekp(static_cast<std::streamoff>(at));
      f << std::string(4096, '\xA5');
    }
  }
  std::string what;
  try {
    auto store = open(payment_);
    store->scan(saga::kAccountsTable, [](const std::string&, const RecordPtr&) {});
    for (int i = 0; i < 2000; ++i) store->get(saga::kAccountsTable, fmt::format("c-{:04}", i));
  } catch (const std::exception& e) {
    what = e.what();
  }
  EXPECT_TRUE(Contains(what, path_));
  EXPECT_TRUE(Contains(what, "malformed"));
}

TEST_F(SqliteStoreTest, ASecondInstanceOnTheSameFileIsRefusedWhileTheFirstRuns) {
  auto first = open(payment_);
  seed(*first, 1);
  const std::string what = input_error([&] { open(payment_, {.busy_timeout_ms = 50}); });
  EXPECT_TRUE(Contains(what, "database is locked"));
  EXPECT_TRUE(Contains(what, "another process"));
  first.reset();
  auto second = open(payment_);
  EXPECT_EQ(record_as<Account>(second->get(saga::kAccountsTable, "c-0000"))->balance_cents, 1000);
}

TEST_F(SqliteStoreTest, AnotherServicesStoreAForeignDatabaseAndANewerSchemaAreRefused) {
  open(payment_).reset();
  saga::OrderService order(Duration::seconds(30));
  EXPECT_TRUE(Contains(input_error([&] { open(order); }), "belongs to the payment service, not to order"));

  tamper("UPDATE meta SET value = '2' WHERE name = 'schema_version'");
  EXPECT_TRUE(Contains(input_error([&] { open(payment_); }), "schema version is 2; this build reads version 1"));

  fs::remove(path_);
  tamper("CREATE TABLE people(name TEXT)");
  EXPECT_TRUE(Contains(input_error([&] { open(payment_); }), "not a sagasim store"));
}

TEST_F(SqliteStoreTest, AKilledProcessKeepsWhatItCommittedAndNothingElse) {
  // A real crash: a child process commits, starts a second transaction and
  // is killed with SIGKILL. No destructor, no checkpoint, no close.
  EXPECT_EXIT(
      {
        auto store = open(payment_);
        seed(*store, 3);
        Transaction txn(*store, "payment-1");
        txn.put(saga::kAccountsTable, "c-0000", Account{"c-0000", 1});
        txn.mark_processed("e-lost");
        raise(SIGKILL);
      },
      ::testing::KilledBySignal(SIGKILL), "");
  EXPECT_TRUE(fs::exists(path_ + "-wal"));  // the commit is still in the WAL only
  auto store = open(payment_);
  EXPECT_EQ(record_as<Account>(store->get(saga::kAccountsTable, "c-0000"))->balance_cents, 1000);
  EXPECT_EQ(record_as<Account>(store->get(saga::kAccountsTable, "c-0002"))->balance_cents, 1002);
  EXPECT_FALSE(store->inbox_contains("e-lost"));
}

// The outbox holds the backlog only: a published row is gone from the file
// (its event is in Kafka), and sequence numbers still never go back.
TEST_F(SqliteStoreTest, APublishedOutboxRowLeavesTheFile) {
  auto note = [](std::string id) {
    auto e = std::make_shared<Event>();
    e->event_id = std::move(id);
    e->type = "Note";
    e->key = "k";
    e->occurred_at = kSimEpoch;
    e->correlation_id = "k";
    e->payload = std::make_shared<JsonPayload>(nlohmann::json::object());
    return e;
  };
  auto rows_in_file = [&] {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM outbox", -1, &stmt, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    const int64_t n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  };
  uint64_t last = 0;
  {
    auto store = open(payment_);
    Transaction txn(*store, "payment-1");
    txn.publish("payments", note("e-1"));
    txn.publish("payments", note("e-2"));
    txn.commit();
    store->mark_published(txn.writes().outbox[0].seq);
    store->mark_published(txn.writes().outbox[1].seq);
    last = txn.writes().outbox[1].seq;
  }
  EXPECT_EQ(rows_in_file(), 0);
  auto store = open(payment_);
  Transaction txn(*store, "payment-1");
  txn.publish("payments", note("e-3"));
  txn.commit();
  EXPECT_GT(txn.writes().outbox[0].seq, last);
  EXPECT_EQ(store->unpublished_count(), 1);
}

TEST_F(SqliteStoreTest, ACommitWhoseEventIsAlreadyInTheInboxIsRejectedWhole) {
  // process_event checks the inbox before handling; if the id appeared in
  // between (someone else handled it), applying the effects again would be
  // the double charge the inbox exists to prevent.
  auto store = open(payment_);
  seed(*store, 1);
  WriteSet ws;
  ws.inbox_event_id = "e-1";
  store->commit(ws);
  Transaction txn(*store, "payment-1");
  txn.put(saga::kAccountsTable, "c-0000", Account{"c-0000", 1});
  txn.mark_processed("e-1");
  try {
    txn.commit();
    ADD_FAILURE() << "committed twice";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(Contains(std::string(e.what()), "'e-1' is in the inbox already"));
  }
  EXPECT_EQ(record_as<Account>(store->get(saga::kAccountsTable, "c-0000"))->balance_cents, 1000);
}

TEST_F(SqliteStoreTest, AStoredRecordThatDoesNotDecodeNamesFileTableKeyAndField) {
  open(payment_).reset();
  struct Case {
    const char* json;
    const char* path;
    const char* detail;
  };
  const Case cases[] = {
      {R"({"order_id":"o-1","customer_id":"c","amount_cents":5,"status":"BOGUS"})", "/status",
       "\"BOGUS\" does not survive decoding"},
      {R"({"order_id":"o-1","customer_id":"c","amount_cents":"5","status":"CHARGED"})", "/amount_cents",
       "type must be number"},
      {R"({"order_id":"o-1","customer_id":"c","status":"CHARGED"})", "/amount_cents", "key 'amount_cents' not found"},
      {R"({"order_id":"o-1","customer_id":"c","amount_cents":5.5,"status":"CHARGED"})", "/amount_cents",
       "does not survive decoding"},
      {R"({"order_id":"o-1","customer_id":"c","amount_cents":5,"status":"CHARGED","extra":1})", "/extra",
       "unknown field"},
      {R"([1,2])", "/", "expected an object"},
      {R"({"order_id":)", "", "not valid JSON"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    const std::string json = c.json;
    std::string quoted;
    for (char ch : json) quoted += ch == '\'' ? std::string("''") : std::string(1, ch);
    tamper(fmt::format("INSERT OR REPLACE INTO records(tbl, key, json) VALUES('payments', 'o-1', '{}')", quoted)
               .c_str());
    auto store = open(payment_);
    try {
      store->get(saga::kPaymentsTable, "o-1");
      ADD_FAILURE() << "decoded";
    } catch (const InputError& e) {
      EXPECT_EQ(e.where(), path_ + " table payments key 'o-1'");
      EXPECT_EQ(e.path(), c.path);
      EXPECT_TRUE(Contains(e.detail(), c.detail));
    }
  }
}

TEST_F(SqliteStoreTest, OrderLinesPointAtTheBadLine) {
  saga::OrderService order(Duration::seconds(30));
  const nlohmann::json bad = {
      {"order_id", "o-1"},      {"customer_id", "c-1"},
      {"lines", {{{"sku", "a"}, {"quantity", 1}, {"price_cents", 2}}, {{"sku", "b"}, {"quantity", "two"}, {"price_cents", 2}}}},
      {"amount_cents", 4},      {"status", "PENDING"},
      {"cancel_reason", ""},    {"placed_at_us", 0},
      {"deadline_us", 0},       {"decided_at_us", 0}};
  try {
    order.decode_record(saga::kOrdersTable, bad);
    ADD_FAILURE() << "decoded";
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), "/lines/1");
    EXPECT_EQ(e.where(), "table orders");
  }
  EXPECT_TRUE(Contains(input_error([&] { order.decode_record("payments", bad); }),
                       "table payments: the order service keeps no table of that name"));
  nlohmann::json good = bad;
  good["lines"][1]["quantity"] = 2;
  EXPECT_EQ(record_as<saga::Order>(order.decode_record(saga::kOrdersTable, good))->lines[1].quantity, 2);
}

TEST_F(SqliteStoreTest, MakeDurableCheckpointsEverythingCommitted) {
  auto store = open(payment_);
  seed(*store, 50);
  EXPECT_GT(fs::file_size(path_ + "-wal"), 0u);
  store->make_durable();
  // Everything is in the database file now: a copy of it alone has it all.
  fs::copy_file(path_, (dir_ / "alone.db").string());
  store.reset();
  path_ = (dir_ / "alone.db").string();
  EXPECT_EQ(record_as<Account>(open(payment_)->get(saga::kAccountsTable, "c-0049"))->balance_cents, 1049);
}

TEST_F(SqliteStoreTest, RecordsHandedOutStayAliveUntilTheTransactionEnds) {
  // Handlers read on through the raw pointer Transaction::get_as returns.
  // The transaction pins what it handed out; the store (even with the
  // smallest cache) holds what it decoded until its next commit.
  open(payment_).reset();
  {
    auto store = open(payment_);
    seed(*store, 3);
  }
  auto store = open(payment_, {.cache_records_max = 0});
  std::weak_ptr<const Record> watch;
  {
    Transaction txn(*store, "payment-1");
    const Account* first = txn.get_as<Account>(saga::kAccountsTable, "c-0000");
    watch = store->get(saga::kAccountsTable, "c-0000");
    for (int i = 0; i < 3; ++i) txn.get(saga::kAccountsTable, fmt::format("c-{:04}", i));
    ASSERT_FALSE(watch.expired());
    EXPECT_EQ(first->balance_cents, 1000);
    txn.put(saga::kAccountsTable, "c-0001", Account{"c-0001", 5});
    txn.commit();
    EXPECT_EQ(first->balance_cents, 1000);  // still pinned by the transaction
  }
  store->get(saga::kAccountsTable, "c-0002");  // the store moves on
  Transaction next(*store, "payment-1");
  next.commit();
  EXPECT_TRUE(watch.expired());  // nobody holds it any more: a cache of 0 lets it go
}

TEST_F(SqliteStoreTest, ReadsAfterACommitSeeItWhateverTheCacheSize) {
  for (size_t cache : {size_t{0}, size_t{2}, size_t{65536}}) {
    SCOPED_TRACE(cache);
    fs::remove(path_);
    auto store = open(payment_, {.cache_records_max = cache});
    seed(*store, 5);
    for (int round = 0; round < 3; ++round) {
      Transaction txn(*store, "payment-1");
      for (int i = 0; i < 5; ++i) {
        const std::string id = fmt::format("c-{:04}", i);
        Account a = *txn.get_as<Account>(saga::kAccountsTable, id);
        a.balance_cents -= 1;
        txn.put(saga::kAccountsTable, id, std::move(a));
      }
      txn.commit();
    }
    for (int i = 0; i < 5; ++i)
      EXPECT_EQ(record_as<Account>(store->get(saga::kAccountsTable, fmt::format("c-{:04}", i)))->balance_cents,
                1000 + i - 3);
  }
}

// ---- shared mode: a service's instances on one file ---------------------------

int64_t balance_of(const Store& store, const std::string& customer) {
  const Account* a = record_as<Account>(store.get(saga::kAccountsTable, customer));
  return a ? a->balance_cents : -1;
}

TEST_F(SqliteStoreTest, SharedInstancesSeeEachOthersCommitsInsideAUnit) {
  auto a = open(payment_, {.shared = true});
  auto b = open(payment_, {.shared = true});
  seed(*a, 1);
  {
    auto unit = b->begin_unit();
    EXPECT_EQ(balance_of(*b, "c-0000"), 1000);  // now in b's cache
  }
  {
    auto unit = a->begin_unit();
    Transaction txn(*a, "payment-1");
    txn.put(saga::kAccountsTable, "c-0000", Account{"c-0000", 400});
    txn.mark_processed("e-1");
    txn.commit();
    EXPECT_FALSE(a->in_unit());  // the commit ended the unit's transaction
  }
  {
    auto unit = b->begin_unit();
    EXPECT_EQ(balance_of(*b, "c-0000"), 400) << "a unit must not read another instance's stale record from the cache";
    EXPECT_TRUE(b->inbox_contains("e-1"));
  }
}

TEST_F(SqliteStoreTest, AUnitHoldsTheWriteLockUntilItEnds) {
  auto a = open(payment_, {.shared = true});
  auto b = open(payment_, {.busy_timeout_ms = 50, .shared = true});
  seed(*a, 1);
  {
    auto unit = a->begin_unit();
    EXPECT_EQ(balance_of(*a, "c-0000"), 1000);
    std::string what;
    try {
      auto other = b->begin_unit();
    } catch (const std::runtime_error& e) {
      what = e.what();
    }
    EXPECT_NE(what.find("locked"), std::string::npos) << what;
    EXPECT_FALSE(b->in_unit());
    // Reads outside a unit are not blocked (WAL): they see the last commit.
    EXPECT_EQ(balance_of(*b, "c-0000"), 1000);
  }
  auto unit = b->begin_unit();  // a's unit committed nothing and was rolled back
  EXPECT_TRUE(b->in_unit());
}

TEST_F(SqliteStoreTest, TheOpeningStateIsWrittenOnceHoweverManyInstancesStart) {
  auto a = open(payment_, {.shared = true});
  auto b = open(payment_, {.shared = true});
  auto fill = [](int64_t balance) {
    return [balance](Transaction& txn) {
      PaymentService::open_account(txn, "c-1", balance);
      PaymentService::open_account(txn, "c-2", balance);
    };
  };
  EXPECT_TRUE(a->initialize_once("opening_state", fill(500), {{"opening_money_cents", "1000"}}));
  EXPECT_FALSE(b->initialize_once("opening_state", fill(999), {{"opening_money_cents", "1998"}}));
  EXPECT_EQ(b->meta("opening_money_cents"), "1000");
  EXPECT_EQ(b->meta("opening_state"), "done");
  EXPECT_EQ(b->meta("no-such-row"), std::nullopt);
  EXPECT_EQ(balance_of(*b, "c-1"), 500);
  EXPECT_EQ(balance_of(*b, "c-2"), 500);
  EXPECT_FALSE(b->in_unit());
}

TEST_F(SqliteStoreTest, AFailedOpeningStateLeavesNothingBehind) {
  auto a = open(payment_, {.shared = true});
  EXPECT_THROW(a->initialize_once("opening_state",
                                  [](Transaction& txn) {
                                    PaymentService::open_account(txn, "c-1", 5);
                                    throw std::runtime_error("the workload file went away");
                                  },
                                  {}),
               std::runtime_error);
  EXPECT_FALSE(a->in_unit());
  EXPECT_EQ(a->meta("opening_state"), std::nullopt);
  EXPECT_EQ(balance_of(*a, "c-1"), -1);
  EXPECT_TRUE(a->initialize_once("opening_state", [](Transaction& txn) { PaymentService::open_account(txn, "c-1", 7); },
                                 {}));
  EXPECT_EQ(balance_of(*a, "c-1"), 7);
}

TEST_F(SqliteStoreTest, ABatchCommitsItsUnitsTogetherOrNotAtAll) {
  auto a = open(payment_, {.shared = true});
  auto b = open(payment_, {.busy_timeout_ms = 50, .shared = true});
  seed(*a, 2);
  {
    auto batch = a->begin_batch();
    Transaction t1(*a, "payment-1");
    t1.put(saga::kAccountsTable, "c-0000", Account{"c-0000", 10});
    t1.mark_processed("e-1");
    t1.commit();
    Transaction t2(*a, "payment-1");
    EXPECT_EQ(balance_of(*a, "c-0000"), 10) << "a later unit of the batch reads the earlier one's writes";
    t2.put(saga::kAccountsTable, "c-0001", Account{"c-0001", 20});
    t2.mark_processed("e-2");
    t2.commit();
    EXPECT_EQ(balance_of(*b, "c-0000"), 1000) << "nothing is visible outside before the batch commits";
    batch.commit();
  }
  EXPECT_FALSE(a->in_batch());
  {
    auto unit = b->begin_unit();
    EXPECT_EQ(balance_of(*b, "c-0000"), 10);
    EXPECT_EQ(balance_of(*b, "c-0001"), 20);
    EXPECT_TRUE(b->inbox_contains("e-2"));
  }
  {
    auto batch = a->begin_batch();
    Transaction t(*a, "payment-1");
    t.put(saga::kAccountsTable, "c-0000", Account{"c-0000", 99});
    t.mark_processed("e-3");
    t.commit();
    // the batch ends without commit(): a crash, an exception
  }
  EXPECT_EQ(balance_of(*a, "c-0000"), 10) << "an abandoned batch leaves nothing, not even in the cache";
  EXPECT_FALSE(a->inbox_contains("e-3"));
}

}  // namespace
}  // namespace sagasim::kafka
