// The service runner's outbox relay (kafka/runtime/runner.h, step 6) on
// librdkafka's mock cluster: what a previous run left is sent at start, and
// another instance's row is adopted only once it has stayed unpublished for
// the orphan grace.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>

#include <unistd.h>

#include "kafka/runtime/env.h"
#include "kafka/runtime/log.h"
#include "kafka/runtime/runner.h"
#include "kafka/store/sqlite_store.h"
#ifdef SAGASIM_HAVE_POSTGRES
#include "kafka/store/postgres_store.h"
#include "tests/kafka/pg_test_server.h"
#endif
#include "sagas/order/payment_service.h"
#include "tests/kafka/mock_cluster.h"

namespace sagasim::kafka {
namespace {

using Clock = std::chrono::steady_clock;

EventPtr note(std::string id, Time at) {
  auto e = std::make_shared<Event>();
  e->event_id = std::move(id);
  e->type = "RelayTestNote";
  e->key = e->event_id;
  e->occurred_at = at;
  e->correlation_id = e->key;
  e->payload = std::make_shared<JsonPayload>(nlohmann::json{{"note", e->event_id}});
  return e;
}

class RelayTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sagasim-relay-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    db_ = (dir_ / "payment.db").string();
    topic_ = unique("relay");
    mock().create_topic(topic_, 1);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Shared, as every instance opens it: the runner holds it open meanwhile.
  SqliteStoreOptions shared() const {
    SqliteStoreOptions o;
    o.shared = true;
    return o;
  }
  PayloadRegistry registry() const {
    PayloadRegistry r;
    payment_.register_payloads(r);
    return r;
  }
  // Commits one outbox row owned by `owner`, as that instance's unit of work would.
  void leave_row(const std::string& owner, EventPtr event) const {
    SqliteStore store(db_, payment_, registry(), shared());
    Transaction txn(store, owner);
    txn.publish(topic_, std::move(event));
    txn.commit();
  }
  std::vector<OutboxEntry> backlog() const {
    SqliteStore store(db_, payment_, registry(), shared());
    return store.unpublished("");
  }

