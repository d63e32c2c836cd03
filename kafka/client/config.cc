#include "kafka/client/config.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sagasim::kafka {
namespace {

constexpr std::string_view kBlank = " \t\r\f\v";

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(kBlank);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(kBlank);
  return s.substr(b, e - b + 1);
}

Error input_error(std::string context, std::string message) {
  return make_error(RD_KAFKA_RESP_ERR__INVALID_ARG, std::move(context), std::move(message));
}

// Splits "key=value". Returns the reason when malformed; never mentions the text itself.
std::optional<std::string> split_setting(std::string_view text, std::string_view& key, std::string_view& value) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos) return "expected key=value, found no '=' (the line is not shown: it may hold a secret)";
  key = trim(text.substr(0, eq));
  value = trim(text.substr(eq + 1));
  if (key.empty()) return "expected key=value, found an empty key";
  if (key.find_first_of(kBlank) != std::string_view::npos) {
    return "the key contains whitespace (the line is not shown: it may hold a secret)";
  }
  return std::nullopt;
}

// librdkafka's reasons may quote the value ("Invalid value \"x\" for ..."): cut a secret out.
std::string scrub(std::string reason, std::string_view secret) {
  if (secret.empty()) return reason;
  for (size_t at = reason.find(secret); at != std::string::npos; at = reason.find(secret, at)) {
    reason.replace(at, secret.size(), Config::kRedacted);
    at += Config::kRedacted.size();
  }
  return reason;
}

}  // namespace

bool Config::is_secret(std::string_view key) {
  static constexpr std::array<std::string_view, 5> kNamed = {
      "sasl.password", "ssl.key.password", "ssl.keystore.password", "sasl.oauthbearer.client.secret",
      "ssl.key.pem"};
  if (std::find(kNamed.begin(), kNamed.end(), key) != kNamed.end()) return true;
  std::string lower(key);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower.find("password") != std::string::npos || lower.find("secret") != std::string::npos;
}

Result<Config> Config::load(const std::string& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) return input_error(file, "is a directory, not a properties file");
  if (std::filesystem::is_character_file(file, ec) || std::filesystem::is_block_file(file, ec))
    return input_error(file, "is a device, not a properties file");
  std::ifstream in(file, std::ios::binary);
  if (!in) return input_error(file, "cannot open the librdkafka properties file");
  std::string text;
  char chunk[1 << 16];
  while (text.size() <= kMaxFileBytes && in.read(chunk, sizeof chunk).gcount() > 0)
    text.append(chunk, static_cast<size_t>(in.gcount()));
  if (in.bad()) return input_error(file, "cannot read the librdkafka properties file");
  return parse(text, file);
}

Result<Config> Config::parse(std::string_view text, std::string_view source) {
  // set() is linear in the number of keys: a megabyte of distinct keys would
  // take minutes. librdkafka has a few hundred properties; 1 MiB is plenty.
  if (text.size() > kMaxFileBytes)
    return input_error(std::string(source), "larger than " + std::to_string(kMaxFileBytes >> 20) +
                                                " MiB: not a librdkafka properties file");
  Config config;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    std::string_view body = trim(line);
    if (body.empty() || body.front() == '#') continue;
    std::string where = std::string(source) + ":" + std::to_string(line_no);
    std::string_view key, value;
    if (auto reason = split_setting(body, key, value)) return input_error(where, *reason);
    config.set(key, value, where);
  }
  return config;
}

Status Config::add_override(std::string_view key_equals_value, std::string_view origin) {
  std::string_view key, value;
  if (auto reason = split_setting(trim(key_equals_value), key, value)) return input_error(std::string(origin), *reason);
  set(key, value, origin);
  return {};
}

void Config::set(std::string_view key, std::string_view value, std::string_view origin) {
  for (ConfigEntry& e : entries_) {
    if (e.key == key) {
      e.value = value;
      e.origin = origin;
      return;
    }
  }
  entries_.push_back({std::string(key), std::string(value), std::string(origin)});
}

const ConfigEntry* Config::find(std::string_view key) const {
  for (const ConfigEntry& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

std::optional<std::string_view> Config::get(std::string_view key) const {
  if (const ConfigEntry* e = find(key)) return std::string_view(e->value);
  return std::nullopt;
}

std::string Config::redacted() const {
  std::string out;
  for (const ConfigEntry& e : entries_) {
    if (!out.empty()) out += ", ";
    out += e.key;
    out += '=';
    out += is_secret(e.key) ? std::string(kRedacted) : e.value;
  }
  return out;
}

Status Config::apply(rd_kafka_conf_t* conf) const {
  for (const ConfigEntry& e : entries_) {
    char reason[512] = "";
    if (rd_kafka_conf_set(conf, e.key.c_str(), e.value.c_str(), reason, sizeof reason) != RD_KAFKA_CONF_OK) {
      std::string why = reason;
      if (is_secret(e.key)) why = scrub(std::move(why), e.value);
      return input_error(e.origin + " key " + e.key, why);
    }
  }
  return {};
}

}  // namespace sagasim::kafka
