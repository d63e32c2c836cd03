// What the PostgreSQL store adds to the shared contract (store_conformance_test.cc
// runs that on it too): instances of one service on separate connections, as
// on separate hosts, racing on the same events; a lost connection in the
// middle of a batch; claiming a dead instance's outbox row; opening errors.
// Skipped, saying why, unless SAGASIM_TEST_POSTGRES names a server.
#include <atomic>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/error.h"
#include "kafka/store/open_store.h"
#include "kafka/store/postgres_store.h"
#include "sagas/order/order_service.h"
#include "sagas/order/payment_service.h"
#include "sagas/order/state.h"
#include "tests/kafka/pg_test_server.h"

namespace sagasim::kafka {
namespace {

class CountingEnv final : public Env {
 public:
  explicit CountingEnv(std::string prefix) : prefix_(std::move(prefix)) {}
  Time now() const override { return kSimEpoch; }
  std::string next_event_id() override { return prefix_ + std::to_string(++ids_); }

 private:
  std::string prefix_;
  int ids_ = 0;
};

Event order_created(int i, int64_t amount_cents) {
  Event e;
  e.event_id = fmt::format("e-{}", i);
  e.type = std::string(saga::OrderCreated::kType);
  e.key = fmt::format("o-{}", i);
  e.occurred_at = kSimEpoch;
  e.correlation_id = e.key;
  e.payload = std::make_shared<PayloadOf<saga::OrderCreated>>(
      saga::OrderCreated{e.key, "c-1", {{"sku-1", 1, amount_cents}}, amount_cents});
  return e;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing_pg::url().empty()) GTEST_SKIP() << testing_pg::kSkipReason;
    static int tests = 0;
    schema_ = fmt::format("pgtest_{}_{}", getpid(), ++tests);
  }
  void TearDown() override {
    if (!schema_.empty()) testing_pg::admin(fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", schema_));
  }
  std::unique_ptr<PostgresStore> open(const Service& service, std::string instance) const {
    PayloadRegistry registry;
    service.register_payloads(registry);
    return std::make_unique<PostgresStore>(testing_pg::url(), service, std::move(registry),
                                           PostgresStoreOptions{.schema = schema_, .application_name = instance});
  }
  int64_t rows(std::string_view table) const {
    return std::stoll(testing_pg::admin(fmt::format("SELECT count(*) FROM {}.{}", schema_, table)));
  }

  std::string schema_;
};

// Two instances (two connections, as on two hosts) are handed the same 240
// OrderCreated events for one customer, as after a rebalance that moved the
// partition while its first owner was still working: one walks them forward,
// the other backward, in batches of 20, so that they handle different events
// for the same account at the same time and then meet on the same events.
// Each order is charged once, the balance loses each amount once, each
// PaymentProcessed is in the outbox once. Without the writer lock two
// batches read the same balance and the second overwrites the first's
// charge (a lost update), and meeting on one event fails a commit.
TEST_F(PostgresStoreTest, TwoInstancesRacingOnTheSameEventsApplyEachOnce) {
  constexpr int kEvents = 240;
  constexpr int kBatch = 20;
  constexpr int64_t kAmount = 7;
  constexpr int64_t kOpening = 1'000'000;
  {
    saga::PaymentService payment;
    auto store = open(payment, "setup");
    Transaction setup(*store, "setup");
    saga::PaymentService::open_account(setup, "c-1", kOpening);
    setup.commit();
  }
  std::atomic<int> processed{0}, duplicates{0}, conflicts{0};
  auto instance = [&](std::string name, bool forward) {
    saga::PaymentService payment;
    CountingEnv env(name + "-");
    auto store = open(payment, name);
    for (int chunk = 0; chunk < kEvents / kBatch; ++chunk) {
      for (int attempt = 0;; ++attempt) {
        int p = 0, d = 0;
        try {
          DurableStore::Batch b = store->begin_batch();
          for (int k = 0; k < kBatch; ++k) {
            const int i = forward ? chunk * kBatch + k : kEvents - 1 - (chunk * kBatch + k);
            Transaction txn(*store, name);
            const Outcome o = process_event(payment, env, txn, order_created(i, kAmount));
            p += o == Outcome::Processed;
            d += o == Outcome::Duplicate;
          }
          b.commit();
        } catch (const std::runtime_error& e) {
          // "in the inbox already": only without the lock. Redo the batch, as
          // a redelivery would.
          ++conflicts;
          if (attempt < 100) continue;
          ADD_FAILURE() << e.what();
        }
        processed += p;
        duplicates += d;
        break;
      }
    }
  };
  std::thread a(instance, "payment-1", true);
  std::thread b(instance, "payment-2", false);
  a.join();
  b.join();

  EXPECT_EQ(conflicts.load(), 0) << "a commit found its event handled since its inbox check";
  EXPECT_EQ(processed.load(), kEvents);
  EXPECT_EQ(duplicates.load(), kEvents);
  saga::PaymentService payment;
  auto store = open(payment, "check");
  const auto* account = record_as<saga::Account>(store->get(saga::kAccountsTable, "c-1"));
  ASSERT_NE(account, nullptr);
  EXPECT_EQ(account->balance_cents, kOpening - kEvents * kAmount) << "every charge once, none lost";
  int charged = 0;
  store->scan(saga::kPaymentsTable, [&](const std::string&, const RecordPtr& r) {
    charged += record_as<saga::Payment>(r)->status == saga::PaymentStatus::Charged;
  });
  EXPECT_EQ(charged, kEvents);
  EXPECT_EQ(rows("inbox"), kEvents);
  const std::vector<OutboxEntry> out = store->unpublished("");
  EXPECT_EQ(out.size(), static_cast<size_t>(kEvents));
  std::set<std::string> causes;
  for (const OutboxEntry& o : out) causes.insert(o.event->causation_id);
  EXPECT_EQ(causes.size(), static_cast<size_t>(kEvents)) << "one PaymentProcessed per OrderCreated";
}

// The connection dies in the middle of a batch (the server restarted, or the
// network dropped it): the batch throws StoreUnavailable and none of it is
// applied; the store reconnects by itself and the redone batch applies once.
// A read outside a batch simply succeeds on the new connection.
TEST_F(PostgresStoreTest, ABatchCutOffByALostConnectionIsRedoneOnce) {
  saga::PaymentService payment;
  CountingEnv env("payment-1-");
  auto store = open(payment, "payment-1");
  {
    Transaction setup(*store, "setup");
    saga::PaymentService::open_account(setup, "c-1", 1000);
    setup.commit();
  }
  EXPECT_EQ(store->connections(), 1);
  bool unavailable = false;
  try {
    DurableStore::Batch b = store->begin_batch();
    Transaction t1(*store, "payment-1");
    EXPECT_EQ(process_event(payment, env, t1, order_created(1, 100)), Outcome::Processed);
    testing_pg::terminate_backend(store->backend_pid());
    Transaction t2(*store, "payment-1");
    process_event(payment, env, t2, order_created(2, 100));
    b.commit();
  } catch (const StoreUnavailable& e) {
    unavailable = true;
    EXPECT_NE(std::string(e.what()).find("connection"), std::string::npos) << e.what();
  }
  ASSERT_TRUE(unavailable);
  EXPECT_FALSE(store->inbox_contains("e-1")) << "the first event's work was rolled back with the batch";
  EXPECT_EQ(store->connections(), 2) << "reconnected for the read";

  // Outside a batch, a lost connection is invisible.
  testing_pg::terminate_backend(store->backend_pid());
  EXPECT_EQ(record_as<saga::Account>(store->get(saga::kAccountsTable, "c-1"))->balance_cents, 1000);
  EXPECT_EQ(store->connections(), 3);

  // The redo (the runner keeps the batch's records and handles them again).
  {
    DurableStore::Batch b = store->begin_batch();
    for (int i : {1, 2}) {
      Transaction txn(*store, "payment-1");
      EXPECT_EQ(process_event(payment, env, txn, order_created(i, 100)), Outcome::Processed);
    }
    b.commit();
  }
  EXPECT_EQ(record_as<saga::Account>(store->get(saga::kAccountsTable, "c-1"))->balance_cents, 800);
  EXPECT_EQ(store->unpublished("").size(), 2u);
}

// Two surviving instances adopt a dead instance's row at the same moment:
// exactly one claim wins, so the row is published by one relay only.
TEST_F(PostgresStoreTest, OfTwoInstancesClaimingADeadInstancesRowExactlyOneGetsIt) {
  saga::PaymentService payment;
  auto dead = open(payment, "payment-9");
  auto one = open(payment, "payment-1");
  auto two = open(payment, "payment-2");
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 50; ++i) {
    Transaction txn(*dead, "payment-9");
    auto e = std::make_shared<Event>(order_created(i, 1));
    txn.publish("payments", e);
    txn.commit();
    seqs.push_back(txn.writes().outbox[0].seq);
  }
  std::atomic<int> won_one{0}, won_two{0};
  std::thread a([&] {
    for (uint64_t s : seqs) won_one += one->claim(s, "payment-9", "payment-1");
  });
  std::thread b([&] {
    for (auto it = seqs.rbegin(); it != seqs.rend(); ++it) won_two += two->claim(*it, "payment-9", "payment-2");
  });
  a.join();
  b.join();
  EXPECT_EQ(won_one + won_two, 50);
  EXPECT_GT(won_one.load(), 0);
  EXPECT_GT(won_two.load(), 0);
  for (const auto& k : one->unpublished_keys()) EXPECT_NE(k.owner, "payment-9");
  EXPECT_FALSE(one->claim(seqs[0], "payment-9", "payment-1")) << "nothing left to claim";
}

