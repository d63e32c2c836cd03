// PROGRAM serve SERVICE: one instance of one of a saga's services on real
// Kafka, the same code the simulator runs (the saga's SagaRun makes it).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/live.h"
#include "core/error.h"
#include "kafka/runtime/runner.h"

namespace sagasim::cli {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int sig) {
  // First signal: a graceful shutdown. A second one: leave at once.
  if (g_stop.exchange(true)) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

}  // namespace

int serve_command(const Program& program, const ServeArgs& args) {
  const std::optional<kafka::LogLevel> level = kafka::parse_log_level(args.log_level);
  if (!level) throw InputError("--log-level", "", "expected debug, info, warn or error, got '" + args.log_level + "'");
  kafka::Config config = load_kafka_config(args.kafka);
  const LiveSetup live = live_setup(program, args.live);
  const sim::SagaDefinition& saga = *live.saga;
  const std::vector<std::string> names = saga.services(live.scenario.style);
  if (std::find(names.begin(), names.end(), args.service) == names.end()) {
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    throw InputError("SERVICE", "", fmt::format("the {} saga has no service '{}' (its services: {})", saga.name(),
                                                args.service, known));
  }

  // The saga's own run makes the service (a variant's, with --mutant) and
  // the opening state; only this service's part of it is kept.
  const std::unique_ptr<sim::SagaRun> run = saga.start_live(live.scenario, live.options, sim::LivePlan{});
  std::vector<std::unique_ptr<Service>> services = run->make_services();
  std::unique_ptr<Service> service;
  for (auto& s : services)
    if (s->name() == args.service) service = std::move(s);
  if (!service)
    throw InternalError(fmt::format("the {} saga's run made no '{}' service", saga.name(), args.service));
  LiveOpening opening;
  run->open(opening);
  const OpeningCapture& mine = opening.store(args.service);
  const std::string instance = args.instance.empty() ? args.service + "-1" : args.instance;

  kafka::JsonLog log(std::cerr, {{"service", args.service}, {"instance", instance}}, *level);
  kafka::RunnerOptions options;
  options.instance_id = instance;
  options.kafka = std::move(config);
  options.db_path = args.db;
  options.prefix = args.kafka.prefix();
  options.topics = saga_topics(saga, live.scenario.style, args.kafka);
  options.commit_interval = Duration::millis(args.commit_interval_ms);
  options.durable_offsets = args.fsync;
  options.metrics_port = args.metrics_port;
  for (const std::string& pin : args.pins) options.pins.push_back(parse_pin(pin, "--pin"));
  kafka::ServiceRunner runner(*service, std::move(options), log);

  // Written once per database, whichever instance starts first; the digest
  // lets `check` see that every process was given the same workload.
  runner.initialize(
      "opening_state", [&](Transaction& txn) { mine.copy_into(txn); },
      {{std::string(kOpeningDigestKey), mine.digest()},
       {"opening_saga", std::string(saga.name())},
       {"opening_seed", std::to_string(args.live.seed)}});

  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  return runner.run(g_stop);
}

}  // namespace sagasim::cli
