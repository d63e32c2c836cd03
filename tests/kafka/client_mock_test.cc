// Contract tests of the librdkafka adapter (kafka/client/) against librdkafka's
// in-process mock cluster (rdkafka_mock.h): no broker, no network beyond
// loopback, every wait bounded by a deadline.
//
// librdkafka 2.0.2's mock cluster does not implement CreateTopics (its header
// says so), and it auto-creates any topic a Metadata request names. The admin
// tests therefore check creation's error path here, and creation itself only
// against a real broker when SAGASIM_KAFKA_BOOTSTRAP is set (skipped otherwise).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "core/murmur2.h"
#include "kafka/client/admin.h"
#include "kafka/client/config.h"
#include "kafka/client/consumer.h"
#include "kafka/client/producer.h"
#include "tests/kafka/mock_cluster.h"

namespace sagasim::kafka {
namespace {

struct Logs {
  std::vector<std::string> lines;
  LogHook hook() {
    return [this](int level, std::string_view facility, std::string_view message) {
      lines.push_back(std::to_string(level) + " " + std::string(facility) + " " + std::string(message));
    };
  }
};

std::string key_of(int i) { return "o-" + std::to_string(i); }

// ---- configuration --------------------------------------------------------

TEST(KafkaConfig, ParsesCommentsBlankLinesAndTrimsAroundTheFirstEquals) {
  Result<Config> c = Config::parse(
      "# a comment\n"
      "\n"
      "   bootstrap.servers = broker-1:9092,broker-2:9092  \n"
      "  # indented comment\n"
      "sasl.oauthbearer.config=scope=saga extension_x=1\r\n"
      "linger.ms=5\n"
      "linger.ms=7\n",
      "client.properties");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c.value().get("bootstrap.servers"), "broker-1:9092,broker-2:9092");
  EXPECT_EQ(c.value().get("sasl.oauthbearer.config"), "scope=saga extension_x=1");
  EXPECT_EQ(c.value().get("linger.ms"), "7");  // the last one wins, in the first one's place
  EXPECT_EQ(c.value().find("linger.ms")->origin, "client.properties:7");
  EXPECT_EQ(c.value().entries().size(), 3u);
  EXPECT_FALSE(c.value().get("acks").has_value());
}

TEST(KafkaConfig, CommandLineOverridesWinOverTheFile) {
  Result<Config> c = Config::parse("acks=all\nlinger.ms=5\n", "client.properties");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.value().add_override("linger.ms=2").ok());
  ASSERT_TRUE(c.value().add_override(" client.id = payment-1 ").ok());
  EXPECT_EQ(c.value().get("linger.ms"), "2");
  EXPECT_EQ(c.value().find("linger.ms")->origin, "command line");
  EXPECT_EQ(c.value().get("client.id"), "payment-1");
  EXPECT_EQ(c.value().redacted(), "acks=all, linger.ms=2, client.id=payment-1");
}

TEST(KafkaConfig, MalformedLinesNameFileAndLineAndAreNeverEchoed) {
  const std::string secret = "hunter2-Zq9";
  struct Case {
    std::string text;
    std::string where;
  };
  for (const Case& c : {Case{"acks=all\n\nsasl.password " + secret + "\n", "x.properties:3"},
                        Case{"=" + secret + "\n", "x.properties:1"},
                        Case{"# ok\nsasl password=" + secret + "\n", "x.properties:2"}}) {
    Result<Config> r = Config::parse(c.text, "x.properties");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().context, c.where);
    EXPECT_EQ(r.error().code, RD_KAFKA_RESP_ERR__INVALID_ARG);
    EXPECT_EQ(r.error().to_string().find(secret), std::string::npos) << r.error().to_string();
  }
  Config ok;
  Status s = ok.add_override("sasl.password" + secret);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().context, "command line");
  EXPECT_EQ(s.error().to_string().find(secret), std::string::npos) << s.error().to_string();
}

TEST(KafkaConfig, LoadsAFileAndNamesAMissingOne) {
  const std::string path = testing::TempDir() + "/sagasim-client-test.properties";
  {
    std::ofstream out(path);
    out << "# test\nbootstrap.servers=127.0.0.1:9\nbroken line\n";
  }
  Result<Config> r = Config::load(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().context, path + ":3");
  {
    std::ofstream out(path);
    out << "bootstrap.servers=127.0.0.1:9\n";
  }
  Result<Config> good = Config::load(path);
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_EQ(good.value().find("bootstrap.servers")->origin, path + ":1");
  std::remove(path.c_str());

  Result<Config> missing = Config::load(path + ".absent");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().context, path + ".absent");
}

