#include "kafka/runtime/metrics.h"

#include <chrono>
#include <stdexcept>

#include <httplib.h>

namespace sagasim::kafka {

void Histogram::observe(double seconds) {
  ++count;
  sum += seconds;
  for (size_t i = 0; i < kHandlerBuckets.size(); ++i) {
    if (seconds <= kHandlerBuckets[i]) {
      ++buckets[i];
      return;
    }
  }
  // above the last bucket: only +Inf (count) holds it
}

void MetricsText::set(std::string text) {
  std::lock_guard lock(mu_);
  text_ = std::move(text);
}

std::string MetricsText::get() const {
  std::lock_guard lock(mu_);
  return text_;
}

MetricsServer::MetricsServer(const MetricsText& text, std::string host, int port)
    : server_(std::make_unique<httplib::Server>()), port_(port) {
  // httplib's default also sets SO_REUSEPORT, which would let a second
  // instance given the same --metrics-port share it silently: only REUSEADDR.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server_->Get("/metrics", [&text](const httplib::Request&, httplib::Response& res) {
    res.set_content(text.get(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("sagasim serve: metrics at /metrics\n", "text/plain");
  });
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
    if (port_ < 0) throw std::runtime_error("metrics: cannot listen on " + host + ":0");
  } else if (!server_->bind_to_port(host, port)) {
    throw std::runtime_error("metrics: cannot listen on " + host + ":" + std::to_string(port) +
                             " (in use, or not allowed)");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() before the listener runs would be lost (and the join would hang).
  for (int i = 0; i < 500 && !server_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

MetricsServer::~MetricsServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string prometheus_escape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace sagasim::kafka
