#include "sim/broker.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.h"
#include "core/murmur2.h"

namespace sagasim::sim {

SimBroker::SimBroker(Scheduler& scheduler, Trace& trace, uint64_t seed, BrokerConfig config)
    : scheduler_(scheduler), trace_(trace), seed_(seed), config_(std::move(config)) {}

uint64_t SimBroker::identity_of(const Event& e, std::string_view producer) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
    h ^= 0xff;  // field separator
    h *= 0x100000001b3ULL;
  };
  mix(e.correlation_id.empty() ? std::string_view(e.event_id) : std::string_view(e.correlation_id));
  mix(e.type);
  mix(producer);
  return h;
}

Duration SimBroker::draw(const DurationDist& d, InFlight& f, uint64_t what) {
  uint64_t state = seed_ ^ f.identity ^ (what << 56) ^ (static_cast<uint64_t>(f.draws++) << 32);
  Prng r(splitmix64(state));
  return d.sample(r);
}

TopicId SimBroker::add_topic(std::string name, int32_t partitions) {
  if (partitions < 1) throw InternalError("topic " + name + " needs at least one partition");
  Topic t;
  t.name = std::move(name);
  t.partitions.resize(static_cast<size_t>(partitions));
  topics_.push_back(std::move(t));
  return TopicId{static_cast<uint32_t>(topics_.size() - 1)};
}

TopicId SimBroker::topic_id(std::string_view name) const {
  for (size_t i = 0; i < topics_.size(); ++i)
    if (topics_[i].name == name) return TopicId{static_cast<uint32_t>(i)};
  throw InternalError(fmt::format("unknown topic '{}'", name));
}

ProducerId SimBroker::add_producer(std::string name, bool idempotent, ProducerListener* listener, int max_in_flight) {
  Producer prod;
  prod.name = std::move(name);
  prod.idempotent = idempotent;
  prod.listener = listener;
  prod.max_in_flight = max_in_flight;
  producers_.push_back(std::move(prod));
  return ProducerId{static_cast<uint32_t>(producers_.size() - 1)};
}

void SimBroker::crash_producer(ProducerId p) { producer_at(p).alive = false; }

uint32_t SimBroker::alloc_slot(InFlight f) {
  if (!free_slots_.empty()) {
    uint32_t s = free_slots_.back();
    free_slots_.pop_back();
    inflight_[s] = std::move(f);
    return s;
  }
  inflight_.push_back(std::move(f));
  return static_cast<uint32_t>(inflight_.size() - 1);
}

uint64_t SimBroker::send(ProducerId p, TopicId topic, EventPtr event, uint64_t cookie) {
  Producer& prod = producer_at(p);
  const Topic& tp = topic_at(topic);
  SAGASIM_ASSERT(event != nullptr, "send() needs an event");
  SAGASIM_ASSERT(prod.alive, "send() through a crashed producer");
  const PartitionId part = partition_for_key(event->key, partitions(topic));
  if (prod.lanes.size() <= to_int(topic)) prod.lanes.resize(topics_.size());
  if (prod.lanes[to_int(topic)].empty()) prod.lanes[to_int(topic)].resize(tp.partitions.size());
  Producer::Lane& lane = prod.lanes[to_int(topic)][static_cast<size_t>(to_int(part))];
  const uint64_t seq = lane.next_seq++;
  InFlight f{p, topic, part, seq, std::move(event), cookie, scheduler_.now()};
  const uint64_t identity = f.identity = identity_of(*f.event, prod.name);
  Duration latency = draw(config_.produce_latency, f, 1);
  if (hooks_) {
    f.fate = hooks_->on_produce(prod.name, tp.name, to_int(part), f.identity);
    latency = latency + hooks_->extra_produce_latency(prod.name, tp.name, to_int(part));
  }
  const uint32_t slot = alloc_slot(std::move(f));
  // One connection per partition leader: requests arrive in the order sent,
  // and not before a cut-off producer can reach the broker again.
  lane.last_arrival = std::max({lane.last_arrival, scheduler_.now() + latency, prod.blocked_until + latency});
  scheduler_.at(lane.last_arrival, this, kArrive, slot);
  return identity;
}

