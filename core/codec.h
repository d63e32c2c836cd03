// JSON codec for the event envelope. The wire form is one JSON object:
//
//   {"event_id":"e-1","type":"OrderCreated","schema_version":1,"key":"o-17",
//    "occurred_at":"2026-01-01T00:00:01.250Z","correlation_id":"o-17",
//    "causation_id":"e-0","headers":{"source":"order"},"payload":{...}}
//
// Decoding validates every field and throws InputError naming the source and
// the JSON pointer of the first problem. Both directions have a fast path
// (below, at decode_event_reference) with byte-identical results. Payloads of registered types are
// validated against their JSON Schema and decoded to the current struct
// (PayloadRegistry below); unknown types stay JsonPayload.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "core/event.h"
#include "core/json_schema.h"

namespace sagasim {

// What a process knows of each event type: the struct its handlers see (the
// type's current version), a JSON Schema per version, and converters between
// neighbouring versions. Decoding a payload written at version v:
//   v == current: validate against its schema, decode;
//   v <  current: validate against v's schema, upcast v -> v+1 -> ... -> current;
//   v >  current (a newer producer): read it as the newest version this
//      process knows, the way code built before v existed would: validate
//      against that schema (open: unknown fields are ignored), keep only the
//      properties it declares. Data that does not fit is an InputError, so a
//      breaking change becomes a dead letter, not a handler's crash.
// Before validating, missing properties that the schema gives a `default` are
// filled in. A type registered without schemas is decoded as before, at its
// current version only.
//
// pin(type, v) makes the process read and write `type` at v rather than at
// the struct's version, converting between them: below the current version it
// behaves like a build that knows `type` only up to v (one instance in the
// middle of a rolling upgrade); above, like a build that ships v (a newer
// producer, or a breaking change: sagas/order/mutants.h).
class PayloadRegistry {
 public:
  using Decoder = std::function<std::shared_ptr<const Payload>(const nlohmann::json&)>;
  // Rewrites a payload in place, one version up (an upcaster) or down.
  using Converter = std::function<void(nlohmann::json&)>;
  // The fast path's decoder (core/fast_json.h): the payload, or null where the
  // view is not certainly what Decoder would accept (then decode() decides).
  using FastDecoder = std::function<std::shared_ptr<const Payload>(fastjson::View)>;

  // T is the type's current version: the struct its handlers see.
  template <class T>
  void add(std::shared_ptr<const JsonSchema> schema = nullptr) {
    add_decoder(T::kType, T::kVersion, [](const nlohmann::json& j) {
      return std::make_shared<PayloadOf<T>>(j.get<T>());
    });
    if constexpr (fastjson::Struct<T>) {
      add_fast_decoder(T::kType, [](fastjson::View v) -> std::shared_ptr<const Payload> {
        T t;
        if (!fastjson::read_value(v, t)) return nullptr;
        return std::make_shared<PayloadOf<T>>(std::move(t));
      });
    }
    if (schema) add_schema(T::kType, T::kVersion, std::move(schema));
  }
  // Replaces the type's decoders (the fast one too: add it after).
  void add_decoder(std::string_view type, int version, Decoder decoder);
  void add_fast_decoder(std::string_view type, FastDecoder decoder);
  void add_schema(std::string_view type, int version, std::shared_ptr<const JsonSchema> schema);
  // `up` turns a version `from` payload into a `from + 1` one; `down` the reverse.
  void add_converters(std::string_view type, int from, Converter up, Converter down);
  // InputError (naming `where`) for an unknown type, a version without a
  // schema, or a missing converter on the way.
  void pin(std::string_view type, int version, std::string_view where);

  bool knows_type(std::string_view type) const;
  // The struct's version (0: unknown type), and the version this process reads as and writes.
  int current_version(std::string_view type) const;
  int write_version(std::string_view type) const;
  const JsonSchema* schema(std::string_view type, int version) const;
  // Every (type, version) with a schema, in name order.
  std::vector<std::pair<std::string, int>> schemas() const;

  // A payload written at `version` as this process's struct; sets `version` to
  // the struct's. InputError names `where` and the pointer ("/payload/...").
  std::shared_ptr<const Payload> decode(std::string_view type, int& version, const nlohmann::json& payload,
                                        std::string_view where) const;
  // decode()'s result for a payload read by the fast path, or null where
  // that is not certain (an old or newer version, a pinned type, a default to
  // fill, anything the schema or the fast decoder is unsure of): the caller
  // then calls decode(). `version` is the event's schema_version.
  std::shared_ptr<const Payload> decode_fast(std::string_view type, int version, fastjson::View payload) const;
  // `e`'s payload as this process writes it; returns the version written.
  int to_wire(const Event& e, nlohmann::json& payload) const;
  // Whether to_wire() writes `e`'s payload as it is (no pinned version to convert to).
  bool writes_as_is(const Event& e) const;

 private:
  struct Entry {
    int current = 0;
    int pinned = 0;  // 0: not pinned
    Decoder decoder;
    FastDecoder fast;
    std::map<int, std::shared_ptr<const JsonSchema>> schemas;
    std::map<int, Converter> up, down;  // both keyed by the lower version: up[v] v -> v+1, down[v] v+1 -> v
  };
  const Entry* entry(std::string_view type) const;
  void convert(const Entry& e, std::string_view type, int from, int to, nlohmann::json& payload,
               std::string_view where) const;
  std::map<std::string, Entry, std::less<>> types_;
};

nlohmann::json event_to_json(const Event& e);
std::string encode_event(const Event& e);
// encode_event(e) appended to `out`, without a string of its own (trace writers).
void append_event_json(std::string& out, const Event& e);
// As `registry` writes it: a pinned type at its pinned version.
nlohmann::json event_to_json(const Event& e, const PayloadRegistry& registry);
std::string encode_event(const Event& e, const PayloadRegistry& registry);

// `where` names the source for error messages (a file and line, a topic,
// partition and offset). A null registry keeps every payload as JSON.
Event event_from_json(const nlohmann::json& j, const PayloadRegistry* registry,
                      std::string_view where);
Event decode_event(std::string_view text, const PayloadRegistry* registry, std::string_view where);

// The codec has two paths with one result. encode_event writes the text
// directly and decode_event reads the plain subset of JSON that events are
// made of without building a JSON value (core/fast_json.h), falling back to
// the reference path (nlohmann::json) for anything else: every error, every
// converted version, every payload that needs a default filled. The
// reference functions below are that path alone, for the differential tests
// (tests/core/fast_json_test.cc, fuzz/event_fuzz.cc): same bytes, same event,
// same error.
std::string encode_event_reference(const Event& e);  // nlohmann's dump of event_to_json(e)
Event decode_event_reference(std::string_view text, const PayloadRegistry* registry, std::string_view where);

// RFC 3339 UTC with milliseconds ("2026-01-01T00:00:01.250Z") and back.
std::string format_timestamp(Time t);
Time parse_timestamp(std::string_view s, std::string_view where, std::string_view path);

}  // namespace sagasim
