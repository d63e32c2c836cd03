#include "kafka/client/admin.h"

#include <algorithm>

namespace sagasim::kafka {

struct Admin::State : ClientState {
  RkPtr rk;
};

namespace {

using RkNewTopicPtr = std::unique_ptr<rd_kafka_NewTopic_t, RkDeleter<rd_kafka_NewTopic_destroy>>;
using RkAdminOptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t, RkDeleter<rd_kafka_AdminOptions_destroy>>;

// The request itself times out after `timeout`; this is how much longer we wait
// for librdkafka to hand us that answer before giving up on it.
constexpr Duration kAnswerGrace = Duration::seconds(1);

// Admin calls wait on queues of their own; this serves the main queue on the way
// out, so that the log and error hooks run (on the caller's thread) after each call.
struct ServeHooksOnExit {
  rd_kafka_t* rk;
  ~ServeHooksOnExit() { rd_kafka_poll(rk, 0); }
};

bool retriable_metadata_error(rd_kafka_resp_err_t code) {
  return code == RD_KAFKA_RESP_ERR__TIMED_OUT || code == RD_KAFKA_RESP_ERR__TRANSPORT ||
         code == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE || code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
         code == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT;
}

}  // namespace

Status topic_creation_outcome(std::string_view topic, rd_kafka_resp_err_t code, std::string_view broker_message) {
  if (code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return {};
  std::string message(rd_kafka_err2str(code));
  if (!broker_message.empty()) message += ": " + std::string(broker_message);
  Error e = make_error(code, "create topic " + std::string(topic), message);
  e.retriable = code == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT || code == RD_KAFKA_RESP_ERR__TIMED_OUT ||
                code == RD_KAFKA_RESP_ERR_NOT_CONTROLLER;
  return e;
}

Admin::Admin(std::unique_ptr<State> state) : state_(std::move(state)) {}
Admin::Admin(Admin&&) noexcept = default;
Admin& Admin::operator=(Admin&&) noexcept = default;
Admin::~Admin() = default;

Result<Admin> Admin::create(const Config& config, ClientHooks hooks) {
  auto state = std::make_unique<State>();
  state->hooks = std::move(hooks);
  const std::vector<RequiredSetting> required = {
      {"allow.auto.create.topics", {"false", "f", "0"}, "describing a missing topic must not create it"},
  };
  Result<RkPtr> rk = make_client(RD_KAFKA_PRODUCER, config, required, state.get(), nullptr);
  if (!rk.ok()) return rk.error();
  state->rk = std::move(rk).value();
  return Admin(std::move(state));
}

Status Admin::create_topics(std::span<const NewTopic> topics, Duration timeout) {
  if (topics.empty()) return {};
  std::string names;
  for (const NewTopic& t : topics) names += (names.empty() ? "" : ", ") + t.name;
  const std::string context = "create topics " + names;

  std::vector<RkNewTopicPtr> owned;
  std::vector<rd_kafka_NewTopic_t*> raw;
  for (const NewTopic& t : topics) {
    char reason[512] = "";
    RkNewTopicPtr nt(rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, t.replication_factor, reason, sizeof reason));
    if (!nt) return make_error(RD_KAFKA_RESP_ERR__INVALID_ARG, "create topic " + t.name, reason);
    raw.push_back(nt.get());
    owned.push_back(std::move(nt));
  }

  rd_kafka_t* rk = state_->rk.get();
  ServeHooksOnExit serve{rk};
  RkAdminOptionsPtr options(rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS));
  char reason[512] = "";
  // Both the request and the controller's work (operation timeout) within `timeout`.
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms(timeout), reason, sizeof reason) ||
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms(timeout), reason, sizeof reason)) {
    return make_error(RD_KAFKA_RESP_ERR__INVALID_ARG, context, reason);
  }
  RkQueuePtr queue(rd_kafka_queue_new(rk));
  rd_kafka_CreateTopics(rk, raw.data(), raw.size(), options.get(), queue.get());
  RkEventPtr ev(rd_kafka_queue_poll(queue.get(), timeout_ms(timeout + kAnswerGrace)));
  if (!ev) {
    Error e = make_error(RD_KAFKA_RESP_ERR__TIMED_OUT, context,
                         "no answer within " + std::to_string((timeout + kAnswerGrace).ms()) + " ms");
    e.retriable = true;
    return e;
  }
  if (rd_kafka_resp_err_t err = rd_kafka_event_error(ev.get())) {
    const char* why = rd_kafka_event_error_string(ev.get());
    Error e = make_error(err, context, why ? why : "");
    e.retriable = err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT;
    return e;
  }
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(ev.get());
  if (!result) return make_error(RD_KAFKA_RESP_ERR__FAIL, context, "the answer is not a CreateTopics result");
  size_t n = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &n);
  for (size_t i = 0; i < n; ++i) {
    const char* msg = rd_kafka_topic_result_error_string(results[i]);
    Status s = topic_creation_outcome(rd_kafka_topic_result_name(results[i]), rd_kafka_topic_result_error(results[i]),
                                      msg ? msg : "");
    if (!s.ok()) return s;
  }
  // The controller has them; the brokers' metadata learns of them a moment
  // later. Wait for that, so that a describe_topic, a producer or a consumer
  // right after this call finds every topic with its leaders.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(timeout.us);
  for (const NewTopic& t : topics) {
    Result<TopicInfo> info = retry_until(
        deadline,
        [&] {
          Result<TopicInfo> r = describe_topic(t.name, Duration::seconds(5));
          if (!r.ok() && r.error().code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            Error e = r.error();
            e.retriable = true;  // created, not yet in this broker's metadata
            return Result<TopicInfo>(e);
          }
          if (r.ok() && std::any_of(r.value().leaders.begin(), r.value().leaders.end(), [](int32_t l) { return l < 0; })) {
            Error e = make_error(RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, "topic " + t.name, "a partition has no leader yet");
            e.retriable = true;
            return Result<TopicInfo>(e);
          }
          return r;
        },
        std::chrono::milliseconds(50));
    if (!info.ok()) {
      Error e = info.error();
      e.context = "create topic " + t.name;
      e.message = "created, but not served within " + std::to_string(timeout.ms()) + " ms: " + e.message;
      return e;
    }
  }
  return {};
}

