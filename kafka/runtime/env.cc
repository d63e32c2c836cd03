#include "kafka/runtime/env.h"

#include <chrono>
#include <random>

#include <fmt/format.h>

namespace sagasim::kafka {

Time wall_now() {
  const auto since = std::chrono::system_clock::now().time_since_epoch();
  return Time{std::chrono::duration_cast<std::chrono::microseconds>(since).count()};
}

WallClockEnv::WallClockEnv(std::string instance_id) {
  std::random_device rd;
  const uint64_t r = (uint64_t{rd()} << 32 | rd()) & 0xffffffffffffULL;
  prefix_ = fmt::format("{}-{:012x}-", instance_id, r);
}

Time WallClockEnv::now() const { return wall_now(); }

std::string WallClockEnv::next_event_id() { return prefix_ + std::to_string(++counter_); }

}  // namespace sagasim::kafka
