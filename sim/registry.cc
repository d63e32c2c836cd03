#include "sim/registry.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.h"

namespace sagasim::sim {

SagaRegistry::SagaRegistry(std::initializer_list<std::shared_ptr<const SagaDefinition>> sagas) {
  for (const auto& s : sagas) add(s);
}

void SagaRegistry::add(std::shared_ptr<const SagaDefinition> saga) {
  if (!saga) throw InternalError("SagaRegistry::add: a null saga definition");
  const std::string name(saga->name());
  if (name.empty()) throw InternalError("SagaRegistry::add: a saga definition with an empty name");
  if (find(name)) throw InternalError(fmt::format("SagaRegistry::add: two sagas are named '{}'", name));
  auto at = std::lower_bound(sagas_.begin(), sagas_.end(), name,
                             [](const auto& s, const std::string& n) { return s->name() < n; });
  sagas_.insert(at, std::move(saga));
}

std::shared_ptr<const SagaDefinition> SagaRegistry::find(std::string_view name) const {
  for (const auto& s : sagas_)
    if (s->name() == name) return s;
  return nullptr;
}

std::vector<std::string> SagaRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& s : sagas_) out.emplace_back(s->name());
  return out;
}

std::string SagaRegistry::known() const {
  std::string out;
  for (const auto& s : sagas_) out += (out.empty() ? "" : ", ") + std::string(s->name());
  return out.empty() ? "none registered" : out;
}

SagaRegistry& SagaRegistry::global() {
  static SagaRegistry registry;
  return registry;
}

}  // namespace sagasim::sim
