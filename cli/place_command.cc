// PROGRAM place (alias place-orders): the live workload's client. Places the
// saga's instances (SagaRun::place, through a Kafka producer) at a steady
// rate and, with --wait, follows the saga topics until every instance is
// decided (SagaDefinition::decision), reporting throughput and saga latency.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/live.h"
#include "core/error.h"
#include "kafka/client/consumer.h"
#include "kafka/client/producer.h"
#include "kafka/runtime/env.h"
#include "kafka/runtime/record.h"
#include "sim/saga.h"

namespace sagasim::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

kafka::ClientHooks quiet_hooks() {
  kafka::ClientHooks h;
  h.on_log = [](int level, std::string_view fac, std::string_view msg) {
    if (level <= 3) std::cerr << "sagasim: librdkafka " << fac << ": " << msg << "\n";
  };
  return h;
}

// The outside world's producer, on the wall clock: what a SagaRun places is
// collected, then sent by the Kafka producer. Event ids are
// "<run>-place-<n>" (`check` knows a client's records by them).
class LiveClient final : public sim::Client {
 public:
  explicit LiveClient(std::string run_id) : run_id_(std::move(run_id)) {}
  Time now() const override { return kafka::wall_now(); }
  std::string next_event_id() override { return fmt::format("{}-place-{}", run_id_, ++sent_); }
  void send_event(std::string_view topic, EventPtr event) override {
    pending.emplace_back(std::string(topic), std::move(event));
  }
  std::vector<std::pair<std::string, EventPtr>> pending;

 private:
  std::string run_id_;
  uint64_t sent_ = 0;
};

}  // namespace

