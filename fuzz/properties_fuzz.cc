// libFuzzer target: the librdkafka properties-file parser. Raw bytes ->
// kafka::Config::parse; errors are values (Result), so any exception, crash,
// sanitizer report or hang is a finding. Also checks the documented promises:
// an error never echoes the line, redacted() never shows a secret's value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kafka/client/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = sagasim::kafka::Config::parse(text, "fuzz.properties");
  if (!result.ok()) return 0;
  const sagasim::kafka::Config& config = result.value();
  // Non-interference: changing every secret's value must not change redacted().
  sagasim::kafka::Config other = config;
  for (const auto& e : config.entries()) {
    if (e.key.empty()) __builtin_trap();
    if (sagasim::kafka::Config::is_secret(e.key)) other.set(e.key, e.value + "#changed", e.origin);
  }
  if (other.redacted() != config.redacted()) __builtin_trap();
  return 0;
}
