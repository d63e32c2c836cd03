// The order saga on the simulator: every order decided, every path taken.
// The simulator itself is tested with the engine's own test saga (tests/sim/).
#include "sim/simulation.h"
#include "sagas/order/order_saga.h"

#include <filesystem>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "sagas/order/state.h"
#include "tests/sagas/order/small_scenario.h"

namespace sagasim::sim {
namespace {

Scenario small_scenario(int orders = 60, int payment_instances = 2) {
  return parse_scenario(test_support::small_scenario_json(orders, 2, 1, payment_instances), "test", saga::order_saga());
}

bool all_pass(const RunResult& r) {
  for (const auto& i : r.invariants)
    if (!i.pass) {
      ADD_FAILURE() << i.name << ": " << i.violations.front().entity << " " << i.violations.front().message;
      return false;
    }
  return true;
}

TEST(OrderSagaSimulation, EveryOrderIsDecidedAndEveryInvariantHolds) {
  const RunResult r = run_scenario(small_scenario(), {.seed = 3});
  EXPECT_TRUE(all_pass(r));
  EXPECT_TRUE(r.quiesced);
  EXPECT_EQ(r.instances.total, 60);
  EXPECT_EQ(r.instances.undecided, 0);
  EXPECT_EQ(r.instances.completed + r.instances.compensated, 60);
  EXPECT_GT(r.instances.completed, 0);
  EXPECT_GT(r.instances.compensated, 0);
}

TEST(OrderSagaSimulation, TheHappyPathScenarioTakesBothCompensationPaths) {
  const Scenario s = load_scenario_file(std::string(SAGASIM_SOURCE_DIR) + "/scenarios/happy-path.json", saga::order_saga());
  for (uint64_t seed : {7, 8, 9}) {
    RunResult r = run_scenario(s, {.seed = seed});
    EXPECT_TRUE(all_pass(r)) << "seed " << seed;
    EXPECT_EQ(r.instances.undecided, 0);
    EXPECT_GT(r.paths["confirmed"], 0);
    EXPECT_GT(r.paths["payment_failed"], 0) << "seed " << seed;
    EXPECT_GT(r.paths["inventory_failed"], 0) << "seed " << seed;  // charged, then refunded
  }
}

}  // namespace
}  // namespace sagasim::sim

