// librdkafka's in-process mock cluster for the tests of kafka/ (one per test
// process, never destroyed), and the small helpers those tests share.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "kafka/client/config.h"
#include "kafka/client/handle.h"

namespace sagasim::kafka {
namespace {

using MockClusterPtr = std::unique_ptr<rd_kafka_mock_cluster_t, RkDeleter<rd_kafka_mock_cluster_destroy>>;

// A mock cluster that every client of the process shares (test.mock().num.brokers
// would give each client a cluster of its own). Tests keep apart by topic and
// group names.
class MockCluster {
 public:
  explicit MockCluster(int brokers) {
    char reason[512] = "";
    RkConfPtr conf(rd_kafka_conf_new());
    rd_kafka_conf_set(conf.get(), "log_level", "3", reason, sizeof reason);  // no "no bootstrap.servers" notice
    owner_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), reason, sizeof reason));
    if (!owner_) throw std::runtime_error(reason);
    (void)conf.release();
    cluster_.reset(rd_kafka_mock_cluster_new(owner_.get(), brokers));
    if (!cluster_) throw std::runtime_error("rd_kafka_mock_cluster_new failed");
  }

  rd_kafka_mock_cluster_t* get() const { return cluster_.get(); }

  void create_topic(const std::string& name, int partitions) const {
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster_.get(), name.c_str(), partitions, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  // A client configuration for this cluster, tuned for quick tests.
  Config config() const {
    Config c;
    c.set("bootstrap.servers", rd_kafka_mock_cluster_bootstraps(cluster_.get()), "test");
    c.set("reconnect.backoff.ms", "20", "test");
    c.set("reconnect.backoff.max.ms", "200", "test");
    c.set("log_level", "4", "test");  // warnings and worse
    // e.g. SAGASIM_KAFKA_TEST_DEBUG=cgrp,protocol to see librdkafka's side of a failure
    if (const char* debug = std::getenv("SAGASIM_KAFKA_TEST_DEBUG"); debug && *debug) {
      c.set("debug", debug, "SAGASIM_KAFKA_TEST_DEBUG");
      c.set("log_level", "7", "SAGASIM_KAFKA_TEST_DEBUG");
    }
    return c;
  }

  Config producer_config() const {
    Config c = config();
    c.set("linger.ms", "1", "test");
    c.set("retry.backoff.ms", "20", "test");
    return c;
  }

  // The 2.0.2 mock's group coordinator answers a JoinGroup after 3 s (fixed) when the
  // group is new, else after session.timeout.ms - 1000 ms (the group's latest
  // session), and drops a member whose session runs out while it waits: it never
  // answers that member. A 4 s session keeps every join at 3 s with 1 s to spare.
  Config consumer_config() const {
    Config c = config();
    c.set("enable.partition.eof", "true", "test");
    c.set("session.timeout.ms", "4000", "test");
    c.set("heartbeat.interval.ms", "100", "test");
    c.set("fetch.wait.max.ms", "50", "test");
    c.set("fetch.error.backoff.ms", "50", "test");
    return c;
  }

 private:
  RkPtr owner_;  // first: outlives the cluster
  MockClusterPtr cluster_;
};

// The process's mock cluster, made on first use and deliberately never destroyed:
// in librdkafka 2.0.2, rd_kafka_mock_cluster_destroy() often stalls for a full
// second (the mock thread misses its wake-up and sleeps out its 1 s poll), and
// ctest runs every test in a process of its own. Process exit reclaims it.
MockCluster& mock() {
  static MockCluster* const cluster = new MockCluster(1);
  return *cluster;
}

// Names unique to the running test, so tests sharing the cluster never meet.
std::string unique(std::string_view base) {
  const testing::TestInfo* t = testing::UnitTest::GetInstance()->current_test_info();
  return std::string(base) + "." + t->name();
}

// Repeats `step` until it returns true or `limit` passes; true if it did.
template <class Step>
bool within(std::chrono::milliseconds limit, Step step) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (step()) return true;
  }
  return false;
}

}  // namespace
}  // namespace sagasim::kafka
