// Errors at the boundaries of the system carry context: which file, which
// JSON path, which topic/partition/offset. They are values with a message
// fit to show a user as is.
#pragma once

#include <stdexcept>
#include <string>

namespace sagasim {

// Bad input from outside: a scenario file, an event on the wire, a trace, a
// command-line value. `where` names the source ("scenarios/x.json",
// "orders[3] offset 17") and `path` the JSON pointer inside it ("/workload/orders").
// The CLI turns it into exit code 2.
class InputError : public std::runtime_error {
 public:
  InputError(std::string where, std::string path, std::string what);

  const std::string& where() const { return where_; }
  const std::string& path() const { return path_; }
  const std::string& detail() const { return detail_; }

 private:
  std::string where_;
  std::string path_;
  std::string detail_;
};

// A broken contract inside sagasim itself (never a user's fault).
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace sagasim
