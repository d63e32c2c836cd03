#include "core/json_schema.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "sagas/order/schemas.h"

namespace sagasim {
namespace {

using nlohmann::json;

JsonSchema schema(const char* text) { return JsonSchema::parse(json::parse(text), "test.json"); }

std::string problem(const JsonSchema& s, const char* value) {
  auto p = s.validate(json::parse(value));
  return p ? (p->path.empty() ? "/" : p->path) + ": " + p->message : "ok";
}

const char* kLine = R"({"type": "object", "required": ["sku", "quantity"],
  "properties": {"sku": {"type": "string", "minLength": 1}, "quantity": {"type": "integer", "minimum": 1}}})";

TEST(JsonSchema, ValidationNamesThePathOfTheFirstProblem) {
  const std::string text = std::string(R"({"type": "object", "required": ["id", "lines"],
    "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 8},
                   "lines": {"type": "array", "minItems": 1, "items": )") +
                           kLine + R"(},
                   "reason": {"enum": ["a", "b"]},
                   "amount": {"type": "integer", "minimum": 0, "maximum": 100}}})";
  const JsonSchema s = schema(text.c_str());
  EXPECT_EQ(problem(s, R"({"id": "x", "lines": [{"sku": "s", "quantity": 1}]})"), "ok");
  EXPECT_EQ(problem(s, R"({"id": "x", "lines": [{"sku": "s", "quantity": 1}], "extra": 1})"), "ok")
      << "an open content model: unknown fields are ignored";
  EXPECT_EQ(problem(s, R"({"lines": []})"), "/id: missing required field");
  EXPECT_EQ(problem(s, R"({"id": "", "lines": []})"), R"(/id: "" is shorter than 1 characters)");
  EXPECT_EQ(problem(s, R"({"id": "123456789", "lines": []})"), R"(/id: "123456789" is longer than 8 characters)");
  EXPECT_EQ(problem(s, R"({"id": "x", "lines": []})"), "/lines: has 0 items, fewer than 1");
  EXPECT_EQ(problem(s, R"({"id": "x", "lines": [{"sku": "s", "quantity": 1}, {"sku": "t", "quantity": "2"}]})"),
            R"(/lines/1/quantity: expected integer, got string "2")");
  EXPECT_EQ(problem(s, R"({"id": "x", "lines": [{"sku": "s", "quantity": 2.0}]})"),
            "/lines/0/quantity: expected integer, got number 2.0")
      << "integers are written without a fraction, as the codec wants them";
  EXPECT_EQ(problem(s, R"({"id": "x", "lines": [{"sku": "s", "quantity": 0}]})"),
            "/lines/0/quantity: 0 is below the minimum 1");
  EXPECT_EQ(problem(s, R"({"id": "x", "lines": [{"sku": "s", "quantity": 1}], "reason": "c"})"),
            R"(/reason: "c" is not one of the allowed values ("a", "b"))");
  EXPECT_EQ(problem(s, R"({"id": "x", "lines": [{"sku": "s", "quantity": 1}], "amount": 101})"),
            "/amount: 101 is above the maximum 100");
  EXPECT_EQ(problem(s, R"([1])"), "/: expected object, got array [1]");
  EXPECT_EQ(problem(s, R"({"id": "ü€𝄞", "lines": [{"sku": "s", "quantity": 1}]})"), "ok")
      << "lengths count characters, not bytes";
}

TEST(JsonSchema, ClosedObjectsRefuseUnknownFields) {
  const JsonSchema s = schema(R"({"type": "object", "additionalProperties": false, "properties": {"a": {}}})");
  EXPECT_EQ(problem(s, R"({"a": 1, "b": 2})"), "/b: unknown field (known here: a)");
  const JsonSchema map = schema(R"({"type": "object", "additionalProperties": {"type": "string"}})");
  EXPECT_EQ(problem(map, R"({"x": "1", "y": 2})"), "/y: expected string, got integer 2");
}

TEST(JsonSchema, DefaultsAreFilledAndProjectionKeepsDeclaredFields) {
  const JsonSchema s = schema(R"({"type": "object", "properties": {"currency": {"type": "string", "default": "USD"},
    "lines": {"type": "array", "items": {"type": "object", "properties": {"q": {"type": "integer", "default": 1}}}}}})");
  json v = json::parse(R"({"lines": [{}, {"q": 3, "colour": "red"}], "gift": true})");
  s.apply_defaults(v);
  EXPECT_EQ(v["currency"], "USD");
  EXPECT_EQ(v["lines"][0]["q"], 1);
  s.project(v);
  EXPECT_EQ(v.dump(), R"({"currency":"USD","lines":[{"q":1},{"q":3}]})");
}

