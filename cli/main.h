// The sagasim command line as a library: a team's own binary is its sagas
// and this function, and gets every simulation command for them.
//
//   #include <sagasim/cli/main.h>
//   #include "trip_saga.h"
//   int main(int argc, char** argv) { return sagasim::cli::main(argc, argv, {trip::trip_saga()}); }
//
// Commands: run, sweep, shrink, replay, export, mutants, for every scenario
// that names one of the registered sagas ("saga": {"name": ...}); `--mutant`
// takes the saga's own variants (SagaDefinition::variants()) and the
// runtime's mutants. Production mode on real Kafka: serve, place (alias
// place-orders) and check, for every saga with SagaDefinition::start_live
// (cli/live.h). Reproduce lines name the program as it was invoked.
// The `sagasim` binary is this function with the built-in order saga and the
// order saga's schema command, added as a Command.
//
// Exit codes: 0 every invariant holds; 1 an invariant failed or a replay
// diverged; 2 bad input (a message naming the file and JSON path, or the
// argument). Not reentrant: one call per process.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "sim/registry.h"

namespace CLI {
class App;
}

namespace sagasim::cli {

// A subcommand a program adds besides the built-in ones.
class Command {
 public:
  virtual ~Command() = default;
  // Defines the subcommand and its options on `app`.
  virtual void add_to(CLI::App& app) = 0;
  // After parsing: the exit code, if this command was the one given. May
  // throw InputError (reported as bad input, exit 2).
  virtual std::optional<int> run_if_parsed() = 0;
};

int main(int argc, char** argv, const sim::SagaRegistry& sagas, std::vector<std::unique_ptr<Command>> commands = {});
// The sagas registered with SAGASIM_REGISTER_SAGA (sim/registry.h).
int main(int argc, char** argv);

}  // namespace sagasim::cli
