// sagasim schema: the saga's event schemas.
//
//   sagasim schema list [--markdown]         every event type and version (docs/events.md)
//   sagasim schema check OLD NEW [--require MODE] [--json]
//                                            BACKWARD / FORWARD / FULL compatibility
//   sagasim schema validate EVENTS.jsonl     decode event envelopes as the services would
//
// OLD and NEW are schema files, or built-in schemas named Type.vN
// (OrderCreated.v1); see core/json_schema.h for the keywords supported.
#include <filesystem>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/schema.h"
#include "cli/live.h"
#include "core/codec.h"
#include "core/file.h"
#include "core/json_depth.h"
#include "sagas/order/events.h"
#include "sagas/order/schemas.h"

namespace sagasim::cli {

namespace {

constexpr size_t kMaxSchemaFileBytes = size_t{16} << 20;

struct LoadedSchema {
  std::string name;  // as the user gave it, or "OrderCreated v2 (built in)"
  JsonSchema schema;
};

LoadedSchema load_schema(const std::string& ref) {
  std::error_code ec;
  if (std::filesystem::exists(ref, ec)) {
    const std::string text = read_file_bounded(ref, "schema file", kMaxSchemaFileBytes);
    if (const auto deep = json_too_deep(text))
      throw InputError(ref, "", fmt::format("JSON nested deeper than {} levels (byte {})", kMaxJsonDepth, *deep));
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(ref, "", fmt::format("not valid JSON: {}", e.what()));
    }
    return {ref, JsonSchema::parse(j, ref)};
  }
  std::string name = ref;
  if (name.size() < 5 || name.substr(name.size() - 5) != ".json") name += ".json";
  if (const auto id = saga::parse_schema_file_name(name)) {
    auto it = saga::saga_schemas().find(*id);
    if (it != saga::saga_schemas().end()) return {fmt::format("{} v{} (built in)", id->first, id->second), *it->second};
  }
  throw InputError(ref, "", "no such file, and not a built-in schema (Type.vN; `sagasim schema list` names them)");
}

}  // namespace

int schema_check_command(const SchemaCheckArgs& args) {
  const LoadedSchema old_schema = load_schema(args.old_schema);
  const LoadedSchema new_schema = load_schema(args.new_schema);
  const Compatibility c = check_compatibility(old_schema.schema, new_schema.schema);
  const bool ok = args.require.empty() || (args.require == "BACKWARD" && c.is_backward()) ||
                  (args.require == "FORWARD" && c.is_forward()) || (args.require == "FULL" && c.is_full()) ||
                  args.require == "NONE";
  if (args.json) {
    auto problems = [](const std::vector<SchemaProblem>& ps) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& p : ps) a.push_back({{"path", p.path.empty() ? "/" : p.path}, {"problem", p.message}});
      return a;
    };
    nlohmann::json out = {{"old", old_schema.name},
                          {"new", new_schema.name},
                          {"level", c.level()},
                          {"backward", {{"compatible", c.is_backward()}, {"problems", problems(c.backward)}}},
                          {"forward", {{"compatible", c.is_forward()}, {"problems", problems(c.forward)}}},
                          {"full", c.is_full()}};
    if (!args.require.empty()) out["required"] = {{"mode", args.require}, {"met", ok}};
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << fmt::format("{} -> {}\n", old_schema.name, new_schema.name);
    auto line = [](const char* mode, bool yes, const char* meaning, const std::vector<SchemaProblem>& ps) {
      std::cout << fmt::format("  {:<9} {:<3}  {}\n", mode, yes ? "yes" : "no", meaning);
      for (const auto& p : ps) std::cout << fmt::format("              {}: {}\n", p.path.empty() ? "/" : p.path, p.message);
    };
    line("BACKWARD", c.is_backward(), "consumers on the new schema read data written with the old one", c.backward);
    line("FORWARD", c.is_forward(), "consumers on the old schema read data written with the new one", c.forward);
    line("FULL", c.is_full(), "both: producers and consumers upgrade in any order", {});
    std::cout << fmt::format("  compatibility: {}\n", c.level());
    if (!ok) std::cout << fmt::format("  required {}: not met\n", args.require);
  }
  return ok ? 0 : kExitViolation;
}

