#include "core/codec.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/json_depth.h"
#include "sagas/order/events.h"

namespace sagasim {
namespace {

Event sample_event() {
  Event e;
  e.event_id = "e-42";
  e.type = "OrderCreated";
  e.schema_version = saga::OrderCreated::kVersion;
  e.key = "o-7";
  e.occurred_at = Time::millis(1767225601250);
  e.correlation_id = "o-7";
  e.causation_id = "e-41";
  e.headers = {{"source", "order"}};
  e.payload = std::make_shared<PayloadOf<saga::OrderCreated>>(
      saga::OrderCreated{"o-7", "c-3", {{"sku-1", 2, 150}}, 300});
  return e;
}

PayloadRegistry saga_registry() {
  PayloadRegistry r;
  saga::register_saga_payloads(r);
  return r;
}

TEST(Codec, EncodesTheDocumentedWireForm) {
  const nlohmann::json j = event_to_json(sample_event());
  EXPECT_EQ(j.at("event_id"), "e-42");
  EXPECT_EQ(j.at("schema_version"), 2);
  EXPECT_EQ(j.at("payload").at("currency"), "USD");
  EXPECT_EQ(j.at("occurred_at"), "2026-01-01T00:00:01.250Z");
  EXPECT_EQ(j.at("headers").at("source"), "order");
  EXPECT_EQ(j.at("payload").at("lines").at(0).at("sku"), "sku-1");
  EXPECT_EQ(j.at("payload").at("amount_cents"), 300);
}

TEST(Codec, RoundTripsToATypedPayload) {
  const PayloadRegistry reg = saga_registry();
  const Event e = sample_event();
  const Event back = decode_event(encode_event(e), &reg, "test");
  EXPECT_EQ(back.event_id, e.event_id);
  EXPECT_EQ(back.occurred_at, e.occurred_at);
  EXPECT_EQ(back.headers, e.headers);
  const auto& p = back.payload_as<saga::OrderCreated>();
  EXPECT_EQ(p.customer_id, "c-3");
  EXPECT_EQ(p.lines, (std::vector<saga::OrderLine>{{"sku-1", 2, 150}}));
  EXPECT_EQ(encode_event(back), encode_event(e));
}

TEST(Codec, UnknownTypesStayJson) {
  const PayloadRegistry reg = saga_registry();
  Event e = sample_event();
  e.type = "SomethingNew";
  const Event back = decode_event(encode_event(e), &reg, "test");
  EXPECT_NE(dynamic_cast<const JsonPayload*>(back.payload.get()), nullptr);
  EXPECT_THROW(back.payload_as<saga::OrderCreated>(), InputError);
}

std::string decode_error(const std::string& text) {
  const PayloadRegistry reg = saga_registry();
  try {
    decode_event(text, &reg, "orders[2]@17");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Codec, DecodeErrorsNameTheSourceAndThePath) {
  nlohmann::json j = event_to_json(sample_event());
  j.erase("event_id");
  EXPECT_EQ(decode_error(j.dump()), "orders[2]@17 at /event_id: missing required field");

  j = event_to_json(sample_event());
  j["schema_version"] = "one";
  EXPECT_EQ(decode_error(j.dump()), "orders[2]@17 at /schema_version: expected a positive integer");

  j = event_to_json(sample_event());
  j["occurred_at"] = "yesterday";
  EXPECT_NE(decode_error(j.dump()).find("at /occurred_at: bad timestamp 'yesterday'"), std::string::npos);

  j = event_to_json(sample_event());
  j["payload"]["amount_cents"] = "lots";
  EXPECT_EQ(decode_error(j.dump()),
            "orders[2]@17 at /payload/amount_cents: not a valid OrderCreated v2 payload: expected integer, got string "
            "\"lots\"");

  j = event_to_json(sample_event());
  j["payload"]["lines"][0].erase("sku");
  EXPECT_EQ(decode_error(j.dump()),
            "orders[2]@17 at /payload/lines/0/sku: not a valid OrderCreated v2 payload: missing required field");

  j = event_to_json(sample_event());
  j["payload"]["lines"][0]["quantity"] = 0;
  EXPECT_EQ(decode_error(j.dump()),
            "orders[2]@17 at /payload/lines/0/quantity: not a valid OrderCreated v2 payload: 0 is below the minimum 1");

  j = event_to_json(sample_event());
  j["colour"] = "blue";
  EXPECT_EQ(decode_error(j.dump()), "orders[2]@17 at /colour: unknown envelope field");

  EXPECT_NE(decode_error("{\"event_id\": ").find("orders[2]@17: not valid JSON"), std::string::npos);
  EXPECT_NE(decode_error("[1,2]").find("must be a JSON object"), std::string::npos);
  // Found by fuzzing: a number beyond a double is out_of_range.406, not a parse_error.
  EXPECT_NE(decode_error("9e819").find("orders[2]@17: not valid JSON"), std::string::npos);
}

// A known type at a version newer than this build's is read the way code
// built before that version would read it: by the newest schema it knows,
// ignoring fields that schema does not declare. Data that does not fit is
// refused with the path (and becomes a dead letter), never kept as raw JSON
// to fail inside a handler (found by the bad-input catalogue, tests/bad-inputs/).
TEST(Codec, AKnownTypeFromTheFutureIsReadByTheNewestSchemaThisBuildKnows) {
  nlohmann::json j = event_to_json(sample_event());
  j["schema_version"] = 3;
  j["payload"]["gift_wrap"] = true;  // a field v3 added
  EXPECT_EQ(decode_error(j.dump()), "(no error)");
  const PayloadRegistry reg = saga_registry();
  const Event e = decode_event(j.dump(), &reg, "t");
  EXPECT_EQ(e.schema_version, 2);
  EXPECT_EQ(e.payload_as<saga::OrderCreated>().amount_cents, 300);
  EXPECT_FALSE(event_to_json(e)["payload"].contains("gift_wrap"));

  j["payload"].erase("amount_cents");  // a breaking v3: renamed the amount
  j["payload"]["total_cents"] = 300;
  EXPECT_EQ(decode_error(j.dump()),
            "orders[2]@17 at /payload/amount_cents: OrderCreated v3 from a newer producer cannot be read as v2: "
            "missing required field");
  j["type"] = "SomethingNew";  // a type nobody registered stays raw JSON, at any version
  EXPECT_EQ(decode_error(j.dump()), "(no error)");
}

// v1 (no currency) is upcast to the current struct; a writer pinned to v1
// (one instance of a rolling upgrade) writes v1, and reads v2 as v1 would.
TEST(Codec, OrderCreatedV1IsUpcastAndAPinnedWriterWritesV1) {
  const PayloadRegistry reg = saga_registry();
  nlohmann::json j = event_to_json(sample_event());
  j["schema_version"] = 1;
  j["payload"].erase("currency");
  const Event up = decode_event(j.dump(), &reg, "t");
  EXPECT_EQ(up.schema_version, 2);
  EXPECT_EQ(up.payload_as<saga::OrderCreated>().currency, "USD");

  PayloadRegistry old = saga_registry();
  old.pin("OrderCreated", 1, "test");
  EXPECT_EQ(old.write_version("OrderCreated"), 1);
  Event eur = sample_event();
  eur.payload = std::make_shared<PayloadOf<saga::OrderCreated>>(saga::OrderCreated{"o-7", "c-3", {{"sku-1", 2, 150}}, 300, "EUR"});
  const nlohmann::json wire = event_to_json(eur, old);
  EXPECT_EQ(wire["schema_version"], 1);
  EXPECT_FALSE(wire["payload"].contains("currency"));
  // The old build reads a v2 record as v1: the currency it does not know is dropped.
  const Event read_by_old = decode_event(encode_event(eur), &old, "t");
  EXPECT_EQ(read_by_old.payload_as<saga::OrderCreated>().currency, "USD");

  EXPECT_THROW(old.pin("OrderCreated", 3, "test"), InputError);
  EXPECT_THROW(old.pin("NoSuchEvent", 1, "test"), InputError);
}

// Found by the bad-input catalogue: 100,000 nested arrays overflowed the stack
// when the decoded JSON was copied; the nesting limit refuses them first.
TEST(Codec, DeepNestingIsRefusedBeforeParsing) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  nlohmann::json j = event_to_json(sample_event());
  j["headers"] = "@";
  std::string text = j.dump();
  text.replace(text.find("\"@\""), 3, deep);
  EXPECT_NE(decode_error(text).find("orders[2]@17: JSON nested deeper than 64 levels (byte "), std::string::npos)
      << decode_error(text).substr(0, 200);
  EXPECT_FALSE(json_too_deep(std::string(64, '[') + std::string(64, ']')).has_value());
  EXPECT_EQ(json_too_deep(std::string(65, '[')), 64u);
  EXPECT_FALSE(json_too_deep("\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"").has_value())
      << "brackets inside strings do not count";
}

// Found by fuzzing (tests/fuzz/regressions/event/): nlohmann casts a JSON float to
// an integer field, so 2.5 was read as 2 and 1e300 was undefined behaviour.
TEST(Codec, FloatsInATypedPayloadAreRefusedWithTheirPath) {
  nlohmann::json j = event_to_json(sample_event());
  j["payload"]["amount_cents"] = 1e300;
  EXPECT_EQ(decode_error(j.dump()),
            "orders[2]@17 at /payload/amount_cents: not a valid OrderCreated v2 payload: expected integer, got number "
            "1e+300");
  j = event_to_json(sample_event());
  j["payload"]["lines"][0]["quantity"] = 2.5;
  EXPECT_EQ(decode_error(j.dump()),
            "orders[2]@17 at /payload/lines/0/quantity: not a valid OrderCreated v2 payload: expected integer, got "
            "number 2.5");
  // Payloads nobody decodes stay JSON, floats and all.
  j = event_to_json(sample_event());
  j["type"] = "SomethingElse";
  j["payload"] = {{"ratio", 0.5}};
  EXPECT_EQ(decode_event(j.dump(), nullptr, "x").type, "SomethingElse");
}

TEST(Timestamp, FormatsAndParsesRfc3339Utc) {
  EXPECT_EQ(format_timestamp(Time{0}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_timestamp(kSimEpoch), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(format_timestamp(Time::millis(951782400123)), "2000-02-29T00:00:00.123Z");
  EXPECT_EQ(parse_timestamp("2000-02-29T00:00:00.123Z", "t", "/x"), Time::millis(951782400123));
  EXPECT_EQ(parse_timestamp("2026-01-01T00:00:00Z", "t", "/x"), kSimEpoch);
  // Sub-millisecond times keep their microseconds: the codec is exact.
  EXPECT_EQ(format_timestamp(kSimEpoch + Duration::micros(1250123)), "2026-01-01T00:00:01.250123Z");
  EXPECT_EQ(parse_timestamp("2026-01-01T00:00:01.250123Z", "t", "/x"), kSimEpoch + Duration::micros(1250123));
  EXPECT_EQ(format_timestamp(Time{-1}), "1969-12-31T23:59:59.999999Z");
  EXPECT_THROW(parse_timestamp("2026-01-01 00:00:00Z", "t", "/x"), InputError);
  EXPECT_THROW(parse_timestamp("2026-13-01T00:00:00Z", "t", "/x"), InputError);
  EXPECT_THROW(parse_timestamp("2026-01-01T00:00:00+01:00", "t", "/x"), InputError);
}

TEST(Codec, InvalidUtf8IsReplacedNotACrash) {
  Event e = sample_event();
  e.key = "o-\x99";
  const std::string text = encode_event(e);
  EXPECT_NE(text.find("o-\xEF\xBF\xBD"), std::string::npos);  // U+FFFD
}

// ASCII, control characters included: exercises escaping. (JSON text is
// UTF-8; arbitrary bytes are covered by the replacement test above.)
rc::Gen<std::string> ascii_string() { return rc::gen::container<std::string>(rc::gen::inRange<char>(0, 127)); }

// Any envelope survives encode -> decode -> encode unchanged, to the microsecond.
RC_GTEST_PROP(Codec, encodeDecodeEncodeIsIdentity, (uint32_t us)) {
  const std::string id = *ascii_string().as("event_id");
  const std::string key = *ascii_string().as("key");
  const std::string order = *ascii_string().as("order");
  const auto headers = *rc::gen::container<std::vector<std::pair<std::string, std::string>>>(
                            rc::gen::pair(ascii_string(), ascii_string()))
                            .as("headers");
  RC_PRE(!id.empty());
  RC_PRE(!order.empty());  // the schema wants an order id
  Event e;
  e.event_id = id;
  e.type = "OrderConfirmed";
  e.key = key;
  e.occurred_at = kSimEpoch + Duration::micros(us);
  e.correlation_id = order;
  e.causation_id = key;
  // JSON objects keep one value per key: keep the first of each.
  for (const auto& h : headers)
    if (std::none_of(e.headers.begin(), e.headers.end(), [&](auto& x) { return x.first == h.first; }))
      e.headers.push_back(h);
  std::sort(e.headers.begin(), e.headers.end());
  e.payload = std::make_shared<PayloadOf<saga::OrderConfirmed>>(saga::OrderConfirmed{order});
  const PayloadRegistry reg = saga_registry();
  const std::string text = encode_event(e);
  const Event back = decode_event(text, &reg, "prop");
  RC_ASSERT(encode_event(back) == text);
  RC_ASSERT(back.payload_as<saga::OrderConfirmed>().order_id == order);
  RC_ASSERT(back.occurred_at == e.occurred_at);
}

}  // namespace
}  // namespace sagasim
