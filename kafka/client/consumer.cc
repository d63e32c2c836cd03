#include "kafka/client/consumer.h"

#include <algorithm>

namespace sagasim::kafka {

struct Consumer::State : ClientState {
  RebalanceHook on_rebalance;
  std::vector<TopicPartition> assignment;  // sorted
  bool closed = false;
  RkPtr rk;  // last: destroyed first, while the hooks it may call still exist

  ~State() override {
    if (!rk || closed) return;
    // Leave the group without calling back into a caller that is going away.
    on_rebalance = nullptr;
    hooks = {};
    (void)rd_kafka_consumer_close(rk.get());
  }
};

namespace {

std::vector<TopicPartition> to_vector(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  if (!list) return out;
  out.reserve(static_cast<size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i) out.push_back({list->elems[i].topic, PartitionId{list->elems[i].partition}});
  std::sort(out.begin(), out.end());
  return out;
}

std::string location(const char* topic, int32_t partition, int64_t offset) {
  std::string out = std::string("topic ") + topic;
  if (partition != RD_KAFKA_PARTITION_UA) out += " partition " + std::to_string(partition);
  if (offset >= 0) out += " offset " + std::to_string(offset);
  return out;
}

std::string topics_list(const std::vector<std::string>& topics) {
  std::string out;
  for (const std::string& t : topics) out += (out.empty() ? "" : ", ") + t;
  return out;
}

std::string commit_context(std::span<const CommitOffset> offsets) {
  if (offsets.size() == 1) {
    return "commit topic " + offsets[0].topic + " partition " + std::to_string(to_int(offsets[0].partition)) +
           " offset " + std::to_string(to_int(offsets[0].next_offset));
  }
  return "commit of " + std::to_string(offsets.size()) + " partitions";
}

bool retriable_commit_error(rd_kafka_resp_err_t code) {
  switch (code) {
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
      return true;
    default:
      return false;
  }
}

void report(Consumer::State& s, Error e) {
  if (s.hooks.on_error) s.hooks.on_error(e);
}

void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                  void* opaque) {
  auto& s = *static_cast<Consumer::State*>(static_cast<ClientState*>(opaque));
  const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
  std::vector<TopicPartition> changed = to_vector(partitions);

  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (cooperative) {
      if (RkErrorPtr e{rd_kafka_incremental_assign(rk, partitions)}) {
        report(s, make_error(rd_kafka_error_code(e.get()), "rebalance: assign", rd_kafka_error_string(e.get())));
      }
      s.assignment.insert(s.assignment.end(), changed.begin(), changed.end());
      std::sort(s.assignment.begin(), s.assignment.end());
    } else {
      if (rd_kafka_resp_err_t e = rd_kafka_assign(rk, partitions)) report(s, make_error(e, "rebalance: assign"));
      s.assignment = changed;
    }
    if (s.on_rebalance) s.on_rebalance(RebalanceKind::kAssigned, changed);
    return;
  }

  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    // Tell the caller first: until unassigned, a commit for these partitions can still succeed.
    if (s.on_rebalance) s.on_rebalance(rd_kafka_assignment_lost(rk) ? RebalanceKind::kLost : RebalanceKind::kRevoked,
                                       changed);
    if (cooperative) {
      if (RkErrorPtr e{rd_kafka_incremental_unassign(rk, partitions)}) {
        report(s, make_error(rd_kafka_error_code(e.get()), "rebalance: unassign", rd_kafka_error_string(e.get())));
      }
      std::erase_if(s.assignment, [&](const TopicPartition& tp) {
        return std::binary_search(changed.begin(), changed.end(), tp);
      });
    } else {
      if (rd_kafka_resp_err_t e = rd_kafka_assign(rk, nullptr)) report(s, make_error(e, "rebalance: unassign"));
      s.assignment.clear();
    }
    return;
  }

  // A failed rebalance: drop everything and let the group try again.
  report(s, make_error(err, "rebalance"));
  if (cooperative) {
    RkErrorPtr ignored{rd_kafka_incremental_unassign(rk, partitions)};
  } else {
    (void)rd_kafka_assign(rk, nullptr);
  }
  if (s.on_rebalance && !s.assignment.empty()) s.on_rebalance(RebalanceKind::kLost, s.assignment);
  s.assignment.clear();
}

}  // namespace

