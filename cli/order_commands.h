// The order saga's schema command for the sagasim binary (schema list |
// check | validate), as a cli::Command (cli/main.h).
#pragma once

#include <memory>

#include "cli/main.h"

namespace sagasim::cli {

std::unique_ptr<Command> order_commands();

}  // namespace sagasim::cli
