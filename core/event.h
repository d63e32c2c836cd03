// The event envelope: an immutable fact that one service publishes and others
// consume. Events are created once and then shared by pointer (EventPtr):
// the simulator delivers the same object to every consumer and never
// re-serialises it. The JSON wire form (core/codec.h) exists for production
// mode, for traces and for files, and is exact in both directions.
//
// Payloads are typed: each service defines plain structs for its events
// (sagas/order/events.h) and wraps them in PayloadOf<T>. A payload that nobody
// registered a decoder for stays readable as a JsonPayload.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fast_json.h"
#include "core/types.h"

namespace sagasim {

class Payload {
 public:
  virtual ~Payload() = default;
  virtual void to_json(nlohmann::json& out) const = 0;
  // Appends the payload's JSON text: exactly to_json()'s value dumped as the
  // codec dumps it (a null as {}). Typed payloads defined with
  // SAGASIM_DEFINE_JSON_TYPE write it directly (core/fast_json.h).
  virtual void write_json(std::string& out) const {
    nlohmann::json j;
    to_json(j);
    if (j.is_null()) j = nlohmann::json::object();
    out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
};

// A typed payload. T is a plain struct with `static constexpr std::string_view
// kType` and `static constexpr int kVersion`, and nlohmann to_json/from_json.
template <class T>
class PayloadOf final : public Payload {
 public:
  explicit PayloadOf(T v) : value(std::move(v)) {}
  void to_json(nlohmann::json& out) const override { out = value; }
  void write_json(std::string& out) const override {
    if constexpr (fastjson::Struct<T>) {
      fastjson::write_value(out, value);
    } else {
      Payload::write_json(out);
    }
  }
  T value;
};

// A payload kept as parsed JSON: an event type this process has no schema for.
class JsonPayload final : public Payload {
 public:
  explicit JsonPayload(nlohmann::json v) : value(std::move(v)) {}
  void to_json(nlohmann::json& out) const override { out = value; }
  nlohmann::json value;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Event {
  std::string event_id;
  std::string type;
  int schema_version = 1;
  std::string key;             // the record key; the saga keys by order id
  Time occurred_at;
  std::string correlation_id;  // the saga instance: the order id
  std::string causation_id;    // the event that caused this one ("" for a command)
  Headers headers;
  std::shared_ptr<const Payload> payload;

  // The typed payload, or an InputError naming the event when the payload is
  // not a T (a schema mismatch on the wire). PayloadOf is final: comparing
  // the dynamic type is a dynamic_cast without the hierarchy walk.
  template <class T>
  const T& payload_as() const {
    const Payload* p = payload.get();
    if (p && typeid(*p) == typeid(PayloadOf<T>)) return static_cast<const PayloadOf<T>*>(p)->value;
    throw InputError("event " + event_id, "/payload",
                     "expected a " + std::string(T::kType) + " payload, got type '" + type + "'");
  }
};

using EventPtr = std::shared_ptr<const Event>;

}  // namespace sagasim