TEST(KafkaConfig, RedactedMasksEverySecretAndNothingElse) {
  const std::map<std::string, std::string> secrets = {
      {"sasl.password", "pw-sasl-111"},
      {"ssl.key.password", "pw-key-222"},
      {"ssl.keystore.password", "pw-store-333"},
      {"sasl.oauthbearer.client.secret", "pw-oidc-444"},
      {"my.Custom.PASSWORD.x", "pw-custom-555"},
      {"vault_secret_token", "pw-vault-666"},
  };
  Config c;
  c.set("bootstrap.servers", "b:9092", "test");
  c.set("sasl.username", "saga", "test");
  for (const auto& [k, v] : secrets) c.set(k, v, "test");
  const std::string shown = c.redacted();
  EXPECT_NE(shown.find("bootstrap.servers=b:9092"), std::string::npos) << shown;
  EXPECT_NE(shown.find("sasl.username=saga"), std::string::npos) << shown;
  for (const auto& [k, v] : secrets) {
    EXPECT_TRUE(Config::is_secret(k)) << k;
    EXPECT_NE(shown.find(k + "=[redacted]"), std::string::npos) << shown;
    EXPECT_EQ(shown.find(v), std::string::npos) << shown;
  }
  EXPECT_FALSE(Config::is_secret("sasl.username"));
  EXPECT_FALSE(Config::is_secret("ssl.key.location"));
}

TEST(KafkaConfig, RejectedKeysAreNamedWithWhereTheyWereSetButSecretValuesNever) {
  const std::string secret = "pw-Xy7-never";
  Result<Config> c = Config::parse("bootstrap.servers=127.0.0.1:9\nacks=banana\n", "p.properties");
  ASSERT_TRUE(c.ok());
  RkConfPtr conf(rd_kafka_conf_new());
  Status s = c.value().apply(conf.get());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().context, "p.properties:2 key acks");
  EXPECT_NE(s.error().message.find("Invalid value"), std::string::npos) << s.error().to_string();

  Config unknown_secret;
  unknown_secret.set("sasl.passwrd.typo.password", secret, "q.properties:4");
  RkConfPtr conf2(rd_kafka_conf_new());
  Status s2 = unknown_secret.apply(conf2.get());
  ASSERT_FALSE(s2.ok());
  EXPECT_EQ(s2.error().context, "q.properties:4 key sasl.passwrd.typo.password");
  EXPECT_EQ(s2.error().to_string().find(secret), std::string::npos) << s2.error().to_string();
}

TEST(KafkaConfig, LibrdkafkasOwnConfigDumpNeverShowsASecret) {
  // debug=conf makes librdkafka log every property it was given; the log hook sees all of it.
  const std::string secret = "pw-dump-31337";
  Config c;
  c.set("bootstrap.servers", "127.0.0.1:9", "test");
  c.set("sasl.password", secret, "test");
  c.set("sasl.username", "saga", "test");
  c.set("debug", "conf", "test");
  Logs logs;
  Producer::Hooks hooks;
  hooks.on_log = logs.hook();
  Result<Producer> p = Producer::create(c, std::move(hooks));
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  within(std::chrono::milliseconds(2000), [&] {
    p.value().poll(Duration::millis(10));
    return !logs.lines.empty();
  });
  ASSERT_FALSE(logs.lines.empty());
  bool saw_username = false;
  for (const std::string& line : logs.lines) {
    EXPECT_EQ(line.find(secret), std::string::npos) << line;
    saw_username = saw_username || line.find("sasl.username") != std::string::npos;
  }
  EXPECT_TRUE(saw_username) << "the dump should list the properties";
}

TEST(KafkaConfig, SettingsThatBreakTheAdaptersContractAreRefusedByName) {
  Result<Config> c = Config::parse("bootstrap.servers=127.0.0.1:9\npartitioner=consistent_random\n", "p.properties");
  ASSERT_TRUE(c.ok());
  Result<Producer> p = Producer::create(c.value(), {});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().context, "p.properties:2 key partitioner");

  Config auto_commit;
  auto_commit.set("bootstrap.servers", "127.0.0.1:9", "test");
  auto_commit.set("enable.auto.commit", "true", "cli");
  Result<Consumer> k = Consumer::create(auto_commit, "g", {});
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().context, "cli key enable.auto.commit");

  Config no_group;
  no_group.set("bootstrap.servers", "127.0.0.1:9", "test");
  Result<Consumer> g = Consumer::create(no_group, "", {});
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().context, "group.id");
}

