// trip-sim: the trip saga with every sagasim command (run, sweep, shrink,
// replay, export, mutants): `trip-sim --help`.
#include <sagasim/cli/main.h>

#include "trip_saga.h"

int main(int argc, char** argv) { return sagasim::cli::main(argc, argv, {trip::trip_saga()}); }