std::string to_string(const TopicPartition& tp) {
  return tp.topic + "[" + std::to_string(to_int(tp.partition)) + "]";
}

std::string_view to_string(RebalanceKind k) {
  switch (k) {
    case RebalanceKind::kAssigned:
      return "assigned";
    case RebalanceKind::kRevoked:
      return "revoked";
    case RebalanceKind::kLost:
      return "lost";
  }
  return "?";
}

// ---- Message ----------------------------------------------------------------

std::string_view Message::topic() const { return m_->rkt ? rd_kafka_topic_name(m_->rkt) : std::string_view(); }

std::string_view Message::key() const {
  return m_->key ? std::string_view(static_cast<const char*>(m_->key), m_->key_len) : std::string_view();
}

std::string_view Message::value() const {
  return m_->payload ? std::string_view(static_cast<const char*>(m_->payload), m_->len) : std::string_view();
}

std::vector<std::pair<std::string_view, std::string_view>> Message::headers() const {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m_.get(), &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    out.emplace_back(name, value ? std::string_view(static_cast<const char*>(value), size) : std::string_view());
  }
  return out;
}

std::optional<std::string_view> Message::header(std::string_view name) const {
  std::optional<std::string_view> found;
  for (const auto& [n, v] : headers()) {
    if (n == name) found = v;
  }
  return found;
}

std::optional<int64_t> Message::timestamp_ms() const {
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const int64_t ts = rd_kafka_message_timestamp(m_.get(), &type);
  if (type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || ts < 0) return std::nullopt;
  return ts;
}

std::string Message::where() const {
  return location(m_->rkt ? rd_kafka_topic_name(m_->rkt) : "?", m_->partition, m_->offset);
}

// ---- Consumer ---------------------------------------------------------------

Consumer::Consumer(std::unique_ptr<State> state) : state_(std::move(state)) {}
Consumer::Consumer(Consumer&&) noexcept = default;
Consumer& Consumer::operator=(Consumer&&) noexcept = default;
Consumer::~Consumer() = default;

Result<Consumer> Consumer::create(const Config& config, std::string_view group_id, Hooks hooks) {
  Config effective = config;
  if (!group_id.empty()) effective.set("group.id", group_id, "Consumer::create");
  std::optional<std::string_view> group = effective.get("group.id");
  if (!group || group->empty()) {
    return make_error(RD_KAFKA_RESP_ERR__INVALID_ARG, "group.id", "a consumer needs a group id (one per service)");
  }
  auto state = std::make_unique<State>();
  state->hooks = static_cast<ClientHooks>(hooks);
  state->on_rebalance = std::move(hooks.on_rebalance);
  const std::vector<RequiredSetting> required = {
      {"enable.auto.commit", {"false", "f", "0"}, "offsets are committed only after the outbox is flushed"},
      {"enable.auto.offset.store", {"false", "f", "0"}, "offsets are committed only after the outbox is flushed"},
      {"auto.offset.reset", {"earliest", "smallest", "beginning"}, "a new group must not skip records"},
  };
  Result<RkPtr> rk = make_client(RD_KAFKA_CONSUMER, effective, required, state.get(),
                                 [](rd_kafka_conf_t* conf) { rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb); });
  if (!rk.ok()) return rk.error();
  state->rk = std::move(rk).value();
  // One queue for records, rebalances, errors and logs: all served by poll().
  if (rd_kafka_resp_err_t err = rd_kafka_poll_set_consumer(state->rk.get())) return make_error(err, "consumer");
  return Consumer(std::move(state));
}

void Consumer::set_rebalance_hook(RebalanceHook hook) { state_->on_rebalance = std::move(hook); }

