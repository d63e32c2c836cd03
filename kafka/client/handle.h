// RAII for librdkafka's C handles, and the one place where a client instance
// (rd_kafka_t) is made from a Config. Used by producer, consumer and admin;
// callers of the adapter never see these.
#pragma once

#include <librdkafka/rdkafka.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"
#include "kafka/client/config.h"
#include "kafka/client/error.h"

namespace sagasim::kafka {

// Calls Destroy on the handle: `std::unique_ptr<rd_kafka_t, RkDeleter<rd_kafka_destroy>>`.
template <auto Destroy>
struct RkDeleter {
  template <class P>
  void operator()(P* p) const {
    Destroy(p);
  }
};

using RkPtr = std::unique_ptr<rd_kafka_t, RkDeleter<rd_kafka_destroy>>;
using RkConfPtr = std::unique_ptr<rd_kafka_conf_t, RkDeleter<rd_kafka_conf_destroy>>;
using RkPartitionListPtr =
    std::unique_ptr<rd_kafka_topic_partition_list_t, RkDeleter<rd_kafka_topic_partition_list_destroy>>;
using RkMessagePtr = std::unique_ptr<rd_kafka_message_t, RkDeleter<rd_kafka_message_destroy>>;
using RkHeadersPtr = std::unique_ptr<rd_kafka_headers_t, RkDeleter<rd_kafka_headers_destroy>>;
using RkQueuePtr = std::unique_ptr<rd_kafka_queue_t, RkDeleter<rd_kafka_queue_destroy>>;
using RkEventPtr = std::unique_ptr<rd_kafka_event_t, RkDeleter<rd_kafka_event_destroy>>;
using RkTopicPtr = std::unique_ptr<rd_kafka_topic_t, RkDeleter<rd_kafka_topic_destroy>>;
using RkMetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, RkDeleter<rd_kafka_metadata_destroy>>;
using RkErrorPtr = std::unique_ptr<rd_kafka_error_t, RkDeleter<rd_kafka_error_destroy>>;

// librdkafka's timeouts are int milliseconds; a negative Duration means "wait forever" (-1).
int timeout_ms(Duration d);

// A setting the adapter imposes. If the Config sets `key` to a value outside
// `accepted`, client creation fails with an Error naming the key and `why`;
// otherwise `key=accepted.front()` is applied after the Config.
struct RequiredSetting {
  std::string key;
  std::vector<std::string> accepted;  // spellings librdkafka takes for the one value we need
  std::string why;
  std::vector<std::string> aliases = {};  // other names librdkafka knows the property by
};

// Hooks every client offers. All of them run on the caller's thread inside
// the adapter's poll/flush/close calls, never on a librdkafka thread.
using LogHook = std::function<void(int syslog_level, std::string_view facility, std::string_view message)>;
using ErrorHook = std::function<void(const Error& error)>;

struct ClientHooks {
  LogHook on_log;      // unset: librdkafka prints to stderr
  ErrorHook on_error;  // client-wide errors (all brokers down, fatal errors); unset: librdkafka logs them
};

// What every client's callbacks reach through librdkafka's opaque pointer:
// the opaque is always a ClientState*, and a client's own state derives from it.
struct ClientState {
  ClientHooks hooks;
  virtual ~ClientState() = default;
};

// Makes a client instance: applies `config`, then `required`, then `setup(conf)`
// for the client's own callbacks. Installs the log and error hooks of `state`
// (which must outlive the instance) and makes `state` the callbacks' opaque.
// With a log hook, librdkafka's logs are queued and served by the client's poll,
// so the hook runs on the caller's thread.
// Errors (code _INVALID_ARG, context "<where set> key <key>"): a key librdkafka
// rejects, a value outside a RequiredSetting; and rd_kafka_new's own refusal
// (e.g. an SSL file it cannot load), context "client". Never a secret's value.
Result<RkPtr> make_client(rd_kafka_type_t type, const Config& config, const std::vector<RequiredSetting>& required,
                          ClientState* state, const std::function<void(rd_kafka_conf_t*)>& setup);

// The client's fatal error (idempotent producer state broken, fenced static member), if any.
std::optional<Error> fatal_error(rd_kafka_t* rk);

}  // namespace sagasim::kafka
