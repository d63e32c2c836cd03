// The raw Kafka baseline for the live benchmark (scripts/bench-live): how
// fast this machine's broker and librdkafka move records with no saga, no
// SQLite and no JSON decoding, produced and consumed by one process with the
// same producer settings `sagasim serve` uses (idempotent, acks=all,
// murmur2_random) through the same thin adapter (kafka/client/).
//
//   live_baseline --kafka client.properties --messages 20000 [--rate 0] [--size 500] [--json]
//
// Measures records/s from the first send to the last record consumed, and
// each record's produce-to-consume latency (the send time travels in the value).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kafka/client/admin.h"
#include "kafka/client/consumer.h"
#include "kafka/client/producer.h"

using namespace sagasim;
using namespace sagasim::kafka;
using Clock = std::chrono::steady_clock;

namespace {
int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}
double pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}
}  // namespace

int main(int argc, char** argv) {
  std::string properties;
  int64_t messages = 10000;
  double rate = 0;
  int size = 500;
  int64_t warmup = 1000;
  bool json = false;
  std::string topic = "sagasim-baseline";
  CLI::App app{"Raw produce->consume baseline for the live benchmark"};
  app.add_option("--kafka", properties, "librdkafka properties file")->required();
  app.add_option("--messages", messages, "Records to move")->check(CLI::Range(int64_t{1}, int64_t{100'000'000}));
  app.add_option("--rate", rate, "Records per second (0: as fast as possible)");
  app.add_option("--warmup", warmup, "Records sent and consumed before measuring")->check(CLI::Range(int64_t{0}, int64_t{1'000'000}));
  app.add_option("--size", size, "Value size in bytes (a saga event is 300-700)")->check(CLI::Range(32, 1'000'000));
  app.add_option("--topic", topic, "Topic (created with 3 partitions; a fresh run id keeps runs apart)");
  app.add_flag("--json", json, "One JSON object on stdout");
  CLI11_PARSE(app, argc, argv);

  Result<Config> config = Config::load(properties);
  if (!config.ok()) {
    std::cerr << "live_baseline: " << config.error().to_string() << "\n";
    return 2;
  }
  ClientHooks quiet;
  quiet.on_log = [](int level, std::string_view, std::string_view msg) {
    if (level <= 3) std::cerr << "librdkafka: " << msg << "\n";
  };
  {
    Result<Admin> admin = Admin::create(config.value(), quiet);
    const NewTopic t{topic, 3, -1};
    if (!admin.ok() || !admin.value().create_topics(std::span(&t, 1), Duration::seconds(30)).ok()) {
      std::cerr << "live_baseline: cannot create " << topic << "\n";
      return 1;
    }
  }
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  Consumer::Hooks ch;
  ch.on_log = quiet.on_log;
  Result<Consumer> consumer = Consumer::create(config.value(), "sagasim-baseline", std::move(ch));
  if (!consumer.ok()) return 1;
  Consumer& c = consumer.value();
  std::vector<CommitOffset> starts;
  for (int32_t p = 0; p < 3; ++p) {
    const TopicPartition tp{topic, PartitionId{p}};
    auto wm = retry_until(deadline, [&] { return c.watermarks(tp, Duration::seconds(10)); });
    if (!wm.ok()) {
      std::cerr << "live_baseline: " << wm.error().to_string() << "\n";
      return 1;
    }
    starts.push_back({topic, tp.partition, wm.value().second});
  }
  if (!c.assign_at(starts).ok()) return 1;

  int64_t failed = 0;
  Producer::Hooks ph;
  ph.on_log = quiet.on_log;
  ph.on_delivery = [&](const DeliveryReport& r) { failed += !r.ok(); };
  Result<Producer> producer = Producer::create(config.value(), std::move(ph));
  if (!producer.ok()) return 1;
  Producer& p = producer.value();
  (void)p.prepare_topics({topic}, Duration::seconds(10));

  std::vector<double> latency_ms;
  latency_ms.reserve(static_cast<size_t>(messages));
  auto consume = [&](Duration timeout) {
    PollResult r = c.poll(timeout);
    if (auto* m = std::get_if<Message>(&r)) {
      int64_t sent = 0;
      std::sscanf(std::string(m->value().substr(0, 20)).c_str(), "%ld", &sent);
      latency_ms.push_back(static_cast<double>(now_ns() - sent) / 1e6);
    }
  };
  const std::string pad(static_cast<size_t>(size), 'x');
  // Warm-up, not measured: connections, metadata and the consumer's first fetches.
  for (int64_t i = 0; i < warmup; ++i) {
    while (!p.send(topic, fmt::format("w-{}", i), "0", {}, 0).ok()) p.poll(Duration::millis(10));
  }
  (void)p.flush(Duration::seconds(30));
  while (static_cast<int64_t>(latency_ms.size()) < warmup && Clock::now() < deadline) consume(Duration::millis(50));
  latency_ms.clear();
  const auto start = Clock::now();
  for (int64_t i = 0; i < messages; ++i) {
    if (rate > 0) {
      const auto due = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(i / rate));
      while (Clock::now() < due) consume(Duration::millis(1));
    }
    std::string value = fmt::format("{:020}", now_ns());
    value += pad.substr(0, pad.size() - std::min(pad.size(), value.size()));
    const std::string key = fmt::format("o-{}", i);
    for (;;) {
      Status s = p.send(topic, key, value, {}, 0);
      if (s.ok()) break;
      p.poll(Duration::millis(10));
      consume(Duration::millis(0));
    }
    p.poll(Duration::millis(0));
    consume(Duration::millis(0));
  }
  const auto give_up = Clock::now() + std::chrono::seconds(120);
  while (static_cast<int64_t>(latency_ms.size()) < messages && Clock::now() < give_up) {
    p.poll(Duration::millis(0));
    consume(Duration::millis(50));
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  (void)p.flush(Duration::seconds(10));
  (void)c.close();
  const size_t got = latency_ms.size();
  const double p50 = pct(latency_ms, 0.5), p99 = pct(latency_ms, 0.99), mx = pct(latency_ms, 1.0);
  if (json) {
    std::cout << nlohmann::json{{"messages", messages}, {"consumed", got}, {"failed", failed}, {"seconds", secs},
                                {"per_second", static_cast<double>(got) / secs},
                                {"latency_ms", {{"p50", p50}, {"p99", p99}, {"max", mx}}}}
                     .dump()
              << "\n";
  } else {
    std::cout << fmt::format("{} of {} records produced and consumed in {:.2f} s: {:.0f}/s; latency p50 {:.1f} ms, "
                             "p99 {:.1f} ms, max {:.1f} ms\n",
                             got, messages, secs, static_cast<double>(got) / secs, p50, p99, mx);
  }
  return got == static_cast<size_t>(messages) && failed == 0 ? 0 : 1;
}
