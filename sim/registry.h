// The sagas a program knows, by name. A scenario names its saga ("saga":
// {"name": "order"}) and the loader picks the definition from a registry; the
// CLI (cli/main.h) runs every command for every saga registered with it.
//
//   sim::SagaRegistry sagas{trip::trip_saga()};        // explicit, or
//   SAGASIM_REGISTER_SAGA(trip::trip_saga);            // in a .cc of the program itself
//   Scenario s = load_scenario_file("trip.json", sagas);
//
// SAGASIM_REGISTER_SAGA (FoundationDB's REGISTER_WORKLOAD is the model) adds a
// definition to SagaRegistry::global() before main runs. Put it in a source
// file of the executable: a linker drops an unreferenced object file of a
// static library, registration and all. Not thread-safe while being filled;
// read-only afterwards (sweeps share it between threads).
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/saga.h"

namespace sagasim::sim {

class SagaRegistry {
 public:
  SagaRegistry() = default;
  SagaRegistry(std::initializer_list<std::shared_ptr<const SagaDefinition>> sagas);

  // InternalError for a null definition or a name already taken.
  void add(std::shared_ptr<const SagaDefinition> saga);
  // Null when no saga has that name.
  std::shared_ptr<const SagaDefinition> find(std::string_view name) const;
  // The registered names, sorted; and the same as "order, trip" for messages.
  std::vector<std::string> names() const;
  std::string known() const;
  bool empty() const { return sagas_.empty(); }
  size_t size() const { return sagas_.size(); }
  const std::vector<std::shared_ptr<const SagaDefinition>>& all() const { return sagas_; }

  // Where SAGASIM_REGISTER_SAGA puts its definitions.
  static SagaRegistry& global();

 private:
  std::vector<std::shared_ptr<const SagaDefinition>> sagas_;  // sorted by name
};

namespace detail {
struct Registration {
  explicit Registration(std::shared_ptr<const SagaDefinition> saga) { SagaRegistry::global().add(std::move(saga)); }
};
}  // namespace detail

}  // namespace sagasim::sim

#define SAGASIM_REGISTRATION_CONCAT2(a, b) a##b
#define SAGASIM_REGISTRATION_CONCAT(a, b) SAGASIM_REGISTRATION_CONCAT2(a, b)
// Registers the definition `factory()` returns with SagaRegistry::global().
#define SAGASIM_REGISTER_SAGA(factory)                                                         \
  static const ::sagasim::sim::detail::Registration SAGASIM_REGISTRATION_CONCAT(sagasim_saga_, \
                                                                                __LINE__)((factory)())
