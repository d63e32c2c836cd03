// libFuzzer target: the scenario loader. Raw bytes -> nlohmann::json::parse ->
// sim::parse_scenario -> faults::parse_plan. Bad input may only end in
// sagasim::InputError (a field-level problem, naming the JSON path) or in
// nlohmann::json::parse_error or out_of_range.406 (not JSON at all). Any other exception, a
// crash, a sanitizer report or a hang is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "sagas/order/order_saga.h"
#include "faults/plan.h"
#include "sim/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error&) {
    return 0;
  } catch (const nlohmann::json::out_of_range&) {
    // json::parse reports a number beyond a double (1e999) as out_of_range.406;
    // load_scenario_file turns both into InputError (tests/fuzz/regressions/scenario/).
    return 0;
  }
  try {
    const sagasim::sim::Scenario scenario = sagasim::sim::parse_scenario(j, "fuzz.json", sagasim::saga::order_saga());
    (void)sagasim::faults::parse_plan(scenario);
  } catch (const sagasim::InputError& e) {
    // The message must name the source; the path is a JSON pointer.
    if (e.where() != "fuzz.json" || e.path().empty() || e.path()[0] != '/') __builtin_trap();
  }
  return 0;
}
