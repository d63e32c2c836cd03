// PROGRAM monitor: the saga's invariants applied to a live deployment
// continuously. It reads every saga topic with a consumer of its own (its
// partitions assigned, never a member of a service's group), hands each
// record to the saga's LiveMonitor (sim/saga.h; the order saga's is
// inv::LogMonitor, beside the checks `check` and the simulator run), and
// tells it how far in time the log has been read, so that deadlines are
// judged only over records it has seen.
//
// Progress: --state FILE holds the next offset of every partition, the
// LiveMonitor's own state (which includes what it reported) and the counts,
// replaced atomically (write, fsync, rename) right after every batch that
// reported something and at least every --checkpoint-interval-ms. A restart
// resumes there: nothing reported twice, nothing missed. The one window is a
// SIGKILL between printing a violation and the rename that follows it (a
// few milliseconds): that violation is printed again after the restart, with
// the same "id".
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/live.h"
#include "core/error.h"
#include "kafka/client/admin.h"
#include "kafka/client/consumer.h"
#include "kafka/runtime/env.h"
#include "kafka/runtime/log.h"
#include "kafka/runtime/metrics.h"
#include "kafka/runtime/record.h"

namespace sagasim::cli {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_monitor_signal(int sig) {
  if (g_stop.exchange(true)) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

constexpr std::string_view kStateFormat = "sagasim-monitor/1";
// Decision latency buckets, in seconds: from a fast saga to a timeout's worth.
constexpr double kLatencyBuckets[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
// A record is created a little before it is in its partition (a relay's
// batch, a producer's linger): the log counts as read up to this long before
// the moment the monitor saw it had everything.
constexpr Duration kAppendAllowance = Duration::seconds(1);

struct PartitionState {
  int64_t next = -1;             // next offset to read; -1: from the beginning
  int64_t high = -1;             // the high watermark when last asked
  int64_t last_created_us = -1;  // the last record's producer time
  int64_t complete_us = -1;      // every record created before this has been read; -1 unknown
  int64_t eof_at = -1;           // the partition's end when the consumer last reached it
};

std::string json_time(int64_t us) { return format_timestamp(Time{us}); }

nlohmann::json ref_json(const sim::RecordRef& r) {
  nlohmann::json j = {{"topic", r.topic}, {"partition", r.partition}, {"offset", r.offset}};
  if (!r.type.empty()) j["type"] = r.type;
  if (!r.event_id.empty()) j["event_id"] = r.event_id;
  if (r.occurred_at_us >= 0) j["occurred_at"] = json_time(r.occurred_at_us);
  return j;
}

// A stable id for a violation, the same after a restart: its invariant,
// instance and message.
std::string violation_id(const inv::Violation& v) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (const std::string* s : {&v.invariant, &v.entity, &v.message}) {
    for (unsigned char c : *s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

// Writes `text` to `path` so that a crash leaves the old file or the new one.
void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      ::close(fd);
      throw std::runtime_error(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error(fmt::format("cannot replace {}: {}", path, std::strerror(errno)));
}

// Appends `text` to the file open as `fd` and waits until it is on disk.
void append_durably(int fd, const std::string& path, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd) != 0) throw std::runtime_error(fmt::format("cannot sync {}: {}", path, std::strerror(errno)));
}

}  // namespace

int monitor_command(const Program& program, const MonitorArgs& args) {
  const std::optional<kafka::LogLevel> level = kafka::parse_log_level(args.log_level);
  if (!level) throw InputError("--log-level", "", "expected debug, info, warn or error, got '" + args.log_level + "'");
  kafka::Config config = load_kafka_config(args.kafka);
  const LiveSetup live = live_setup(program, args.live);
  const sim::SagaDefinition& saga = *live.saga;
  const std::string& style = live.scenario.style;
  const Duration bound = Duration::millis(args.liveness_bound_ms);

  const std::unique_ptr<sim::SagaRun> run = saga.start_live(live.scenario, live.options, sim::LivePlan{});
  std::unique_ptr<sim::LiveMonitor> checks = run->live_monitor(bound);
  if (!checks)
    throw InputError("--saga", "",
                     fmt::format("the {} saga has no record-by-record checks (its SagaRun does not define "
                                 "live_monitor); use `{} check`",
                                 saga.name(), program.name));
  PayloadRegistry registry;
  for (const auto& s : run->make_services()) s->register_payloads(registry);
  // The saga's topics as the checks name them, and as the deployment's
  // namespace (--namespace) names them on the cluster; its group likewise.
  const std::vector<std::string> logical = saga.topics(style);
  std::vector<std::string> topics;
  for (const std::string& t : logical) topics.push_back(args.kafka.prefix() + t);
  const std::string group = args.kafka.prefix() + args.group;
  if (!config.get("client.id")) config.set("client.id", args.kafka.prefix() + "sagasim-monitor", "monitor");
  std::vector<std::string> invariants = saga.invariants(style);
  invariants.emplace_back(inv::kRecordsReadable);
  const std::string noun = saga.instance_noun();
  const std::string singular = noun.size() > 1 && noun.back() == 's' ? noun.substr(0, noun.size() - 1) : noun;

  // ---- the saved state ------------------------------------------------------
  std::map<kafka::TopicPartition, PartitionState> parts;
  std::map<std::string, uint64_t> counts;  // invariant -> violations reported, since the state began
  for (const std::string& i : invariants) counts[i] = 0;
  uint64_t records_total = 0, unreadable_total = 0;
  bool resumed = false;
  if (std::filesystem::exists(args.state)) {
    std::ifstream in(args.state);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(args.state, "", fmt::format("not a monitor state file (JSON): {}", e.what()));
    }
    if (!j.is_object() || j.value("format", "") != kStateFormat)
      throw InputError(args.state, "/format", fmt::format("not a monitor state file (want format \"{}\")", kStateFormat));
    if (j.value("saga", "") != saga.name() || j.value("style", "") != style)
      throw InputError(args.state, "/saga",
                       fmt::format("written by a monitor of the {} saga ({} style), not the {} saga ({} style)",
                                   j.value("saga", "?"), j.value("style", "?"), saga.name(), style));
    try {
      for (const auto& [topic, ps] : j.at("offsets").items())
        for (const auto& [p, next] : ps.items())
          parts[kafka::TopicPartition{topic, PartitionId{std::stoi(p)}}].next = next.get<int64_t>();
      for (const auto& [i, n] : j.at("violations").items()) counts[i] = n.get<uint64_t>();
      records_total = j.at("records").get<uint64_t>();
      unreadable_total = j.at("unreadable_records").get<uint64_t>();
    } catch (const std::exception& e) {
      throw InputError(args.state, "/offsets", fmt::format("a damaged monitor state: {}", e.what()));
    }
    checks->restore(j.at("checks"), args.state);
    resumed = true;
  } else {
    // Fail now, not at the first checkpoint, when the file cannot be written.
    const std::filesystem::path dir = std::filesystem::path(args.state).parent_path();
    if (!dir.empty() && !std::filesystem::is_directory(dir))
      throw InputError(args.state, "", fmt::format("its directory {} does not exist", dir.string()));
  }

