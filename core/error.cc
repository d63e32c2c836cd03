#include "core/error.h"

namespace sagasim {

namespace {
std::string compose(const std::string& where, const std::string& path, const std::string& what) {
  std::string m = where;
  if (!path.empty()) m += (m.empty() ? "" : " at ") + path;
  if (!m.empty()) m += ": ";
  return m + what;
}
}  // namespace

InputError::InputError(std::string where, std::string path, std::string what)
    : std::runtime_error(compose(where, path, what)),
      where_(std::move(where)),
      path_(std::move(path)),
      detail_(std::move(what)) {}

}  // namespace sagasim