Status Consumer::subscribe(const std::vector<std::string>& topics) {
  const std::string context = "subscribe " + topics_list(topics);
  if (state_->closed) return make_error(RD_KAFKA_RESP_ERR__STATE, context, "the consumer is closed");
  if (topics.empty()) return make_error(RD_KAFKA_RESP_ERR__INVALID_ARG, context, "no topics");
  RkPartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const std::string& t : topics) {
    if (t.empty()) return make_error(RD_KAFKA_RESP_ERR__INVALID_ARG, context, "an empty topic name");
    rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(state_->rk.get(), list.get())) {
    Error e = make_error(err, context);
    e.fatal = err == RD_KAFKA_RESP_ERR__FATAL;
    return e;
  }
  return {};
}

PollResult Consumer::poll(Duration timeout) {
  if (state_->closed) return make_error(RD_KAFKA_RESP_ERR__STATE, "poll", "the consumer is closed");
  RkMessagePtr m(rd_kafka_consumer_poll(state_->rk.get(), timeout_ms(timeout)));
  if (!m) return NoMessage{};
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) return Message(std::move(m));
  const char* topic = m->rkt ? rd_kafka_topic_name(m->rkt) : nullptr;
  if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    return EndOfPartition{{topic ? topic : "", PartitionId{m->partition}}, Offset{m->offset}};
  }
  // For a consumer error (unlike a delivery report) the payload is librdkafka's reason.
  Error e = make_error(m->err, topic ? location(topic, m->partition, m->offset) : std::string("consumer"),
                       rd_kafka_message_errstr(m.get()));
  if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
    if (std::optional<Error> f = fatal_error(state_->rk.get())) e.message += "; " + f->message;
    e.fatal = true;
  } else {
    e.retriable = true;  // librdkafka keeps fetching and retrying on its own
  }
  return e;
}

Status Consumer::commit(std::string_view topic, PartitionId partition, Offset next_offset, Duration timeout) {
  const CommitOffset one{std::string(topic), partition, next_offset};
  return commit(std::span<const CommitOffset>(&one, 1), timeout);
}

Status Consumer::commit(std::span<const CommitOffset> offsets, Duration timeout) {
  const std::string context = commit_context(offsets);
  if (state_->closed) return make_error(RD_KAFKA_RESP_ERR__STATE, context, "the consumer is closed");
  if (offsets.empty()) return {};
  RkPartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const CommitOffset& o : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), to_int(o.partition))->offset = to_int(o.next_offset);
  }
  // Our own queue, served below: a synchronous commit with a deadline, and the
  // per-partition results (rd_kafka_commit(sync) offers neither).
  RkQueuePtr queue(rd_kafka_queue_new(state_->rk.get()));
  if (rd_kafka_resp_err_t err = rd_kafka_commit_queue(state_->rk.get(), list.get(), queue.get(), nullptr, nullptr)) {
    Error e = make_error(err, context);
    e.retriable = retriable_commit_error(err);
    return e;
  }
  RkEventPtr ev(rd_kafka_queue_poll(queue.get(), timeout_ms(timeout)));
  if (!ev) {
    Error e = make_error(RD_KAFKA_RESP_ERR__TIMED_OUT, context,
                         "no answer from the group coordinator within " + std::to_string(timeout.ms()) +
                             " ms; the commit may still land");
    e.retriable = true;
    return e;
  }
  if (const rd_kafka_topic_partition_list_t* result = rd_kafka_event_topic_partition_list(ev.get())) {
    for (int i = 0; i < result->cnt; ++i) {
      const rd_kafka_topic_partition_t& p = result->elems[i];
      if (p.err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      Error e = make_error(p.err, "commit " + location(p.topic, p.partition, p.offset));
      e.retriable = retriable_commit_error(p.err);
      return e;
    }
  }
  if (rd_kafka_resp_err_t err = rd_kafka_event_error(ev.get())) {
    const char* reason = rd_kafka_event_error_string(ev.get());
    Error e = make_error(err, context, reason ? reason : "");
    e.retriable = retriable_commit_error(err);
    e.fatal = err == RD_KAFKA_RESP_ERR__FATAL;
    return e;
  }
  return {};
}

