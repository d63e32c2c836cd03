// Property testing for any saga (RapidCheck): generated fault plans aimed at
// a saga's own services, instances and topics; running a generated scenario;
// and counterexamples written as scenario files with the command that
// replays them and a readable timeline. Part of the public API
// (sagasim::properties); tests/properties uses it for the built-in order
// saga, examples/trip-booking for a saga of its own.
//
//   RC_GTEST_PROP(Trip, everyTripIsBookedOrFullyUndone, ()) {
//     const auto faults = *props::gen_faults(4);
//     nlohmann::json scenario = my_case(...);             // your workload
//     scenario["faults"] = props::faults_json(topology, faults);
//     const props::CaseRun run = props::run_case(scenario, saga, seed);
//     if (!props::holds(run.result, {}))
//       RC_FAIL(props::write_counterexample(scenario, run, "trip", "trip-sim run"));  // + " {path} --seed {seed}"
//   }
//
// Generators draw every number over its whole range from the first case
// (RapidCheck would otherwise start tiny) and shrink towards the lower bound:
// earlier faults, shorter ones, the first service, topic and partition.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <rapidcheck.h>

#include "faults/world.h"

namespace sagasim::props {

// What generated faults are aimed at.
struct Topology {
  std::vector<std::pair<std::string, int>> services;  // name, instances (as in topology.instances)
  std::vector<std::string> topics;
  int partitions = 1;
  int session_timeout_ms = 1000;  // the scenario's broker.session_timeout_ms
};
// A scenario's topology as parsed (services, topics, partitions, session timeout).
Topology topology_of(const sim::Scenario& scenario);

// One scheduled fault, as indices into the topology (taken modulo its sizes).
struct Fault {
  int cls = 0;        // index into faults::all_fault_classes()
  int target = 0;     // which service / instance
  int at_ms = 0;
  int duration_ms = 1;
  int point = 0;      // crash point
  int topic = 0;
  int partition = 0;
};

// Class indices: every class, or only those that make duplicates (lost
// commits, producer retries, relay republishes, crashes, session timeouts).
std::vector<int> all_classes();
std::vector<int> duplicating_classes();

rc::Gen<Fault> gen_fault(std::vector<int> classes);
rc::Gen<std::vector<Fault>> gen_faults(int max_faults, std::vector<int> classes = all_classes());

// The scenario "faults" entry for a generated fault. Clock skews stay within
// ±500 ms and session timeouts outlast the session timeout.
nlohmann::json fault_json(const Topology& topology, const Fault& fault);
nlohmann::json faults_json(const Topology& topology, const std::vector<Fault>& faults);

struct CaseRun {
  sim::RunResult result;
  std::string trace;  // the JSON Lines text (empty unless kept)
};
// Parses `scenario` (which names its saga: "saga": {"name": ...}) for `saga`
// and runs it with its fault plan; `mutant` names a variant of the saga or a
// runtime mutant ("" none). InputError if the scenario is invalid.
CaseRun run_case(const nlohmann::json& scenario, std::shared_ptr<const sim::SagaDefinition> saga, uint64_t seed,
                 const std::string& mutant = "", bool keep_trace = true);
// Runs a scenario already read, with its plan (faults::make_run_spec): what
// the form above does after parsing. For a saga whose generated cases are
// built as a sim::Scenario directly (a case that is run thousands of times
// need not be written as JSON and parsed back, which costs as much as the
// run itself); such a spec must carry the JSON text of the scenario it stands
// for in spec_text (the trace header and hash include it), so that it gives
// the very run, trace hash included, that the JSON would.
CaseRun run_case(const faults::RunSpec& spec, uint64_t seed, const std::string& mutant = "", bool keep_trace = true);

// Whether every named invariant passed (no names: every invariant).
bool holds(const sim::RunResult& result, std::initializer_list<std::string_view> invariants);

// Where a property's counterexample goes: $SAGASIM_COUNTEREXAMPLES/<property>.json,
// else ./counterexamples/<property>.json.
std::string counterexample_path(const std::string& property);
// Writes the scenario there (overwriting: the last failure RapidCheck reports
// is the shrunk one) and returns a report: the path, the replay command, the
// violations and a timeline of the faults, lifecycle changes and the steps
// of the saga instances the violations name. `replay` is the command with
// {path} and {seed} in it ("trip-sim run {path} --seed {seed}"); without
// {path}, " {path} --seed {seed}" is appended to it.
std::string write_counterexample(const nlohmann::json& scenario, const CaseRun& run, const std::string& property,
                                 const std::string& replay);

}  // namespace sagasim::props