void SimBroker::fire(uint32_t kind, uint32_t x, uint64_t y) {
  switch (kind) {
    case kArrive: arrive(x); break;
    case kAck: ack(x); break;
    case kTimeout: timeout(x); break;
    case kDeliver: deliver(GroupId{x}, static_cast<uint32_t>(y >> 32), static_cast<uint32_t>(y)); break;
    case kRebalanceDone: finish_rebalance(GroupId{x}); break;
    case kEvict:
      // pause_member scheduled this only for a pause lasting at least a whole
      // session, and pauses only grow: the member is still silent now, even
      // when the pause ends at this very instant (the instance rejoins then).
      if (members_[x].state == MemberState::Active && members_[x].paused_until >= scheduler_.now()) {
        Member& m = members_[x];
        m.state = MemberState::Crashed;  // silent for a whole session: the coordinator gives up on it
        auto& ms = groups_[to_int(m.group)].members;
        if (auto it = std::find(ms.begin(), ms.end(), MemberId{x}); it != ms.end()) ms.erase(it);
        m.state = MemberState::Gone;
        start_rebalance(m.group);
      }
      break;
    case kSessionTimeout: {
      Member& m = members_[x];
      Group& g = groups_[to_int(m.group)];
      if (m.state == MemberState::Crashed &&
          std::find(g.members.begin(), g.members.end(), MemberId{x}) != g.members.end()) {
        g.members.erase(std::find(g.members.begin(), g.members.end(), MemberId{x}));
        m.state = MemberState::Gone;
        start_rebalance(m.group);
      }
      break;
    }
    default: throw InternalError("broker: unknown task kind");
  }
}

void SimBroker::retry_later(uint32_t slot, Time at) {
  ++retries_;
  scheduler_.at(at, this, kArrive, slot);
}

