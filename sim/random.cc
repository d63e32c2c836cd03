#include "sim/random.h"

#include <algorithm>
#include <cmath>

namespace sagasim::sim {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t derive_seed(uint64_t root, std::string_view component) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a of the name, mixed with the root
  for (unsigned char c : component) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  uint64_t state = root ^ h;
  return splitmix64(state);
}

Prng::Prng(uint64_t seed) {
  uint64_t state = seed;
  for (auto& s : s_) s = splitmix64(state);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t Prng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint64_t Prng::below(uint64_t bound) {
  // Reject the top sliver so every residue is equally likely.
  const uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const uint64_t r = next_u64();
    if (r >= threshold) return r % bound;
  }
}

int64_t Prng::between(int64_t lo, int64_t hi) {
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<int64_t>(next_u64());
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + below(span + 1));
}

double Prng::unit() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

namespace detmath {

double sqrt(double x) { return std::sqrt(x); }

// Polynomials in Horner form with constant coefficients: the compiler folds
// 1.0 / n exactly rounded, and evaluation uses only + and *, so every
// platform computes the same bits (FMA contraction is disabled in the build).
double log(double x) {
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m-1)/(m+1),
  // |s| < 0.1716, so s^2 < 0.0295 and 12 odd terms reach double precision.
  int e = 0;
  double m = std::frexp(x, &e);  // exact: m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2;
    e -= 1;
  }
  const double s = (m - 1) / (m + 1);
  const double z = s * s;
  constexpr double c[] = {1.0,      1.0 / 3,  1.0 / 5,  1.0 / 7,  1.0 / 9,  1.0 / 11, 1.0 / 13,
                          1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21, 1.0 / 23, 1.0 / 25};
  double p = c[12];
  for (int k = 11; k >= 0; --k) p = p * z + c[k];
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  return e * kLn2Hi + (2 * s * p + e * kLn2Lo);
}

double exp(double x) {
  if (x > 709) return HUGE_VAL;
  if (x < -745) return 0;
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  const double k = std::floor(x / 0.69314718055994530942 + 0.5);  // floor is exact
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;                 // |r| <= ~0.35
  // 1/n! for n = 0..17: the tail r^18/18! < 1e-24.
  constexpr double c[] = {1.0,
                          1.0,
                          1.0 / 2,
                          1.0 / 6,
                          1.0 / 24,
                          1.0 / 120,
                          1.0 / 720,
                          1.0 / 5040,
                          1.0 / 40320,
                          1.0 / 362880,
                          1.0 / 3628800,
                          1.0 / 39916800,
                          1.0 / 479001600,
                          1.0 / 6227020800,
                          1.0 / 87178291200,
                          1.0 / 1307674368000,
                          1.0 / 20922789888000,
                          1.0 / 355687428096000};
  double p = c[17];
  for (int n = 16; n >= 0; --n) p = p * r + c[n];
  return std::ldexp(p, static_cast<int>(k));  // exact scaling
}

}  // namespace detmath

DurationDist DurationDist::constant_ms(double ms) { return {Kind::Constant, ms * 1000, 0, 0, INT64_MAX}; }
DurationDist DurationDist::uniform_ms(double lo, double hi) {
  return {Kind::Uniform, lo * 1000, hi * 1000, 0, INT64_MAX};
}
DurationDist DurationDist::exponential_ms(double mean) { return {Kind::Exponential, mean * 1000, 0, 0, INT64_MAX}; }

namespace {
// Marsaglia's polar method: needs only log and sqrt.
double standard_normal(Prng& rng) {
  for (;;) {
    const double u = 2 * rng.unit() - 1, v = 2 * rng.unit() - 1;
    const double s = u * u + v * v;
    if (s > 0 && s < 1) return u * detmath::sqrt(-2 * detmath::log(s) / s);
  }
}
}  // namespace

Duration DurationDist::sample(Prng& rng) const {
  double us = 0;
  switch (kind) {
    case Kind::Constant: us = a; break;
    case Kind::Uniform: {
      const auto lo = static_cast<int64_t>(a), hi = static_cast<int64_t>(b);
      return Duration{std::clamp(rng.between(lo, hi), min_us, max_us)};
    }
    case Kind::Exponential: us = -a * detmath::log(1 - rng.unit()); break;
    case Kind::Normal: us = a + b * standard_normal(rng); break;
    case Kind::LogNormal: us = a * detmath::exp(b * standard_normal(rng)); break;
  }
  if (!(us >= 0)) us = 0;
  if (us > 9.0e18) us = 9.0e18;
  return Duration{std::clamp(static_cast<int64_t>(us), std::max<int64_t>(0, min_us), max_us)};
}

}  // namespace sagasim::sim
