// The order saga's own command in the sagasim binary: its event schemas
// (schema list | check | validate). Written for the order saga; the
// simulation and production commands (cli/main.h) serve every registered saga.
#include "cli/order_commands.h"

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/schema.h"

namespace sagasim::cli {

namespace {

class OrderCommands final : public Command {
 public:
  void add_to(CLI::App& app) override {
    schema_ = app.add_subcommand("schema", "The saga's event schemas: list them, check a change's compatibility, "
                                                    "validate events");
    schema_->require_subcommand(1);
    schema_list_ = schema_->add_subcommand("list", "Every event type and version, with its topic and fields");
    schema_list_->add_flag("--markdown", schema_list_args.markdown,
                          "Print the full reference (docs/events.md is this output)");
    schema_check_ = schema_->add_subcommand(
        "check", "Compatibility of a schema change in Confluent Schema Registry's terms: BACKWARD (new consumers read "
                 "old data), FORWARD (old consumers read new data), FULL (both)");
    schema_check_->add_option("old", schema_check_args.old_schema,
                             "The schema before the change: a JSON Schema file, or a built-in one named Type.vN "
                             "(e.g. OrderCreated.v1)")
        ->required();
    schema_check_->add_option("new", schema_check_args.new_schema, "The schema after the change (file or Type.vN)")->required();
    schema_check_->add_option("--require", schema_check_args.require,
                             "Exit 1 unless the change is at least this compatible: BACKWARD, FORWARD, FULL or NONE")
        ->check(CLI::IsMember({"BACKWARD", "FORWARD", "FULL", "NONE"}));
    schema_check_->add_flag("--json", schema_check_args.json, "Print one JSON object");
    schema_check_->footer("Exit codes: 0 checked (and --require met), 1 --require not met, 2 bad input (a schema file "
                         "that is not JSON, or uses a keyword sagasim does not support: the message names the path).");
    schema_validate_ = schema_->add_subcommand(
        "validate", "Decode event envelopes (one JSON object per line) exactly as the services do, schema checks included");
    schema_validate_->add_option("events", schema_validate_args.events, "File of event envelopes, one per line")->required();
    schema_validate_->add_option("--pin", schema_validate_args.pins,
                                "Read as a build that knows TYPE only up to VERSION (TYPE=VERSION, repeatable)");
    schema_validate_->add_flag("--verbose,-v", schema_validate_args.verbose, "Print a line for every valid event too");
    schema_validate_->footer("Exit codes: 0 every event is valid, 1 some are not (each is printed with file:line and the "
                            "JSON path), 2 bad input.");

  }

  std::optional<int> run_if_parsed() override {
    if (schema_list_->parsed()) return schema_list_command(schema_list_args);
    if (schema_check_->parsed()) return schema_check_command(schema_check_args);
    if (schema_validate_->parsed()) return schema_validate_command(schema_validate_args);
    return std::nullopt;
  }

 private:
  SchemaListArgs schema_list_args;
  SchemaCheckArgs schema_check_args;
  SchemaValidateArgs schema_validate_args;
  CLI::App* schema_ = nullptr;
  CLI::App* schema_list_ = nullptr;
  CLI::App* schema_check_ = nullptr;
  CLI::App* schema_validate_ = nullptr;
};

}  // namespace

std::unique_ptr<Command> order_commands() { return std::make_unique<OrderCommands>(); }

}  // namespace sagasim::cli
