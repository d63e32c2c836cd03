// JSON Schema for event payloads: the subset of draft 2020-12 that payloads
// need, a validator whose errors name the JSON pointer of the first problem,
// and a compatibility check between two versions of a schema in the sense of
// Confluent Schema Registry's modes.
//
//   JsonSchema s = JsonSchema::parse(j, "sagas/order/schemas/OrderCreated.v2.json");
//   if (auto err = s.validate(payload)) ...   // err->path "/lines/0/quantity"
//   Compatibility c = check_compatibility(v1, v2);   // c.backward, c.forward
//
// Keywords: type (a name or a list), enum, const, minimum, maximum,
// minLength, maxLength, minItems, maxItems, properties, required,
// additionalProperties (true, false or a schema), items (one schema), default,
// and the annotations $schema, $id, title, description, examples, and any
// "x-..." extension. Any other keyword is refused when the schema is loaded,
// so a schema never seems to promise a check that nothing performs.
//
// `default` is more than an annotation here: a decoder fills a missing
// property that has one before it validates (codec.h), which is how a reader
// of a newer version reads data written before a field existed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/fast_json.h"

namespace sagasim {

struct SchemaProblem {
  std::string path;     // a JSON pointer into the value ("" is the value itself)
  std::string message;  // what is wrong there
};

class JsonSchema {
 public:
  // The JSON types, as a bit set. Integer is a subset of number.
  enum Type : uint8_t {
    kNull = 1,
    kBoolean = 2,
    kInteger = 4,
    kNumber = 8,  // any number, integer or not
    kString = 16,
    kArray = 32,
    kObject = 64,
    kAny = 127,
  };

  // Throws InputError naming `source` and the pointer of a keyword it cannot honour.
  static JsonSchema parse(const nlohmann::json& j, std::string_view source);

  JsonSchema();
  JsonSchema(const JsonSchema&);
  JsonSchema& operator=(const JsonSchema&);
  JsonSchema(JsonSchema&&) noexcept;
  JsonSchema& operator=(JsonSchema&&) noexcept;
  ~JsonSchema();

  // The first problem of `value`, or none. Fills nothing: see apply_defaults.
  std::optional<SchemaProblem> validate(const nlohmann::json& value) const;
  // The codec's fast path (core/fast_json.h): true only when validate() would
  // find no problem in the value and apply_defaults() would add nothing.
  bool accepts(fastjson::View value) const;
  // Adds every missing property that the schema gives a default, recursively
  // through objects and arrays it describes.
  void apply_defaults(nlohmann::json& value) const;
  // Keeps only the properties the schema declares, recursively (what a reader
  // built against this schema sees of a newer writer's data).
  void project(nlohmann::json& value) const;

  // --- the model, for the compatibility check and the docs ---
  struct Property;
  uint8_t types = kAny;
  std::string title, description;
  std::optional<std::vector<nlohmann::json>> enumeration;  // enum, or const as a one-value enum
  std::optional<nlohmann::json> default_value;
  std::optional<double> minimum, maximum;
  std::optional<uint64_t> min_length, max_length, min_items, max_items;
  std::vector<Property> properties;  // in the order the schema lists them
  std::vector<std::string> required;
  // additionalProperties: allowed (the default: an open content model),
  // forbidden (false), or constrained by `additional`.
  bool additional_allowed = true;
  std::unique_ptr<JsonSchema> additional;
  std::unique_ptr<JsonSchema> items;  // null: any items

  const JsonSchema* property(std::string_view name) const;
  bool is_required(std::string_view name) const;
  // "integer", "string or null", ...
  std::string type_names() const;

 private:
  // The first problem, its path relative to `v` (built only on failure).
  std::optional<SchemaProblem> first_problem(const nlohmann::json& v) const;
};

struct JsonSchema::Property {
  std::string name;
  JsonSchema schema;
};

// Whether a reader with schema `reader` accepts every value that a writer with
// schema `writer` produces, and if not, why (paths into the reader's view).
// Writers are taken to write only the properties they declare; a property
// missing from the writer but required by the reader is fine when the reader
// gives it a default.
std::vector<SchemaProblem> reader_problems(const JsonSchema& reader, const JsonSchema& writer);

// Confluent Schema Registry's modes, for one step from `old_schema` to `new_schema`:
//   BACKWARD  consumers on the new schema read data written with the old one;
//   FORWARD   consumers on the old schema read data written with the new one;
//   FULL      both.
struct Compatibility {
  std::vector<SchemaProblem> backward;  // empty: backward compatible
  std::vector<SchemaProblem> forward;   // empty: forward compatible
  bool is_backward() const { return backward.empty(); }
  bool is_forward() const { return forward.empty(); }
  bool is_full() const { return is_backward() && is_forward(); }
  // "FULL", "BACKWARD", "FORWARD" or "NONE".
  std::string_view level() const;
};
Compatibility check_compatibility(const JsonSchema& old_schema, const JsonSchema& new_schema);

}  // namespace sagasim
