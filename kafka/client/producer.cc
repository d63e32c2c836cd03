#include "kafka/client/producer.h"

#include <chrono>
#include <thread>

#include <cstdint>

namespace sagasim::kafka {

static_assert(sizeof(void*) >= sizeof(uint64_t), "the opaque travels in librdkafka's void* msg_opaque");

struct Producer::State : ClientState {
  std::function<void(const DeliveryReport&)> on_delivery;
  int in_flight = 0;  // sent and not yet reported
  RkPtr rk;           // last: destroyed first, while the hooks it may call still exist
};

namespace {

std::string where(const std::string& topic, int32_t partition) {
  if (partition == RD_KAFKA_PARTITION_UA) return "topic " + topic + " (no partition yet)";
  return "topic " + topic + " partition " + std::to_string(partition);
}

bool retriable_delivery_error(rd_kafka_resp_err_t code) {
  switch (code) {
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
      return true;
    default:
      return false;
  }
}

Persistence persistence_of(rd_kafka_msg_status_t s) {
  switch (s) {
    case RD_KAFKA_MSG_STATUS_PERSISTED:
      return Persistence::kPersisted;
    case RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED:
      return Persistence::kPossiblyPersisted;
    case RD_KAFKA_MSG_STATUS_NOT_PERSISTED:
      break;
  }
  return Persistence::kNotPersisted;
}

void delivery_cb(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) {
  auto* state = static_cast<Producer::State*>(static_cast<ClientState*>(opaque));
  --state->in_flight;
  DeliveryReport r;
  r.topic = rd_kafka_topic_name(m->rkt);
  r.partition = PartitionId{m->partition};
  r.opaque = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(m->_private));
  r.persistence = persistence_of(rd_kafka_message_status(m));
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    r.offset = Offset{m->offset};
  } else {
    // Not rd_kafka_message_errstr(): on a delivery report it returns the record's value.
    Error e = make_error(m->err, where(r.topic, m->partition));
    e.retriable = retriable_delivery_error(m->err);
    if (std::optional<Error> fatal = fatal_error(rk)) {
      e.fatal = true;
      e.message += "; " + fatal->message;
    }
    r.error = std::move(e);
  }
  if (state->on_delivery) state->on_delivery(r);
}

}  // namespace

Producer::Producer(std::unique_ptr<State> state) : state_(std::move(state)) {}
Producer::Producer(Producer&&) noexcept = default;
Producer& Producer::operator=(Producer&&) noexcept = default;
Producer::~Producer() = default;

Result<Producer> Producer::create(const Config& config, Hooks hooks) {
  auto state = std::make_unique<State>();
  state->hooks = static_cast<ClientHooks>(hooks);
  state->on_delivery = std::move(hooks.on_delivery);
  const std::vector<RequiredSetting> required = {
      {"enable.idempotence", {"true", "t", "1"}, "retries must not duplicate or reorder records"},
      {"acks", {"all", "-1"}, "the idempotent producer needs every in-sync replica", {"request.required.acks"}},
      // Same placement as the simulator (core/murmur2.h) and the Java client; see producer.h.
      {"partitioner", {"murmur2_random"}, "keys must land on the partitions the simulator uses (murmur2)"},
  };
  Result<RkPtr> rk = make_client(RD_KAFKA_PRODUCER, config, required, state.get(),
                                 [](rd_kafka_conf_t* conf) { rd_kafka_conf_set_dr_msg_cb(conf, delivery_cb); });
  if (!rk.ok()) return rk.error();
  state->rk = std::move(rk).value();
  return Producer(std::move(state));
}

Status Producer::send(std::string_view topic, std::string_view key, std::string_view value, const Headers& headers,
                      uint64_t opaque) {
  const std::string topic_name(topic);
  RkHeadersPtr hdrs;
  if (!headers.empty()) {
    hdrs.reset(rd_kafka_headers_new(headers.size()));
    for (const auto& [name, v] : headers) {
      rd_kafka_header_add(hdrs.get(), name.data(), static_cast<ssize_t>(name.size()), v.data(),
                          static_cast<ssize_t>(v.size()));
    }
  }
  rd_kafka_resp_err_t err = rd_kafka_producev(
      state_->rk.get(), RD_KAFKA_V_TOPIC(topic_name.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(key.empty() ? nullptr : const_cast<char*>(key.data()), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_HEADERS(hdrs.get()),
      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(opaque))), RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    (void)hdrs.release();  // librdkafka owns the headers of a queued record
    ++state_->in_flight;
    return {};
  }
  Error e = make_error(err, "topic " + topic_name);
  e.retriable = err == RD_KAFKA_RESP_ERR__QUEUE_FULL;
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    if (std::optional<Error> f = fatal()) e = make_error(f->code, "topic " + topic_name, f->message);
    e.fatal = true;
  }
  return e;
}

Status Producer::prepare_topics(const std::vector<std::string>& topics, Duration timeout) {
  // A topic created a moment ago may not be in the metadata yet, or have no
  // leader yet: ask again until every partition has one.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(timeout.us);
  for (const std::string& t : topics) {
    RkTopicPtr rkt(rd_kafka_topic_new(state_->rk.get(), t.c_str(), nullptr));
    if (!rkt) return make_error(rd_kafka_last_error(), "topic " + t);
    for (;;) {
      const rd_kafka_metadata_t* md = nullptr;
      rd_kafka_resp_err_t err = rd_kafka_metadata(state_->rk.get(), 0, rkt.get(), &md, timeout_ms(timeout));
      RkMetadataPtr owned(md);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1) {
        err = md->topics[0].err;
        for (int i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < md->topics[0].partition_cnt; ++i)
          if (md->topics[0].partitions[i].leader < 0) err = RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE;
      }
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        Error e = make_error(err, "topic " + t);
        e.retriable = err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        return e;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return {};
}

int Producer::poll(Duration timeout) { return rd_kafka_poll(state_->rk.get(), timeout_ms(timeout)); }

Status Producer::flush(Duration timeout) {
  rd_kafka_resp_err_t err = rd_kafka_flush(state_->rk.get(), timeout_ms(timeout));
  if (std::optional<Error> f = fatal()) return *f;
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  Error e = make_error(err, "flush");
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    e.message = std::to_string(state_->in_flight) + " records still in flight after " +
                std::to_string(timeout.ms()) + " ms: " + rd_kafka_err2str(err);
    e.retriable = true;
  }
  return e;
}

int Producer::in_flight() const { return state_->in_flight; }

std::optional<Error> Producer::fatal() const { return fatal_error(state_->rk.get()); }

std::string Producer::name() const { return rd_kafka_name(state_->rk.get()); }

}  // namespace sagasim::kafka