  // Violations reported since the state was last written: one line each in
  // STATE.reported, appended (and synced) as they are printed, so a report
  // costs a line, not a write of the whole state. After a restart they are
  // counted and not printed again when the records are read again.
  const std::string journal_path = args.state + ".reported";
  std::unordered_set<std::string> journaled;
  if (std::filesystem::exists(journal_path)) {
    std::ifstream in(journal_path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t line_no = 0, at = 0;
    while (at < text.size()) {
      const size_t nl = text.find('\n', at);
      ++line_no;
      if (nl == std::string::npos) {  // cut short by a crash: dropped (so the next append starts a line); its report may come again
        std::filesystem::resize_file(journal_path, at);
        break;
      }
      const std::string line = text.substr(at, nl - at);
      at = nl + 1;
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_object() || !j.contains("id") || !j["id"].is_string() || !j.contains("invariant") ||
          !j["invariant"].is_string())
        throw InputError(journal_path, fmt::format("line {}", line_no),
                         "not a line of a monitor's report journal ({\"id\",\"invariant\"})");
      if (journaled.insert(j["id"].get<std::string>()).second) ++counts[j["invariant"].get<std::string>()];
    }
  }
  const int journal_fd = ::open(journal_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (journal_fd < 0)
    throw InputError(journal_path, "", fmt::format("cannot open the report journal: {}", std::strerror(errno)));
  struct CloseJournal {
    int fd;
    ~CloseJournal() { ::close(fd); }
  } close_journal{journal_fd};

  kafka::JsonLog log(std::cerr, {{"component", "monitor"}, {"saga", std::string(saga.name())}}, *level);

  // ---- metrics --------------------------------------------------------------
  kafka::MetricsText metrics_text;
  std::unique_ptr<kafka::MetricsServer> metrics_server;
  if (args.metrics_port >= 0) {
    try {
      metrics_server = std::make_unique<kafka::MetricsServer>(metrics_text, "127.0.0.1", args.metrics_port);
    } catch (const std::exception& e) {
      throw InputError("--metrics-port", "", e.what());
    }
    log.info("metrics", {{"url", fmt::format("http://127.0.0.1:{}/metrics", metrics_server->port())}});
  }
  std::array<uint64_t, std::size(kLatencyBuckets)> latency_buckets{};
  uint64_t latency_count = 0;
  double latency_sum = 0;
  int64_t lag_records = 0;
  double lag_seconds = -1;
  double checkpoint_seconds = 0;  // how long the last state write took
  const std::string saga_label = kafka::prometheus_escape(saga.name());
  auto render = [&] {
    std::string t;
    t += "# HELP sagasim_monitor_violations_total Invariant violations reported (each once)\n";
    t += "# TYPE sagasim_monitor_violations_total counter\n";
    for (const auto& [inv, n] : counts)
      t += fmt::format("sagasim_monitor_violations_total{{saga=\"{}\",invariant=\"{}\"}} {}\n", saga_label,
                       kafka::prometheus_escape(inv), n);
    t += fmt::format("# HELP sagasim_monitor_in_flight Saga instances ({}) seen and not yet decided\n", noun);
    t += "# TYPE sagasim_monitor_in_flight gauge\n";
    t += fmt::format("sagasim_monitor_in_flight{{saga=\"{}\"}} {}\n", saga_label, checks->in_flight());
    t += "# HELP sagasim_monitor_decision_latency_seconds From an instance's placement to its decision "
         "(producer times)\n";
    t += "# TYPE sagasim_monitor_decision_latency_seconds histogram\n";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < std::size(kLatencyBuckets); ++i) {
      cumulative += latency_buckets[i];
      t += fmt::format("sagasim_monitor_decision_latency_seconds_bucket{{saga=\"{}\",le=\"{}\"}} {}\n", saga_label,
                       kLatencyBuckets[i], cumulative);
    }
    t += fmt::format("sagasim_monitor_decision_latency_seconds_bucket{{saga=\"{}\",le=\"+Inf\"}} {}\n", saga_label,
                     latency_count);
    t += fmt::format("sagasim_monitor_decision_latency_seconds_sum{{saga=\"{}\"}} {}\n", saga_label, latency_sum);
    t += fmt::format("sagasim_monitor_decision_latency_seconds_count{{saga=\"{}\"}} {}\n", saga_label, latency_count);
    t += "# HELP sagasim_monitor_records_total Records of the saga topics read\n";
    t += "# TYPE sagasim_monitor_records_total counter\n";
    t += fmt::format("sagasim_monitor_records_total{{saga=\"{}\"}} {}\n", saga_label, records_total);
    t += "# HELP sagasim_monitor_lag_records Records in the saga topics not yet read (at the last watermark query)\n";
    t += "# TYPE sagasim_monitor_lag_records gauge\n";
    t += fmt::format("sagasim_monitor_lag_records{{saga=\"{}\"}} {}\n", saga_label, lag_records);
    t += "# HELP sagasim_monitor_lag_seconds Age of the last record read in the partition furthest behind (0: every "
         "partition read to its end; -1: not known yet)\n";
    t += "# TYPE sagasim_monitor_lag_seconds gauge\n";
    t += fmt::format("sagasim_monitor_lag_seconds{{saga=\"{}\"}} {}\n", saga_label, lag_seconds);
    t += "# HELP sagasim_monitor_checkpoint_seconds How long the last write of the state file took (it grows with the "
         "instances remembered; the interval between writes stretches to 20 times it)\n";
    t += "# TYPE sagasim_monitor_checkpoint_seconds gauge\n";
    t += fmt::format("sagasim_monitor_checkpoint_seconds{{saga=\"{}\"}} {}\n", saga_label, checkpoint_seconds);
    metrics_text.set(std::move(t));
  };
  render();

