#include "core/service.h"

namespace sagasim {

RecordPtr Transaction::get(std::string_view table, std::string_view key) const {
  for (auto it = ws_.puts.rbegin(); it != ws_.puts.rend(); ++it)
    if (it->table == table && it->key == key) return it->record;
  return store_.get(table, key);
}

void Transaction::put_record(std::string_view table, std::string key, RecordPtr record) {
  for (auto& p : ws_.puts) {
    if (p.table == table && p.key == key) {
      p.record = std::move(record);
      return;
    }
  }
  RecordPtr before = store_.get(table, key);
  ws_.puts.push_back(Put{table, std::move(key), std::move(record), std::move(before)});
}

void Transaction::publish(std::string topic, EventPtr event) {
  ws_.outbox.push_back(OutboxEntry{0, std::move(topic), std::move(event), std::string(owner_)});
}

Outcome process_event(Service& service, Env& env, Transaction& txn, const Event& event, CommitPolicy policy) {
  // The inbox check and the inbox write belong to the same transaction as the
  // handler's effects (production's SQLite store runs this under BEGIN
  // IMMEDIATE; the simulator's store is atomic by construction), so a
  // redelivered event can neither be skipped before its effects are durable
  // nor applied twice.
  const bool inbox = service.uses_inbox();
  if (inbox && txn.already_processed(event.event_id)) return Outcome::Duplicate;
  Context ctx(env, txn, &event);
  service.handle(event, ctx);
  if (txn.writes().empty()) return Outcome::Ignored;
  if (inbox) txn.mark_processed(event.event_id);
  if (policy == CommitPolicy::Commit) txn.commit();
  return Outcome::Processed;
}

int fire_due_timers(Service& service, Store& store, Env& env, std::string_view owner,
                    const std::function<void(const WriteSet&)>& each) {
  int fired = 0;
  for (const std::string& key : store.due_timers(env.now())) {
    Transaction txn(store, owner);
    // The timer is consumed in the same transaction as its effects.
    txn.cancel_timer(key);
    Context ctx(env, txn, nullptr);
    service.on_timer(key, ctx);
    txn.commit();
    each(txn.writes());
    ++fired;
  }
  return fired;
}

}  // namespace sagasim
