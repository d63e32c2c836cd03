// The codec's fast path against its reference path (core/codec.h): the same
// bytes out of every encode, the same event or the same error out of every
// decode, over the fuzz corpora, every one-byte mutation of them, hand-made
// hard cases and random events.
#include "core/fast_json.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <typeinfo>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/codec.h"
#include "sagas/order/events.h"

namespace sagasim {
namespace {

const PayloadRegistry& registry() {
  static const PayloadRegistry r = [] {
    PayloadRegistry reg;
    saga::register_saga_payloads(reg);
    return reg;
  }();
  return r;
}

// Everything a decode yields that a handler or a re-encode could see, or the error.
std::string outcome(Event (*decode)(std::string_view, const PayloadRegistry*, std::string_view), std::string_view text,
                    const PayloadRegistry* reg) {
  try {
    const Event e = decode(text, reg, "topic t partition 0 offset 1");
    std::string out = "event " + encode_event_reference(e) + " headers";
    for (const auto& [k, v] : e.headers) out += " " + k + "=" + v;
    out += std::string(" payload ") + (e.payload ? typeid(*e.payload).name() : "null");
    return out;
  } catch (const InputError& err) {
    return std::string("error ") + err.what();
  }
}

void expect_same_decode(std::string_view text, const PayloadRegistry* reg = &registry()) {
  const std::string fast = outcome(&decode_event, text, reg);
  const std::string ref = outcome(&decode_event_reference, text, reg);
  ASSERT_EQ(fast, ref) << "input: " << text;
}

std::vector<std::string> corpus() {
  std::vector<std::string> out;
  for (const char* dir : {"tests/fuzz/corpus/event", "tests/fuzz/regressions/event"}) {
    const std::filesystem::path p = std::filesystem::path(SAGASIM_SOURCE_DIR) / dir;
    if (!std::filesystem::is_directory(p)) continue;
    for (const auto& f : std::filesystem::directory_iterator(p)) {
      std::ifstream in(f.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      out.push_back(ss.str());
    }
  }
  return out;
}

Event sample(std::string type = "OrderCreated") {
  Event e;
  e.event_id = "e-42";
  e.type = std::move(type);
  e.schema_version = saga::OrderCreated::kVersion;
  e.key = "o-7";
  e.occurred_at = Time::millis(1767225601250);
  e.correlation_id = "o-7";
  e.causation_id = "e-41";
  e.headers = {{"source", "order"}, {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}};
  e.payload = std::make_shared<PayloadOf<saga::OrderCreated>>(
      saga::OrderCreated{"o-7", "c-3", {{"sku-1", 2, 150}, {"sku-9", 1, 0}}, 300, "EUR"});
  return e;
}

TEST(FastJson, ParsesThePlainSubsetAndDeclinesTheRest) {
  std::vector<fastjson::Node> nodes;
  ASSERT_TRUE(fastjson::parse(R"( {"a":[1,-2,{"b":"c"}],"d":{}} )", nodes));
  const fastjson::View root(nodes.data());
  ASSERT_TRUE(root.is_object());
  EXPECT_EQ(root.size(), 2u);
  fastjson::View a = root;
  ASSERT_TRUE(root.find("a", &a));
  ASSERT_TRUE(a.is_array());
  std::vector<int64_t> ints;
  a.items([&](fastjson::View x) {
    if (x.is_integer()) ints.push_back(x.integer());
  });
  EXPECT_EQ(ints, (std::vector<int64_t>{1, -2}));
  fastjson::View d = root;
  ASSERT_TRUE(root.find("d", &d));
  EXPECT_TRUE(d.is_object());
  EXPECT_EQ(d.size(), 0u);
  for (const char* declined :
       {R"({"a":1.5})", R"({"a":1e3})", R"({"a":true})", R"({"a":null})", R"({"a":"\u0041"})", "{\"a\":\"\xc3\xa9\"}",
        R"({"a":1,"a":2})", R"({"a":01})", R"({"a":9223372036854775808})", R"({"a":1} x)", R"({"a":1)", "\xef\xbb\xbf{}",
        R"({"a":[1,]})", R"({,})", ""})
    EXPECT_FALSE(fastjson::parse(declined, nodes)) << declined;
  EXPECT_TRUE(fastjson::parse(R"({"a":-9223372036854775808})", nodes));
  EXPECT_EQ(nodes[2].integer, std::numeric_limits<int64_t>::min());
}

// The differential tests below would pass vacuously if the fast path always
// declined: the saga's own events must go through it.
TEST(FastJson, TheSagasEventsTakeTheFastPath) {
  const std::string text = encode_event(sample());
  std::vector<fastjson::Node> nodes;
  ASSERT_TRUE(fastjson::parse(text, nodes));
  fastjson::View payload(nodes.data());
  ASSERT_TRUE(fastjson::View(nodes.data()).find("payload", &payload));
  EXPECT_NE(registry().decode_fast("OrderCreated", 2, payload), nullptr);
  // v1 needs its upcaster: the reference path's job.
  EXPECT_EQ(registry().decode_fast("OrderCreated", 1, payload), nullptr);
}

TEST(FastJson, EncodesExactlyAsTheReference) {
  std::vector<Event> events;
  events.push_back(sample());
  Event e = sample();
  e.headers = {{"z", "1"}, {"a", "2"}, {"z", "3"}, {"m", ""}, {"a", "4"}};  // nlohmann's map: sorted, last wins
  events.push_back(e);
  e = sample();
  static constexpr char kEscapes[] = "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f";
  e.event_id = std::string(kEscapes, sizeof kEscapes);  // with the terminating NUL as a character
  e.key = "caf\xc3\xa9";                  // valid UTF-8
  e.correlation_id = "bad \xff\xfe utf8";  // replaced by U+FFFD
  e.causation_id = "";
  events.push_back(e);
  e = sample();
  e.payload = nullptr;
  events.push_back(e);
  e = sample("SomethingNew");
  e.payload = std::make_shared<JsonPayload>(nlohmann::json::parse(R"({"x":1.5,"y":[true,null,-3],"b":{"c":"d"}})"));
  events.push_back(e);
  e.payload = std::make_shared<JsonPayload>(nlohmann::json());
  events.push_back(e);
  for (const int64_t us : {int64_t{0}, int64_t{1}, int64_t{999}, int64_t{-1}, int64_t{-86400000001},
                           int64_t{253402300799999999}, int64_t{253402300800000000}, int64_t{-62167219200000001}}) {
    e = sample();
    e.occurred_at = Time{us};
    events.push_back(e);
  }
  e = sample("PlaceOrder");
  e.schema_version = 1;
  e.payload = std::make_shared<PayloadOf<saga::PlaceOrder>>(saga::PlaceOrder{"o-1", "c-\n1", {}, -5});
  events.push_back(e);
  for (const Event& ev : events) {
    EXPECT_EQ(encode_event(ev), encode_event_reference(ev));
    EXPECT_EQ(encode_event(ev, registry()), encode_event_reference(ev));
    expect_same_decode(encode_event(ev));
  }
}

TEST(FastJson, APinnedWriterStillConverts) {
  PayloadRegistry pinned;
  saga::register_saga_payloads(pinned);
  pinned.pin("OrderCreated", 1, "test");
  const std::string text = encode_event(sample(), pinned);
  EXPECT_EQ(text, event_to_json(sample(), pinned).dump());
  EXPECT_EQ(nlohmann::json::parse(text).at("schema_version"), 1);
  expect_same_decode(text, &pinned);
  expect_same_decode(encode_event(sample()), &pinned);  // v2 read by a v1 reader
}

TEST(FastJson, DecodesTheCorporaAndEveryOneByteMutationAsTheReference) {
  std::vector<std::string> inputs = corpus();
  ASSERT_GE(inputs.size(), 10u);
  inputs.push_back(encode_event(sample()));
  size_t checked = 0;
  for (const std::string& text : inputs) {
    expect_same_decode(text);
    expect_same_decode(text, nullptr);
    for (size_t i = 0; i < text.size(); ++i) {
      std::string deleted = text;
      deleted.erase(i, 1);
      expect_same_decode(deleted);
      for (const char c : {'"', '\\', '0', '9', '-', '.', 'e', '{', '}', '[', ',', ':', ' ', 'x', '\x1f', '\x80'}) {
        std::string changed = text;
        changed[i] = c;
        expect_same_decode(changed);
        ++checked;
      }
      if (HasFatalFailure()) return;
    }
  }
  EXPECT_GT(checked, 10000u);
}

TEST(FastJson, DecodesHardCasesAsTheReference) {
  const std::string base = encode_event(sample());
  auto with = [&](std::string_view from, std::string_view to) {
    std::string s = base;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
  };
  for (const std::string& text : {
           with(R"("key":"o-7")", R"("key":"o-7","key":"o-8")"),                // duplicate envelope key
           with(R"("currency":"EUR",)", ""),                                    // a default to fill
           with(R"("currency":"EUR")", R"("currency":"EURO")"),                 // maxLength
           with(R"("currency":"EUR")", R"("currency":"EUR","currency":"USD")"),  // duplicate payload key
           with(R"("quantity":2)", R"("quantity":0)"),                          // minimum
           with(R"("quantity":2)", R"("quantity":2.0)"),                        // a float
           with(R"("quantity":2)", R"("quantity":-0)"),
           with(R"("quantity":2)", R"("quantity":18446744073709551615)"),
           with(R"("quantity":2)", R"("quantity":"2")"),
           with(R"("order_id":"o-7")", R"("order_id":"o-7","extra":1)"),    // unknown payload field
           with(R"("source":"order")", R"("source":"order","source":"x")"),  // duplicate header
           with(R"("source":"order")", R"("source":1)"),
           with(R"("headers":{"source":"order",)", R"("headers":{)"),
           with(R"("schema_version":2)", R"("schema_version":3)"),  // a newer producer
           with(R"("schema_version":2)", R"("schema_version":0)"),
           with(R"("schema_version":2)", R"("schema_version":1000001)"),
           with(R"("type":"OrderCreated")", R"("type":"")"),
           with(R"("type":"OrderCreated")", R"("type":"SomethingNew")"),
           with(R"("event_id":"e-42")", R"("event_id":"")"),
           with(R"("event_id":"e-42",)", ""),
           with(R"("occurred_at":"2026-01-01T00:00:01.250Z")", R"("occurred_at":"2026-13-01T00:00:01.250Z")"),
           with(R"("occurred_at":"2026-01-01T00:00:01.250Z")", R"("occurred_at":"2026-01-01T00:00:01.2500001z")"),
           with(R"("lines":[)", R"("lines":[],"x":[)"),
           with(R"("lines":[{"price_cents":150,"quantity":2,"sku":"sku-1"},{"price_cents":0,"quantity":1,"sku":"sku-9"}])",
                R"("lines":[])"),  // minItems
           with(R"("key":"o-7")", R"("key":"\u006f-7")"),
           with(R"("key":"o-7")", "\"key\":\"o-\xc3\xa9\""),
           with(R"("key":"o-7")", R"("key":"o-7","z":1)"),  // unknown envelope field
           "  " + base + "\n\t",
           "\xef\xbb\xbf" + base,
           base + base,
       })
    expect_same_decode(text);
}

// Random events: any bytes in every string, any integers.
RC_GTEST_PROP(FastJson, RandomEventsEncodeAndDecodeAsTheReference,
              (const std::string& id, const std::string& key, const std::string& sku, int64_t amount, int64_t at,
               const std::vector<std::pair<std::string, std::string>>& headers)) {
  Event e = sample();
  e.event_id = id.empty() ? "e" : id;
  e.key = key;
  e.occurred_at = Time{at % 253402300800000000};
  e.headers = headers;
  e.payload = std::make_shared<PayloadOf<saga::OrderCreated>>(
      saga::OrderCreated{key, "c", {{sku, amount, 1}}, amount, "USD"});
  const std::string text = encode_event(e);
  RC_ASSERT(text == encode_event_reference(e));
  RC_ASSERT(outcome(&decode_event, text, &registry()) == outcome(&decode_event_reference, text, &registry()));
}

}  // namespace
}  // namespace sagasim
