#include "kafka/runtime/runner.h"

#include <chrono>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"
#include "core/trace_context.h"

namespace sagasim::kafka {

namespace {

constexpr uint64_t kDlqOpaque = uint64_t{1} << 63;  // a DLQ send: no outbox row to mark

using Clock = std::chrono::steady_clock;

Clock::time_point after(Clock::time_point t, Duration d) { return t + std::chrono::microseconds(d.us); }

nlohmann::json tps_json(const std::vector<TopicPartition>& tps) {
  nlohmann::json out = nlohmann::json::array();
  for (const TopicPartition& tp : tps) out.push_back(to_string(tp));
  return out;
}

StoreOpenOptions store_options(const RunnerOptions& o) {
  StoreOpenOptions s;
  s.instance = o.instance_id;
  s.shared = true;
  s.busy_timeout_ms = o.busy_timeout_ms;
  return s;
}

PayloadRegistry registry_of(const Service& service, const std::vector<std::pair<std::string, int>>& pins) {
  PayloadRegistry r;
  service.register_payloads(r);
  for (const auto& [type, version] : pins) r.pin(type, version, fmt::format("--pin {}={}", type, version));
  return r;
}

LogLevel level_of_syslog(int level) {
  if (level <= 3) return LogLevel::kError;
  if (level == 4) return LogLevel::kWarn;
  if (level <= 6) return LogLevel::kInfo;
  return LogLevel::kDebug;
}

RunnerOptions with_client_id(RunnerOptions o, std::string_view service) {
  if (!o.kafka.get("client.id"))
    o.kafka.set("client.id", instance_client_id(o.prefix, service, o.instance_id), "the service instance");
  return o;
}

}  // namespace

std::string instance_client_id(std::string_view prefix, std::string_view service, std::string_view instance) {
  return fmt::format("{}sagasim-{}-{}", prefix, service, instance);
}

ServiceRunner::ServiceRunner(Service& service, RunnerOptions options, JsonLog& log)
    : service_(service),
      options_(with_client_id(std::move(options), service.name())),
      log_(log),
      registry_(registry_of(service, options_.pins)),
      store_(open_store(options_.db_path, service, registry_, store_options(options_))),
      env_(options_.instance_id) {}

ServiceRunner::~ServiceRunner() = default;

bool ServiceRunner::initialize(std::string_view marker, const std::function<void(Transaction&)>& fill,
                               const std::vector<std::pair<std::string, std::string>>& meta) {
  const bool wrote = store_->initialize_once(marker, fill, meta);
  log_.info(wrote ? "opening state written" : "opening state present", {{"db", store_->path()}});
  return wrote;
}

void ServiceRunner::create_topics() {
  if (options_.topics.empty()) return;
  ClientHooks hooks;
  hooks.on_log = [this](int level, std::string_view fac, std::string_view msg) {
    log_.log(level_of_syslog(level), "librdkafka", {{"client", "admin"}, {"facility", fac}, {"detail", msg}});
  };
  Result<Admin> admin = Admin::create(options_.kafka, hooks);
  if (!admin.ok()) throw InputError("--kafka", "", admin.error().to_string());
  // The cluster may still be coming up (a broker restart): retry what is retriable.
  const auto deadline = after(Clock::now(), Duration::seconds(60));
  for (;;) {
    Status s = admin.value().create_topics(options_.topics, Duration::seconds(10));
    if (s.ok()) return;
    if (!s.error().retriable || Clock::now() > deadline)
      throw std::runtime_error("cannot create the saga topics: " + s.error().to_string());
    log_.warn("creating topics failed; retrying", {{"error", s.error().to_string()}});
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

int ServiceRunner::run(const std::atomic<bool>& stop) {
  if (start())
    while (!stop.load(std::memory_order_relaxed) && step()) {
    }
  return finish();
}

bool ServiceRunner::start() {
  if (phase_ != Phase::kNew) throw std::logic_error("ServiceRunner::start() called twice");
  phase_ = Phase::kFailedToStart;  // until the end of this function
  log_.info("starting", {{"db", store_->path()},
                         {"kafka", options_.kafka.redacted()},
                         {"group", options_.prefix + std::string(service_.name())}});
  try {
    create_topics();
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const InputError*>(&e)) throw;
    log_.error("fatal", {{"error", e.what()}});
    return false;
  }

  auto librdkafka_log = [this](std::string client) {
    return [this, client](int level, std::string_view fac, std::string_view msg) {
      log_.log(level_of_syslog(level), "librdkafka", {{"client", client}, {"facility", fac}, {"detail", msg}});
    };
  };
  auto on_error = [this](std::string client) {
    return [this, client](const Error& e) {
      if (e.fatal) fatal_ = true;
      log_.log(e.fatal ? LogLevel::kError : LogLevel::kWarn, "kafka error",
               {{"client", client}, {"error", e.to_string()}});
    };
  };

  Producer::Hooks ph;
  ph.on_log = librdkafka_log("producer");
  ph.on_error = on_error("producer");
  ph.on_delivery = [this](const DeliveryReport& r) { on_delivery(r); };
  Result<Producer> producer = Producer::create(options_.kafka, std::move(ph));
  if (!producer.ok()) throw InputError("--kafka", "", producer.error().to_string());
  producer_ = std::make_unique<Producer>(std::move(producer).value());
  {
    std::vector<std::string> names;
    for (const NewTopic& t : options_.topics) names.push_back(t.name);
    if (Status s = producer_->prepare_topics(names, Duration::seconds(10)); !s.ok())
      log_.warn("topic metadata not loaded; the first sends may wait", {{"error", s.error().to_string()}});
  }

  Consumer::Hooks ch;
  ch.on_log = librdkafka_log("consumer");
  ch.on_error = on_error("consumer");
  ch.on_rebalance = [this](RebalanceKind k, const std::vector<TopicPartition>& tps) { on_rebalance(k, tps); };
  Result<Consumer> consumer = Consumer::create(options_.kafka, options_.prefix + std::string(service_.name()), std::move(ch));
  if (!consumer.ok()) throw InputError("--kafka", "", consumer.error().to_string());
  consumer_ = std::make_unique<Consumer>(std::move(consumer).value());

  std::vector<std::string> topics;
  for (std::string_view t : service_.subscriptions()) topics.push_back(options_.prefix + std::string(t));
  if (Status s = consumer_->subscribe(topics); !s.ok()) {
    log_.error("fatal", {{"error", s.error().to_string()}});
    return false;
  }

  if (options_.metrics_port >= 0) {
    try {
      metrics_text_.set(render_metrics());
      metrics_server_ = std::make_unique<MetricsServer>(metrics_text_, options_.metrics_host, options_.metrics_port);
    } catch (const std::runtime_error& e) {
      throw InputError("--metrics-port", "", e.what());
    }
    log_.info("metrics", {{"url", fmt::format("http://{}:{}/metrics", options_.metrics_host, metrics_server_->port())}});
  }

  phase_ = Phase::kRunning;
  try {
    relay_backlog();  // what a previous run of this instance committed but never published
  } catch (const std::exception& e) {
    // A store failure: stop without committing the offsets of anything not
    // durable; a restart redoes it.
    log_.error("fatal", {{"error", e.what()}});
    code_ = 1;
    return false;
  }
  const auto now = Clock::now();
  next_commit_ = after(now, options_.commit_interval);
  next_relay_ = after(now, options_.relay_interval);
  next_timers_ = now;
  next_stats_ = after(now, options_.stats_interval);
  next_metrics_ = now;
  batch_.reserve(options_.max_batch);
  return true;
}

bool ServiceRunner::step() {
  if (phase_ != Phase::kRunning) throw std::logic_error("ServiceRunner::step() before start() or after finish()");
  if (code_ != 0) return false;
  if (fatal_) {
    code_ = 1;
    return false;
  }
  try {
    // Up to max_batch records that are already here, handled in one
    // SQLite transaction (group commit).
    Duration wait = options_.poll_timeout;
    while (batch_.size() < options_.max_batch) {
      PollResult r = consumer_->poll(wait);
      wait = Duration::millis(0);
      if (auto* m = std::get_if<Message>(&r)) {
        batch_.push_back(std::move(*m));
        continue;
      }
      if (auto* e = std::get_if<Error>(&r)) {
        if (e->fatal) {
          log_.error("fatal", {{"error", e->to_string()}});
          fatal_ = true;
        } else {
          log_.warn("consumer", {{"error", e->to_string()}});
        }
      }
      break;
    }
    if (fatal_) {
      code_ = 1;
      return false;
    }
    if (!batch_.empty()) process_batch(batch_);
    producer_->poll(Duration::millis(0));
    const auto now = Clock::now();
    if (now >= next_timers_) {
      fire_timers();
      next_timers_ = after(now, options_.timer_interval);
    }
    if (now >= next_commit_) {
      flush_marks();
      commit_offsets(nullptr, /*flush=*/false);
      next_commit_ = after(Clock::now(), options_.commit_interval);
    }
    if (now >= next_relay_) {
      relay();
      next_relay_ = after(now, options_.relay_interval);
    }
    if (const uint64_t n = static_cast<uint64_t>(store_->reconnections()); n != counters_.store_reconnections) {
      counters_.store_reconnections = n;
      log_.warn("store reconnected", {{"db", store_->path()}, {"reconnections", n}});
    }
    if (metrics_server_ && now >= next_metrics_) {
      metrics_text_.set(render_metrics());
      next_metrics_ = after(now, options_.metrics_interval);
    }
    if (now >= next_stats_) {
      log_stats();
      next_stats_ = after(now, options_.stats_interval);
    }
  } catch (const StoreUnavailable& e) {
    // The database went away (a PostgreSQL restart): what was not committed
    // is redone in the next steps, which wait for the store to reconnect
    // (and fail for good, as below, if it never does).
    log_.warn("store unavailable; the work in progress will be done again", {{"error", e.what()}});
    return true;
  } catch (const std::exception& e) {
    // A store failure or a handler bug: stop without committing the offsets of
    // anything not durable; a restart redoes it.
    log_.error("fatal", {{"error", e.what()}});
    code_ = 1;
    return false;
  }
  if (fatal_) {
    code_ = 1;
    return false;
  }
  return true;
}

int ServiceRunner::finish() {
  if (phase_ == Phase::kNew) throw std::logic_error("ServiceRunner::finish() before start()");
  if (phase_ == Phase::kFinished) throw std::logic_error("ServiceRunner::finish() called twice");
  if (phase_ == Phase::kFailedToStart) {
    phase_ = Phase::kFinished;
    return 1;  // logged where it failed; nothing was started
  }
  phase_ = Phase::kFinished;
  if (fatal_) code_ = 1;
  const int code = code_;
  if (code == 0) {
    log_.info("shutting down: flushing the outbox, committing offsets, leaving the group");
    commit_offsets(nullptr, /*flush=*/true);
    try {
      flush_marks();
    } catch (const std::exception& e) {
      // Rows delivered but not marked are sent again by the next start's
      // relay; the consumers' inboxes drop the duplicates.
      log_.warn("could not mark the last delivered outbox rows published", {{"error", e.what()}});
    }
    if (Status s = consumer_->close(); !s.ok()) log_.warn("leaving the group", {{"error", s.error().to_string()}});
    if (Status s = producer_->flush(Duration::seconds(10)); !s.ok())
      log_.warn("final flush", {{"error", s.error().to_string()}});
  }
  log_stats();
  if (metrics_server_) metrics_text_.set(render_metrics());
  log_.info(code == 0 ? "stopped" : "stopped after a fatal error", {{"exit_code", code}});
  return code;
}

std::vector<TopicPartition> ServiceRunner::assignment() const {
  return consumer_ ? consumer_->assignment() : std::vector<TopicPartition>{};
}

void ServiceRunner::process_batch(std::vector<Message>& batch) {
  std::vector<OutboxEntry> out;
  std::vector<uint64_t> marked;
  // What the batch changes in memory, to undo if the store becomes
  // unavailable half way (a PostgreSQL restart): the transaction is gone, so
  // the batch is handled again, whole, in a later step.
  const RunnerCounters counters_before = counters_;
  std::map<TopicPartition, size_t> handled_before;
  for (const auto& [tp, records] : handled_) handled_before[tp] = records.size();
  try {
    DurableStore::Batch b = store_->begin_batch();
    marked = take_marks();
    for (const Message& m : batch) handle(m, out);
    b.commit();
  } catch (const StoreUnavailable&) {
    counters_ = counters_before;
    for (auto it = handled_.begin(); it != handled_.end();) {
      const auto before = handled_before.find(it->first);
      const size_t keep = before == handled_before.end() ? 0 : before->second;
      while (it->second.size() > keep) it->second.pop_back();
      it = it->second.empty() && before == handled_before.end() ? handled_.erase(it) : std::next(it);
    }
    to_mark_.insert(marked.begin(), marked.end());  // not marked: marked again with the retry
    // Records kept in `batch`: the next step handles them again. If the
    // COMMIT did happen, the inbox makes them duplicates and the relay
    // sends their outbox rows (rows of this instance it does not track).
    throw;
  }
  counters_.published += marked.size();
  // Only now, with the batch committed, may its events leave (the outbox rule).
  for (const OutboxEntry& row : out) send_row(row, false);
  batch.clear();
}

std::vector<uint64_t> ServiceRunner::take_marks() {
  std::vector<uint64_t> marked(to_mark_.begin(), to_mark_.end());
  for (uint64_t seq : marked) store_->mark_published(seq);
  to_mark_.clear();
  return marked;
}

void ServiceRunner::flush_marks() {
  if (to_mark_.empty()) return;
  const std::set<uint64_t> pending = to_mark_;
  try {
    DurableStore::Batch b = store_->begin_batch();
    const std::vector<uint64_t> marked = take_marks();
    b.commit();
    counters_.published += marked.size();
  } catch (const StoreUnavailable&) {
    to_mark_.insert(pending.begin(), pending.end());  // marked with a later batch
    throw;
  }
}

void ServiceRunner::handle(const Message& m, std::vector<OutboxEntry>& out) {
  ++counters_.records;
  RecordView view{m.topic(), m.partition(), m.offset(), m.has_key(), m.key(), m.value(), {}};
  for (const auto& [k, v] : m.headers()) view.headers.emplace_back(std::string(k), std::string(v));
  const TopicPartition tp{std::string(m.topic()), m.partition()};
  std::deque<Handled>& on_partition = handled_[tp];
  on_partition.push_back(Handled{m.next_offset(), {}});
  current_sends_ = &on_partition.back().sends;
  struct Done {
    std::vector<uint64_t>*& p;
    ~Done() { p = nullptr; }
  } done{current_sends_};

  std::variant<EventPtr, std::string> decoded = decode_record(view, registry_);
  if (auto* why = std::get_if<std::string>(&decoded)) {
    dead_letter(view, *why);
    return;
  }
  const Event& event = *std::get<EventPtr>(decoded);

  Outcome outcome;
  Transaction txn(*store_, options_.instance_id, std::move(scratch_));
  try {
    const auto started = Clock::now();
    outcome = process_event(service_, env_, txn, event);  // inside the batch's transaction
    handler_seconds_.observe(std::chrono::duration<double>(Clock::now() - started).count());
  } catch (const InputError& e) {
    scratch_ = txn.release();
    // A stored record that does not decode is the database's fault, not the event's.
    if (e.where().rfind(store_->path(), 0) == 0) throw;
    // The handler refused the event's content: poison too. Nothing of it was
    // applied (a handler throws before its transaction commits).
    dead_letter(view, fmt::format("{}: {}", view.where(), e.what()));
    return;
  }
  switch (outcome) {
    case Outcome::Processed:
      ++counters_.processed;
      ++counters_.processed_by_type[event.type];
      for (const OutboxEntry& row : txn.writes().outbox) {
        current_sends_->push_back(row.seq);
        out.push_back(row);
      }
      break;
    case Outcome::Duplicate: ++counters_.duplicates; break;
    case Outcome::Ignored: ++counters_.ignored; break;
  }
  if (log_.enabled(LogLevel::kDebug)) {
    log_.debug("handled", {{"topic", view.topic},
                           {"partition", to_int(view.partition)},
                           {"offset", to_int(view.offset)},
                           {"event_type", event.type},
                           {"event_id", event.event_id},
                           {"correlation_id", event.correlation_id},
                           {"causation_id", event.causation_id},
                           {"traceparent", traceparent_of(event)},
                           {"outcome", outcome == Outcome::Processed   ? "processed"
                                       : outcome == Outcome::Duplicate ? "duplicate"
                                                                       : "ignored"},
                           {"emitted", txn.writes().outbox.size()}});
  }
  scratch_ = txn.release();
}

void ServiceRunner::dead_letter(const RecordView& r, const std::string& why) {
  ++counters_.dead_lettered;
  nlohmann::json fields = {{"topic", r.topic},
                           {"partition", to_int(r.partition)},
                           {"offset", to_int(r.offset)},
                           {"dlq", dlq_topic(r.topic)},
                           {"error", why}};
  for (const auto& [k, v] : r.headers)
    if (k == "correlation_id" || k == "causation_id") fields[k] = v;
  log_.warn("dead-lettered a poison record", fields);
  send(dlq_topic(r.topic), r.key, r.value, dlq_headers(r, why, service_.name(), options_.instance_id),
       kDlqOpaque | ++next_dlq_opaque_);
}

void ServiceRunner::send_outbox(const WriteSet& ws) {
  for (const OutboxEntry& row : ws.outbox) send_row(row, false);
}

void ServiceRunner::send_row(const OutboxEntry& row, bool relayed) {
  if (auto it = unacked_.find(row.seq); it != unacked_.end() && !it->second) return;  // in flight
  if (relayed) ++counters_.relayed;
  sending_.try_emplace(row.seq, row);
  send(options_.prefix + row.topic, row.event->key, encode_event(*row.event, registry_), record_headers(*row.event),
       row.seq);
}

void ServiceRunner::send(std::string_view topic, std::string_view key, std::string_view value,
                         const Headers& headers, uint64_t opaque) {
  unacked_[opaque] = false;
  if (current_sends_) current_sends_->push_back(opaque);
  for (int attempt = 0;; ++attempt) {
    Status s = producer_->send(topic, key, value, headers, opaque);
    if (s.ok()) return;
    if (s.error().code == RD_KAFKA_RESP_ERR__QUEUE_FULL && attempt < 600) {
      producer_->poll(Duration::millis(100));  // delivery reports free the queue
      continue;
    }
    // Not queued. An outbox row stays unpublished and the relay sends it
    // again; the offsets wait for it. A dead letter has no second copy: stop,
    // and the restart dead-letters the record again.
    unacked_[opaque] = true;
    if (s.error().fatal || (opaque & kDlqOpaque)) {
      fatal_ = true;
      log_.error("cannot send", {{"topic", topic}, {"error", s.error().to_string()}});
    } else {
      log_.warn("cannot send; the relay will retry", {{"topic", topic}, {"error", s.error().to_string()}});
    }
    return;
  }
}

void ServiceRunner::on_delivery(const DeliveryReport& r) {
  if (r.opaque & kDlqOpaque) {
    if (!r.ok()) {
      fatal_ = true;  // see send(): the record's offset must not be committed
      unacked_[r.opaque] = true;
      log_.error("dead-letter write failed", {{"topic", r.topic}, {"error", r.error->to_string()}});
      return;
    }
    unacked_.erase(r.opaque);
    return;
  }
  if (!r.ok()) {
    unacked_[r.opaque] = true;
    log_.warn("delivery failed; the relay will retry", {{"topic", r.topic}, {"outbox_seq", r.opaque},
                                                        {"error", r.error->to_string()}});
    return;
  }
  unacked_.erase(r.opaque);
  sending_.erase(r.opaque);
  to_mark_.insert(r.opaque);  // marked in the next batch's transaction
}

void ServiceRunner::commit_offsets(const std::vector<TopicPartition>* only, bool flush) {
  if (flush) {
    if (Status s = producer_->flush(Duration::seconds(30)); !s.ok())
      log_.warn("flush before the offset commit did not finish", {{"error", s.error().to_string()}});
  }
  if (fatal_) return;
  std::vector<CommitOffset> offsets;
  for (auto& [tp, records] : handled_) {
    if (only && std::find(only->begin(), only->end(), tp) == only->end()) continue;
    std::optional<Offset> upto;
    while (!records.empty()) {
      const Handled& h = records.front();
      if (std::any_of(h.sends.begin(), h.sends.end(), [&](uint64_t o) { return unacked_.contains(o); })) break;
      upto = h.next;
      records.pop_front();
    }
    if (upto) offsets.push_back({tp.topic, tp.partition, *upto});
  }
  if (offsets.empty()) return;
  const auto start = Clock::now();
  if (options_.durable_offsets) store_->make_durable();
  const auto durable = Clock::now();
  Status s = consumer_->commit(offsets);
  const auto committed = Clock::now();
  if (committed - start > std::chrono::milliseconds(200)) {
    auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
    log_.warn("slow offset commit", {{"fsync_ms", ms(durable - start)}, {"commit_ms", ms(committed - durable)}});
  }
  if (s.ok()) {
    ++counters_.offset_commits;
    return;
  }
  // Retriable or not, nothing is lost: the records after the last committed
  // offset are delivered again (to this instance or the partition's new
  // owner) and the inbox skips what was handled.
  log_.warn("offset commit failed; the records after the last commit will be redelivered",
            {{"error", s.error().to_string()}});
}

void ServiceRunner::on_rebalance(RebalanceKind kind, const std::vector<TopicPartition>& tps) {
  log_.info("rebalance", {{"kind", to_string(kind)}, {"partitions", tps_json(tps)}});
  if (kind == RebalanceKind::kRevoked) commit_offsets(&tps, /*flush=*/true);
  if (kind != RebalanceKind::kAssigned) {
    for (const TopicPartition& tp : tps) handled_.erase(tp);  // the new owner redelivers the rest
    // Records polled but not handled yet (a batch kept for a retry while the
    // store was unavailable): theirs now too.
    std::erase_if(batch_, [&](const Message& m) {
      return std::find(tps.begin(), tps.end(), TopicPartition{std::string(m.topic()), m.partition()}) != tps.end();
    });
  }
}

void ServiceRunner::fire_timers() {
  const std::optional<Time> next = store_->next_timer();
  if (!next || *next > env_.now()) return;
  for (const std::string& key : store_->due_timers(env_.now())) {
    Transaction txn(*store_, options_.instance_id, std::move(scratch_));
    try {
      DurableStore::Unit unit = store_->begin_unit();
      // Another instance may have fired it since the scan.
      const std::vector<std::string> due = store_->due_timers(env_.now());
      if (std::find(due.begin(), due.end(), key) == due.end()) {
        scratch_ = txn.release();
        continue;
      }
      txn.cancel_timer(key);  // consumed in the same transaction as its effects
      Context ctx(env_, txn, nullptr);
      service_.on_timer(key, ctx);
      txn.commit();
    } catch (const StoreUnavailable& e) {
      // Not fired, or fired with its COMMIT's outcome unknown: then the timer
      // is gone and the relay sends its outbox rows. Either way, next round.
      scratch_ = txn.release();
      log_.warn("store unavailable while firing a timer; retrying later", {{"timer", key}, {"error", e.what()}});
      return;
    }
    ++counters_.timers_fired;
    log_.debug("timer fired", {{"timer", key}, {"emitted", txn.writes().outbox.size()}});
    send_outbox(txn.writes());
    scratch_ = txn.release();
  }
}

void ServiceRunner::relay_backlog() {
  const Time now = env_.now();
  for (const OutboxEntry& row : store_->unpublished("")) {
    if (to_mark_.contains(row.seq)) continue;  // delivered, not marked yet
    const auto it = unacked_.find(row.seq);
    if (it != unacked_.end() && !it->second) continue;  // in flight
    const bool mine = row.owner == options_.instance_id;
    if (it == unacked_.end() && !mine && row.event->occurred_at.us > now.us - options_.orphan_grace.us) continue;
    // Another instance's row: this one adopts it only if no other instance
    // has meanwhile (each row leaves through one relay).
    if (!mine && it == unacked_.end() && !store_->claim(row.seq, row.owner, options_.instance_id)) continue;
    send_row(row, true);
  }
}

void ServiceRunner::relay() {
  // This instance's failed sends, from memory.
  std::vector<uint64_t> failed;
  for (const auto& [seq, is_failed] : unacked_)
    if (is_failed && sending_.contains(seq)) failed.push_back(seq);
  for (uint64_t seq : failed) send_row(sending_.at(seq), true);

  // The rest of the backlog, as seqs and owners. Another instance's row is
  // adopted once it has stayed unpublished for orphan_grace. A row of this
  // instance that it does not track (after the pass at start there should be
  // none) is sent again at once. Only the rows sent are decoded.
  const auto now = Clock::now();
  std::map<uint64_t, Stranger> seen;
  for (const DurableStore::OutboxKey& k : store_->unpublished_keys()) {
    if (unacked_.contains(k.seq) || to_mark_.contains(k.seq)) continue;  // in flight, or delivered and not marked
    if (k.owner != options_.instance_id) {
      // The grace runs per owner: a row another instance has just claimed
      // gets a full grace for its new owner to send it.
      const auto it = strangers_.find(k.seq);
      const Clock::time_point first = it == strangers_.end() || it->second.owner != k.owner ? now : it->second.first_seen;
      if (now - first < std::chrono::microseconds(options_.orphan_grace.us)) {
        seen.emplace(k.seq, Stranger{k.owner, first});
        continue;
      }
    }
    if (k.owner != options_.instance_id && !store_->claim(k.seq, k.owner, options_.instance_id)) continue;
    if (std::optional<OutboxEntry> row = store_->unpublished_row(k.seq)) send_row(*row, true);
  }
  strangers_ = std::move(seen);
}

void ServiceRunner::log_stats() {
  nlohmann::json by_type = nlohmann::json::object();
  for (const auto& [t, n] : counters_.processed_by_type) by_type[t] = n;
  log_.info("stats", {{"records", counters_.records},
                      {"processed", counters_.processed},
                      {"duplicates", counters_.duplicates},
                      {"ignored", counters_.ignored},
                      {"dead_lettered", counters_.dead_lettered},
                      {"published", counters_.published},
                      {"relayed", counters_.relayed},
                      {"timers_fired", counters_.timers_fired},
                      {"unacknowledged", unacked_.size()},
                      {"offset_commits", counters_.offset_commits},
                      {"store_reconnections", counters_.store_reconnections},
                      {"processed_by_type", by_type},
                      {"assignment", consumer_ ? tps_json(consumer_->assignment()) : nlohmann::json::array()}});
}

}  // namespace sagasim::kafka

namespace sagasim::kafka {

std::string ServiceRunner::render_metrics() {
  const std::string labels = fmt::format("service=\"{}\",instance=\"{}\"", prometheus_escape(service_.name()),
                                         prometheus_escape(options_.instance_id));
  std::string out;
  auto metric = [&](std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  auto sample = [&](std::string_view name, std::string_view extra, auto value) {
    out += fmt::format("{}{{{}{}}} {}\n", name, labels, extra, value);
  };
  metric("sagasim_records_consumed_total", "counter", "Records read from the service's topics.");
  sample("sagasim_records_consumed_total", "", counters_.records);
  metric("sagasim_records_processed_total", "counter", "Records handled and committed, by event type.");
  for (const auto& [type, n] : counters_.processed_by_type)
    sample("sagasim_records_processed_total", fmt::format(",event_type=\"{}\"", prometheus_escape(type)), n);
  metric("sagasim_duplicates_skipped_total", "counter", "Records skipped because their event id is in the inbox.");
  sample("sagasim_duplicates_skipped_total", "", counters_.duplicates);
  metric("sagasim_records_ignored_total", "counter", "Records of event types this service does not act on.");
  sample("sagasim_records_ignored_total", "", counters_.ignored);
  metric("sagasim_dead_lettered_total", "counter", "Poison records sent to <topic>.dlq.");
  sample("sagasim_dead_lettered_total", "", counters_.dead_lettered);
  metric("sagasim_outbox_published_total", "counter", "Outbox rows acknowledged by the broker and marked published.");
  sample("sagasim_outbox_published_total", "", counters_.published);
  metric("sagasim_outbox_relayed_total", "counter", "Outbox rows sent again by the relay.");
  sample("sagasim_outbox_relayed_total", "", counters_.relayed);
  metric("sagasim_store_reconnections_total", "counter", "Times the store reconnected to its database (PostgreSQL).");
  sample("sagasim_store_reconnections_total", "", counters_.store_reconnections);
  metric("sagasim_timers_fired_total", "counter", "Durable timers fired (order deadlines).");
  sample("sagasim_timers_fired_total", "", counters_.timers_fired);
  metric("sagasim_outbox_backlog", "gauge", "Outbox rows of every instance not yet marked published.");
  sample("sagasim_outbox_backlog", "", store_->unpublished_count());
  metric("sagasim_consumer_lag", "gauge", "Records behind the partition's high watermark.");
  if (consumer_)
    for (const Consumer::PartitionLag& l : consumer_->lag())
      sample("sagasim_consumer_lag",
             fmt::format(",topic=\"{}\",partition=\"{}\"", prometheus_escape(l.tp.topic), to_int(l.tp.partition)),
             l.lag);
  metric("sagasim_handler_seconds", "histogram", "Time to handle one record: inbox check, handler, state and outbox writes.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kHandlerBuckets.size(); ++i) {
    cumulative += handler_seconds_.buckets[i];
    out += fmt::format("sagasim_handler_seconds_bucket{{{},le=\"{}\"}} {}\n", labels, kHandlerBuckets[i], cumulative);
  }
  out += fmt::format("sagasim_handler_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels, handler_seconds_.count);
  out += fmt::format("sagasim_handler_seconds_sum{{{}}} {}\n", labels, handler_seconds_.sum);
  out += fmt::format("sagasim_handler_seconds_count{{{}}} {}\n", labels, handler_seconds_.count);
  return out;
}

}  // namespace sagasim::kafka
