// The order saga's scenario library (scenarios/): every scenario passes at its
// own seed, and a fault-* scenario actually fires the class it is named after.
#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>

#include "faults/world.h"
#include "sagas/order/order_saga.h"

namespace sagasim::faults {
namespace {

TEST(ScenarioLibrary, EveryScenarioPassesAndFiresItsFault) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(SAGASIM_SOURCE_DIR) + "/scenarios")) {
    const std::string file = entry.path().filename().string();
    if (entry.path().extension() != ".json" || file.find("schema") != std::string::npos) continue;
    ++n;
    const RunSpec spec = load_run_spec(entry.path().string(), saga::order_saga());
    const sim::RunResult r = faults::run(spec, RunConfig{spec.scenario.seed.value_or(1)});
    EXPECT_TRUE(r.ok()) << file;
    EXPECT_EQ(r.instances.undecided, 0) << file;
    if (file.rfind("fault-", 0) == 0) {
      std::string cls = file.substr(6, file.size() - 6 - 5);
      std::replace(cls.begin(), cls.end(), '-', '_');
      EXPECT_TRUE(r.faults_fired.count(cls)) << file << " never fired " << cls;
    }
  }
  EXPECT_GE(n, 17);
}

}  // namespace
}  // namespace sagasim::faults