  struct sigaction sa {};
  sa.sa_handler = on_monitor_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  // ---- the topics -----------------------------------------------------------
  kafka::ClientHooks quiet;
  quiet.on_log = [&log](int, std::string_view fac, std::string_view msg) {
    log.debug("librdkafka", {{"facility", std::string(fac)}, {"message", std::string(msg)}});
  };
  kafka::Result<kafka::Admin> admin = kafka::Admin::create(config, quiet);
  if (!admin.ok()) {
    log.error("kafka client", {{"error", admin.error().to_string()}});
    return 1;
  }
  // The saga's topics appear when the first service starts: wait for them.
  std::map<std::string, int32_t> partitions_of;
  auto waited_since = std::chrono::steady_clock::now();
  while (partitions_of.size() < topics.size() && !g_stop) {
    for (const std::string& t : topics) {
      if (partitions_of.contains(t)) continue;
      kafka::Result<kafka::TopicInfo> info = admin.value().describe_topic(t, Duration::seconds(5));
      if (info.ok()) {
        partitions_of[t] = info.value().partitions;
      } else if (!info.error().retriable && info.error().code != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        log.error("topics", {{"error", info.error().to_string()}});
        return 1;
      } else if (std::chrono::steady_clock::now() - waited_since > std::chrono::seconds(10)) {
        log.warn("waiting for the saga topics", {{"topic", t}, {"error", info.error().to_string()}});
        waited_since = std::chrono::steady_clock::now();
      }
    }
    if (partitions_of.size() < topics.size()) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (g_stop) return 0;
  std::vector<kafka::CommitOffset> starts;
  for (const auto& [t, n] : partitions_of)
    for (int32_t p = 0; p < n; ++p) {
      PartitionState& ps = parts[kafka::TopicPartition{t, PartitionId{p}}];
      starts.push_back({t, PartitionId{p}, Offset{ps.next >= 0 ? ps.next : RD_KAFKA_OFFSET_BEGINNING}});
    }

  kafka::Config reader = config;
  reader.set("enable.partition.eof", "true", "monitor");
  kafka::Consumer::Hooks hooks;
  hooks.on_log = quiet.on_log;
  kafka::Result<kafka::Consumer> consumer = kafka::Consumer::create(reader, group, std::move(hooks));
  if (!consumer.ok()) {
    log.error("kafka client", {{"error", consumer.error().to_string()}});
    return 1;
  }
  kafka::Consumer& c = consumer.value();
  if (kafka::Status s = c.assign_at(starts); !s.ok()) {
    log.error("assign", {{"error", s.error().to_string()}});
    return 1;
  }
  log.info(resumed ? "resumed" : "started",
           {{"state", args.state}, {"group", group}, {"liveness_bound_ms", bound.ms()},
            {"partitions", starts.size()}, {"in_flight", checks->in_flight()}});

  int exit_code = 0;
  auto save = [&] {
    const auto started = std::chrono::steady_clock::now();
    nlohmann::json offsets = nlohmann::json::object();
    std::vector<kafka::CommitOffset> commit;
    for (const auto& [tp, ps] : parts) {
      if (ps.next < 0) continue;
      offsets[tp.topic][std::to_string(to_int(tp.partition))] = ps.next;
      commit.push_back({tp.topic, tp.partition, Offset{ps.next}});
    }
    nlohmann::json j = {{"format", kStateFormat},     {"saga", std::string(saga.name())},
                        {"style", style},             {"offsets", offsets},
                        {"violations", counts},       {"records", records_total},
                        {"unreadable_records", unreadable_total}};
    // The checks' part is the large one: written by them as text.
    std::string text = j.dump();
    text.pop_back();
    text += ",\"checks\":";
    text += checks->save_text();
    text += '}';
    try {
      write_atomically(args.state, text);
      // The state now holds what the checks reported: the journal starts over.
      if (::ftruncate(journal_fd, 0) != 0)
        throw std::runtime_error(fmt::format("cannot truncate {}: {}", journal_path, std::strerror(errno)));
      journaled.clear();
    } catch (const std::exception& e) {
      // Carrying on would report again after a restart what it cannot record.
      log.error("state", {{"error", e.what()}});
      exit_code = 1;
      g_stop = true;
      return;
    }
    // The group's committed offsets only show its progress to the usual
    // tools (consumer-group lag); the state file is what a restart reads.
    if (!commit.empty())
      if (kafka::Status s = c.commit(commit, Duration::seconds(2)); !s.ok())
        log.debug("commit", {{"error", s.error().to_string()}});
    checkpoint_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };

  auto emit = [&](sim::LiveReport& report) {
    for (const Duration& d : report.decided_after) {
      const double s = static_cast<double>(d.us) / 1e6;
      ++latency_count;
      latency_sum += s;
      for (size_t i = 0; i < std::size(kLatencyBuckets); ++i)
        if (s <= kLatencyBuckets[i]) {
          ++latency_buckets[i];
          break;
        }
    }
    std::string journal_lines;
    for (const sim::LiveViolation& lv : report.violations) {
      const inv::Violation& v = lv.violation;
      const std::string id = violation_id(v);
      if (journaled.count(id)) continue;  // printed before a restart, read again since
      ++counts[v.invariant];
      journal_lines += nlohmann::json{{"id", id}, {"invariant", v.invariant}}.dump() + "\n";
      nlohmann::json line = {{"ts", json_time(kafka::wall_now().us)},
                             {"level", "error"},
                             {"msg", "violation"},
                             {"id", id},
                             {"saga", std::string(saga.name())},
                             {"invariant", v.invariant},
                             {"entity", v.entity}};
      if (!v.entity.empty()) line[singular] = v.entity;
      line["message"] = v.message;
      if (v.at_us >= 0) line["log_time"] = json_time(v.at_us);
      line["at_fault"] = lv.at_fault ? ref_json(*lv.at_fault) : nlohmann::json(nullptr);
      line["records"] = nlohmann::json::array();
      for (const sim::RecordRef& r : lv.records) line["records"].push_back(ref_json(r));
      std::cout << line.dump() << "\n";
    }
    if (!journal_lines.empty()) {
      std::cout.flush();
      try {  // at once: a restart must not report these again
        append_durably(journal_fd, journal_path, journal_lines);
      } catch (const std::exception& e) {
        log.error("state", {{"error", e.what()}});
        exit_code = 1;
        g_stop = true;
      }
    }
    report = {};
  };

  using Clock = std::chrono::steady_clock;
  auto next_watermarks = Clock::now();
  auto next_checkpoint = Clock::now() + std::chrono::milliseconds(args.checkpoint_interval_ms);
  auto last_error_log = Clock::now() - std::chrono::seconds(60);
  size_t probe_round = 0;
  sim::LiveReport report;
  while (!g_stop) {
    // Records until there are none for now (or for 200 ms), then the clock's work.
    const auto batch_end = Clock::now() + std::chrono::milliseconds(200);
    for (int i = 0; !g_stop && Clock::now() < batch_end; ++i) {
      kafka::PollResult r = c.poll(Duration::millis(i == 0 ? 100 : 0));
      if (auto* m = std::get_if<kafka::Message>(&r)) {
        const kafka::TopicPartition tp{std::string(m->topic()), m->partition()};
        PartitionState& ps = parts[tp];
        ps.next = to_int(m->offset()) + 1;
        ++records_total;
        Headers headers;
        for (const auto& [k, v] : m->headers()) headers.emplace_back(std::string(k), std::string(v));
        kafka::RecordView view{m->topic(), m->partition(), m->offset(), m->has_key(), m->key(), m->value(), headers};
        auto decoded = kafka::decode_record(view, registry);
        auto* e = std::get_if<EventPtr>(&decoded);
        if (!e) {
          // The services dead-letter it.
          // As `check` judges it (records_readable), one violation per record.
          ++unreadable_total;
          sim::LiveViolation lv;
          lv.violation = inv::Violation{std::string(inv::kRecordsReadable), "",
                                        "dead-lettered, unreadable: " + view.where() + ": " +
                                            std::get<std::string>(decoded),
                                        -1};
          lv.at_fault = sim::RecordRef{tp.topic, to_int(tp.partition), to_int(m->offset()), "", "", -1};
          report.violations.push_back(std::move(lv));
          emit(report);
          continue;
        }
        ps.last_created_us = std::max(ps.last_created_us, (*e)->occurred_at.us);
        std::string_view topic = "?";
        for (size_t i = 0; i < topics.size(); ++i)
          if (topics[i] == tp.topic) topic = logical[i];
        checks->on_record(inv::LoggedEvent{topic, to_int(tp.partition), to_int(m->offset()), *e}, report);
        emit(report);
      } else if (auto* eof = std::get_if<kafka::EndOfPartition>(&r)) {
        PartitionState& ps = parts[eof->tp];
        ps.next = std::max(ps.next, to_int(eof->offset));
        ps.eof_at = to_int(eof->offset);
      } else if (auto* err = std::get_if<kafka::Error>(&r)) {
        if (err->fatal) {
          log.error("kafka", {{"error", err->to_string()}});
          exit_code = 1;
          g_stop = true;
          break;
        }
        if (Clock::now() - last_error_log > std::chrono::seconds(10)) {
          log.warn("kafka", {{"error", err->to_string()}});
          last_error_log = Clock::now();
        }
        break;
      } else {
        break;  // nothing for now
      }
    }
    if (g_stop) break;

    const auto now = Clock::now();
    if (now >= next_watermarks) {
      next_watermarks = now + std::chrono::milliseconds(args.watermark_interval_ms);
      // How far the log has been read in time: a partition read up to its
      // end counts as complete up to now (less the append allowance), one
      // behind up to its last record's creation; the checks are told the
      // minimum. Its end is what librdkafka last heard in a fetch response
      // (no request), or where the consumer last reached it. One
      // partition's watermarks are asked of the broker each time, round the
      // partitions: no answer (the broker away) and the clock stops, so no
      // deadline is judged on records not seen.
      const int64_t asked_at = kafka::wall_now().us;
      auto probe = parts.begin();
      std::advance(probe, static_cast<long>(probe_round++ % parts.size()));
      kafka::Result<std::pair<Offset, Offset>> w = c.watermarks(probe->first, Duration::seconds(2));
      if (w.ok()) {
        std::map<kafka::TopicPartition, int64_t> behind;
        for (const kafka::Consumer::PartitionLag& l : c.lag()) behind[l.tp] = l.lag;
        probe->second.high = to_int(w.value().second);
        int64_t lag = 0, behind_us = 0;
        for (auto& [tp, ps] : parts) {
          auto b = behind.find(tp);
          int64_t n = b != behind.end() ? b->second : ps.eof_at >= 0 && ps.next >= ps.eof_at ? 0 : -1;
          if (&ps == &probe->second) n = std::max<int64_t>(0, ps.high - std::max<int64_t>(ps.next, to_int(w.value().first)));
          if (n == 0) {
            ps.complete_us = asked_at - kAppendAllowance.us;
          } else {
            ps.complete_us = ps.last_created_us;
            if (n > 0) lag += n;
            behind_us = std::max(behind_us, asked_at - std::max<int64_t>(ps.last_created_us, 0));
          }
        }
        lag_records = lag;
        int64_t log_time = INT64_MAX;
        for (const auto& [tp, ps] : parts) log_time = std::min(log_time, ps.complete_us);
        if (log_time >= 0 && log_time != INT64_MAX) {
          lag_seconds = static_cast<double>(behind_us) / 1e6;
          checks->on_time(Time{log_time}, report);
          emit(report);
        }
      } else if (Clock::now() - last_error_log > std::chrono::seconds(10)) {
        log.warn("kafka", {{"error", w.error().to_string()}, {"note", "deadlines wait until the broker answers"}});
        last_error_log = Clock::now();
      }
      render();
    }
    if (now >= next_checkpoint) {
      save();
      // The state holds every instance remembered (up to twice the bound
      // after its decision), so a write costs more as traffic grows: the
      // interval stretches to 20 times the last write, so writing never
      // takes more than about 5 % of the monitor's time. A restart re-reads
      // from the last write; nothing is missed or reported twice.
      const auto floor = std::chrono::milliseconds(args.checkpoint_interval_ms);
      const auto stretched = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::duration<double>(20 * checkpoint_seconds));
      next_checkpoint = Clock::now() + std::max<std::chrono::milliseconds>(floor, stretched);
    }
  }
  if (exit_code == 0) save();
  render();
  (void)c.close();
  log.info("stopped", {{"records", records_total}, {"in_flight", checks->in_flight()}});
  return exit_code;
}

}  // namespace sagasim::cli