TEST(JsonSchema, UnsupportedKeywordsAndBadSchemasAreRefusedWithThePath) {
  auto error = [](const char* text) {
    try {
      schema(text);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(error(R"({"properties": {"id": {"type": "string", "pattern": "^o-"}}})"),
            "test.json at /properties/id/pattern: 'pattern' is not a keyword sagasim's schemas support (see "
            "core/json_schema.h)");
  EXPECT_EQ(error(R"({"type": "text"})"),
            "test.json at /type: 'text' is not a JSON Schema type (null, boolean, integer, number, string, array, object)");
  EXPECT_EQ(error(R"({"type": "integer", "minimum": 1, "default": 0})"),
            "test.json at /default: the default does not fit its own schema: 0 is below the minimum 1");
  EXPECT_EQ(error(R"({"required": ["a", "a"]})"), "test.json at /required/1: 'a' is listed twice");
  EXPECT_EQ(error(R"([])"), "test.json at /: a schema must be a JSON object, got array");
  EXPECT_EQ(error(R"({"x-topic": "orders", "$comment": "annotations are fine"})"), "(no error)");
}

// The compatibility checker on a table of schema changes, each a change real
// teams make, with the level Confluent Schema Registry's modes give it.
struct Change {
  const char* name;
  const char* old_schema;
  const char* new_schema;
  const char* level;
  const char* first_problem;  // path of the first problem reported, "" if none
};

#define OBJ(props, req) R"({"type": "object", "required": )" req R"(, "properties": )" props "}"
const char* kV1 = OBJ(R"({"id": {"type": "string"}, "amount": {"type": "integer", "minimum": 0}})", R"(["id", "amount"])");

const Change kChanges[] = {
    {"identical", kV1, kV1, "FULL", ""},
    {"add an optional field",  // old readers ignore it, new readers do without it
     kV1, OBJ(R"({"id": {"type": "string"}, "amount": {"type": "integer", "minimum": 0}, "note": {"type": "string"}})", R"(["id", "amount"])"),
     "FULL", ""},
    {"add a required field with a default",  // the reader fills it in for old data
     kV1,
     OBJ(R"({"id": {"type": "string"}, "amount": {"type": "integer", "minimum": 0},
             "currency": {"type": "string", "default": "USD"}})", R"(["id", "amount", "currency"])"),
     "FULL", ""},
    {"add a required field without a default",  // new readers cannot read old data
     kV1,
     OBJ(R"({"id": {"type": "string"}, "amount": {"type": "integer", "minimum": 0}, "currency": {"type": "string"}})",
         R"(["id", "amount", "currency"])"),
     "FORWARD", "/currency"},
    {"remove a required field",  // old readers still want it
     kV1, OBJ(R"({"id": {"type": "string"}})", R"(["id"])"), "BACKWARD", "/amount"},
    {"make a required field optional", kV1,
     OBJ(R"({"id": {"type": "string"}, "amount": {"type": "integer", "minimum": 0}})", R"(["id"])"), "BACKWARD", "/amount"},
    {"rename a field",  // amount -> total: nobody reads anybody
     kV1, OBJ(R"({"id": {"type": "string"}, "total": {"type": "integer", "minimum": 0}})", R"(["id", "total"])"), "NONE",
     "/total"},
    {"change a field's type", kV1,
     OBJ(R"({"id": {"type": "string"}, "amount": {"type": "string"}})", R"(["id", "amount"])"), "NONE", "/amount"},
    {"widen integer to number",  // new readers take old integers; old readers choke on 2.5
     kV1, OBJ(R"({"id": {"type": "string"}, "amount": {"type": "number", "minimum": 0}})", R"(["id", "amount"])"),
     "BACKWARD", "/amount"},
    {"tighten a minimum",  // old data may hold 0
     kV1, OBJ(R"({"id": {"type": "string"}, "amount": {"type": "integer", "minimum": 1}})", R"(["id", "amount"])"),
     "FORWARD", "/amount"},
    {"drop a minimum", kV1, OBJ(R"({"id": {"type": "string"}, "amount": {"type": "integer"}})", R"(["id", "amount"])"),
     "BACKWARD", "/amount"},
    {"add an enum value",  // old readers do not know "fraud"
     OBJ(R"({"reason": {"enum": ["declined", "timeout"]}})", R"(["reason"])"),
     OBJ(R"({"reason": {"enum": ["declined", "timeout", "fraud"]}})", R"(["reason"])"), "BACKWARD", "/reason"},
    {"remove an enum value", OBJ(R"({"reason": {"enum": ["declined", "timeout", "fraud"]}})", R"(["reason"])"),
     OBJ(R"({"reason": {"enum": ["declined", "timeout"]}})", R"(["reason"])"), "FORWARD", "/reason"},
    {"close the content model",  // additionalProperties: false on fields the writer does not declare is fine
     kV1,
     R"({"type": "object", "additionalProperties": false, "required": ["id", "amount"],
         "properties": {"id": {"type": "string"}, "amount": {"type": "integer", "minimum": 0}}})",
     "FULL", ""},
    {"remove a field from a closed model",  // old writers still send it; the new reader forbids it
     R"({"type": "object", "additionalProperties": false, "properties": {"id": {"type": "string"}, "note": {"type": "string"}}})",
     R"({"type": "object", "additionalProperties": false, "properties": {"id": {"type": "string"}}})", "FORWARD", "/note"},
    {"change a nested item's type",
     OBJ(R"({"lines": {"type": "array", "items": {"type": "object", "properties": {"q": {"type": "integer"}}}}})", R"([])"),
     OBJ(R"({"lines": {"type": "array", "items": {"type": "object", "properties": {"q": {"type": "string"}}}}})", R"([])"),
     "NONE", "/lines/[]/q"},
    {"lengthen a string limit", OBJ(R"({"code": {"type": "string", "maxLength": 3}})", "[]"),
     OBJ(R"({"code": {"type": "string", "maxLength": 8}})", "[]"), "BACKWARD", "/code"},
};
#undef OBJ

