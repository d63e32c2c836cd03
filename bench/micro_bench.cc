// Micro-benchmarks (Google Benchmark): the simulator's building blocks.
//
//   build/bench/micro_bench [--benchmark_filter=...]
//
// BM_BareHeapEventLoop is the physical limit for a discrete-event loop on
// this machine: push and pop of 32-byte tasks in a std::vector binary heap,
// nothing else. Figures are recorded in docs/benchmarks.md.
#include <algorithm>
#include <queue>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/codec.h"
#include "sagas/order/order_saga.h"
#include "core/memory_store.h"
#include "core/service.h"
#include "faults/world.h"
#include "sagas/order/checker.h"
#include "sagas/order/events.h"
#include "sagas/order/payment_service.h"
#include "sim/broker.h"
#include "sim/random.h"
#include "sim/scheduler.h"

namespace {

using namespace sagasim;

struct Task {
  int64_t at;
  uint64_t seq;
  uint64_t a, b;
};
struct Later {
  bool operator()(const Task& x, const Task& y) const { return x.at != y.at ? x.at > y.at : x.seq > y.seq; }
};

// A steady-state event loop: pop the earliest task, push one new task a
// random small delay later (the shape of a simulation), 1,000 tasks pending.
void BM_BareHeapEventLoop(benchmark::State& state) {
  std::vector<Task> heap;
  sim::Prng rng(1);
  uint64_t seq = 0;
  for (int i = 0; i < 1000; ++i) heap.push_back({static_cast<int64_t>(rng.below(1000)), seq++, 0, 0});
  std::make_heap(heap.begin(), heap.end(), Later{});
  for (auto _ : state) {
    std::pop_heap(heap.begin(), heap.end(), Later{});
    Task t = heap.back();
    heap.pop_back();
    benchmark::DoNotOptimize(t);
    heap.push_back({t.at + static_cast<int64_t>(rng.below(1000)), seq++, t.a, t.b});
    std::push_heap(heap.begin(), heap.end(), Later{});
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BareHeapEventLoop);

struct Noop : sim::Actor {
  sim::Scheduler* s = nullptr;
  sim::Prng rng{2};
  void fire(uint32_t, uint32_t, uint64_t) override { s->after(Duration{static_cast<int64_t>(rng.below(1000))}, this, 0); }
};

void BM_SchedulerStep(benchmark::State& state) {
  sim::Scheduler s(kSimEpoch);
  Noop a;
  a.s = &s;
  for (int i = 0; i < 1000; ++i) s.after(Duration{static_cast<int64_t>(i)}, &a, 0);
  for (auto _ : state) s.step();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SchedulerStep);

EventPtr sample_event(int i) {
  auto e = std::make_shared<Event>();
  e->event_id = "e-" + std::to_string(i);
  e->type = "OrderCreated";
  e->schema_version = saga::OrderCreated::kVersion;
  e->key = "o-" + std::to_string(i);
  e->occurred_at = kSimEpoch;
  e->correlation_id = e->key;
  e->payload = std::make_shared<PayloadOf<saga::OrderCreated>>(
      saga::OrderCreated{e->key, "c-3", {{"sku-1", 2, 150}, {"sku-7", 1, 990}}, 1290});
  return e;
}

void BM_CodecEncode(benchmark::State& state) {
  const EventPtr e = sample_event(1);
  for (auto _ : state) benchmark::DoNotOptimize(encode_event(*e));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CodecEncode);

void BM_CodecDecode(benchmark::State& state) {
  PayloadRegistry reg;
  saga::register_saga_payloads(reg);
  const std::string text = encode_event(*sample_event(1));
  for (auto _ : state) benchmark::DoNotOptimize(decode_event(text, &reg, "bench"));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CodecDecode);

// The same decode without the JSON Schemas (decoders only): what schema
// validation costs per record.
void BM_CodecDecodeWithoutSchemas(benchmark::State& state) {
  PayloadRegistry reg;
  reg.add<saga::OrderCreated>();
  const std::string text = encode_event(*sample_event(1));
  for (auto _ : state) benchmark::DoNotOptimize(decode_event(text, &reg, "bench"));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CodecDecodeWithoutSchemas);

// Broker: one append and its delivery to one consumer, per iteration.
struct Sink : sim::ConsumerListener {
  sim::SimBroker* b = nullptr;
  sim::MemberId id{};
  void on_record(const sim::Delivery& d) override { b->done(id, d, next(d.offset), sim::CommitMode::Commit); }
};

void BM_BrokerAppendAndDeliver(benchmark::State& state) {
  sim::Scheduler s(kSimEpoch);
  sim::Trace trace(nullptr, kSimEpoch);
  sim::SimBroker broker(s, trace, 1, sim::BrokerConfig{});
  const sim::TopicId t = broker.add_topic("orders", 4);
  const sim::ProducerId p = broker.add_producer("p", true, nullptr);
  constexpr std::string_view topics[] = {"orders"};
  const sim::GroupId g = broker.add_group("g", topics);
  Sink sink;
  sink.b = &broker;
  sink.id = broker.join(g, "c", &sink);
  s.run_until(Time::max());
  std::vector<EventPtr> events;
  for (int i = 0; i < 1024; ++i) events.push_back(sample_event(i));
  size_t i = 0;
  for (auto _ : state) {
    broker.send(p, t, events[i++ % events.size()], 0);
    if (i % 64 == 0) s.run_until(Time::max());
  }
  s.run_until(Time::max());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BrokerAppendAndDeliver);

struct BenchEnv : Env {
  uint64_t n = 0;
  Time now() const override { return kSimEpoch; }
  std::string next_event_id() override { return "b-" + std::to_string(++n); }
};

// One payment handled in one local transaction on the simulator's store.
void BM_StoreTransaction(benchmark::State& state) {
  MemoryStore store;
  {
    Transaction setup(store, "setup");
    saga::PaymentService::open_account(setup, "c-3", INT64_MAX / 4);
    setup.commit();
  }
  saga::PaymentService payment;
  BenchEnv env;
  std::vector<EventPtr> events;
  for (int i = 0; i < 4096; ++i) events.push_back(sample_event(i));
  size_t i = 0;
  for (auto _ : state) {
    auto e = std::make_shared<Event>(*events[i % events.size()]);
    e->event_id = "x-" + std::to_string(i);
    e->key = e->correlation_id = "o-" + std::to_string(i);
    ++i;
    Transaction txn(store, "payment-1");
    benchmark::DoNotOptimize(process_event(payment, env, txn, *e));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreTransaction);

// A whole saga order end to end in the simulator: a 1,000-order run, per order.
void BM_SagaOrderEndToEnd(benchmark::State& state) {
  const nlohmann::json j = {
      {"format_version", 1},
      {"name", "bench"},
      {"saga", {{"name", "order"}}},
      {"workload",
       {{"customers", {{"count", 100}, {"balance_cents", {{"min", 1000000}, {"max", 2000000}}}}},
        {"skus", {{"count", 50}, {"stock", {{"min", 1000}, {"max", 2000}}}}},
        {"orders", {{"count", 1000}, {"interarrival", {{"dist", "exponential"}, {"mean_ms", 2}}}}}}}};
  const faults::RunSpec spec = faults::make_run_spec(sim::parse_scenario(j, "bench", saga::order_saga()));
  uint64_t seed = 1;
  for (auto _ : state) benchmark::DoNotOptimize(faults::run(spec, faults::RunConfig{seed++}));
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_SagaOrderEndToEnd)->Unit(benchmark::kMillisecond);

// `sagasim monitor`'s checks (inv::LogMonitor): a healthy order's records
// (PlaceOrder, PaymentProcessed, ItemsReserved, OrderConfirmed), per record;
// and the write of what they remember, per order remembered (orders stay
// until twice the liveness bound after their decision).
std::vector<sagasim::inv::LoggedEvent> monitor_records(int orders) {
  using namespace sagasim::saga;
  std::vector<inv::LoggedEvent> out;
  const std::vector<OrderLine> lines = {{"SKU-03", 2, 1250}, {"SKU-11", 1, 990}};
  auto add = [&](std::string_view topic, std::string id, const std::string& order, int64_t at, auto payload) {
    auto e = std::make_shared<Event>();
    e->event_id = std::move(id);
    e->type = std::string(decltype(payload)::kType);
    e->correlation_id = e->key = order;
    e->occurred_at = Time{at};
    e->payload = std::make_shared<PayloadOf<decltype(payload)>>(std::move(payload));
    out.push_back(inv::LoggedEvent{topic, 0, static_cast<int64_t>(out.size()), std::move(e)});
  };
  for (int i = 0; i < orders; ++i) {
    const std::string order = "r1-o-" + std::to_string(i);
    const int64_t at = int64_t{i} * 1000;
    add("order-requests", "p-" + order, order, at, PlaceOrder{order, "c-7", lines, 3490});
    add("payments", "pay-" + order, order, at + 20'000, PaymentProcessed{order, "c-7", 3490, lines});
    add("inventory", "res-" + order, order, at + 40'000, ItemsReserved{order, lines});
    add("orders", "ok-" + order, order, at + 60'000, OrderConfirmed{order});
  }
  return out;
}

void BM_LogMonitorRecord(benchmark::State& state) {
  const std::vector<inv::LoggedEvent> records = monitor_records(10'000);
  size_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    inv::LogMonitor m{Duration::seconds(120)};
    sim::LiveReport out;
    state.ResumeTiming();
    for (const auto& r : records) m.on_record(r, out);
    n += records.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
}
BENCHMARK(BM_LogMonitorRecord)->Unit(benchmark::kMillisecond);

void BM_LogMonitorSave(benchmark::State& state) {
  const std::vector<inv::LoggedEvent> records = monitor_records(10'000);
  inv::LogMonitor m{Duration::seconds(120)};
  sim::LiveReport out;
  for (const auto& r : records) m.on_record(r, out);
  const bool text = state.range(0) == 1;  // 1: save_text(), as `sagasim monitor` writes; 0: save().dump()
  for (auto _ : state) benchmark::DoNotOptimize(text ? m.save_text() : m.save().dump());
  state.SetItemsProcessed(state.iterations() * 10'000);
}
BENCHMARK(BM_LogMonitorSave)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