// ---- producer and consumer ------------------------------------------------

// One scenario for two properties, because every group join costs 3 s on the
// 2.0.2 mock (see consumer_config): (1) idempotently produced keyed records land on the partitions
// the simulator computes (the partitioner setting), and are consumed in order
// with their headers; (2) a second member of the group resumes after the
// committed offsets, and everything the first member read but did not commit is
// delivered again (at-least-once).
// `topic` exists with kPartitions partitions; `group` is new.
constexpr int kPartitions = 6;
void produce_consume_commit_resume(const Config& producer_config, const Config& consumer_config,
                                   const std::string& topic, const std::string& group) {
  constexpr int kRecords = 300;
  constexpr int kHandled = 200;  // the first member commits records 0..199 only

  std::vector<DeliveryReport> reports;
  Producer::Hooks hooks;
  hooks.on_delivery = [&](const DeliveryReport& r) { reports.push_back(r); };
  Result<Producer> producer = Producer::create(producer_config, std::move(hooks));
  ASSERT_TRUE(producer.ok()) << producer.error().to_string();
  for (int i = 0; i < kRecords; ++i) {
    Status s = producer.value().send(topic, key_of(i), "value-" + std::to_string(i),
                                     {{"correlation_id", key_of(i)}, {"n", std::to_string(i)}}, 1000 + i);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
  }
  Status flushed = producer.value().flush(Duration::seconds(5));
  ASSERT_TRUE(flushed.ok()) << flushed.error().to_string();
  EXPECT_EQ(producer.value().in_flight(), 0);
  ASSERT_EQ(reports.size(), static_cast<size_t>(kRecords));
  for (const DeliveryReport& r : reports) {
    ASSERT_TRUE(r.ok()) << r.error->to_string();
    const int i = static_cast<int>(r.opaque) - 1000;
    EXPECT_EQ(r.topic, topic);
    EXPECT_EQ(r.persistence, Persistence::kPersisted);
    EXPECT_EQ(r.partition, partition_for_key(key_of(i), kPartitions)) << key_of(i);
  }

  // Reads until `want` distinct records arrived, checking each one; returns them by n.
  auto consume = [&](Consumer& c, size_t want) {
    std::map<int, int64_t> offset_of;  // n -> offset
    std::map<int32_t, int64_t> last_offset;
    bool done = within(std::chrono::milliseconds(8000), [&] {
      PollResult r = c.poll(Duration::millis(100));
      if (auto* e = std::get_if<Error>(&r)) ADD_FAILURE() << e->to_string();
      if (auto* m = std::get_if<Message>(&r)) {
        const int i = std::stoi(std::string(m->header("n").value_or("-1")));
        EXPECT_EQ(m->topic(), topic);
        EXPECT_EQ(m->key(), key_of(i));
        EXPECT_EQ(m->value(), "value-" + std::to_string(i));
        EXPECT_EQ(m->header("correlation_id"), key_of(i));
        EXPECT_EQ(m->partition(), partition_for_key(key_of(i), kPartitions)) << m->where();
        auto [it, fresh] = last_offset.try_emplace(to_int(m->partition()), -1);
        EXPECT_GT(to_int(m->offset()), it->second) << m->where();  // in order within a partition
        it->second = to_int(m->offset());
        EXPECT_TRUE(offset_of.emplace(i, to_int(m->offset())).second) << "duplicate " << m->where();
      }
      return offset_of.size() == want;
    });
    EXPECT_TRUE(done) << "consumed " << offset_of.size() << " of " << want;
    return offset_of;
  };

  std::vector<std::pair<RebalanceKind, std::vector<TopicPartition>>> rebalances;
  {
    Consumer::Hooks consumer_hooks;
    consumer_hooks.on_rebalance = [&](RebalanceKind k, const std::vector<TopicPartition>& tps) {
      rebalances.emplace_back(k, tps);
    };
    Result<Consumer> first = Consumer::create(consumer_config, group, std::move(consumer_hooks));
    ASSERT_TRUE(first.ok()) << first.error().to_string();
    ASSERT_TRUE(first.value().subscribe({topic}).ok());
    std::map<int, int64_t> read = consume(first.value(), kRecords);
    EXPECT_EQ(first.value().assignment().size(), static_cast<size_t>(kPartitions));

    // Records 0..199 are handled and their effects flushed; 200..299 are not (a crash is
    // coming). One producer sent them in order, so per partition the handled ones are a prefix.
    std::map<int32_t, CommitOffset> commits;
    for (const auto& [i, offset] : read) {
      if (i >= kHandled) continue;
      const PartitionId p = partition_for_key(key_of(i), kPartitions);
      CommitOffset& c = commits.try_emplace(to_int(p), CommitOffset{topic, p, Offset{0}}).first->second;
      c.next_offset = std::max(c.next_offset, Offset{offset + 1});
    }
    std::vector<CommitOffset> offsets;
    for (const auto& [p, c] : commits) offsets.push_back(c);
    Status s = first.value().commit(offsets);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    // The single-partition form, as the service uses it (same offset again: harmless).
    ASSERT_TRUE(first.value().commit(topic, offsets[0].partition, offsets[0].next_offset).ok());

    std::vector<TopicPartition> tps;
    for (const CommitOffset& c : offsets) tps.push_back({topic, c.partition});
    Result<std::vector<CommitOffset>> committed = first.value().committed(tps, Duration::seconds(5));
    ASSERT_TRUE(committed.ok()) << committed.error().to_string();
    for (size_t k = 0; k < offsets.size(); ++k) EXPECT_EQ(committed.value()[k].next_offset, offsets[k].next_offset);

    ASSERT_TRUE(first.value().close().ok());
    EXPECT_TRUE(first.value().assignment().empty());
    EXPECT_TRUE(std::holds_alternative<Error>(first.value().poll(Duration::millis(0))));
  }
  ASSERT_GE(rebalances.size(), 2u);
  EXPECT_EQ(rebalances.front().first, RebalanceKind::kAssigned);
  EXPECT_EQ(rebalances.front().second.size(), static_cast<size_t>(kPartitions));
  EXPECT_EQ(rebalances.back().first, RebalanceKind::kRevoked);

  Result<Consumer> second = Consumer::create(consumer_config, group, {});
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  ASSERT_TRUE(second.value().subscribe({topic}).ok());
  std::map<int, int64_t> again = consume(second.value(), kRecords - kHandled);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again.begin()->first, kHandled);  // nothing committed comes back
  EXPECT_EQ(again.rbegin()->first, kRecords - 1);
  ASSERT_TRUE(second.value().close().ok());
}

