// Prometheus metrics of a service instance (`sagasim serve --metrics-port P`).
//
// The runner's thread renders the text exposition format into a Registry
// (render() once a second and at shutdown); the HTTP server's threads only
// copy the latest text out under a mutex. So the runner's counters are never
// shared across threads, and a scrape never waits for a record.
//
//   GET http://127.0.0.1:P/metrics   text/plain; version=0.0.4
//
// Series (labels service and instance on every one):
//   sagasim_records_consumed_total                         counter
//   sagasim_records_processed_total{event_type}            counter   handled and committed
//   sagasim_duplicates_skipped_total                       counter   already in the inbox
//   sagasim_records_ignored_total                          counter   types this service does not act on
//   sagasim_dead_lettered_total                            counter   poison sent to <topic>.dlq
//   sagasim_outbox_published_total, sagasim_outbox_relayed_total, sagasim_timers_fired_total
//   sagasim_outbox_backlog                                 gauge     rows committed, not yet acknowledged
//   sagasim_consumer_lag{topic,partition}                  gauge     high watermark - position
//   sagasim_handler_seconds                                histogram one record's process_event
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace sagasim::kafka {

// The handler-latency histogram's buckets, in seconds.
inline constexpr std::array<double, 11> kHandlerBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                           0.005,   0.01,   0.025,   0.1,    1.0};

struct Histogram {
  std::array<uint64_t, kHandlerBuckets.size()> buckets{};  // counts per bucket (not cumulative)
  uint64_t count = 0;
  double sum = 0;
  void observe(double seconds);
};

// The latest rendering, shared with the server's threads.
class MetricsText {
 public:
  void set(std::string text);
  std::string get() const;

 private:
  mutable std::mutex mu_;
  std::string text_;
};

// Serves MetricsText on 127.0.0.1 (or `host`) in a thread of its own; stops in the destructor.
class MetricsServer {
 public:
  // Throws std::runtime_error naming host:port if it cannot listen.
  MetricsServer(const MetricsText& text, std::string host, int port);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  int port() const { return port_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_;
};

// Prometheus label value escaping (\\, \", \n).
std::string prometheus_escape(std::string_view v);

}  // namespace sagasim::kafka
