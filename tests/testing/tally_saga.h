// The engine's own test saga: as small as a saga can be while still using
// everything the engine offers a saga (several services and topics, a
// business key, timers, a compensation, a tombstone for a compensation that
// overtakes what it compensates, an effect that must happen once), so that
// the simulator, the faults and the properties are tested without the
// built-in order saga (TigerBeetle tests its simulator with a state machine
// of its own in the same way). Nothing outside tests/ uses it.
//
//   asks      Ask{id, account, units}   client -> desk    key: ask id (the business key)
//   takes     Take, Undo                desk -> vault     key: account (Undo: the desk gave up waiting)
//   answers   Taken, Refused            vault -> desk     key: ask id
//   grants    Granted                   desk -> ledger    key: account
//   receipts  Recorded                  ledger -> nobody  key: ask id (so every service publishes)
// Keys change between hops, as in real sagas: the desk's Takes for one
// account come from every partition of asks, so one producer has several
// requests in flight to one partition of takes.
//
// The desk opens a request with a deadline and asks the vault for units;
// the vault holds them when the account has enough and refuses otherwise;
// the desk grants on Taken (the ledger records each grant once) and refuses
// on Refused; at the deadline it times the request out and tells the vault
// to undo, which releases a hold or, when the Take has not arrived yet,
// leaves a VOIDED tombstone so that a late Take holds nothing.
//
// Scenario:
//   "saga": {"name": "tally", "timeout_ms": 2000, "liveness_bound_ms": 30000},
//   "workload": {"accounts": [5, 3, 8],                 units per account a-1, a-2, ...
//                "asks": {"count": 40, "interarrival_ms": 20, "max_units": 3}
//                   or   [{"id": "k-1", "at_ms": 0, "account": "a-1", "units": 2}]}
#pragma once

#include <memory>
#include <string_view>

#include "sim/saga.h"

namespace sagasim::testing {

// Invariants, in report order.
inline constexpr std::string_view kUnitsConserved = "units_conserved";          // at every commit
inline constexpr std::string_view kHoldsMoveForward = "holds_move_forward";     // at every commit
inline constexpr std::string_view kDecided = "asks_decided_within_bound";       // final
inline constexpr std::string_view kGrantedHeld = "granted_ask_is_held";         // final: granted => held and recorded
inline constexpr std::string_view kUndoneHoldsNothing = "undone_ask_holds_nothing";  // final
inline constexpr std::string_view kRecordedOnce = "ledger_records_each_grant_once";  // final
inline constexpr std::string_view kAnsweredOnce = "vault_answers_each_ask_once";     // final, over the log
inline constexpr std::string_view kByDeadline = "asks_decided_by_deadline";  // final: FinalView::timer_fires_at

// The bug zoo of the test saga (`RunOptions::mutant`), so that the engine's
// tests can show each kind of check failing.
inline constexpr std::string_view kLedgerNoDedupe = "ledger-no-dedupe";      // counts a redelivered grant again
inline constexpr std::string_view kUndoNoTombstone = "undo-no-tombstone";    // a late Take holds for nobody
// Keeps the running totals in the service object (process memory) and
// writes them from there: right while one process lives, wrong after a
// restart or beside a second ledger instance.
inline constexpr std::string_view kLedgerCountsInMemory = "ledger-counts-in-memory";

std::shared_ptr<const sim::SagaDefinition> tally_saga();

// A scenario of the tally saga for tests: `asks` generated asks over
// `accounts` accounts of `units` units each; topology and broker defaults.
nlohmann::json tally_scenario(int asks = 60, int partitions = 2, int vault_instances = 2);

}  // namespace sagasim::testing
