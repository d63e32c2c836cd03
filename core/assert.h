// Always-on assertions for the engine's preconditions: active in every build
// type (Release included), unlike <cassert>. A failed one means sagasim itself
// is broken (a caller broke a contract), never that a user's input or a
// simulated fault was bad: those are InputError values and modelled outcomes.
//
//   SAGASIM_ASSERT(!heap_.empty(), "step() needs a pending task");
//
// On failure it prints "file:line: assertion failed: <condition> (<message>)"
// to stderr and calls std::abort(), so a debugger or a core dump stops at the
// broken call. The message must be a string literal: the passing path costs one
// branch, with no formatting and no allocation (the scheduler's and the
// broker's hot paths are benchmarked).
#pragma once

namespace sagasim {

[[noreturn]] [[gnu::cold]] void assertion_failed(const char* file, int line, const char* condition,
                                                 const char* message) noexcept;

}  // namespace sagasim

// `"" message` accepts only a string literal.
#define SAGASIM_ASSERT(condition, message)                                               \
  do {                                                                                   \
    if (!(condition)) [[unlikely]]                                                       \
      ::sagasim::assertion_failed(__FILE__, __LINE__, #condition, "" message);           \
  } while (false)
