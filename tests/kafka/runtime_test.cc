// Production mode's runtime pieces that need no broker: which records are
// poison and what their dead letters say, outgoing headers, event ids, and
// the JSON log format.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/trace_context.h"
#include "kafka/runtime/env.h"
#include "kafka/runtime/log.h"
#include "kafka/runtime/metrics.h"
#include "kafka/runtime/record.h"
#include "kafka/runtime/runner.h"
#include "sagas/order/events.h"
#include "sagas/order/payment_service.h"

namespace sagasim::kafka {
namespace {

class RecordTest : public ::testing::Test {
 protected:
  RecordTest() { saga::register_saga_payloads(registry_); }

  std::string confirmed(const std::string& key, const std::string& order) {
    Event e;
    e.event_id = "e-1";
    e.type = std::string(saga::OrderConfirmed::kType);
    e.key = key;
    e.occurred_at = Time{1'767'225'600'000'000};
    e.correlation_id = order;
    e.causation_id = "e-0";
    e.payload = std::make_shared<PayloadOf<saga::OrderConfirmed>>(saga::OrderConfirmed{order});
    return encode_event(e);
  }
  RecordView view(std::string_view value, std::optional<std::string_view> key = "o-1") {
    return RecordView{"orders", PartitionId{2}, Offset{17}, key.has_value(), key.value_or(""), value, {}};
  }
  std::string poison(const RecordView& r) {
    auto d = decode_record(r, registry_);
    if (auto* why = std::get_if<std::string>(&d)) return *why;
    ADD_FAILURE() << "decoded, expected poison";
    return {};
  }

  PayloadRegistry registry_;
};

TEST_F(RecordTest, AValidRecordDecodesToItsEvent) {
  const std::string value = confirmed("o-1", "o-1");
  auto d = decode_record(view(value), registry_);
  ASSERT_TRUE(std::holds_alternative<EventPtr>(d)) << std::get<std::string>(d);
  const Event& e = *std::get<EventPtr>(d);
  EXPECT_EQ(e.type, "OrderConfirmed");
  EXPECT_EQ(e.payload_as<saga::OrderConfirmed>().order_id, "o-1");
}

TEST_F(RecordTest, PoisonIsNamedWithTopicPartitionOffsetAndReason) {
  EXPECT_EQ(poison(view("")), "topic orders partition 2 offset 17: the record has no value (a tombstone or an empty record)");
  const std::string garbage = poison(view("\x01\x02 not json"));
  EXPECT_NE(garbage.find("topic orders partition 2 offset 17"), std::string::npos) << garbage;
  EXPECT_NE(garbage.find("not valid JSON"), std::string::npos) << garbage;
  // A registered type whose payload breaks its schema: the JSON path is named.
  std::string bad = confirmed("o-1", "o-1");
  bad.replace(bad.find("\"order_id\":\"o-1\""), 16, "\"order_id\":17");
  const std::string schema = poison(view(bad));
  EXPECT_NE(schema.find("/payload"), std::string::npos) << schema;
}

TEST_F(RecordTest, AKeyThatContradictsTheEnvelopeIsPoison) {
  const std::string value = confirmed("o-1", "o-1");
  EXPECT_NE(poison(view(value, "o-2")).find("key 'o-2' differs from the event's key 'o-1'"), std::string::npos);
  EXPECT_NE(poison(view(value, std::nullopt)).find("key (null) differs"), std::string::npos);
}

TEST_F(RecordTest, AnUnknownEventTypeIsNotPoison) {
  std::string value = confirmed("o-1", "o-1");
  value.replace(value.find("OrderConfirmed"), 14, "OrderShipped");
  auto d = decode_record(view(value), registry_);
  ASSERT_TRUE(std::holds_alternative<EventPtr>(d)) << std::get<std::string>(d);
  EXPECT_EQ(std::get<EventPtr>(d)->type, "OrderShipped");
}

TEST_F(RecordTest, HeadersCarryTheSagaIdsAndDeadLettersTheirOrigin) {
  Event e;
  e.event_id = "e-9";
  e.type = "OrderConfirmed";
  e.correlation_id = "o-1";
  e.headers = {{"baggage", "tenant=7"}};
  const Headers h = record_headers(e);
  // A command (no cause) carries the header too, empty, as every record does
  // (docs/events.md): a consumer in another language need not special-case it.
  EXPECT_EQ(h, (Headers{{"event_id", "e-9"}, {"event_type", "OrderConfirmed"}, {"correlation_id", "o-1"},
                        {"causation_id", ""}, {"traceparent", traceparent_of(e)}, {"baggage", "tenant=7"}}));
  e.causation_id = "e-8";
  EXPECT_EQ(record_headers(e)[3], (std::pair<std::string, std::string>{"causation_id", "e-8"}));

  RecordView r = view("garbage");
  r.headers = {{"correlation_id", "o-1"}};
  const Headers d = dlq_headers(r, "why", "payment", "payment-2");
  EXPECT_EQ(d, (Headers{{"correlation_id", "o-1"}, {"dlq.error", "why"}, {"dlq.topic", "orders"},
                        {"dlq.partition", "2"}, {"dlq.offset", "17"}, {"dlq.service", "payment"},
                        {"dlq.instance", "payment-2"}}));
  EXPECT_EQ(dlq_topic("orders"), "orders.dlq");
}

TEST(TraceContextTest, OneTracePerSagaOneSpanPerEventInW3CForm) {
  Event a, b, other;
  a.event_id = "payment-1-0a1b2c3d4e5f-7";
  a.correlation_id = "o-17";
  b.event_id = "order-1-0a1b2c3d4e5f-9";
  b.correlation_id = "o-17";
  other.event_id = a.event_id;
  other.correlation_id = "o-18";
  const std::string tp = traceparent_of(a);
  ASSERT_EQ(tp.size(), 55u);  // 00-<32>-<16>-01
  EXPECT_EQ(tp.substr(0, 3), "00-");
  EXPECT_EQ(tp.substr(52), "-01");
  EXPECT_TRUE(std::all_of(tp.begin() + 3, tp.begin() + 35, [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }));
  EXPECT_EQ(tp.substr(3, 32), traceparent_of(b).substr(3, 32)) << "one order, one trace";
  EXPECT_NE(tp.substr(36, 16), traceparent_of(b).substr(36, 16)) << "one event, one span";
  EXPECT_NE(tp.substr(3, 32), traceparent_of(other).substr(3, 32)) << "another order, another trace";
  EXPECT_EQ(traceparent_of(a), tp) << "derived, not drawn: the same in every runtime";
  EXPECT_NE(trace_id_of("o-1"), trace_id_of("o-2"));
}

TEST(WallClockEnvTest, EventIdsAreUniqueAcrossInstancesAndRestarts) {
  WallClockEnv a("payment-1"), restarted("payment-1"), b("payment-2");
  const std::string a1 = a.next_event_id(), a2 = a.next_event_id();
  EXPECT_NE(a1, a2);
  EXPECT_EQ(a1.rfind("payment-1-", 0), 0u);
  EXPECT_NE(restarted.next_event_id(), a1) << "a restarted instance must not reuse its ids";
  EXPECT_NE(b.next_event_id(), a1);
  EXPECT_GT(a.now().us, 1'700'000'000'000'000);  // the wall clock, in microseconds
}

TEST(JsonLogTest, OneObjectPerLineWithFixedFieldsFirstAndLevelsFiltered) {
  std::ostringstream out;
  JsonLog log(out, {{"service", "payment"}, {"instance", "payment-2"}}, LogLevel::kInfo);
  log.debug("dropped");
  log.info("dead-lettered", {{"offset", 17}, {"correlation_id", "o-9"}});
  log.warn("bad bytes", {{"detail", std::string("\xff\xfe")}});  // invalid UTF-8 must not throw
  std::istringstream in(out.str());
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(out.str().rfind("{\"ts\":", 0), 0u);
  EXPECT_EQ(lines[0]["level"], "info");
  EXPECT_EQ(lines[0]["service"], "payment");
  EXPECT_EQ(lines[0]["instance"], "payment-2");
  EXPECT_EQ(lines[0]["msg"], "dead-lettered");
  EXPECT_EQ(lines[0]["correlation_id"], "o-9");
  EXPECT_EQ(lines[1]["level"], "warn");
  EXPECT_EQ(parse_log_level("warn"), LogLevel::kWarn);
  EXPECT_EQ(parse_log_level("verbose"), std::nullopt);
}

TEST(MetricsTest, TheHistogramPutsEachObservationInItsBucket) {
  Histogram h;
  h.observe(0.00004);  // first bucket
  h.observe(0.0003);   // le 0.0005
  h.observe(5.0);      // beyond the last bucket: only +Inf
  EXPECT_EQ(h.count, 3u);
  EXPECT_EQ(h.buckets[0], 1u);
  EXPECT_EQ(h.buckets[3], 1u);
  uint64_t in_buckets = 0;
  for (uint64_t b : h.buckets) in_buckets += b;
  EXPECT_EQ(in_buckets, 2u);
  EXPECT_DOUBLE_EQ(h.sum, 0.00004 + 0.0003 + 5.0);
  EXPECT_EQ(prometheus_escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(MetricsTest, TheServerServesTheLatestTextAndStopsWhenDestroyed) {
  MetricsText text;
  text.set("sagasim_up 1\n");
  int port = 0;
  {
    MetricsServer server(text, "127.0.0.1", 0);
    port = server.port();
    ASSERT_GT(port, 0);
    httplib::Client client("127.0.0.1", port);
    auto r = client.Get("/metrics");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "sagasim_up 1\n");
    text.set("sagasim_up 2\n");
    EXPECT_EQ(client.Get("/metrics")->body, "sagasim_up 2\n");
    EXPECT_THROW(MetricsServer(text, "127.0.0.1", port), std::runtime_error) << "the port is taken";
  }
  httplib::Client after("127.0.0.1", port);
  after.set_connection_timeout(1);
  EXPECT_FALSE(after.Get("/metrics")) << "the server stopped with its owner";
}

// The step-by-step loop (start/step/finish) is a protocol: a driver that
// steps a runner before starting it, or finishes it twice, has a bug, and is
// told so at once rather than polling a consumer that does not exist. (The
// loop itself runs in bench/mock_cluster_bench and the live tests.)
TEST(ServiceRunnerTest, StepAndFinishRefuseToRunOutOfOrder) {
  const std::filesystem::path db =
      std::filesystem::temp_directory_path() / ("sagasim-runner-test-" + std::to_string(::getpid()) + ".db");
  std::ostringstream out;
  JsonLog log(out, {{"service", "payment"}});
  saga::PaymentService payment;
  {
    RunnerOptions options;
    options.instance_id = "payment-1";
    options.db_path = db.string();
    ServiceRunner runner(payment, options, log);
    EXPECT_THROW(runner.step(), std::logic_error);
    EXPECT_THROW(runner.finish(), std::logic_error);
    EXPECT_TRUE(runner.assignment().empty()) << "no consumer before start()";
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db.string() + suffix);
}

}  // namespace
}  // namespace sagasim::kafka
