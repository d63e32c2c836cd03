#include "kafka/runtime/topic_reader.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "kafka/client/admin.h"
#include "kafka/client/consumer.h"

namespace sagasim::kafka {

Result<std::vector<ReadRecord>> read_topics(const Config& config, const std::vector<std::string>& topics,
                                            Duration timeout, std::string_view group) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::microseconds(timeout.us);
  auto left = [&] {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
    return Duration{std::max<int64_t>(us, 0)};
  };

  ClientHooks quiet;
  quiet.on_log = [](int, std::string_view, std::string_view) {};
  Result<Admin> admin = Admin::create(config, quiet);
  if (!admin.ok()) return admin.error();
  std::vector<TopicPartition> tps;
  for (const std::string& t : topics) {
    Result<TopicInfo> info =
        retry_until(deadline, [&] { return admin.value().describe_topic(t, std::min(left(), Duration::seconds(10))); });
    if (!info.ok()) return info.error();
    for (int32_t p = 0; p < info.value().partitions; ++p) tps.push_back({t, PartitionId{p}});
  }

  Consumer::Hooks hooks;
  hooks.on_log = quiet.on_log;
  Config reader = config;
  reader.set("enable.partition.eof", "true", "read_topics");
  // A group id is required by the client, but nothing joins or commits.
  Result<Consumer> consumer = Consumer::create(reader, std::string(group), std::move(hooks));
  if (!consumer.ok()) return consumer.error();
  Consumer& c = consumer.value();

  // Where each partition ends now; the read stops there.
  std::map<TopicPartition, int64_t> end;
  for (const TopicPartition& tp : tps) {
    Result<std::pair<Offset, Offset>> w =
        retry_until(deadline, [&] { return c.watermarks(tp, std::min(left(), Duration::seconds(10))); });
    if (!w.ok()) return w.error();
    if (to_int(w.value().second) > to_int(w.value().first)) end[tp] = to_int(w.value().second);
  }
  std::vector<TopicPartition> to_read;
  for (const auto& [tp, high] : end) to_read.push_back(tp);
  if (Status s = c.assign_from_beginning(to_read); !s.ok()) return s.error();

  std::vector<ReadRecord> out;
  std::map<TopicPartition, int64_t> next;  // next offset to see, per partition
  auto done = [&] {
    for (const auto& [tp, high] : end)
      if (next[tp] < high) return false;
    return true;
  };
  while (!done()) {
    if (left().us == 0) {
      return make_error(RD_KAFKA_RESP_ERR__TIMED_OUT, "read topics",
                        "not every record was read within " + std::to_string(timeout.ms()) + " ms");
    }
    PollResult r = c.poll(Duration::millis(100));
    if (auto* m = std::get_if<Message>(&r)) {
      const TopicPartition tp{std::string(m->topic()), m->partition()};
      const auto it = end.find(tp);
      if (it == end.end() || to_int(m->offset()) >= it->second) continue;  // written after the snapshot
      next[tp] = std::max(next[tp], to_int(m->offset()) + 1);
      ReadRecord rec{tp.topic, m->partition(), m->offset(), m->has_key(), std::string(m->key()),
                     std::string(m->value()), {}, m->timestamp_ms()};
      for (const auto& [k, v] : m->headers()) rec.headers.emplace_back(std::string(k), std::string(v));
      out.push_back(std::move(rec));
    } else if (auto* eof = std::get_if<EndOfPartition>(&r)) {
      next[eof->tp] = std::max(next[eof->tp], to_int(eof->offset));
    } else if (auto* e = std::get_if<Error>(&r)) {
      if (!e->retriable) return *e;
    }
  }
  (void)c.close();
  std::sort(out.begin(), out.end(), [](const ReadRecord& a, const ReadRecord& b) {
    return std::tie(a.topic, a.partition, a.offset) < std::tie(b.topic, b.partition, b.offset);
  });
  return out;
}

}  // namespace sagasim::kafka
