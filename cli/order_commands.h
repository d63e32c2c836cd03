// The order saga's production and schema commands for the sagasim binary
// (serve, place-orders, check, schema), as a cli::Command (cli/main.h).
#pragma once

#include <memory>

#include "cli/main.h"

namespace sagasim::cli {

std::unique_ptr<Command> order_commands();

}  // namespace sagasim::cli
