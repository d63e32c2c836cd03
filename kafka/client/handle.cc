#include "kafka/client/handle.h"

#include <algorithm>
#include <limits>

namespace sagasim::kafka {
namespace {

ClientState* state_of(const rd_kafka_t* rk) { return static_cast<ClientState*>(rd_kafka_opaque(rk)); }

void log_cb(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  ClientState* state = state_of(rk);
  if (state && state->hooks.on_log) state->hooks.on_log(level, facility ? facility : "", message ? message : "");
}

void error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* state = static_cast<ClientState*>(opaque);
  if (!state || !state->hooks.on_error) return;
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    if (std::optional<Error> fatal = fatal_error(rk)) {
      state->hooks.on_error(*fatal);
      return;
    }
  }
  Error e = make_error(static_cast<rd_kafka_resp_err_t>(err), std::string("client ") + rd_kafka_name(rk),
                       reason ? reason : "");
  // Client-wide errors (a broker down, all brokers down, a resolve failure) are
  // transient: librdkafka keeps reconnecting on its own.
  e.retriable = true;
  state->hooks.on_error(e);
}

std::string scrub_secrets(std::string text, const Config& config) {
  for (const ConfigEntry& e : config.entries()) {
    if (!Config::is_secret(e.key) || e.value.empty()) continue;
    for (size_t at = text.find(e.value); at != std::string::npos; at = text.find(e.value, at)) {
      text.replace(at, e.value.size(), Config::kRedacted);
      at += Config::kRedacted.size();
    }
  }
  return text;
}

}  // namespace

int timeout_ms(Duration d) {
  if (d.us < 0) return -1;
  return static_cast<int>(std::min<int64_t>(d.ms(), std::numeric_limits<int>::max()));
}

std::optional<Error> fatal_error(rd_kafka_t* rk) {
  char reason[512] = "";
  rd_kafka_resp_err_t code = rd_kafka_fatal_error(rk, reason, sizeof reason);
  if (code == RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  Error e = make_error(code, std::string("client ") + rd_kafka_name(rk), std::string("fatal error: ") + reason);
  e.fatal = true;
  return e;
}

Result<RkPtr> make_client(rd_kafka_type_t type, const Config& config, const std::vector<RequiredSetting>& required,
                          ClientState* state, const std::function<void(rd_kafka_conf_t*)>& setup) {
  RkConfPtr conf(rd_kafka_conf_new());
  if (Status s = config.apply(conf.get()); !s.ok()) return s.error();

  for (const RequiredSetting& r : required) {
    std::vector<std::string> names = r.aliases;
    names.insert(names.begin(), r.key);
    for (const std::string& name : names) {
      const ConfigEntry* e = config.find(name);
      if (!e || std::find(r.accepted.begin(), r.accepted.end(), e->value) != r.accepted.end()) continue;
      // Required keys are never secrets, so the value may be shown.
      return make_error(RD_KAFKA_RESP_ERR__INVALID_ARG, e->origin + " key " + name,
                        "must be " + r.accepted.front() + " (found '" + e->value + "'): " + r.why);
    }
    char reason[512] = "";
    if (rd_kafka_conf_set(conf.get(), r.key.c_str(), r.accepted.front().c_str(), reason, sizeof reason) !=
        RD_KAFKA_CONF_OK) {
      return make_error(RD_KAFKA_RESP_ERR__INVALID_ARG, "sagasim key " + r.key, reason);
    }
  }

  rd_kafka_conf_set_opaque(conf.get(), static_cast<void*>(state));
  if (state->hooks.on_log) {
    char reason[512] = "";
    // Queue logs until the client's poll serves them, so the hook runs on the caller's thread.
    if (rd_kafka_conf_set(conf.get(), "log.queue", "true", reason, sizeof reason) != RD_KAFKA_CONF_OK) {
      return make_error(RD_KAFKA_RESP_ERR__INVALID_ARG, "sagasim key log.queue", reason);
    }
    rd_kafka_conf_set_log_cb(conf.get(), log_cb);
  }
  if (state->hooks.on_error) rd_kafka_conf_set_error_cb(conf.get(), error_cb);
  if (setup) setup(conf.get());

  char reason[512] = "";
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), reason, sizeof reason);
  if (!rk) return make_error(RD_KAFKA_RESP_ERR__INVALID_ARG, "client", scrub_secrets(reason, config));
  conf.release();  // rd_kafka_new owns it now
  RkPtr client(rk);
  // NULL: the main queue, which poll() (and, for a consumer, consumer poll) serves.
  // It cannot fail: log.queue is on whenever there is a log hook.
  if (state->hooks.on_log) (void)rd_kafka_set_log_queue(rk, nullptr);
  return client;
}

}  // namespace sagasim::kafka