TEST(KafkaClient, KeyedRecordsLandLikeTheSimulatorAndANewMemberResumesAfterTheCommit) {
  const std::string topic = unique("saga.orders");
  mock().create_topic(topic, kPartitions);
  produce_consume_commit_resume(mock().producer_config(), mock().consumer_config(), topic, unique("order-service"));
}

// ---- error paths ----------------------------------------------------------

TEST(KafkaClient, ARejectedProduceReachesTheDeliveryReportAsAnErrorNamingTheTopic) {
  const std::string topic = unique("saga.inventory");
  mock().create_topic(topic, 3);
  std::vector<DeliveryReport> reports;
  Producer::Hooks hooks;
  hooks.on_delivery = [&](const DeliveryReport& r) { reports.push_back(r); };
  Config config = mock().producer_config();
  config.set("message.timeout.ms", "3000", "test");
  Result<Producer> producer = Producer::create(config, std::move(hooks));
  ASSERT_TRUE(producer.ok()) << producer.error().to_string();

  // Warm up (connection, producer id) so that the injected errors hit our record.
  ASSERT_TRUE(producer.value().send(topic, "o-1", "warm", {}, 1).ok());
  ASSERT_TRUE(producer.value().flush(Duration::seconds(5)).ok());
  ASSERT_EQ(reports.size(), 1u);
  ASSERT_TRUE(reports[0].ok());

  rd_kafka_mock_push_request_errors(mock().get(), /*Produce*/ 0, 1, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  ASSERT_TRUE(producer.value().send(topic, "o-2", "secret-free payload", {}, 2).ok());
  ASSERT_TRUE(producer.value().flush(Duration::seconds(5)).ok());
  ASSERT_EQ(reports.size(), 2u);
  const DeliveryReport& failed = reports[1];
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.opaque, 2u);
  EXPECT_EQ(failed.error->code, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  EXPECT_EQ(failed.error->context,
            "topic " + topic + " partition " + std::to_string(to_int(partition_for_key("o-2", 3))));
  EXPECT_EQ(failed.error->to_string().find("payload"), std::string::npos) << failed.error->to_string();
  EXPECT_FALSE(failed.error->retriable);
  EXPECT_EQ(failed.offset, Offset{-1});
}

TEST(KafkaClient, AnOversizedRecordIsRefusedAtSendNamingTheTopic) {
  Config config = mock().producer_config();
  config.set("message.max.bytes", "1000", "test");
  Result<Producer> producer = Producer::create(config, {});
  ASSERT_TRUE(producer.ok()) << producer.error().to_string();
  const std::string topic = unique("saga.orders");
  Status s = producer.value().send(topic, "o-1", std::string(5000, 'x'), {}, 0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  EXPECT_EQ(s.error().context, "topic " + topic);
  EXPECT_EQ(producer.value().in_flight(), 0);
}

TEST(KafkaClient, FlushTimesOutAsAValueWhileTheBrokerIsDownAndDeliversOnceItIsBack) {
  const std::string topic = unique("saga.orders");
  mock().create_topic(topic, 2);
  int delivered = 0;
  Producer::Hooks hooks;
  hooks.on_delivery = [&](const DeliveryReport& r) { delivered += r.ok() ? 1 : 0; };
  std::vector<Error> client_errors;
  hooks.on_error = [&](const Error& e) { client_errors.push_back(e); };
  Logs logs;
  hooks.on_log = logs.hook();  // keeps librdkafka's complaints about the dead broker off stderr
  Result<Producer> producer = Producer::create(mock().producer_config(), std::move(hooks));
  ASSERT_TRUE(producer.ok()) << producer.error().to_string();
  ASSERT_TRUE(producer.value().send(topic, "o-1", "a", {}, 0).ok());
  ASSERT_TRUE(producer.value().flush(Duration::seconds(5)).ok());
  EXPECT_TRUE(client_errors.empty());

  ASSERT_EQ(rd_kafka_mock_broker_set_down(mock().get(), -1), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_TRUE(producer.value().send(topic, "o-2", "b", {}, 0).ok());
  Status s = producer.value().flush(Duration::millis(300));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, RD_KAFKA_RESP_ERR__TIMED_OUT);
  EXPECT_EQ(s.error().context, "flush");
  EXPECT_TRUE(s.error().retriable);
  EXPECT_EQ(producer.value().in_flight(), 1);
  // The error hook heard of it too, from poll(), as retriable client-wide errors.
  EXPECT_TRUE(within(std::chrono::milliseconds(2000), [&] {
    producer.value().poll(Duration::millis(50));
    return !client_errors.empty();
  }));
  for (const Error& e : client_errors) {
    EXPECT_TRUE(e.retriable) << e.to_string();
    EXPECT_EQ(e.context.rfind("client rdkafka#producer", 0), 0u) << e.to_string();
  }

  ASSERT_EQ(rd_kafka_mock_broker_set_up(mock().get(), -1), RD_KAFKA_RESP_ERR_NO_ERROR);
  Status again = producer.value().flush(Duration::seconds(5));
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(delivered, 2);
}

// ---- admin ----------------------------------------------------------------

TEST(KafkaAdmin, TopicAlreadyExistsCountsAsCreated) {
  EXPECT_TRUE(topic_creation_outcome("saga.orders", RD_KAFKA_RESP_ERR_NO_ERROR, "").ok());
  EXPECT_TRUE(topic_creation_outcome("saga.orders", RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, "exists").ok());
  Status bad = topic_creation_outcome("saga.orders", RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR,
                                      "Replication factor: 3 larger than available brokers: 1.");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().context, "create topic saga.orders");
  EXPECT_NE(bad.error().message.find("larger than available brokers"), std::string::npos);
}

TEST(KafkaAdmin, DescribesAndListsTopicsOfTheMockCluster) {
  const std::string topic = unique("saga.orders");
  mock().create_topic(topic, 5);
  Result<Admin> admin = Admin::create(mock().config());
  ASSERT_TRUE(admin.ok()) << admin.error().to_string();
  Result<TopicInfo> info = admin.value().describe_topic(topic, Duration::seconds(5));
  ASSERT_TRUE(info.ok()) << info.error().to_string();
  EXPECT_EQ(info.value().partitions, 5);
  ASSERT_EQ(info.value().leaders.size(), 5u);
  for (int32_t leader : info.value().leaders) EXPECT_EQ(leader, 1);  // the one mock broker
  Result<std::vector<std::string>> names = admin.value().list_topics(Duration::seconds(5));
  ASSERT_TRUE(names.ok()) << names.error().to_string();
  EXPECT_TRUE(std::binary_search(names.value().begin(), names.value().end(), topic));
}

TEST(KafkaAdmin, CreateTopicsFailsAsAValueNamingTheTopicsWhenTheClusterCannotDoIt) {
  // librdkafka 2.0.2's mock broker has no CreateTopics: the request cannot complete.
  Result<Admin> admin = Admin::create(mock().config());
  ASSERT_TRUE(admin.ok()) << admin.error().to_string();
  const std::vector<NewTopic> topics = {{"saga.orders", 3, 1}, {"saga.orders.dlq", 1, 1}};
  const auto start = std::chrono::steady_clock::now();
  Status s = admin.value().create_topics(topics, Duration::millis(300));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().context.find("saga.orders, saga.orders.dlq"), std::string::npos) << s.error().to_string();

  Status invalid = admin.value().create_topics(std::vector<NewTopic>{{"saga.bad", -7, 1}}, Duration::millis(300));
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().context, "create topic saga.bad");
}

