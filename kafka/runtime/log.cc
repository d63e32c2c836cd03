#include "kafka/runtime/log.h"

#include <chrono>
#include <ctime>

#include <fmt/format.h>

namespace sagasim::kafka {

std::optional<LogLevel> parse_log_level(std::string_view s) {
  if (s == "debug") return LogLevel::kDebug;
  if (s == "info") return LogLevel::kInfo;
  if (s == "warn") return LogLevel::kWarn;
  if (s == "error") return LogLevel::kError;
  return std::nullopt;
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "?";
}

namespace {
std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, us % 1000000);
}
}  // namespace

void JsonLog::log(LogLevel level, std::string_view msg, const nlohmann::json& fields) {
  if (!enabled(level)) return;
  nlohmann::ordered_json line = nlohmann::ordered_json::object();  // ts, level, fixed fields, msg, fields
  line["ts"] = utc_now();
  line["level"] = to_string(level);
  for (const auto& [k, v] : fixed_.items()) line[k] = v;
  line["msg"] = msg;
  if (fields.is_object())
    for (const auto& [k, v] : fields.items()) line[k] = v;
  // Replace, never throw, on invalid UTF-8: a log line must not take the service down.
  const std::string text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  out_ << text << '\n';
  out_.flush();
}

}  // namespace sagasim::kafka