void SimBroker::arrive(uint32_t slot) {
  InFlight& f = inflight_[slot];
  Topic& topic = topics_[to_int(f.topic)];
  Partition& part = topic.partitions[to_int(f.partition)];
  const Producer& prod = producers_[to_int(f.producer)];
  const Time now = scheduler_.now();

  // A retriable error: the partition has no leader, or a fault says so. An
  // idempotent producer (or one with a single request in flight) keeps its
  // order: the broker rejects the requests behind this one by sequence
  // number until it lands. Otherwise later requests may overtake it.
  const bool keeps_order = prod.idempotent || prod.max_in_flight <= 1;
  if (part.down_until > now) {
    const Duration jitter =
        keeps_order ? Duration{} : draw(DurationDist::uniform_ms(0, static_cast<double>(config_.retry_backoff.us) / 1000), f, 2);
    retry_later(slot, part.down_until + jitter);
    return;
  }
  if (f.fate == ProduceFate::RetriableError) {
    f.fate = ProduceFate::Ok;  // the retry goes through
    retry_later(slot, now + config_.retry_backoff);
    if (keeps_order) {
      Producer& p = producers_[to_int(f.producer)];
      auto& lane = p.lanes[to_int(f.topic)][static_cast<size_t>(to_int(f.partition))];
      lane.last_arrival = std::max(lane.last_arrival, now + config_.retry_backoff);
    }
    return;
  }

  bool duplicate = false;
  auto seq_it = std::find_if(part.last_seq.begin(), part.last_seq.end(),
                             [&](const auto& e) { return e.first == f.producer; });
  if (prod.idempotent && flaw_ != BrokerFlaw::ForgetsSequences) {
    const uint64_t expected = seq_it == part.last_seq.end() ? 0 : seq_it->second.first + 1;
    if (f.seq > expected) {
      // OUT_OF_ORDER_SEQUENCE_NUMBER: an earlier request is still being
      // retried. This one is retried too, and lands after it.
      retry_later(slot, now + config_.retry_backoff);
      return;
    }
    if (f.seq < expected) {
      duplicate = true;  // a retry of a record already in the log
      f.offset = Offset{seq_it->second.second};
      ++dedup_drops_;
    }
  }
  if (!duplicate) {
    const int64_t offset = part.end();
    Duration latency = draw(config_.delivery_latency, f, 3);
    if (hooks_) latency = latency + hooks_->extra_delivery_latency(topic.name, to_int(f.partition));
    const Time visible = std::max(part.last_visible, now + latency);
    part.last_visible = visible;
    if (retention_) trim(f.topic, f.partition);
    part.log.push_back(StoredRecord{f.event, visible});
    f.offset = Offset{offset};
    ++appends_;
    if (append_listener_) append_listener_(f.topic, f.partition, Offset{offset}, f.event);
    if (prod.idempotent) {
      // Self-check of §4: an idempotent producer's records land once each,
      // in the order it sent them: (producer, sequence) never repeats in a
      // partition's log and never skips.
      auto a = std::find_if(part.appended.begin(), part.appended.end(), [&](const auto& e) { return e.first == f.producer; });
      const uint64_t next = a == part.appended.end() ? 0 : a->second;
      if (f.seq != next)
        violations_.push_back(fmt::format("{}-{}: producer {} sequence {} appended at offset {} where sequence {} was "
                                          "due ({})",
                                          topic.name, to_int(f.partition), prod.name, f.seq, offset, next,
                                          f.seq < next ? "a duplicate under idempotence" : "out of order"));
      if (a == part.appended.end()) part.appended.push_back({f.producer, std::max(next, f.seq + 1)});
      else a->second = std::max(next, f.seq + 1);
    }
    if (prod.idempotent) {
      if (seq_it == part.last_seq.end()) part.last_seq.push_back({f.producer, {f.seq, offset}});
      else seq_it->second = {f.seq, offset};
    }
    trace_.record(now, Step{.kind = StepKind::Publish, .actor = prod.name, .topic = topic.name,
                            .partition = to_int(f.partition), .offset = offset, .event = f.event.get()});
    for (GroupId g : topic.subscribers) {
      Group& grp = groups_[to_int(g)];
      for (const auto& [t, base] : grp.topic_base)
        if (t == f.topic) pump(g, base + static_cast<uint32_t>(to_int(f.partition)));
    }
  }

  Producer& p = producers_[to_int(f.producer)];
  if (f.fate == ProduceFate::LoseAck || p.acks_to_lose > 0) {
    // The ack is lost on the way back: the producer times out and retries.
    if (f.fate == ProduceFate::LoseAck) f.fate = ProduceFate::Ok;
    else --p.acks_to_lose;
    scheduler_.at(f.sent_at + config_.request_timeout, this, kTimeout, slot);
  } else {
    scheduler_.after(draw(config_.ack_latency, f, 4), this, kAck, slot);
  }
}

void SimBroker::ack(uint32_t slot) {
  InFlight& pending = inflight_[slot];
  Producer& p = producers_[to_int(pending.producer)];
  if (pending.ack_lost) {  // a leader failover or a network partition swallowed it
    pending.ack_lost = false;
    scheduler_.at(std::max(scheduler_.now(), pending.sent_at + config_.request_timeout), this, kTimeout, slot);
    return;
  }
  InFlight f = std::move(pending);
  inflight_[slot].event.reset();
  free_slots_.push_back(slot);
  if (p.alive && p.listener) p.listener->on_ack(f.cookie, f.topic, f.partition, f.offset);
}

void SimBroker::timeout(uint32_t slot) {
  InFlight& f = inflight_[slot];
  Producer& p = producers_[to_int(f.producer)];
  if (!p.alive) {
    f.event.reset();
    free_slots_.push_back(slot);
    return;
  }
  // Ambiguous outcome: the record may or may not be in the log. The producer
  // sends it again with the same sequence number, once it can reach the broker.
  ++retries_;
  f.sent_at = std::max(scheduler_.now() + config_.retry_backoff, p.blocked_until);
  scheduler_.at(f.sent_at + draw(config_.produce_latency, f, 1), this, kArrive, slot);
}

