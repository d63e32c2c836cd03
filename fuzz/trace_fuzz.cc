// libFuzzer target: the viewer's trace reader. Raw bytes ->
// viewer::TraceModel::parse (JSON Lines) and, when it loads, the derived views
// (saga paths, links, raw lines). Bad input may only end in viewer::TraceError
// ("file:line: message"); anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "viewer/trace_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto model = sagasim::viewer::TraceModel::parse(std::move(text), "fuzz.jsonl");
    for (size_t i = 0; i < model.steps().size(); ++i) (void)model.raw_json(i);
    for (const std::string& order : model.orders()) {
      const auto path = model.saga_path(order);
      (void)model.links(path);
    }
  } catch (const sagasim::viewer::TraceError&) {
  }
  return 0;
}
