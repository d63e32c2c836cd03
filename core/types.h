// Strong types shared by every layer: virtual or wall time, durations,
// partitions and offsets. Units are part of the name (TIGER_STYLE): all times
// are microseconds since the Unix epoch, all durations microseconds.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>

namespace sagasim {

struct Duration {
  int64_t us = 0;

  static constexpr Duration micros(int64_t v) { return {v}; }
  static constexpr Duration millis(int64_t v) { return {v * 1000}; }
  static constexpr Duration seconds(int64_t v) { return {v * 1000000}; }
  constexpr int64_t ms() const { return us / 1000; }
  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator+(Duration o) const { return {us + o.us}; }
  constexpr Duration operator-(Duration o) const { return {us - o.us}; }
};

struct Time {
  int64_t us = 0;  // since the Unix epoch

  static constexpr Time micros(int64_t v) { return {v}; }
  static constexpr Time millis(int64_t v) { return {v * 1000}; }
  static constexpr Time max() { return {std::numeric_limits<int64_t>::max()}; }
  constexpr int64_t ms() const { return us / 1000; }
  constexpr auto operator<=>(const Time&) const = default;
  constexpr Time operator+(Duration d) const { return {us + d.us}; }
  constexpr Time operator-(Duration d) const { return {us - d.us}; }
  constexpr Duration operator-(Time o) const { return {us - o.us}; }
};

// The simulator's virtual clock starts here (2026-01-01T00:00:00Z) so that
// simulated events carry plausible timestamps in their wire form.
inline constexpr Time kSimEpoch = Time::millis(1767225600000);

enum class PartitionId : int32_t {};
enum class Offset : int64_t {};

constexpr int32_t to_int(PartitionId p) { return static_cast<int32_t>(p); }
constexpr int64_t to_int(Offset o) { return static_cast<int64_t>(o); }
constexpr Offset next(Offset o) { return Offset{to_int(o) + 1}; }

}  // namespace sagasim
