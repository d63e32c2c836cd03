// Errors at the Kafka boundary, as values. Every adapter call that can fail
// returns a Result<T> or a Status holding an Error that names where it
// happened (a properties file and line, a configuration key, a topic, a
// partition, an offset) and carries librdkafka's error code.
//
//   Status s = producer.flush(Duration::seconds(5));
//   if (!s.ok()) log(s.error().to_string());
//   // "flush: 3 messages still in flight after 5000 ms: Local: Timed out (_TIMED_OUT)"
//
// An Error never contains the value of a secret configuration property
// (config.h decides what is secret).
#pragma once

#include <chrono>
#include <thread>

#include <librdkafka/rdkafka.h>

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "core/error.h"

namespace sagasim::kafka {

struct Error {
  // librdkafka's code: negative codes are local to the client (RD_KAFKA_RESP_ERR__TIMED_OUT),
  // positive ones came from a broker (RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED).
  rd_kafka_resp_err_t code = RD_KAFKA_RESP_ERR_UNKNOWN;
  std::string context;  // "topic orders partition 2 offset 17", "client.properties:4 key acks"
  std::string message;  // fit to show a user as is
  bool retriable = false;  // the same call may succeed later (queue full, timeout, rebalance)
  bool fatal = false;      // the client instance is unusable (e.g. idempotence broken): recreate it

  std::string code_name() const;  // "TOPIC_AUTHORIZATION_FAILED", "_TIMED_OUT"
  // "<context>: <message> (<code name>)"
  std::string to_string() const;
};

// An Error from a librdkafka code; the message defaults to rd_kafka_err2str(code).
Error make_error(rd_kafka_resp_err_t code, std::string context, std::string message = {});

// Success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit so that `return Error{...}` reads well

  bool ok() const { return !error_.has_value(); }
  // Precondition: !ok(). Calling it on success is a bug in the caller (InternalError).
  const Error& error() const;

 private:
  std::optional<Error> error_;
};

// A T or an Error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }

  // Precondition: ok(). Taking the value of a failure is a bug in the caller (InternalError).
  T& value() & { check(); return std::get<0>(v_); }
  const T& value() const& { check(); return std::get<0>(v_); }
  T&& value() && { check(); return std::get<0>(std::move(v_)); }

  // Precondition: !ok().
  const Error& error() const {
    if (ok()) throw InternalError("kafka::Result::error() called on a success");
    return std::get<1>(v_);
  }
  Status status() const { return ok() ? Status() : Status(error()); }

 private:
  void check() const {
    if (!ok()) throw InternalError("kafka::Result::value() called on a failure: " + std::get<1>(v_).to_string());
  }
  std::variant<T, Error> v_;
};

// Calls `f` (returning a Result or Status) until it succeeds, fails with an
// error that is not retriable, or `deadline` has passed; sleeps `pause`
// between attempts. For calls that fail while a cluster settles: a topic just
// created has no leader for a moment (LEADER_NOT_AVAILABLE, NOT_LEADER_FOR_PARTITION).
template <class F>
auto retry_until(std::chrono::steady_clock::time_point deadline, F&& f,
                 std::chrono::milliseconds pause = std::chrono::milliseconds(200)) {
  for (;;) {
    auto r = f();
    if (r.ok() || !r.error().retriable || std::chrono::steady_clock::now() + pause > deadline) return r;
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace sagasim::kafka
