// Property-test throughput: how many generated 50-order cases with faults
// (tests/sagas/order/saga_case.h) one core checks per second, generation,
// simulation and every invariant included. Not a test: prints one figure.
//
//   build/bench/property_throughput [CASES]
// Run one process per core to measure a machine (scripts/bench does).
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <rapidcheck.h>

#include "saga_case.h"

int main(int argc, char** argv) {
  const int cases = argc > 1 ? std::atoi(argv[1]) : 500;
  if (cases <= 0) {
    std::fprintf(stderr, "usage: property_throughput [CASES > 0]\n");
    return 2;
  }
  int failures = 0;
  const auto start = std::chrono::steady_clock::now();
  rc::detail::TestParams params;
  params.seed = 7;
  params.maxSuccess = cases;
  params.maxSize = 100;
  params.disableShrinking = true;
  const auto result = rc::detail::checkTestable(
      [&] {
        const sagasim::props::Case c = *sagasim::props::gen_case_with_orders(50, 4);
        const auto o = sagasim::props::run_case(c, "", false);
        if (!o.result.ok()) ++failures;
      },
      rc::detail::TestMetadata{}, params);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rc::detail::SuccessResult ok;
  std::printf("{\"cases\": %d, \"seconds\": %.3f, \"cases_per_s\": %.1f, \"failures\": %d, \"completed\": %s}\n", cases, secs,
              cases / secs, failures, result.match(ok) ? "true" : "false");
  return failures == 0 ? 0 : 1;
}
