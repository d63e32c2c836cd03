// Generated saga test cases for the property suite: a workload, a topology
// and a fault plan, drawn by RapidCheck so that they shrink well (fewer
// orders, fewer faults, earlier times, smaller values, fewer instances), and
// turned into an ordinary scenario file, so that a counterexample is
// something `sagasim run` replays exactly.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <rapidcheck.h>

#include "faults/world.h"
#include "properties/properties.h"

namespace sagasim::props {

struct Line {
  int sku = 0;  // index into the case's SKUs (modulo their count)
  int quantity = 1;
  int price_cents = 100;
};
struct Order {
  int customer = 0;  // index (modulo)
  std::vector<Line> lines;
  int at_ms = 0;
};
struct Case {
  int partitions = 1;
  int order_instances = 1, payment_instances = 1, inventory_instances = 1;
  bool idempotent = true;
  std::vector<int> balances;  // one per customer
  std::vector<int> stock;     // one per SKU
  std::vector<Order> orders;
  std::vector<Fault> faults;
  uint64_t seed = 1;
  std::string style = "choreography";  // or "orchestration"
  // The one order instance away across its orders' deadlines while the one
  // payment instance is stalled: only the timeouts decide them, the moment
  // the order instance is back (two more faults; shrinks away).
  bool away_across_deadlines = false;
};

// Sizes: at most `max_orders` orders and `max_faults` faults.
rc::Gen<Case> gen_case(int max_orders = 12, int max_faults = 4);
// Exactly `orders` orders (for throughput measurements).
rc::Gen<Case> gen_case_with_orders(int orders, int max_faults);
// Only duplicate-making faults (for the idempotency property).
rc::Gen<Case> gen_duplicating_case(int max_orders = 12);
// The same cases, run in the orchestration style.
rc::Gen<Case> orchestrated(rc::Gen<Case> cases);

// The case as a scenario file: what a counterexample is written as.
nlohmann::json to_scenario(const Case& c, const std::string& name);
// The same scenario, ready to run, built without the JSON: the sim::Scenario
// that parse_scenario reads from to_scenario(c, name) (but for its `spec`,
// left null), its fault plan, and in spec_text that JSON's text as the trace
// header carries it (scenario_text). Writing a 50-order case as JSON, parsing
// it back and dumping it again cost as much as running it; run_case uses
// this. saga_case_test.cc checks that both give the same run, byte for byte.
faults::RunSpec run_spec(const Case& c, const std::string& name);
// to_scenario(c, name) dumped as make_run_spec dumps it, written directly
// (its "faults" entry given, or made from the case).
std::string scenario_text(const Case& c, const std::string& name);
std::string scenario_text(const Case& c, const std::string& name, const nlohmann::json& faults);
void showValue(const Case& c, std::ostream& os);

// Runs run_spec(c, "property-case") with the case's seed. `mutant`: a
// variant of the order saga or a runtime mutant ("" none).
CaseRun run_case(const Case& c, const std::string& mutant = "", bool keep_trace = true);

// Writes the case as a scenario file (overwriting: the last failure a
// RapidCheck run reports is its shrunk one) and returns a report: the path,
// the command that replays it, the violations and a readable timeline.
std::string write_counterexample(const Case& c, const CaseRun& o, const std::string& property, const std::string& mutant);
std::string counterexample_path(const std::string& property);

}  // namespace sagasim::props
