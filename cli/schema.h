// `sagasim schema`: list, check and validate the saga's event schemas
// (sagas/order/schemas/; core/json_schema.h for the checker).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/codec.h"

namespace sagasim::cli {

struct SchemaCheckArgs {
  std::string old_schema;  // a file, or a built-in Type.vN
  std::string new_schema;
  std::string require;     // BACKWARD, FORWARD, FULL or NONE: exit 1 unless met
  bool json = false;
};
int schema_check_command(const SchemaCheckArgs& args);

struct SchemaListArgs {
  bool markdown = false;
};
int schema_list_command(const SchemaListArgs& args);

struct SchemaValidateArgs {
  std::string events;  // one envelope per line
  std::vector<std::string> pins;
  bool verbose = false;
};
int schema_validate_command(const SchemaValidateArgs& args);

// docs/events.md, from the schemas.
std::string events_markdown();

// Parses `pin` (cli/live.h: parse_pin) and applies it to `registry`.
void apply_pin(PayloadRegistry& registry, const std::string& pin, std::string_view option);

}  // namespace sagasim::cli
