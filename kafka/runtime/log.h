// Structured logs for production mode: one JSON object per line.
//
//   JsonLog log(std::cerr, {{"service", "payment"}, {"instance", "payment-2"}});
//   log.info("dead-lettered", {{"topic", "orders"}, {"offset", 17}, {"correlation_id", "o-9"}});
//   // {"ts":"2026-11-26T06:01:02.345678Z","level":"info","service":"payment",
//   //  "instance":"payment-2","msg":"dead-lettered","topic":"orders","offset":17,"correlation_id":"o-9"}
//
// Every line carries the fixed fields given at construction. A record's lines
// carry its correlation_id (the order) and causation_id (the event that caused
// it), so `grep '"correlation_id":"o-9"'` follows one saga through every service.
// Lines below the level are dropped before anything is formatted. One thread.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sagasim::kafka {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// "debug" | "info" | "warn" | "error"; nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view s);
std::string_view to_string(LogLevel level);

class JsonLog {
 public:
  JsonLog(std::ostream& out, nlohmann::json fixed, LogLevel level = LogLevel::kInfo)
      : out_(out), fixed_(std::move(fixed)), level_(level) {}

  bool enabled(LogLevel level) const { return level >= level_; }
  void log(LogLevel level, std::string_view msg, const nlohmann::json& fields = nlohmann::json::object());
  void debug(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object()) {
    if (enabled(LogLevel::kDebug)) log(LogLevel::kDebug, msg, fields);
  }
  void info(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object()) {
    log(LogLevel::kInfo, msg, fields);
  }
  void warn(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object()) {
    log(LogLevel::kWarn, msg, fields);
  }
  void error(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object()) {
    log(LogLevel::kError, msg, fields);
  }

 private:
  std::ostream& out_;
  nlohmann::json fixed_;
  LogLevel level_;
};

}  // namespace sagasim::kafka
