// A long run's memory follows the work in flight, not its history: 200,000
// orders of bench/orders-1m.json's workload stay under a peak-RSS bound that
// this test measures from its own process (getrusage's ru_maxrss), so a
// regression that keeps the event log (or anything else per delivery) again
// fails here. The bound (260 MiB) is about 1.6 times what the run needs
// (158 MiB on the reference machine, docs/benchmarks.md: mostly the three
// services' records), well below what the run cost before the final checks
// read the stores in place (507 MiB), let alone
// keeping the log (999 MiB with retention and the log fold turned off): it
// guards the shape, not a figure. Its own executable, so that nothing else has touched the
// heap; label `memory` (scripts/test leaves it out of the ASan stage, where
// it is slow and the allocator's own bookkeeping changes the figure).
#include <sys/resource.h>

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sagas/order/order_saga.h"
#include "sim/scenario.h"
#include "sim/simulation.h"

namespace sagasim {
namespace {

constexpr int kOrders = 200'000;
constexpr long kBoundMiB = 260;

long peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;  // KiB on Linux
}

TEST(MemoryBound, TwoHundredThousandOrdersStayUnderABoundThatTheLogWouldBreak) {
  std::ifstream in(std::string(SAGASIM_SOURCE_DIR) + "/bench/orders-1m.json");
  ASSERT_TRUE(in) << "bench/orders-1m.json";
  nlohmann::json j = nlohmann::json::parse(in);
  j["workload"]["orders"]["count"] = kOrders;
  const sim::Scenario scenario = sim::parse_scenario(j, "orders-200k", saga::order_saga());

  const long before = peak_rss_mib();
  const sim::RunResult r = sim::run_scenario(scenario, sim::RunOptions{.seed = 1});
  const long peak = peak_rss_mib();

  // The run did the work it is meant to measure.
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.instances.total, kOrders);
  EXPECT_EQ(r.instances.undecided, 0);
  EXPECT_GT(r.deliveries, 7u * kOrders);
  RecordProperty("peak_rss_mib", static_cast<int>(peak));
  RecordProperty("rss_before_mib", static_cast<int>(before));
  EXPECT_LT(peak, kBoundMiB) << kOrders << " orders peaked at " << peak << " MiB (" << before
                             << " MiB before the run); the bound is " << kBoundMiB << " MiB";
}

}  // namespace
}  // namespace sagasim