void SimBroker::isolate_producer(ProducerId p, Time until) {
  Producer& prod = producer_at(p);
  prod.blocked_until = std::max(prod.blocked_until, until);
  // Acks on their way back are lost; the requests time out and are retried.
  for (size_t i = 0; i < inflight_.size(); ++i)
    if (inflight_[i].event && inflight_[i].producer == p) inflight_[i].ack_lost = true;
}

void SimBroker::set_partition_down(TopicId t, PartitionId p, Time until) {
  Partition& part = partition_at(t, p);
  part.down_until = std::max(part.down_until, until);
}

void SimBroker::failover(TopicId t, PartitionId p, Duration election) {
  set_partition_down(t, p, scheduler_.now() + election);
  // Appended by the old leader, acknowledged by nobody.
  for (auto& f : inflight_)
    if (f.event && f.topic == t && f.partition == p && to_int(f.offset) >= 0) f.ack_lost = true;
}

bool SimBroker::pause_member(MemberId m, Time until) {
  Member& mem = member_at(m);
  mem.paused_until = std::max(mem.paused_until, until);
  if (until - scheduler_.now() < config_.session_timeout) return false;
  scheduler_.after(config_.session_timeout, this, kEvict, to_int(m));
  return true;
}

GroupId SimBroker::add_group(std::string name, std::span<const std::string_view> topic_names) {
  Group g;
  g.name = std::move(name);
  const GroupId id{static_cast<uint32_t>(groups_.size())};
  for (std::string_view tn : topic_names) {
    const TopicId t = topic_id(tn);
    g.topic_base.push_back({t, static_cast<uint32_t>(g.cursors.size())});
    for (int32_t p = 0; p < partitions(t); ++p) g.cursors.push_back(Cursor{t, PartitionId{p}});
    topic_at(t).subscribers.push_back(id);
  }
  groups_.push_back(std::move(g));
  return id;
}

MemberId SimBroker::join(GroupId g, std::string name, ConsumerListener* listener) {
  SAGASIM_ASSERT(listener != nullptr, "a member needs a listener to deliver to");
  auto& ms = group_at(g).members;
  members_.push_back(Member{std::move(name), g, listener});
  const MemberId id{static_cast<uint32_t>(members_.size() - 1)};
  ms.push_back(id);
  std::sort(ms.begin(), ms.end(),
            [&](MemberId a, MemberId b) { return members_[to_int(a)].name < members_[to_int(b)].name; });
  start_rebalance(g);
  return id;
}

void SimBroker::leave(MemberId m) {
  Member& mem = member_at(m);
  auto& ms = groups_[to_int(mem.group)].members;
  mem.state = MemberState::Gone;
  if (auto it = std::find(ms.begin(), ms.end(), m); it != ms.end()) {
    ms.erase(it);
    start_rebalance(mem.group);
  }
}

void SimBroker::crash_member(MemberId m) {
  Member& mem = member_at(m);
  if (mem.state != MemberState::Active) return;
  mem.state = MemberState::Crashed;
  // No more fetches: the process is gone. Its partitions stay assigned to it
  // (and stall) until the coordinator notices.
  for (auto& c : groups_[to_int(mem.group)].cursors) {
    if (c.owner == m) {
      c.busy = true;  // nobody fetches for a dead member
      ++c.epoch;
    }
  }
  scheduler_.after(config_.session_timeout, this, kSessionTimeout, to_int(m));
}

void SimBroker::start_rebalance(GroupId g) {
  Group& grp = groups_[to_int(g)];
  // Eager protocol: revoke everything now; assign when the group settles.
  for (auto& c : grp.cursors) {
    c.owner = kNoOwner;
    c.busy = false;
    ++c.epoch;
  }
  if (grp.rebalancing) return;  // the pending completion sees the latest membership
  grp.rebalancing = true;
  scheduler_.after(config_.rebalance_delay, this, kRebalanceDone, to_int(g));
}