TEST_F(PostgresStoreTest, ABadUrlAnUnreachableServerOrAnotherServicesSchemaIsTheUsersError) {
  saga::PaymentService payment;
  saga::OrderService order(Duration::seconds(30));
  auto opening = [&](const std::string& url, const Service& s) -> std::string {
    try {
      PayloadRegistry r;
      open_store(url, s, r);
    } catch (const InputError& e) {
      return e.what();
    }
    return "(opened)";
  };
  EXPECT_NE(opening("postgresql://u:s3cret@127.0.0.1:1/x?connect_timeout=2", payment).find("cannot connect"),
            std::string::npos);
  EXPECT_EQ(opening("postgresql://u:s3cret@127.0.0.1:1/x?connect_timeout=2", payment).find("s3cret"),
            std::string::npos)
      << "no password in an error";
  EXPECT_NE(opening("postgresql://127.0.0.1/x?bogus_option=1", payment).find("not a valid PostgreSQL URL"),
            std::string::npos);
  auto paid = open(payment, "payment-1");
  paid.reset();
  const std::string foreign = [&] {
    try {
      PayloadRegistry r;
      PostgresStore s(testing_pg::url(), order, r, {.schema = schema_});
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("(opened)");
  }();
  EXPECT_NE(foreign.find("belongs to the payment service, not to order"), std::string::npos) << foreign;
}

TEST(PostgresUrl, PasswordsNeverShow) {
  EXPECT_EQ(PostgresStore::redacted("postgresql://saga:hunter2@db:5432/shop"), "postgresql://saga:***@db:5432/shop");
  EXPECT_EQ(PostgresStore::redacted("postgres://db/shop?user=a&password=hunter2&sslmode=require"),
            "postgres://db/shop?user=a&password=***&sslmode=require");
  EXPECT_EQ(PostgresStore::redacted("postgresql://saga@db/shop"), "postgresql://saga@db/shop");
  EXPECT_TRUE(is_postgres_url("postgres://x/y"));
  EXPECT_TRUE(is_postgres_url("postgresql://x/y"));
  EXPECT_FALSE(is_postgres_url("/var/lib/payment.db"));
}

}  // namespace
}  // namespace sagasim::kafka
