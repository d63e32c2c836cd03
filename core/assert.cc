#include "core/assert.h"

#include <cstdio>
#include <cstdlib>

namespace sagasim {

void assertion_failed(const char* file, int line, const char* condition, const char* message) noexcept {
  std::fprintf(stderr, "%s:%d: assertion failed: %s (%s)\n", file, line, condition, message);
  std::fflush(stderr);
  std::abort();
}

}  // namespace sagasim
