// Seeded randomness with the same numbers on every platform.
//
// Prng is xoshiro256** (Blackman & Vigna), seeded through SplitMix64. The
// distributions are our own: std::*_distribution output differs between
// standard libraries, and libm's log/exp may differ in the last bit between
// C libraries, so DetMath implements them with + - * / only (IEEE-754 exact
// rounding, and the build disables FMA contraction). Golden values in
// tests/sim/random_test.cc pin all of it.
//
// Seeds: one root seed per run; each component derives its own with
// `derive_seed(root, "broker")`, so adding a component does not shift the
// numbers another one draws.
#pragma once

#include <cstdint>
#include <climits>
#include <string_view>

#include "core/types.h"

namespace sagasim::sim {

uint64_t splitmix64(uint64_t& state);
uint64_t derive_seed(uint64_t root, std::string_view component);

class Prng {
 public:
  explicit Prng(uint64_t seed);

  uint64_t next_u64();
  // Uniform in [0, bound), bound > 0, without modulo bias.
  uint64_t below(uint64_t bound);
  // Uniform in [lo, hi], lo <= hi.
  int64_t between(int64_t lo, int64_t hi);
  // Uniform in [0, 1) with 53 random bits.
  double unit();
  bool chance(double p) { return unit() < p; }

 private:
  uint64_t s_[4];
};

namespace detmath {
double log(double x);  // x > 0
double exp(double x);
double sqrt(double x);  // IEEE sqrt is exactly rounded everywhere
}  // namespace detmath

// A distribution of durations, as scenario files describe them:
//   {"dist":"constant","ms":2}  {"dist":"uniform","min_ms":1,"max_ms":5}
//   {"dist":"exponential","mean_ms":2}  {"dist":"normal","mean_ms":5,"stddev_ms":1}
//   {"dist":"lognormal","median_ms":2,"sigma":0.5}
// Every kind takes optional "min_ms"/"max_ms" clamps (never below 0).
struct DurationDist {
  enum class Kind { Constant, Uniform, Exponential, Normal, LogNormal };
  Kind kind = Kind::Constant;
  double a = 0;  // constant value, uniform min, mean, normal mean, lognormal median (µs)
  double b = 0;  // uniform max, normal stddev (µs), lognormal sigma
  int64_t min_us = 0;
  int64_t max_us = INT64_MAX;

  static DurationDist constant_ms(double ms);
  static DurationDist uniform_ms(double lo, double hi);
  static DurationDist exponential_ms(double mean);
  Duration sample(Prng& rng) const;
};

}  // namespace sagasim::sim
