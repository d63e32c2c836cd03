// Shrinking a failing run to a small scenario that fails the same way.
//
//   sagasim shrink scenarios/chaos.json --seed 42 --swarm --mutant payment-no-tombstone
//
// The run is first made explicit (generated workload and swarm-selected
// faults written out as lists), then reduced greedily, keeping every change
// after which the same invariant still fails: chunks of orders and faults
// (delta debugging), then single orders, faults and order lines, then
// instances and partitions, then unused customers and SKUs, until nothing
// more can go. The result is an ordinary scenario file for `sagasim run`.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "faults/world.h"

namespace sagasim::faults {

struct ShrinkOptions {
  uint64_t seed = 1;
  bool swarm = false;
  int swarm_version = kSwarmVersion;
  std::string mutant;  // the variant the failure was found with ("" none)
  int max_runs = 5000;
  // Called after each trial run with (runs so far, orders now, faults now).
  std::function<void(int, size_t, size_t)> progress;
};

struct ShrinkResult {
  nlohmann::json scenario;  // the smallest failing scenario found
  std::string invariant;    // the invariant it fails (the original's first failure)
  int runs = 0;
  size_t orders_before = 0, orders_after = 0;
  size_t faults_before = 0, faults_after = 0;
  // Of faults_after, entries left with probability 0: they fire nothing, but
  // removing one shifts the dice of the faults after it (the dice are keyed
  // by an entry's place in the list), so a removal that loses the failure
  // leaves them in place.
  size_t faults_inert = 0;
};

// InputError when the scenario does not fail at that seed (nothing to shrink).
ShrinkResult shrink(const RunSpec& spec, const ShrinkOptions& options);

// The scenario with its workload and fault plan written out explicitly for
// `seed` (and swarm), so that it runs the same without the generator.
nlohmann::json explicit_scenario(const RunSpec& spec, uint64_t seed, bool swarm, int swarm_version = kSwarmVersion);

nlohmann::json to_json(const FaultSpec& f);

}  // namespace sagasim::faults
