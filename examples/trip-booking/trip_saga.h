// A trip-booking saga, written outside sagasim against its installed
// package: a trip orchestrator books a flight, then a hotel, then a car, and
// undoes what was booked when a step fails or the trip times out. Nothing
// here is part of sagasim; it is what a team writes to test its own saga
// (docs/writing-your-own-saga.md walks through it).
//
//   trip-requests  BookTrip                         (from travellers)
//   trip-commands  Reserve, Release                 (orchestrator -> flight | hotel | car)
//   trip-replies   Reserved, Unavailable, Released  (providers -> orchestrator)
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sagasim/sim/saga.h>

namespace trip {

// The broken variant, to show the harness catches it (`--mutant
// keeps-late-reservation`): the orchestrator ignores a reservation that
// arrives after it cancelled the trip (a timeout), so that seat, room or car
// stays booked for nobody.
inline constexpr std::string_view kKeepsLateReservation = "keeps-late-reservation";

// The saga definition, registered as "trip": services "trip", "flight",
// "hotel", "car"; the scenario's "saga" object takes trip_timeout_ms (and
// liveness_bound_ms), its "workload" the providers' items and the trips
// (docs in trip_saga.cc).
std::shared_ptr<const sagasim::sim::SagaDefinition> trip_saga();

}  // namespace trip
