#include "core/json_schema.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.h"

namespace sagasim {

using nlohmann::json;

namespace {

constexpr std::pair<const char*, uint8_t> kTypeNames[] = {
    {"null", JsonSchema::kNull},     {"boolean", JsonSchema::kBoolean}, {"integer", JsonSchema::kInteger},
    {"number", JsonSchema::kNumber}, {"string", JsonSchema::kString},   {"array", JsonSchema::kArray},
    {"object", JsonSchema::kObject},
};

// The one type a value has. Integers are written without a fraction or an
// exponent: 2.0 is a number, not an integer (the codec refuses it in an
// integer field, so the schema says the same).
uint8_t type_of(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return JsonSchema::kNull;
    case json::value_t::boolean: return JsonSchema::kBoolean;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return JsonSchema::kInteger;
    case json::value_t::number_float: return JsonSchema::kNumber;
    case json::value_t::string: return JsonSchema::kString;
    case json::value_t::array: return JsonSchema::kArray;
    case json::value_t::object: return JsonSchema::kObject;
    default: return 0;
  }
}

// Types a schema's type set accepts: "number" takes integers too.
uint8_t accepted(uint8_t types) { return types & JsonSchema::kNumber ? types | JsonSchema::kInteger : types; }

std::string names_of(uint8_t types) {
  if (types == JsonSchema::kAny) return "any value";
  std::string out;
  for (const auto& [name, bit] : kTypeNames) {
    if (!(types & bit)) continue;
    if (bit == JsonSchema::kInteger && (types & JsonSchema::kNumber)) continue;  // "number" says it
    out += (out.empty() ? "" : " or ") + std::string(name);
  }
  return out;
}

std::string describe(const json& v) {
  std::string d = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (d.size() > 40) d = d.substr(0, 37) + "...";
  return d;
}

std::string escape_pointer(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

// Exact for every int64 and every double: x86's long double has a 64-bit mantissa.
long double numeric(const json& v) {
  if (v.is_number_unsigned()) return static_cast<long double>(v.get<uint64_t>());
  if (v.is_number_integer()) return static_cast<long double>(v.get<int64_t>());
  return static_cast<long double>(v.get<double>());
}

std::string format_bound(double b) {
  if (b == static_cast<double>(static_cast<int64_t>(b))) return fmt::format("{}", static_cast<int64_t>(b));
  return fmt::format("{}", b);
}

uint64_t code_points(const std::string& s) {
  uint64_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

class Parser {
 public:
  explicit Parser(std::string_view source) : source_(source) {}

  JsonSchema parse(const json& j, const std::string& path) {
    if (!j.is_object()) fail(path, fmt::format("a schema must be a JSON object, got {}", j.type_name()));
    JsonSchema s;
    for (const auto& [k, v] : j.items()) {
      const std::string at = path + "/" + escape_pointer(k);
      if (k == "$schema" || k == "$id" || k == "$comment" || k == "examples" || k.rfind("x-", 0) == 0) {
        continue;  // annotations
      } else if (k == "title") {
        s.title = string(v, at);
      } else if (k == "description") {
        s.description = string(v, at);
      } else if (k == "type") {
        s.types = 0;
        if (v.is_string()) {
          s.types = type_bit(v.get<std::string>(), at);
        } else if (v.is_array() && !v.empty()) {
          for (size_t i = 0; i < v.size(); ++i) s.types |= type_bit(string(v[i], at + "/" + std::to_string(i)), at);
        } else {
          fail(at, "expected a type name or a non-empty list of them");
        }
      } else if (k == "enum") {
        if (!v.is_array() || v.empty()) fail(at, "expected a non-empty array of values");
        s.enumeration = std::vector<json>(v.begin(), v.end());
      } else if (k == "const") {
        s.enumeration = std::vector<json>{v};
      } else if (k == "default") {
        s.default_value = v;
      } else if (k == "minimum" || k == "maximum") {
        if (!v.is_number()) fail(at, fmt::format("expected a number, got {}", v.type_name()));
        (k == "minimum" ? s.minimum : s.maximum) = v.get<double>();
      } else if (k == "minLength" || k == "maxLength" || k == "minItems" || k == "maxItems") {
        if (!v.is_number_unsigned()) fail(at, "expected a non-negative integer");
        const uint64_t n = v.get<uint64_t>();
        if (k == "minLength") s.min_length = n;
        else if (k == "maxLength") s.max_length = n;
        else if (k == "minItems") s.min_items = n;
        else s.max_items = n;
      } else if (k == "properties") {
        if (!v.is_object()) fail(at, "expected an object of schemas");
        for (const auto& [name, sub] : v.items())
          s.properties.push_back(JsonSchema::Property{name, parse(sub, at + "/" + escape_pointer(name))});
      } else if (k == "required") {
        if (!v.is_array()) fail(at, "expected an array of property names");
        for (size_t i = 0; i < v.size(); ++i) {
          std::string name = string(v[i], at + "/" + std::to_string(i));
          if (std::find(s.required.begin(), s.required.end(), name) != s.required.end())
            fail(at + "/" + std::to_string(i), fmt::format("'{}' is listed twice", name));
          s.required.push_back(std::move(name));
        }
      } else if (k == "additionalProperties") {
        if (v.is_boolean()) {
          s.additional_allowed = v.get<bool>();
        } else {
          s.additional = std::make_unique<JsonSchema>(parse(v, at));
        }
      } else if (k == "items") {
        s.items = std::make_unique<JsonSchema>(parse(v, at));
      } else {
        fail(at, fmt::format("'{}' is not a keyword sagasim's schemas support (see core/json_schema.h)", k));
      }
    }
    if (s.default_value) {
      if (auto p = s.validate(*s.default_value))
        fail(path + "/default" + p->path, fmt::format("the default does not fit its own schema: {}", p->message));
    }
    return s;
  }

 private:
  [[noreturn]] void fail(const std::string& path, std::string what) const {
    throw InputError(std::string(source_), path.empty() ? "/" : path, std::move(what));
  }
  std::string string(const json& v, const std::string& at) const {
    if (!v.is_string()) fail(at, fmt::format("expected a string, got {}", v.type_name()));
    return v.get<std::string>();
  }
  uint8_t type_bit(const std::string& name, const std::string& at) const {
    for (const auto& [n, bit] : kTypeNames)
      if (name == n) return bit;
    fail(at, fmt::format("'{}' is not a JSON Schema type (null, boolean, integer, number, string, array, object)", name));
  }

  std::string_view source_;
};

}  // namespace

JsonSchema JsonSchema::parse(const json& j, std::string_view source) { return Parser(source).parse(j, ""); }

JsonSchema::JsonSchema() = default;
JsonSchema::JsonSchema(JsonSchema&&) noexcept = default;
JsonSchema& JsonSchema::operator=(JsonSchema&&) noexcept = default;
JsonSchema::~JsonSchema() = default;

JsonSchema::JsonSchema(const JsonSchema& o)
    : types(o.types),
      title(o.title),
      description(o.description),
      enumeration(o.enumeration),
      default_value(o.default_value),
      minimum(o.minimum),
      maximum(o.maximum),
      min_length(o.min_length),
      max_length(o.max_length),
      min_items(o.min_items),
      max_items(o.max_items),
      properties(o.properties),
      required(o.required),
      additional_allowed(o.additional_allowed),
      additional(o.additional ? std::make_unique<JsonSchema>(*o.additional) : nullptr),
      items(o.items ? std::make_unique<JsonSchema>(*o.items) : nullptr) {}

JsonSchema& JsonSchema::operator=(const JsonSchema& o) {
  if (this != &o) *this = JsonSchema(o);
  return *this;
}

const JsonSchema* JsonSchema::property(std::string_view name) const {
  for (const Property& p : properties)
    if (p.name == name) return &p.schema;
  return nullptr;
}

bool JsonSchema::is_required(std::string_view name) const {
  return std::find(required.begin(), required.end(), name) != required.end();
}

std::string JsonSchema::type_names() const { return names_of(types); }

std::optional<SchemaProblem> JsonSchema::validate(const json& value) const { return first_problem(value); }

namespace {
// A child's problem, seen from its parent: "/lines" + "/0/quantity".
std::optional<SchemaProblem> under(std::string step, std::optional<SchemaProblem> p) {
  if (p) p->path = std::move(step) + p->path;
  return p;
}
}  // namespace

std::optional<SchemaProblem> JsonSchema::first_problem(const json& v) const {
  const uint8_t t = type_of(v);
  if (!(accepted(types) & t))
    return SchemaProblem{"", fmt::format("expected {}, got {} {}", names_of(types), names_of(t), describe(v))};
  if (enumeration && std::find(enumeration->begin(), enumeration->end(), v) == enumeration->end()) {
    std::string allowed;
    for (const json& e : *enumeration) allowed += (allowed.empty() ? "" : ", ") + describe(e);
    return SchemaProblem{"", fmt::format("{} is not one of the allowed values ({})", describe(v), allowed)};
  }
  if (t == kInteger || t == kNumber) {
    if (minimum && numeric(v) < static_cast<long double>(*minimum))
      return SchemaProblem{"", fmt::format("{} is below the minimum {}", describe(v), format_bound(*minimum))};
    if (maximum && numeric(v) > static_cast<long double>(*maximum))
      return SchemaProblem{"", fmt::format("{} is above the maximum {}", describe(v), format_bound(*maximum))};
  } else if (t == kString) {
    const uint64_t n = code_points(v.get_ref<const std::string&>());
    if (min_length && n < *min_length)
      return SchemaProblem{"", fmt::format("{} is shorter than {} characters", describe(v), *min_length)};
    if (max_length && n > *max_length)
      return SchemaProblem{"", fmt::format("{} is longer than {} characters", describe(v), *max_length)};
  } else if (t == kArray) {
    if (min_items && v.size() < *min_items)
      return SchemaProblem{"", fmt::format("has {} items, fewer than {}", v.size(), *min_items)};
    if (max_items && v.size() > *max_items)
      return SchemaProblem{"", fmt::format("has {} items, more than {}", v.size(), *max_items)};
    if (items)
      for (size_t i = 0; i < v.size(); ++i)
        if (auto p = items->first_problem(v[i])) return under("/" + std::to_string(i), std::move(p));
  } else if (t == kObject) {
    for (const std::string& name : required)
      if (!v.contains(name)) return SchemaProblem{"/" + escape_pointer(name), "missing required field"};
    for (const Property& p : properties) {
      auto it = v.find(p.name);
      if (it == v.end()) continue;
      if (auto problem = p.schema.first_problem(*it)) return under("/" + escape_pointer(p.name), std::move(problem));
    }
    if (!additional_allowed || additional) {
      for (const auto& [k, child] : v.items()) {
        if (property(k)) continue;
        if (additional) {
          if (auto p = additional->first_problem(child)) return under("/" + escape_pointer(k), std::move(p));
        } else {
          std::string known;
          for (const Property& p : properties) known += (known.empty() ? "" : ", ") + p.name;
          return SchemaProblem{"/" + escape_pointer(k), fmt::format("unknown field (known here: {})", known)};
        }
      }
    }
  }
  return std::nullopt;
}

bool JsonSchema::accepts(fastjson::View v) const {
  uint8_t t = 0;
  switch (v.kind()) {
    case fastjson::Node::Kind::Object: t = kObject; break;
    case fastjson::Node::Kind::Array: t = kArray; break;
    case fastjson::Node::Kind::String: t = kString; break;
    case fastjson::Node::Kind::Integer: t = kInteger; break;
  }
  if (!(accepted(types) & t)) return false;
  if (enumeration) {
    // Scalars compare as first_problem compares them; a structured value is left to it.
    json x;
    if (t == kString) x = std::string(v.str());
    else if (t == kInteger) x = v.integer();
    else return false;
    if (std::find(enumeration->begin(), enumeration->end(), x) == enumeration->end()) return false;
  }
  if (t == kInteger) {
    const auto x = static_cast<long double>(v.integer());
    if (minimum && x < static_cast<long double>(*minimum)) return false;
    if (maximum && x > static_cast<long double>(*maximum)) return false;
  } else if (t == kString) {
    const uint64_t n = v.str().size();  // ASCII only (fast_json.h): one byte per code point
    if (min_length && n < *min_length) return false;
    if (max_length && n > *max_length) return false;
  } else if (t == kArray) {
    if (min_items && v.size() < *min_items) return false;
    if (max_items && v.size() > *max_items) return false;
    bool ok = true;
    if (items) v.items([&](fastjson::View x) { ok = ok && items->accepts(x); });
    return ok;
  } else {
    // Required, and no default left to fill.
    for (const std::string& name : required) {
      fastjson::View x = v;
      if (!v.find(name, &x)) return false;
    }
    for (const Property& p : properties) {
      fastjson::View x = v;
      if (v.find(p.name, &x) ? !p.schema.accepts(x) : p.schema.default_value.has_value()) return false;
    }
    if (!additional_allowed || additional) {
      bool ok = true;
      v.members([&](std::string_view k, fastjson::View x) {
        if (ok && !property(k)) ok = additional && additional->accepts(x);
      });
      return ok;
    }
  }
  return true;
}

void JsonSchema::apply_defaults(json& v) const {
  if (v.is_object()) {
    for (const Property& p : properties) {
      auto it = v.find(p.name);
      if (it == v.end()) {
        if (p.schema.default_value) v[p.name] = *p.schema.default_value;
      } else {
        p.schema.apply_defaults(*it);
      }
    }
  } else if (v.is_array() && items) {
    for (json& x : v) items->apply_defaults(x);
  }
}

void JsonSchema::project(json& v) const {
  if (v.is_object()) {
    const bool free_form = additional || (properties.empty() && additional_allowed);
    if (!free_form) {
      for (auto it = v.begin(); it != v.end();) {
        if (property(it.key())) ++it;
        else it = v.erase(it);
      }
    }
    for (const Property& p : properties)
      if (auto it = v.find(p.name); it != v.end()) p.schema.project(*it);
  } else if (v.is_array() && items) {
    for (json& x : v) items->project(x);
  }
}

// --- compatibility -------------------------------------------------------------

namespace {

void reader_problems_at(const JsonSchema& r, const JsonSchema& w, const std::string& path,
                        std::vector<SchemaProblem>& out) {
  // A writer with a fixed set of values: the reader must take each of them.
  if (w.enumeration) {
    for (const json& value : *w.enumeration)
      if (auto p = r.validate(value))
        out.push_back({path + p->path, fmt::format("the writer may send {}, which the reader refuses: {}", describe(value),
                                                   p->message)});
    return;
  }
  const uint8_t extra = accepted(w.types) & ~accepted(r.types);
  if (extra)
    out.push_back({path, fmt::format("the reader takes {}, the writer may send {}", names_of(r.types), names_of(extra))});
  const uint8_t shared = accepted(w.types) & accepted(r.types);
  if (r.enumeration && shared) {
    out.push_back({path, fmt::format("the reader takes only {} values, the writer may send any {}", r.enumeration->size(),
                                     names_of(shared))});
    return;
  }
  auto bounds = [&](auto rb, auto wb, bool lower, std::string_view what) {
    if (!rb) return;
    if (!wb || (lower ? *wb < *rb : *wb > *rb))
      out.push_back({path, fmt::format("the reader's {} is {}, the writer's is {}", what, format_bound(static_cast<double>(*rb)),
                                       wb ? format_bound(static_cast<double>(*wb)) : std::string("unbounded"))});
  };
  if (shared & (JsonSchema::kInteger | JsonSchema::kNumber)) {
    bounds(r.minimum, w.minimum, true, "minimum");
    bounds(r.maximum, w.maximum, false, "maximum");
  }
  if (shared & JsonSchema::kString) {
    bounds(r.min_length, w.min_length, true, "minLength");
    bounds(r.max_length, w.max_length, false, "maxLength");
  }
  if (shared & JsonSchema::kArray) {
    bounds(r.min_items, w.min_items, true, "minItems");
    bounds(r.max_items, w.max_items, false, "maxItems");
    if (r.items) {
      if (w.items) reader_problems_at(*r.items, *w.items, path + "/[]", out);
      else if (r.items->types != JsonSchema::kAny || r.items->enumeration)
        out.push_back({path + "/[]", "the reader constrains the items, the writer does not"});
    }
  }
  if (shared & JsonSchema::kObject) {
    for (const std::string& name : r.required) {
      if (w.is_required(name)) continue;
      const JsonSchema* rp = r.property(name);
      if (rp && rp->default_value) continue;  // the reader fills it in
      out.push_back({path + "/" + escape_pointer(name),
                     w.property(name) ? "required by the reader, optional for the writer, and no default"
                                      : "required by the reader, unknown to the writer, and no default"});
    }
    for (const JsonSchema::Property& wp : w.properties) {
      const std::string at = path + "/" + escape_pointer(wp.name);
      if (const JsonSchema* rp = r.property(wp.name)) {
        reader_problems_at(*rp, wp.schema, at, out);
      } else if (r.additional) {
        reader_problems_at(*r.additional, wp.schema, at, out);
      } else if (!r.additional_allowed) {
        out.push_back({at, "the writer sends it; the reader forbids unknown fields (additionalProperties: false)"});
      }
    }
    if (w.additional) {  // a map: the writer may send any key
      if (r.additional) reader_problems_at(*r.additional, *w.additional, path + "/*", out);
      else if (!r.additional_allowed) out.push_back({path + "/*", "the writer sends free-form keys; the reader forbids them"});
    }
  }
}

}  // namespace

std::vector<SchemaProblem> reader_problems(const JsonSchema& reader, const JsonSchema& writer) {
  std::vector<SchemaProblem> out;
  reader_problems_at(reader, writer, "", out);
  return out;
}

std::string_view Compatibility::level() const {
  if (is_full()) return "FULL";
  if (is_backward()) return "BACKWARD";
  if (is_forward()) return "FORWARD";
  return "NONE";
}

Compatibility check_compatibility(const JsonSchema& old_schema, const JsonSchema& new_schema) {
  return Compatibility{reader_problems(new_schema, old_schema), reader_problems(old_schema, new_schema)};
}

}  // namespace sagasim