Result<std::vector<CommitOffset>> Consumer::committed(const std::vector<TopicPartition>& tps, Duration timeout) {
  if (state_->closed) return make_error(RD_KAFKA_RESP_ERR__STATE, "committed", "the consumer is closed");
  RkPartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(tps.size())));
  for (const TopicPartition& tp : tps) rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), to_int(tp.partition));
  if (rd_kafka_resp_err_t err = rd_kafka_committed(state_->rk.get(), list.get(), timeout_ms(timeout))) {
    Error e = make_error(err, "committed");
    e.retriable = retriable_commit_error(err);
    return e;
  }
  std::vector<CommitOffset> out;
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = list->elems[i];
    if (p.err) return make_error(p.err, "committed " + location(p.topic, p.partition, -1));
    out.push_back({p.topic, PartitionId{p.partition}, Offset{p.offset}});
  }
  return out;
}

const std::vector<TopicPartition>& Consumer::assignment() const { return state_->assignment; }

std::vector<Consumer::PartitionLag> Consumer::lag() const {
  std::vector<PartitionLag> out;
  if (state_->closed || state_->assignment.empty()) return out;
  RkPartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(state_->assignment.size())));
  for (const TopicPartition& tp : state_->assignment)
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), to_int(tp.partition));
  if (rd_kafka_position(state_->rk.get(), list.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = list->elems[i];
    int64_t low = 0, high = 0;
    if (p.offset < 0) continue;  // nothing consumed yet
    if (rd_kafka_get_watermark_offsets(state_->rk.get(), p.topic, p.partition, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0)
      continue;
    out.push_back({{p.topic, PartitionId{p.partition}}, std::max<int64_t>(0, high - p.offset)});
  }
  return out;
}

Status Consumer::assign_from_beginning(const std::vector<TopicPartition>& tps) {
  std::vector<CommitOffset> starts;
  for (const TopicPartition& tp : tps) starts.push_back({tp.topic, tp.partition, Offset{RD_KAFKA_OFFSET_BEGINNING}});
  return assign_at(starts);
}

Status Consumer::assign_at(const std::vector<CommitOffset>& starts) {
  std::string context = "assign";
  for (const CommitOffset& o : starts) context += " " + to_string(TopicPartition{o.topic, o.partition});
  if (state_->closed) return make_error(RD_KAFKA_RESP_ERR__STATE, context, "the consumer is closed");
  RkPartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(starts.size())));
  std::vector<TopicPartition> tps;
  for (const CommitOffset& o : starts) {
    rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), to_int(o.partition))->offset = to_int(o.next_offset);
    tps.push_back({o.topic, o.partition});
  }
  if (rd_kafka_resp_err_t err = rd_kafka_assign(state_->rk.get(), list.get())) return make_error(err, context);
  std::sort(tps.begin(), tps.end());
  state_->assignment = std::move(tps);
  return {};
}

Result<std::pair<Offset, Offset>> Consumer::watermarks(const TopicPartition& tp, Duration timeout) {
  const std::string context = "watermarks " + to_string(tp);
  if (state_->closed) return make_error(RD_KAFKA_RESP_ERR__STATE, context, "the consumer is closed");
  int64_t low = 0;
  int64_t high = 0;
  if (rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(state_->rk.get(), tp.topic.c_str(),
                                                                 to_int(tp.partition), &low, &high,
                                                                 timeout_ms(timeout))) {
    Error e = make_error(err, context);
    e.retriable = err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    return e;
  }
  return std::pair<Offset, Offset>{Offset{low}, Offset{high}};
}

Status Consumer::close() {
  if (state_->closed) return {};
  // The revocation hook runs inside rd_kafka_consumer_close and may still commit,
  // so the consumer counts as closed only afterwards.
  rd_kafka_resp_err_t err = rd_kafka_consumer_close(state_->rk.get());
  state_->closed = true;
  if (err) return make_error(err, "close");
  return {};
}

bool Consumer::closed() const { return state_->closed; }

std::string Consumer::name() const { return rd_kafka_name(state_->rk.get()); }

}  // namespace sagasim::kafka