Result<TopicInfo> Admin::describe_topic(std::string_view topic, Duration timeout) {
  const std::string name(topic);
  const std::string context = "topic " + name;
  ServeHooksOnExit serve{state_->rk.get()};
  RkTopicPtr handle(rd_kafka_topic_new(state_->rk.get(), name.c_str(), nullptr));
  if (!handle) return make_error(rd_kafka_last_error(), context);
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(state_->rk.get(), 0, handle.get(), &raw, timeout_ms(timeout));
  RkMetadataPtr md(raw);
  if (err) {
    Error e = make_error(err, context);
    e.retriable = retriable_metadata_error(err);
    return e;
  }
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (name != t.topic) continue;
    if (t.err) {
      Error e = make_error(t.err, context);
      e.retriable = retriable_metadata_error(t.err);
      return e;
    }
    TopicInfo info{name, t.partition_cnt, std::vector<int32_t>(static_cast<size_t>(t.partition_cnt), -1)};
    for (int p = 0; p < t.partition_cnt; ++p) {
      const rd_kafka_metadata_partition_t& part = t.partitions[p];
      if (part.id >= 0 && part.id < t.partition_cnt) info.leaders[static_cast<size_t>(part.id)] = part.leader;
    }
    return info;
  }
  return make_error(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, context);
}

Result<std::vector<std::string>> Admin::list_topics(Duration timeout) {
  ServeHooksOnExit serve{state_->rk.get()};
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(state_->rk.get(), 1, nullptr, &raw, timeout_ms(timeout));
  RkMetadataPtr md(raw);
  if (err) {
    Error e = make_error(err, "list topics");
    e.retriable = retriable_metadata_error(err);
    return e;
  }
  std::vector<std::string> names;
  for (int i = 0; i < md->topic_cnt; ++i) names.emplace_back(md->topics[i].topic);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace sagasim::kafka
