// The sagasim command: sagasim::cli::main (cli/main.h) with the built-in
// order saga, registered exactly as a team registers its own, and the order
// saga's production and schema commands.
#include <utility>
#include <vector>

#include "cli/main.h"
#include "cli/order_commands.h"
#include "sagas/order/order_saga.h"

int main(int argc, char** argv) {
  std::vector<std::unique_ptr<sagasim::cli::Command>> commands;
  commands.push_back(sagasim::cli::order_commands());
  return sagasim::cli::main(argc, argv, {sagasim::saga::order_saga()}, std::move(commands));
}
