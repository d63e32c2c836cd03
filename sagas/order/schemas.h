// The saga's event schemas: one JSON Schema per event type and version, kept
// in sagas/order/schemas/<Type>.v<N>.json (the one place they live; docs/events.md
// is generated from them) and compiled into every binary.
//
// register_saga_payloads (events.h) attaches them to the decoders, so both
// runtimes validate what they read: the Kafka runtime every record, the
// simulator every delivery when it runs on the wire (scenario "wire").
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/json_schema.h"

namespace sagasim::saga {

// {"OrderCreated.v2.json", "{...}"}, in name order.
std::span<const std::pair<std::string_view, std::string_view>> schema_files();

// Every schema, parsed, by (type, version). The files are checked when the
// table is first built: a malformed one is an InternalError naming it.
using SchemaTable = std::map<std::pair<std::string, int>, std::shared_ptr<const JsonSchema>>;
const SchemaTable& saga_schemas();

// The raw JSON of one schema file (for x-topic, x-producer, x-consumers).
const nlohmann::json& schema_document(const std::string& type, int version);

// "OrderCreated.v2.json" -> {"OrderCreated", 2}; nullopt for other names.
std::optional<std::pair<std::string, int>> parse_schema_file_name(std::string_view name);

}  // namespace sagasim::saga
