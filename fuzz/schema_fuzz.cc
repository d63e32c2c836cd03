// libFuzzer target: JSON Schema files, as `sagasim schema check` reads them.
// Raw bytes -> nlohmann::json::parse (nesting limited as everywhere) ->
// JsonSchema::parse (core/json_schema.cc); a schema that loads is then used:
// it validates, fills defaults into and projects a few payloads, and is
// checked for compatibility against itself and OrderCreated v2 both ways.
// Bad input may only end in nlohmann's parse errors or sagasim::InputError;
// any other exception, a crash, a sanitizer report or a hang is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "core/json_depth.h"
#include "core/json_schema.h"
#include "sagas/order/schemas.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nlohmann::json;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (sagasim::json_too_deep(text)) return 0;
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error&) {
    return 0;
  } catch (const json::out_of_range&) {  // a number beyond a double
    return 0;
  }
  sagasim::JsonSchema s;
  try {
    s = sagasim::JsonSchema::parse(j, "fuzz");
  } catch (const sagasim::InputError&) {
    return 0;
  }
  static const json kValues[] = {
      json::parse(R"({"order_id":"o-1","customer_id":"c-1","lines":[{"sku":"s","quantity":1,"price_cents":5}],"amount_cents":5})"),
      json::parse(R"({"a":[1,2.5,"x",null,{"b":{}}],"c":true})"),
      json::parse(R"([{}, [], "", 0, -1, 18446744073709551615])"),
      json::parse(R"("text")"),
      json(nullptr),
  };
  for (const json& v : kValues) {
    (void)s.validate(v);
    json copy = v;
    s.apply_defaults(copy);
    s.project(copy);
    (void)s.validate(copy);
  }
  const sagasim::JsonSchema& v2 = *sagasim::saga::saga_schemas().at({"OrderCreated", 2});
  (void)sagasim::check_compatibility(s, s).level();
  (void)sagasim::check_compatibility(s, v2).level();
  (void)sagasim::check_compatibility(v2, s).level();
  return 0;
}