namespace {

std::string constraints_of(const JsonSchema& s) {
  std::vector<std::string> parts;
  if (s.enumeration) {
    std::string vals;
    for (const auto& v : *s.enumeration) vals += (vals.empty() ? "" : ", ") + ("`" + v.dump() + "`");
    parts.push_back("one of " + vals);
  }
  if (s.minimum) parts.push_back(fmt::format("≥ {}", static_cast<int64_t>(*s.minimum)));
  if (s.maximum) parts.push_back(fmt::format("≤ {}", static_cast<int64_t>(*s.maximum)));
  if (s.min_length && s.max_length && *s.min_length == *s.max_length)
    parts.push_back(fmt::format("{} characters", *s.min_length));
  else {
    if (s.min_length) parts.push_back(fmt::format("at least {} character{}", *s.min_length, *s.min_length == 1 ? "" : "s"));
    if (s.max_length) parts.push_back(fmt::format("at most {} characters", *s.max_length));
  }
  if (s.min_items) parts.push_back(fmt::format("at least {} item{}", *s.min_items, *s.min_items == 1 ? "" : "s"));
  if (s.max_items) parts.push_back(fmt::format("at most {} items", *s.max_items));
  if (s.default_value) parts.push_back("default `" + s.default_value->dump() + "`");
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

void field_rows(const JsonSchema& s, const std::string& prefix, std::ostream& out) {
  for (const auto& p : s.properties) {
    const std::string name = prefix + p.name;
    std::string type = p.schema.type_names();
    if (p.schema.types == JsonSchema::kArray && p.schema.items) type += " of " + p.schema.items->type_names();
    out << fmt::format("| `{}` | {} | {} | {} | {} |\n", name, type, s.is_required(p.name) ? "yes" : "no",
                       constraints_of(p.schema), p.schema.description);
    if (p.schema.items && p.schema.items->types == JsonSchema::kObject) field_rows(*p.schema.items, name + "[].", out);
    if (p.schema.types == JsonSchema::kObject) field_rows(p.schema, name + ".", out);
  }
}

// GitHub's heading anchors are lower case.
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string field_names(const JsonSchema& s) {
  std::string out;
  for (const auto& p : s.properties) out += (out.empty() ? "" : ", ") + p.name;
  return out;
}

}  // namespace

std::string events_markdown() {
  const saga::SchemaTable& table = saga::saga_schemas();
  std::ostringstream out;
  out << "# Events\n\n"
      << "<!-- Generated by `sagasim schema list --markdown` from sagas/order/schemas/*.json. Do not edit:\n"
      << "     change the schemas and regenerate; a test fails while this file and the schemas differ. -->\n\n"
      << "Every saga event is one JSON envelope (core/codec.h) whose `payload` is described below. The\n"
      << "envelope's fields, all required unless said otherwise: `event_id` (string, not empty, unique),\n"
      << "`type` (string, not empty), `schema_version` (integer ≥ 1; `1.0` is refused), `key` (string: the\n"
      << "order id, equal to the Kafka record key), `occurred_at` (string, RFC 3339 UTC ending in `Z`; an\n"
      << "offset such as `+00:00` is refused), `correlation_id` (string: the order, the saga instance; may\n"
      << "be empty, standing for the key), `causation_id` (string: the event that caused this one; present\n"
      << "and empty for a client's command), `headers` (optional: an object of string values), `payload`\n"
      << "(an object). Unknown envelope fields are refused, and so is a float where the schema says\n"
      << "integer. docs/clients.md is the whole contract for clients written in other languages.\n\n"
      << "Each payload is validated against its JSON Schema when it is decoded, in production (each Kafka\n"
      << "record; a payload that does not fit goes to the dead-letter topic) and in the simulator (each\n"
      << "delivery of a scenario that runs on the wire, `\"wire\": true`). A missing field that the schema\n"
      << "gives a default is filled in first. Versions:\n\n"
      << "- an older version is upcast to the current one (for `OrderCreated`, v1 gets `currency: \"USD\"`);\n"
      << "- a newer version than a build knows is read by the newest schema it knows, ignoring fields it\n"
      << "  does not declare (forward compatibility), and is a dead letter if it does not fit;\n"
      << "- `sagasim schema check OLD NEW` tells whether a change is BACKWARD, FORWARD or FULL compatible\n"
      << "  (docs/schema-evolution.md).\n\n";
  // Topics, in the order of the saga.
  out << "| topic | events |\n|---|---|\n";
  for (std::string_view topic : {saga::kOrderRequestsTopic, saga::kOrdersTopic, saga::kPaymentsTopic, saga::kInventoryTopic}) {
    std::string names;
    std::string last;
    for (const auto& [id, _] : table) {
      const auto& doc = saga::schema_document(id.first, id.second);
      if (doc.value("x-topic", "") != topic || id.first == last) continue;
      last = id.first;
      names += (names.empty() ? "" : ", ") + fmt::format("[{}](#{})", id.first, lower(id.first));
    }
    out << fmt::format("| `{}` | {} |\n", topic, names);
  }
  out << "\n";
  std::map<std::string, int> latest;
  for (const auto& [id, _] : table) latest[id.first] = std::max(latest[id.first], id.second);
  for (const auto& [type, current] : latest) {
    out << fmt::format("## {}\n\n", type);
    for (int v = current; v >= 1; --v) {
      auto it = table.find({type, v});
      if (it == table.end()) continue;
      const JsonSchema& s = *it->second;
      const auto& doc = saga::schema_document(type, v);
      out << fmt::format("**v{}**{} · topic `{}` · written by {} · read by {} · `sagas/order/schemas/{}.v{}.json`\n\n", v,
                         v == current ? " (current)" : "", doc.value("x-topic", "?"), doc.value("x-producer", "?"),
                         doc.value("x-consumers", "?"), type, v);
      out << s.description << "\n\n";
      if (v == current) {
        out << "| field | type | required | constraints | meaning |\n|---|---|---|---|---|\n";
        field_rows(s, "", out);
        out << "\n";
      } else {
        auto next = table.find({type, v + 1});
        const std::string level =
            next == table.end() ? "?" : std::string(check_compatibility(s, *next->second).level());
        out << fmt::format("Fields: {}. From v{} to v{}: {} compatible (`sagasim schema check {}.v{} {}.v{}`).\n\n",
                           field_names(s), v, v + 1, level, type, v, type, v + 1);
      }
    }
  }
  return out.str();
}

int schema_list_command(const SchemaListArgs& args) {
  if (args.markdown) {
    std::cout << events_markdown();
    return 0;
  }
  const auto& table = saga::saga_schemas();
  std::cout << fmt::format("{:<18} {:<8} {:<15} {}\n", "event", "version", "topic", "fields");
  for (const auto& [id, schema] : table) {
    const auto& doc = saga::schema_document(id.first, id.second);
    std::cout << fmt::format("{:<18} v{:<7} {:<15} {}\n", id.first, id.second, doc.value("x-topic", "?"),
                             field_names(*schema));
  }
  return 0;
}

int schema_validate_command(const SchemaValidateArgs& args) {
  PayloadRegistry registry;
  saga::register_saga_payloads(registry);
  for (const std::string& pin : args.pins) apply_pin(registry, pin, "--pin");
  const std::string text = read_file_bounded(args.events, "events file", kMaxSchemaFileBytes);
  std::istringstream in(text);
  std::string line;
  int number = 0, valid = 0, invalid = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = fmt::format("{}:{}", args.events, number);
    try {
      const Event e = decode_event(line, &registry, where);
      ++valid;
      if (args.verbose) std::cout << fmt::format("{}: ok: {} v{} {}\n", where, e.type, e.schema_version, e.event_id);
    } catch (const InputError& e) {
      ++invalid;
      std::cout << e.what() << "\n";
    }
  }
  if (valid + invalid == 0) throw InputError(args.events, "", "no events in the file (one JSON envelope per line)");
  std::cout << fmt::format("{} valid, {} invalid\n", valid, invalid);
  return invalid == 0 ? 0 : kExitViolation;
}

void apply_pin(PayloadRegistry& registry, const std::string& pin, std::string_view option) {
  const auto [type, version] = parse_pin(pin, option);
  registry.pin(type, version, fmt::format("{} {}", option, pin));
}

}  // namespace sagasim::cli