int place_command(const Program& program, const PlaceArgs& args) {
  if (args.count < 1) throw InputError("--count", "", "expected at least 1");
  if (args.rate < 0) throw InputError("--rate", "", "expected a rate of 0 (unlimited) or more per second");
  kafka::Config config = load_kafka_config(args.kafka);
  const LiveSetup live = live_setup(program, args.live);
  const sim::SagaDefinition& saga = *live.saga;
  const std::string noun = saga.instance_noun();
  // Ids must never repeat on a cluster: a start for an id the saga knows is
  // a duplicate, and is (rightly) never decided again.
  std::random_device rd;
  const std::string run_id =
      args.run_id.empty() ? fmt::format("r{}-{:04x}", kafka::wall_now().us / 1'000'000, rd() & 0xffff) : args.run_id;
  const std::unique_ptr<sim::SagaRun> run =
      saga.start_live(live.scenario, live.options, sim::LivePlan{static_cast<size_t>(args.count), run_id});
  if (run->placements() != static_cast<size_t>(args.count))
    throw InputError("--count", "", fmt::format("the {} saga's live workload places {} {}, not {} (its limit?)",
                                                saga.name(), run->placements(), noun, args.count));
  PayloadRegistry registry;
  for (const auto& service : run->make_services()) service->register_payloads(registry);
  const std::string prefix = args.kafka.prefix();
  std::vector<std::string> topic_names;
  for (const std::string& t : saga.topics(live.scenario.style)) topic_names.push_back(prefix + t);
  if (!config.get("client.id")) config.set("client.id", prefix + "sagasim-place-" + run_id, "place");

  {
    kafka::Result<kafka::Admin> admin = kafka::Admin::create(config, quiet_hooks());
    if (!admin.ok()) throw InputError("--kafka", "", admin.error().to_string());
    const std::vector<kafka::NewTopic> topics = saga_topics(saga, live.scenario.style, args.kafka);
    if (kafka::Status s = admin.value().create_topics(topics, Duration::seconds(30)); !s.ok()) {
      std::cerr << "sagasim: cannot create the saga topics: " << s.error().to_string() << "\n";
      return 1;
    }
  }

  // The decisions are read from where the saga topics end now.
  std::optional<kafka::Consumer> decisions;
  if (args.wait_s > 0) {
    kafka::Consumer::Hooks hooks;
    hooks.on_log = quiet_hooks().on_log;
    kafka::Result<kafka::Consumer> c = kafka::Consumer::create(config, prefix + "sagasim-place-orders", std::move(hooks));
    if (!c.ok()) throw InputError("--kafka", "", c.error().to_string());
    decisions.emplace(std::move(c).value());
    kafka::Result<kafka::Admin> admin = kafka::Admin::create(config, quiet_hooks());
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    // create_topics returned once the topics were served.
    std::vector<kafka::CommitOffset> starts;
    for (const std::string& topic : topic_names) {
      kafka::Result<kafka::TopicInfo> info =
          admin.ok() ? kafka::retry_until(deadline, [&] {
            return admin.value().describe_topic(topic, Duration::seconds(10));
          })
                     : kafka::Result<kafka::TopicInfo>(admin.error());
      if (!info.ok()) {
        std::cerr << program.name << ": " << info.error().to_string() << "\n";
        return 1;
      }
      for (int32_t p = 0; p < info.value().partitions; ++p) {
        const kafka::TopicPartition tp{topic, PartitionId{p}};
        auto wm = kafka::retry_until(deadline, [&] { return decisions->watermarks(tp, Duration::seconds(10)); });
        if (!wm.ok()) {
          std::cerr << program.name << ": " << wm.error().to_string() << "\n";
          return 1;
        }
        starts.push_back({tp.topic, tp.partition, wm.value().second});
      }
    }
    if (kafka::Status s = decisions->assign_at(starts); !s.ok()) {
      std::cerr << program.name << ": " << s.error().to_string() << "\n";
      return 1;
    }
  }

  uint64_t delivered = 0;
  uint64_t failed = 0;
  std::string first_failure;
  kafka::Producer::Hooks ph;
  ph.on_log = quiet_hooks().on_log;
  ph.on_delivery = [&](const kafka::DeliveryReport& r) {
    if (r.ok()) {
      ++delivered;
    } else if (failed++ == 0) {
      first_failure = r.error->to_string();
    }
  };
  kafka::Result<kafka::Producer> producer = kafka::Producer::create(config, std::move(ph));
  if (!producer.ok()) throw InputError("--kafka", "", producer.error().to_string());
  kafka::Producer& p = producer.value();
  (void)p.prepare_topics(topic_names, Duration::seconds(30));

  std::map<std::string, Clock::time_point> sent_at;
  std::map<std::string, double> latency_s;
  std::map<std::string, uint64_t> outcomes;  // "confirmed", "cancelled: <reason>"
  Clock::time_point last_decision{};
  auto read_decisions = [&](Duration timeout) {
    if (!decisions) {
      p.poll(timeout);
      return;
    }
    p.poll(Duration::millis(0));
    kafka::PollResult r = decisions->poll(timeout);
    auto* m = std::get_if<kafka::Message>(&r);
    if (!m) return;
    kafka::RecordView view{m->topic(), m->partition(), m->offset(), m->has_key(), m->key(), m->value(), {}};
    auto decoded = kafka::decode_record(view, registry);
    auto* e = std::get_if<EventPtr>(&decoded);
    if (!e) return;
    const std::optional<sim::Decision> decision = saga.decision(**e);
    if (!decision) return;
    auto sent = sent_at.find(decision->entity);
    if (sent == sent_at.end() || latency_s.contains(decision->entity)) return;
    last_decision = Clock::now();
    latency_s[decision->entity] = seconds_between(sent->second, last_decision);
    ++outcomes[decision->outcome];
  };

  LiveClient client(run_id);
  const auto start = Clock::now();
  auto last_progress = start;
  for (int64_t i = 0; i < args.count; ++i) {
    if (args.rate > 0) {
      const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(i) / args.rate));
      while (Clock::now() < due) {
        const auto left = std::chrono::duration_cast<std::chrono::microseconds>(due - Clock::now()).count();
        read_decisions(Duration{std::clamp<int64_t>(left, 0, 10'000)});
      }
    }
    client.pending.clear();
    run->place(static_cast<size_t>(i), client);
    for (const auto& [topic, e] : client.pending) {
      const std::string value = encode_event(*e, registry);
      for (;;) {
        kafka::Status s = p.send(prefix + topic, e->key, value, kafka::record_headers(*e), 0);
        if (s.ok()) break;
        if (s.error().code != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          std::cerr << program.name << ": cannot send " << e->key << ": " << s.error().to_string() << "\n";
          return 1;
        }
        p.poll(Duration::millis(50));
      }
      sent_at.try_emplace(e->key, Clock::now());
    }
    read_decisions(Duration::millis(0));
    if (!args.json && seconds_between(last_progress, Clock::now()) >= 5) {
      last_progress = Clock::now();
      std::cerr << fmt::format("placed {}/{} {} ({} decided)\n", i + 1, args.count, noun, latency_s.size());
    }
  }
  if (kafka::Status s = p.flush(Duration::seconds(60)); !s.ok()) {
    std::cerr << program.name << ": " << s.error().to_string() << "\n";
    return 1;
  }
  const double placing_s = seconds_between(start, Clock::now());
  if (failed > 0) {
    std::cerr << fmt::format("{}: {} of {} records were not delivered; first error: {}\n", program.name, failed,
                             sent_at.size(), first_failure);
    return 1;
  }

  if (decisions) {
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(args.wait_s));
    while (latency_s.size() < sent_at.size() && Clock::now() < deadline) {
      read_decisions(Duration::millis(100));
      if (!args.json && seconds_between(last_progress, Clock::now()) >= 5) {
        last_progress = Clock::now();
        std::cerr << fmt::format("waiting: {}/{} decided\n", latency_s.size(), sent_at.size());
      }
    }
    (void)decisions->close();
  }

  std::vector<double> lat;
  for (const auto& [id, s] : latency_s) lat.push_back(s * 1000);
  const double span_s = decisions && !latency_s.empty() ? seconds_between(start, last_decision) : placing_s;
  const double throughput = decisions ? static_cast<double>(latency_s.size()) / span_s
                                      : static_cast<double>(args.count) / placing_s;
  if (args.json) {
    nlohmann::json j = {{"run_id", run_id},
                        {"placed", args.count},
                        {"placing_seconds", placing_s},
                        {"placed_per_second", static_cast<double>(args.count) / placing_s}};
    if (decisions) {
      j["decided"] = latency_s.size();
      j["outcomes"] = outcomes;
      j["decided_per_second"] = throughput;
      j["latency_ms"] = {{"p50", percentile(lat, 0.50)}, {"p90", percentile(lat, 0.90)},
                         {"p99", percentile(lat, 0.99)}, {"max", percentile(lat, 1.0)}};
    }
    std::cout << j.dump() << "\n";
  } else {
    std::cout << fmt::format("placed {} {} (run {}) in {:.2f} s: {:.0f} {}/s\n", args.count, noun, run_id, placing_s,
                             static_cast<double>(args.count) / placing_s, noun);
    if (decisions) {
      std::cout << fmt::format("decided {} of {}: {:.0f} {}/s end to end; saga latency p50 {:.1f} ms, p90 {:.1f} "
                               "ms, p99 {:.1f} ms, max {:.1f} ms\n",
                               latency_s.size(), sent_at.size(), throughput, noun, percentile(lat, 0.5),
                               percentile(lat, 0.9), percentile(lat, 0.99), percentile(lat, 1.0));
      for (const auto& [o, n] : outcomes) std::cout << fmt::format("  {:<32} {}\n", o, n);
    }
  }
  if (decisions && latency_s.size() < sent_at.size()) {
    std::cerr << fmt::format("{}: {} {} were not decided within {} s\n", program.name,
                             sent_at.size() - latency_s.size(), noun, args.wait_s);
    if (latency_s.empty())
      std::cerr << fmt::format("{}: (no record at all was a decision: does the {} saga's SagaDefinition::decision "
                               "name its deciding records?)\n",
                               program.name, saga.name());
    return 1;
  }
  return 0;
}

}  // namespace sagasim::cli