// ---- against a real broker (opt-in) -----------------------------------------
// scripts/kafka-local start; SAGASIM_KAFKA_BOOTSTRAP=127.0.0.1:19092 ctest -R Kafka
// Topic names carry a per-run suffix, so reruns against the same broker never meet.

std::optional<Config> real_broker() {
  const char* bootstrap = std::getenv("SAGASIM_KAFKA_BOOTSTRAP");
  if (!bootstrap || !*bootstrap) return std::nullopt;
  Config config;
  config.set("bootstrap.servers", bootstrap, "SAGASIM_KAFKA_BOOTSTRAP");
  return config;
}

std::string run_suffix() {
  return std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
}

TEST(KafkaRealBroker, CreatesTopicsIdempotently) {
  std::optional<Config> config = real_broker();
  if (!config) GTEST_SKIP() << "set SAGASIM_KAFKA_BOOTSTRAP to run against a real broker";
  Result<Admin> admin = Admin::create(*config);
  ASSERT_TRUE(admin.ok()) << admin.error().to_string();
  const std::string name = "sagasim-client-test-" + run_suffix();
  const std::vector<NewTopic> topics = {{name, 3, 1}};
  Status first = admin.value().create_topics(topics, Duration::seconds(10));
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  Status again = admin.value().create_topics(topics, Duration::seconds(10));
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  Result<TopicInfo> info = admin.value().describe_topic(name, Duration::seconds(5));
  ASSERT_TRUE(info.ok()) << info.error().to_string();
  EXPECT_EQ(info.value().partitions, 3);
  Status too_many = admin.value().create_topics(std::vector<NewTopic>{{name + "-r3", 1, 3}}, Duration::seconds(10));
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().context, "create topic " + name + "-r3");
  Result<TopicInfo> missing = admin.value().describe_topic(name + "-absent", Duration::seconds(5));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  EXPECT_EQ(missing.error().context, "topic " + name + "-absent");
}

TEST(KafkaRealBroker, KeyedRecordsLandLikeTheSimulatorAndANewMemberResumesAfterTheCommit) {
  std::optional<Config> config = real_broker();
  if (!config) GTEST_SKIP() << "set SAGASIM_KAFKA_BOOTSTRAP to run against a real broker";
  Result<Admin> admin = Admin::create(*config);
  ASSERT_TRUE(admin.ok()) << admin.error().to_string();
  const std::string topic = "sagasim-client-test-orders-" + run_suffix();
  ASSERT_TRUE(admin.value().create_topics(std::vector<NewTopic>{{topic, kPartitions, 1}}, Duration::seconds(10)).ok());
  Config consumer_config = *config;
  consumer_config.set("enable.partition.eof", "true", "test");
  produce_consume_commit_resume(*config, consumer_config, topic, topic + "-group");
}

}  // namespace
}  // namespace sagasim::kafka