  saga::PaymentService payment_;
  std::filesystem::path dir_;
  std::string db_;
  std::string topic_;
};

TEST_F(RelayTest, ItsOwnBacklogLeavesAtStartAndAnotherInstancesRowOnlyAfterTheGrace) {
  const Time now = wall_now();
  leave_row("payment-1", note("mine", now));                              // a previous run of this instance
  leave_row("payment-9", note("abandoned", now - Duration::seconds(60)));  // long before the grace
  leave_row("payment-9", note("recent", now));                            // its owner may still send it
  ASSERT_EQ(backlog().size(), 3u);

  std::ostringstream out;
  JsonLog log(out, {{"service", "payment"}, {"instance", "payment-1"}});
  RunnerOptions options;
  options.instance_id = "payment-1";
  options.kafka = mock().consumer_config();
  options.db_path = db_;
  options.relay_interval = Duration::millis(50);
  options.orphan_grace = Duration::millis(700);
  options.poll_timeout = Duration::millis(5);
  ServiceRunner runner(payment_, options, log);
  const auto started = Clock::now();
  ASSERT_TRUE(runner.start()) << out.str();
  EXPECT_EQ(runner.counters().relayed, 2u) << "its own row and the abandoned one, at once";

  bool recent_sent = false;
  while (Clock::now() - started < std::chrono::seconds(20) && !recent_sent) {
    ASSERT_TRUE(runner.step()) << out.str();
    if (runner.counters().relayed == 3) {
      recent_sent = true;
      EXPECT_GE(Clock::now() - started, std::chrono::milliseconds(700)) << "adopted before the grace";
    }
  }
  ASSERT_TRUE(recent_sent) << out.str();
  while (Clock::now() - started < std::chrono::seconds(20) && runner.counters().published < 3)
    ASSERT_TRUE(runner.step()) << out.str();
  EXPECT_EQ(runner.counters().published, 3u);
  EXPECT_EQ(runner.finish(), 0) << out.str();
  EXPECT_TRUE(backlog().empty()) << "every row marked published";
}

#ifdef SAGASIM_HAVE_POSTGRES
// Two instances of a service, each with its own connection to one PostgreSQL
// database (as on two hosts). payment-1 starts beside a row of its previous
// run and three rows of an instance that died long ago: it sends its own and
// claims and sends the dead one's. payment-2 joins. Then payment-9 commits
// three more rows and dies: both relays see them, and once the grace has
// passed for each, both try to adopt them, but only the one whose claim
// wins sends a row. Every row leaves exactly once across the two relays.
TEST(PostgresRelay, TwoInstancesPublishEachRowOnceAndAdoptADeadInstancesRowsOnce) {
  if (testing_pg::url().empty()) GTEST_SKIP() << testing_pg::kSkipReason;
  const std::string url = testing_pg::fresh_database(fmt::format("relay_{}", ::getpid()));
  saga::PaymentService payment;
  const std::string topic = unique("relay-pg");
  mock().create_topic(topic, 1);
  PayloadRegistry registry;
  payment.register_payloads(registry);
  auto leave = [&](const std::string& owner, EventPtr e) {
    PostgresStore store(url, payment, registry);
    Transaction txn(store, owner);
    txn.publish(topic, std::move(e));
    txn.commit();
  };
  const Time now = wall_now();
  leave("payment-1", note("mine-1", now));
  for (int i = 0; i < 3; ++i) leave("payment-9", note(fmt::format("abandoned-{}", i), now - Duration::seconds(60)));

  std::ostringstream out1, out2;
  JsonLog log1(out1, {{"instance", "payment-1"}}), log2(out2, {{"instance", "payment-2"}});
  auto options = [&](std::string instance) {
    RunnerOptions o;
    o.instance_id = std::move(instance);
    o.kafka = mock().consumer_config();
    o.db_path = url;
    o.relay_interval = Duration::millis(50);
    o.orphan_grace = Duration::millis(700);
    o.poll_timeout = Duration::millis(5);
    return o;
  };
  {
    ServiceRunner one(payment, options("payment-1"), log1);
    ASSERT_TRUE(one.start()) << out1.str();
    EXPECT_EQ(one.counters().relayed, 4u) << "its own row and the three abandoned ones, at once";
    auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline && one.counters().published < 4) ASSERT_TRUE(one.step()) << out1.str();
    ASSERT_EQ(one.counters().published, 4u) << out1.str();

    ServiceRunner two(payment, options("payment-2"), log2);
    ASSERT_TRUE(two.start()) << out2.str();
    EXPECT_EQ(two.counters().relayed, 0u) << "nothing left for it at start";
    for (int i = 0; i < 3; ++i) leave("payment-9", note(fmt::format("late-{}", i), wall_now()));
    auto published = [&] { return one.counters().published + two.counters().published; };
    deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline && published() < 7) {
      ASSERT_TRUE(one.step()) << out1.str();
      ASSERT_TRUE(two.step()) << out2.str();
    }
    // Longer than a grace: a second adoption of any row would show now.
    const auto settle = Clock::now();
    while (Clock::now() - settle < std::chrono::milliseconds(1500)) {
      ASSERT_TRUE(one.step()) << out1.str();
      ASSERT_TRUE(two.step()) << out2.str();
    }
    EXPECT_EQ(one.counters().relayed + two.counters().relayed, 7u)
        << "sent by payment-1: " << one.counters().relayed << ", by payment-2: " << two.counters().relayed;
    EXPECT_EQ(published(), 7u);
    EXPECT_EQ(one.finish(), 0) << out1.str();
    EXPECT_EQ(two.finish(), 0) << out2.str();
  }
  {
    PostgresStore store(url, payment, registry);
    EXPECT_EQ(store.unpublished_count(), 0);
  }
  testing_pg::admin(fmt::format("DROP DATABASE relay_{} WITH (FORCE)", ::getpid()));
}
#endif

}  // namespace
}  // namespace sagasim::kafka