void SimBroker::finish_rebalance(GroupId g) {
  Group& grp = groups_[to_int(g)];
  grp.rebalancing = false;
  // Members that crashed do not rejoin: the coordinator evicts them now.
  std::erase_if(grp.members, [&](MemberId m) {
    Member& mem = members_[to_int(m)];
    if (mem.state != MemberState::Crashed) return false;
    mem.state = MemberState::Gone;
    return true;
  });
  ++grp.generation;
  std::string detail = fmt::format("generation {}:", grp.generation);
  for (size_t i = 0; i < grp.cursors.size(); ++i) {
    Cursor& c = grp.cursors[i];
    c.position = c.committed;
    const int64_t end = topics_[to_int(c.topic)].partitions[to_int(c.partition)].end();
    if (flaw_ == BrokerFlaw::ResumesPastCommit) c.position = std::min(c.committed + 1, end);
    if (flaw_ == BrokerFlaw::SkipsRedelivery) c.position = std::max(c.committed, c.last_delivered + 1);
    if (grp.members.empty()) continue;
    c.owner = grp.members[i % grp.members.size()];
  }
  for (MemberId m : grp.members) {
    detail += fmt::format(" {}=[", members_[to_int(m)].name);
    bool first = true;
    for (const Cursor& c : grp.cursors) {
      if (c.owner != m) continue;
      detail += fmt::format("{}{}-{}", first ? "" : ",", topics_[to_int(c.topic)].name, to_int(c.partition));
      first = false;
    }
    detail += "]";
  }
  if (grp.members.empty()) detail += " no members";
  trace_.record(scheduler_.now(), Step{.kind = StepKind::Rebalance, .actor = grp.name, .detail = detail});
  for (uint32_t i = 0; i < grp.cursors.size(); ++i) pump(g, i);
}

void SimBroker::pump(GroupId g, uint32_t ci) {
  Group& grp = groups_[to_int(g)];
  Cursor& c = grp.cursors[ci];
  if (c.owner == kNoOwner || c.busy || grp.rebalancing) return;
  const Partition& part = topics_[to_int(c.topic)].partitions[to_int(c.partition)];
  if (c.position >= part.end()) return;
  c.busy = true;
  const Time at = std::max(scheduler_.now(), part.at(c.position).visible_at);
  scheduler_.at(at, this, kDeliver, to_int(g), (static_cast<uint64_t>(ci) << 32) | c.epoch);
}

void SimBroker::deliver(GroupId g, uint32_t ci, uint32_t epoch) {
  Group& grp = groups_[to_int(g)];
  Cursor& c = grp.cursors[ci];
  if (c.epoch != epoch || c.owner == kNoOwner) return;  // revoked or reset since scheduled
  const Member& m = members_[to_int(c.owner)];
  if (m.state != MemberState::Active) return;
  const Topic& topic = topics_[to_int(c.topic)];
  const Time down = topic.partitions[to_int(c.partition)].down_until;
  if (m.paused_until > scheduler_.now() || down > scheduler_.now()) {
    // A paused member fetches nothing; a leaderless partition serves nothing.
    scheduler_.at(std::max(m.paused_until, down), this, kDeliver, to_int(g), (static_cast<uint64_t>(ci) << 32) | epoch);
    return;
  }
  const Partition& part = topic.partitions[to_int(c.partition)];
  SAGASIM_ASSERT(c.position >= part.base, "a fetch below the retained log start: retention dropped a record a group still needs");
  const StoredRecord& rec = part.at(c.position);

  // Self-check of §4: within one assignment epoch a consumer sees consecutive
  // offsets; a new epoch starts at the committed offset.
  if (c.last_delivered_epoch == epoch ? c.position != c.last_delivered + 1 : c.position != c.committed)
    violations_.push_back(fmt::format("group {} {}-{}: delivered offset {} out of sequence", grp.name,
                                      topic.name, to_int(c.partition), c.position));
  if (rec.visible_at > scheduler_.now())
    violations_.push_back(fmt::format("group {} {}-{}: offset {} delivered before it was visible", grp.name,
                                      topic.name, to_int(c.partition), c.position));
  c.last_delivered = c.position;
  c.last_delivered_epoch = epoch;
  ++deliveries_;
  m.listener->on_record(Delivery{g, ci, epoch, grp.generation, topic.name, c.partition, Offset{c.position},
                                 rec.event.get(), retention_ ? rec.event : nullptr,
                                 hooks_ ? identity_of(*rec.event, m.name) : 0});
}

