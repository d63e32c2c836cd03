// libFuzzer target: the event decoder. Raw bytes -> sagasim::decode_event with
// every saga payload registered. Bad input may only end in sagasim::InputError;
// any other exception (nlohmann's type_error or out_of_range escaping a payload
// decoder, say), a crash, a sanitizer report or a hang is a finding. A decoded
// event must encode again without throwing. The codec's fast path must agree
// with its reference path (core/codec.h) byte for byte: the same event or the
// same error from decoding, the same text from encoding; a difference aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
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

namespace {
// What a decode yields, or its error: the two paths must give the same.
std::string outcome(bool fast, std::string_view text) {
  try {
    const sagasim::Event e = fast ? sagasim::decode_event(text, &registry(), "fuzz")
                                  : sagasim::decode_event_reference(text, &registry(), "fuzz");
    const std::string encoded = sagasim::encode_event(e);
    if (encoded != sagasim::encode_event_reference(e)) {
      std::fprintf(stderr, "encode differs from the reference:\n%s\n%s\n", encoded.c_str(),
                   sagasim::encode_event_reference(e).c_str());
      std::abort();
    }
    std::string out = "event " + encoded;
    for (const auto& [k, v] : e.headers) out += " " + k + "=" + v;
    return out;
  } catch (const sagasim::InputError& err) {
    return std::string("error ") + err.what();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string fast = outcome(true, text);
  const std::string reference = outcome(false, text);
  if (fast != reference) {
    std::fprintf(stderr, "fast path and reference differ:\n%s\n%s\n", fast.c_str(), reference.c_str());
    std::abort();
  }
  return 0;
}
