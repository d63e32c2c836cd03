// Reading a JSON object field by field with errors that name the source and
// the JSON pointer, and that reject keys nobody asked for (typos):
//
//   JsonObject o(j, "/topology", "x.json");
//   int64_t n = o.integer("partitions", 1, 1024, 3);  // default 3
//   o.finish();  // "x.json at /topology/partitons: unknown field (known here: ...)"
//
// Shared by every loader of user files (scenarios, fault plans).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace sagasim {

struct Range {
  int64_t min = 0;
  int64_t max = 0;
};

// Walks one JSON object, remembering which keys were read, so that unknown
// keys (typos) are reported instead of silently ignored.
class JsonObject {
 public:
  JsonObject(const nlohmann::json& j, std::string path, const std::string& source) : j_(j), path_(std::move(path)), source_(source) {
    if (!j.is_object()) fail(path_, fmt::format("expected an object, got {}", j.type_name()));
  }

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw InputError(source_, path.empty() ? "/" : path, what);
  }
  std::string at(const char* key) const { return path_ + "/" + key; }

  const nlohmann::json* find(const char* key) {
    seen_.insert(key);
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  const nlohmann::json& require(const char* key) {
    const nlohmann::json* v = find(key);
    if (!v) fail(at(key), "missing required field");
    return *v;
  }

  int64_t integer(const char* key, int64_t lo, int64_t hi, std::optional<int64_t> def = std::nullopt) {
    const nlohmann::json* v = find(key);
    if (!v) {
      if (def) return *def;
      fail(at(key), "missing required field");
    }
    if (!v->is_number_integer()) fail(at(key), fmt::format("expected an integer, got {}", describe(*v)));
    const int64_t x = v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX ? INT64_MAX : v->get<int64_t>();
    if (x < lo || x > hi) fail(at(key), fmt::format("{} is out of range [{}, {}]", x, lo, hi));
    return x;
  }
  double number(const char* key, double lo, double hi, std::optional<double> def = std::nullopt) {
    const nlohmann::json* v = find(key);
    if (!v) {
      if (def) return *def;
      fail(at(key), "missing required field");
    }
    if (!v->is_number()) fail(at(key), fmt::format("expected a number, got {}", describe(*v)));
    const double x = v->get<double>();
    if (!(x >= lo && x <= hi)) fail(at(key), fmt::format("{} is out of range [{}, {}]", x, lo, hi));
    return x;
  }
  std::string string(const char* key, std::optional<std::string> def = std::nullopt) {
    const nlohmann::json* v = find(key);
    if (!v) {
      if (def) return *def;
      fail(at(key), "missing required field");
    }
    if (!v->is_string()) fail(at(key), fmt::format("expected a string, got {}", describe(*v)));
    return v->get<std::string>();
  }
  bool boolean(const char* key, bool def) {
    const nlohmann::json* v = find(key);
    if (!v) return def;
    if (!v->is_boolean()) fail(at(key), fmt::format("expected true or false, got {}", describe(*v)));
    return v->get<bool>();
  }
  Range range(const char* key, int64_t lo, int64_t hi, std::optional<Range> def = std::nullopt) {
    const nlohmann::json* v = find(key);
    if (!v) {
      if (def) return *def;
      fail(at(key), "missing required field");
    }
    if (v->is_number_integer()) {  // a single value means min = max
      const int64_t x = v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX ? INT64_MAX : v->get<int64_t>();
      if (x < lo || x > hi) fail(at(key), fmt::format("{} is out of range [{}, {}]", x, lo, hi));
      return Range{x, x};
    }
    JsonObject o(*v, at(key), source_);
    Range r{o.integer("min", lo, hi), o.integer("max", lo, hi)};
    if (r.min > r.max) fail(at(key), fmt::format("min {} is greater than max {}", r.min, r.max));
    o.finish();
    return r;
  }

  // Rejects every key that no reader asked for.
  void finish() const {
    for (const auto& [k, _] : j_.items()) {
      if (seen_.count(k)) continue;
      std::string known;
      for (const auto& s : seen_) known += (known.empty() ? "" : ", ") + s;
      fail(path_ + "/" + k, fmt::format("unknown field (known here: {})", known));
    }
  }

  const std::string& path() const { return path_; }
  const std::string& source() const { return source_; }

  static std::string describe(const nlohmann::json& v) {
    std::string d = v.dump();
    if (d.size() > 40) d = d.substr(0, 37) + "...";
    return fmt::format("{} {}", v.type_name(), d);
  }

 private:
  const nlohmann::json& j_;
  std::string path_;
  const std::string& source_;
  std::set<std::string> seen_;
};

}  // namespace sagasim