void SimBroker::done(MemberId m, const Delivery& d, Offset next, CommitMode mode) {
  const Member& mem = member_at(m);
  SAGASIM_ASSERT(mem.group == d.group, "done() for a delivery of another group");
  Group& grp = groups_[to_int(d.group)];
  SAGASIM_ASSERT(d.cursor < grp.cursors.size(), "done() for a cursor the group does not have");
  Cursor& c = grp.cursors[d.cursor];
  const Topic& topic = topics_[to_int(c.topic)];
  SAGASIM_ASSERT(to_int(next) >= 0, "done() with a negative next offset");
  SAGASIM_ASSERT(to_int(next) <= topic.partitions[to_int(c.partition)].end(),
                 "done() with a next offset past the log end");
  if (mode == CommitMode::Commit && hooks_ &&
      hooks_->lose_commit(mem.name, topic.name, to_int(c.partition),
                          d.subject != 0 ? d.subject : identity_of(*d.event, mem.name)))
    mode = CommitMode::Skip;  // the commit request is lost; the consumer moves on regardless
  if (mode == CommitMode::Commit) {
    const bool accepted = mem.state == MemberState::Active && d.generation == grp.generation &&
                          !grp.rebalancing && c.owner == m;
    trace_.record(scheduler_.now(),
                  Step{.kind = StepKind::Commit, .actor = mem.name, .topic = topic.name,
                       .partition = to_int(c.partition), .offset = to_int(next),
                       .detail = accepted ? std::string_view() : std::string_view("rejected: not the owner in this generation")});
    if (accepted) c.committed = std::max(c.committed, to_int(next));
  }
  if (c.epoch != d.epoch || c.owner != m) return;  // reassigned meanwhile
  c.position = to_int(next);
  c.busy = false;
  pump(d.group, d.cursor);
}

void SimBroker::trim(TopicId t, PartitionId p) {
  Topic& topic = topics_[to_int(t)];
  Partition& part = topic.partitions[static_cast<size_t>(to_int(p))];
  // Nothing to gain until a good share of the held records may go: the
  // check below is O(subscribing groups) and the erase O(records held).
  const size_t held = part.log.size() - part.head;
  if (held < 64) return;
  int64_t keep_from = part.end();
  for (GroupId g : topic.subscribers) {
    const Group& grp = groups_[to_int(g)];
    for (const auto& [tt, base] : grp.topic_base)
      if (tt == t) keep_from = std::min(keep_from, grp.cursors[base + static_cast<uint32_t>(to_int(p))].committed);
  }
  if (keep_from <= part.base) return;
  const size_t drop = static_cast<size_t>(keep_from - part.base);
  for (size_t i = part.head; i < part.head + drop; ++i) part.log[i].event.reset();
  part.head += drop;
  part.base = keep_from;
  // Erase the dead prefix once it is at least half the vector: amortised O(1)
  // per record, and the vector's size stays within twice what is held.
  if (part.head * 2 >= part.log.size()) {
    part.log.erase(part.log.begin(), part.log.begin() + static_cast<std::ptrdiff_t>(part.head));
    part.head = 0;
    if (part.log.capacity() > 4 * std::max<size_t>(part.log.size(), 256)) part.log.shrink_to_fit();
  }
}

size_t SimBroker::records_held() const {
  size_t n = 0;
  for (const Topic& t : topics_)
    for (const Partition& p : t.partitions) n += p.log.size() - p.head;
  return n;
}

int64_t SimBroker::committed(GroupId g, TopicId t, PartitionId p) const {
  partition_at(t, p);  // asserts that the partition exists
  for (const auto& c : group_at(g).cursors)
    if (c.topic == t && c.partition == p) return c.committed;
  return -1;
}

std::vector<std::string> SimBroker::assignment(MemberId m) const {
  std::vector<std::string> out;
  for (const auto& c : groups_[to_int(member_at(m).group)].cursors)
    if (c.owner == m) out.push_back(fmt::format("{}-{}", topics_[to_int(c.topic)].name, to_int(c.partition)));
  return out;
}

}  // namespace sagasim::sim
