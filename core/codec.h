// JSON codec for the event envelope. The wire form is one JSON object:
//
//   {"event_id":"e-1","type":"OrderCreated","schema_version":1,"key":"o-17",
//    "occurred_at":"2026-01-01T00:00:01.250Z","correlation_id":"o-17",
//    "causation_id":"e-0","headers":{"source":"order"},"payload":{...}}
//
// Decoding validates every field and throws InputError naming the source and
// the JSON pointer of the first problem. Payloads are decoded by the decoder
// registered for (type, schema_version); unknown types stay JsonPayload, and a
// known type at a version with no decoder (a newer producer) is an InputError.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "core/event.h"

namespace sagasim {

class PayloadRegistry {
 public:
  using Decoder = std::function<std::shared_ptr<const Payload>(const nlohmann::json&)>;

  template <class T>
  void add() {
    decoders_[{std::string(T::kType), T::kVersion}] = [](const nlohmann::json& j) {
      return std::make_shared<PayloadOf<T>>(j.get<T>());
    };
  }
  const Decoder* find(std::string_view type, int version) const;
  bool knows_type(std::string_view type) const;

 private:
  std::map<std::pair<std::string, int>, Decoder, std::less<>> decoders_;
};

nlohmann::json event_to_json(const Event& e);
std::string encode_event(const Event& e);

// `where` names the source for error messages (a file and line, a topic,
// partition and offset). A null registry keeps every payload as JSON.
Event event_from_json(const nlohmann::json& j, const PayloadRegistry* registry,
                      std::string_view where);
Event decode_event(std::string_view text, const PayloadRegistry* registry, std::string_view where);

// RFC 3339 UTC with milliseconds ("2026-01-01T00:00:01.250Z") and back.
std::string format_timestamp(Time t);
Time parse_timestamp(std::string_view s, std::string_view where, std::string_view path);

}  // namespace sagasim
