// Where faults reach into the simulated world. The simulator calls these at
// the moments a real deployment can go wrong; faults/ implements them from a
// fault plan. With no hooks installed the world is fault-free and pays nothing.
//
// Every decision must come from the implementation's own seeded PRNG, so that
// a run stays a pure function of its seed. `subject` identifies what the
// decision is about (SimBroker::identity_of: the order, the event type and the
// actor), so an implementation can draw per subject rather than from one
// shared stream: then removing an unrelated order from a scenario leaves every
// other decision unchanged, and failing cases shrink (faults/shrink.h).
#pragma once

#include <optional>
#include <string_view>

#include "core/types.h"

namespace sagasim::sim {

// Where an instance can die while handling one record.
enum class CrashPoint {
  BeforeHandle,              // fetched, nothing done: the record comes back
  AfterCommitBeforePublish,  // local transaction committed, outbox not sent
  AfterPublishBeforeCommit,  // outbox sent, consumer offset not committed
};
std::string_view to_string(CrashPoint p);

enum class ProduceFate {
  Ok,
  LoseAck,         // appended, but the ack never arrives: the producer times out and retries
  RetriableError,  // not appended (e.g. NOT_ENOUGH_REPLICAS): retried after the backoff
};

// A client that times out on a command and sends it again.
struct ClientResend {
  Duration after;        // the client's timeout: when the command goes again
  bool same_id = false;  // the same event id (a resent record), or a new one (a rebuilt command)
};

class FaultHooks {
 public:
  virtual ~FaultHooks() = default;

  // Broker side.
  virtual ProduceFate on_produce(std::string_view /*producer*/, std::string_view /*topic*/, int32_t /*partition*/,
                                 uint64_t /*subject*/) {
    return ProduceFate::Ok;
  }
  virtual Duration extra_produce_latency(std::string_view /*producer*/, std::string_view /*topic*/,
                                         int32_t /*partition*/) {
    return {};
  }
  virtual Duration extra_delivery_latency(std::string_view /*topic*/, int32_t /*partition*/) { return {}; }
  virtual bool lose_commit(std::string_view /*member*/, std::string_view /*topic*/, int32_t /*partition*/,
                           uint64_t /*subject*/) {
    return false;
  }

  // Client side: asked once per command the workload sends.
  virtual std::optional<ClientResend> client_resend(std::string_view /*topic*/, uint64_t /*subject*/) {
    return std::nullopt;
  }

  // Instance side.
  virtual bool crash_at(std::string_view /*instance*/, CrashPoint /*point*/, uint64_t /*subject*/) { return false; }
  virtual bool lose_mark_published(std::string_view /*instance*/, uint64_t /*subject*/) { return false; }
};

}  // namespace sagasim::sim
