// libFuzzer target: the event decoder. Raw bytes -> sagasim::decode_event with
// every saga payload registered. Bad input may only end in sagasim::InputError;
// any other exception (nlohmann's type_error or out_of_range escaping a payload
// decoder, say), a crash, a sanitizer report or a hang is a finding. A decoded
// event must encode again without throwing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/codec.h"
#include "core/error.h"
#include "sagas/order/events.h"

namespace {
const sagasim::PayloadRegistry& registry() {
  static const sagasim::PayloadRegistry r = [] {
    sagasim::PayloadRegistry reg;
    sagasim::saga::register_saga_payloads(reg);
    return reg;
  }();
  return r;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const sagasim::Event e = sagasim::decode_event(text, &registry(), "fuzz");
    (void)sagasim::encode_event(e);
  } catch (const sagasim::InputError&) {
  }
  return 0;
}
