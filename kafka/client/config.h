// librdkafka configuration: a properties file plus command-line overrides.
//
//   # client.properties
//   bootstrap.servers=broker-1:9092,broker-2:9092
//   security.protocol=SASL_SSL
//   sasl.mechanism=SCRAM-SHA-512
//   sasl.username=saga
//   sasl.password=hunter2
//
//   Result<Config> c = Config::load("client.properties");   // errors name file:line
//   c.value().add_override("linger.ms=2");                   // later settings win
//   log(c.value().redacted());  // "bootstrap.servers=broker-1:9092,..., sasl.password=[redacted]"
//
// Format: one `key=value` per line, split at the first '='; whitespace around
// key and value is trimmed; blank lines and lines whose first non-blank
// character is '#' are ignored. There are no continuation lines or escapes
// (librdkafka values never need them). A key set twice keeps the last value.
//
// Secrets: sasl.password, ssl.key.password, ssl.keystore.password,
// sasl.oauthbearer.client.secret, ssl.key.pem (a private key in PEM form) and
// any key containing "password" or "secret". Their values never appear in
// redacted(), in an Error, or in anything else this file renders. A malformed
// line is never echoed, since it may be a secret with a typo in it.
//
// Thread safety: a const Config may be read from several threads.
#pragma once

#include <librdkafka/rdkafka.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/client/error.h"

namespace sagasim::kafka {

struct ConfigEntry {
  std::string key;
  std::string value;
  std::string origin;  // where it was set: "client.properties:4", "command line", "sagasim"
};

class Config {
 public:
  // Reads a properties file.
  // Errors: _INVALID_ARG with context "<file>" when it cannot be read, is a
  // directory or a device, or is larger than kMaxFileBytes; or
  // "<file>:<line>" for a line without '=', with an empty key, or with
  // whitespace inside the key.
  static Result<Config> load(const std::string& file);

  // Parses the text of a properties file; `source` names it in origins and errors.
  // Errors: as load().
  static Result<Config> parse(std::string_view text, std::string_view source);

  // A command-line override "key=value" (e.g. `--kafka-set linger.ms=2`); wins over the file.
  // Errors: _INVALID_ARG, context `origin`, for a malformed override (never echoed).
  Status add_override(std::string_view key_equals_value, std::string_view origin = "command line");

  // Sets or replaces a key (keeps its position when replacing).
  void set(std::string_view key, std::string_view value, std::string_view origin);

  std::optional<std::string_view> get(std::string_view key) const;
  const ConfigEntry* find(std::string_view key) const;
  const std::vector<ConfigEntry>& entries() const { return entries_; }

  // "key=value, key=value" in the order keys were first set, secrets as "[redacted]".
  std::string redacted() const;

  // rd_kafka_conf_set for every entry, in order.
  // Errors: _INVALID_ARG with context "<origin> key <key>" and librdkafka's reason
  // (unknown property, invalid value); a secret's value is scrubbed from the reason.
  Status apply(rd_kafka_conf_t* conf) const;

  static bool is_secret(std::string_view key);
  // A properties file larger than this is refused (an error, not minutes of parsing).
  static constexpr size_t kMaxFileBytes = 1 << 20;
  static constexpr std::string_view kRedacted = "[redacted]";

 private:
  std::vector<ConfigEntry> entries_;
};

}  // namespace sagasim::kafka