class CompatibilityTable : public testing::TestWithParam<Change> {};

TEST_P(CompatibilityTable, GivesTheConfluentLevel) {
  const Change& c = GetParam();
  const Compatibility r = check_compatibility(schema(c.old_schema), schema(c.new_schema));
  EXPECT_EQ(r.level(), std::string_view(c.level)) << c.name;
  std::vector<SchemaProblem> all = r.backward;
  all.insert(all.end(), r.forward.begin(), r.forward.end());
  if (*c.first_problem) {
    ASSERT_FALSE(all.empty()) << c.name;
    EXPECT_EQ(all[0].path, c.first_problem) << c.name << ": " << all[0].message;
  } else {
    EXPECT_TRUE(all.empty()) << c.name << ": " << (all.empty() ? "" : all[0].path + " " + all[0].message);
  }
}

INSTANTIATE_TEST_SUITE_P(SchemaChanges, CompatibilityTable, testing::ValuesIn(kChanges),
                         [](const testing::TestParamInfo<Change>& info) {
                           std::string n;
                           for (const char* p = info.param.name; *p; ++p) n += std::isalnum(*p) ? *p : '_';
                           return n;
                         });

TEST(SagaSchemas, EveryFileLoadsAndOrderCreatedV2IsFullyCompatibleWithV1) {
  const auto& table = saga::saga_schemas();
  EXPECT_EQ(table.size(), saga::schema_files().size());
  EXPECT_GE(table.size(), 15u);
  const auto& v1 = *table.at({"OrderCreated", 1});
  const auto& v2 = *table.at({"OrderCreated", 2});
  EXPECT_EQ(check_compatibility(v1, v2).level(), "FULL");
  // A breaking v3: the amount renamed. Old consumers (v2) cannot read it.
  JsonSchema v3 = v2;
  for (auto& p : v3.properties)
    if (p.name == "amount_cents") p.name = "total_cents";
  for (auto& r : v3.required)
    if (r == "amount_cents") r = "total_cents";
  const Compatibility c = check_compatibility(v2, v3);
  EXPECT_FALSE(c.is_forward());
  EXPECT_EQ(c.forward.at(0).path, "/amount_cents");
}

TEST(SagaSchemas, FileNames) {
  EXPECT_EQ(saga::parse_schema_file_name("OrderCreated.v12.json"), (std::pair<std::string, int>{"OrderCreated", 12}));
  EXPECT_FALSE(saga::parse_schema_file_name("OrderCreated.json"));
  EXPECT_FALSE(saga::parse_schema_file_name("OrderCreated.v0.json"));
  EXPECT_FALSE(saga::parse_schema_file_name(".v1.json"));
  EXPECT_FALSE(saga::parse_schema_file_name("OrderCreated.v1x.json"));
}

}  // namespace
}  // namespace sagasim
