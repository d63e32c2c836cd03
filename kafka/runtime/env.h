// Production's Env (core/service.h): the wall clock and ids that are unique
// across instances, restarts and machines.
#pragma once

#include <cstdint>
#include <string>

#include "core/service.h"

namespace sagasim::kafka {

class WallClockEnv final : public Env {
 public:
  // Ids are "<instance>-<12 random hex digits, new per process>-<counter>".
  explicit WallClockEnv(std::string instance_id);
  Time now() const override;
  std::string next_event_id() override;

 private:
  std::string prefix_;
  uint64_t counter_ = 0;
};

// Microseconds since the Unix epoch, by the system clock.
Time wall_now();

}  // namespace sagasim::kafka
