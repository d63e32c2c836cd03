#include "cli/live.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.h"
#include "core/trace_context.h"

namespace sagasim::cli {

void add_kafka_options(CLI::App& cmd, KafkaArgs& args) {
  cmd.add_option("--kafka", args.properties,
                 "librdkafka properties file: bootstrap.servers=HOST:PORT, security settings, ... "
                 "(secrets are never logged)")
      ->required();
  cmd.add_option("--kafka-set", args.overrides, "Override one client property, KEY=VALUE (repeatable)");
  cmd.add_option("--partitions", args.partitions, "Partitions of each saga topic when it is created")
      ->check(CLI::Range(1, 1000));
  cmd.add_option("--replication-factor", args.replication_factor,
                 "Replicas of each topic when it is created (-1: the broker's default)")
      ->check(CLI::Range(-1, 16));
  cmd.add_option("--namespace", args.ns,
                 fmt::format("The deployment's namespace: every topic, consumer group and client.id of it starts "
                             "with NS. (\"team-a\" -> topic team-a.orders, group team-a.payment), so deployments "
                             "share a cluster without colliding. Give every command of one deployment the same one. "
                             "Letters, digits, '.', '_' and '-' (default ${}; none when unset)",
                             kNamespaceEnv))
      ->envname(kNamespaceEnv);
}

void check_namespace(const std::string& ns) {
  if (ns.empty()) return;
  const std::string where = fmt::format("--namespace (or ${})", kNamespaceEnv);
  if (ns.size() > 200) throw InputError(where, "", fmt::format("'{}...' is longer than 200 characters", ns.substr(0, 20)));
  for (size_t i = 0; i < ns.size(); ++i) {
    const char c = ns[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok)
      throw InputError(where, "",
                       fmt::format("'{}' has {} at position {}: a namespace becomes part of topic names, which "
                                   "allow only letters, digits, '.', '_' and '-'",
                                   ns, static_cast<unsigned char>(c) < 0x20 || c == 0x7f
                                           ? fmt::format("control character 0x{:02x}", static_cast<unsigned char>(c))
                                           : fmt::format("'{}'", c),
                                   i + 1));
  }
}

kafka::Config load_kafka_config(const KafkaArgs& args) {
  check_namespace(args.ns);
  kafka::Result<kafka::Config> c = kafka::Config::load(args.properties);
  if (!c.ok()) throw InputError(args.properties, "", c.error().to_string());
  kafka::Config config = std::move(c).value();
  for (const std::string& o : args.overrides) {
    if (kafka::Status s = config.add_override(o, "--kafka-set"); !s.ok())
      throw InputError("--kafka-set", "", s.error().to_string());
  }
  return config;
}

void add_live_options(CLI::App& cmd, LiveArgs& args, const Program& program, bool with_mutant) {
  if (program.sagas.size() > 1)
    cmd.add_option("--saga", args.saga,
                   fmt::format("The saga ({}; default: the scenario's, else the first)", program.sagas.known()));
  cmd.add_option("--scenario", args.scenario,
                 "Take the live workload (reference data such as customers and stock, the shape of each instance) "
                 "and the saga's settings from this scenario file (default: the saga's built-in live workload)");
  cmd.add_option("--seed", args.seed,
                 "Seed that turns the workload's counts and ranges into reference data and instances (default 1)");
  cmd.add_option("--style", args.style,
                 "The saga's style (default: the scenario's); every process of a deployment must agree");
  if (with_mutant)
    cmd.add_option("--mutant", args.mutant,
                   fmt::format("Run a deliberately broken variant of the saga's services (see `{} mutants`): "
                               "`check` must then fail",
                               program.name));
}

LiveSetup live_setup(const Program& program, const LiveArgs& args) {
  LiveSetup out;
  if (!args.scenario.empty()) {
    out.scenario = sim::load_scenario_file(args.scenario, program.sagas);
    if (!args.saga.empty() && args.saga != out.scenario.saga->name())
      throw InputError("--saga", "",
                       fmt::format("'{}' but {} names the {} saga", args.saga, args.scenario, out.scenario.saga->name()));
  } else {
    std::shared_ptr<const sim::SagaDefinition> saga;
    if (args.saga.empty()) {
      if (program.sagas.empty()) throw InputError("--saga", "", "this program registers no saga");
      saga = program.sagas.all().front();
    } else {
      saga = program.sagas.find(args.saga);
      if (!saga) throw InputError("--saga", "", fmt::format("unknown saga '{}' (known: {})", args.saga, program.sagas.known()));
    }
    const nlohmann::json j = saga->live_scenario();
    if (j.is_null())
      throw InputError("--scenario", "",
                       fmt::format("the {} saga has no built-in live workload: give --scenario FILE", saga->name()));
    out.scenario = sim::parse_scenario(j, fmt::format("the {} saga's built-in live workload", saga->name()), saga);
  }
  out.saga = out.scenario.saga;
  if (!args.style.empty()) {
    check_style(*out.saga, args.style);
    out.scenario = sim::with_style(out.scenario, args.style);
  }
  if (!args.mutant.empty() && sim::runtime_mutant(args.mutant) != sim::RuntimeMutant::None)
    throw InputError("--mutant", "",
                     fmt::format("{} breaks the simulator's runtime; production mode runs the Kafka runtime "
                                 "(kafka/runtime/), which has no such switch",
                                 args.mutant));
  sim::check_mutant(*out.saga, args.mutant, out.scenario.style);
  out.options.seed = args.seed;
  out.options.mutant = args.mutant;
  return out;
}

std::vector<kafka::NewTopic> saga_topics(const sim::SagaDefinition& saga, std::string_view style,
                                         const KafkaArgs& args) {
  std::vector<kafka::NewTopic> out;
  for (const std::string& t : saga.topics(style)) {
    out.push_back({args.prefix() + t, args.partitions, args.replication_factor});
    out.push_back({args.prefix() + t + ".dlq", 1, args.replication_factor});
  }
  return out;
}

std::string opening_digest(const Store& store, const std::vector<std::string>& tables) {
  uint64_t h = trace_hash64("sagasim opening state v1");
  size_t records = 0;
  for (const std::string& table : tables)
    store.scan(table, [&](const std::string& key, const RecordPtr& r) {
      nlohmann::json j;
      r->to_json(j);
      h = trace_hash64(fmt::format("{}\x1f{}\x1f{}\x1e", table, key, j.dump()), h);
      ++records;
    });
  return fmt::format("{:016x}/{}", h, records);
}

void OpeningCapture::commit(WriteSet& ws) {
  for (const Put& p : ws.puts) {
    const std::string table(p.table);
    auto at = std::lower_bound(tables_.begin(), tables_.end(), table);
    if (at == tables_.end() || *at != table) tables_.insert(at, table);
  }
  if (!ws.outbox.empty() || !ws.timers.empty())
    throw InputError(where_, "", "the opening state may write records only, not events or timers");
  store_.commit(ws);
}

void OpeningCapture::copy_into(Transaction& txn) const {
  // The write set refers to the table names: tables_ outlives it.
  for (const std::string& table : tables_)
    store_.scan(table, [&](const std::string& key, const RecordPtr& r) { txn.put_record(table, key, r); });
}

std::string OpeningCapture::digest() const { return opening_digest(store_, tables_); }

OpeningCapture& LiveOpening::store(std::string_view service) {
  auto it = stores_.find(service);
  if (it == stores_.end())
    it = stores_.emplace(std::string(service), std::make_unique<OpeningCapture>(std::string(service))).first;
  return *it->second;
}

std::pair<std::string, int> parse_pin(const std::string& pin, std::string_view option) {
  // TYPE=VERSION, e.g. OrderCreated=1
  const size_t eq = pin.find('=');
  const std::string where = fmt::format("{} {}", option, pin);
  if (eq == std::string::npos || eq == 0 || eq + 1 == pin.size())
    throw InputError(where, "", "expected TYPE=VERSION, for example OrderCreated=1");
  const std::string version = pin.substr(eq + 1);
  if (version.find_first_not_of("0123456789") != std::string::npos || version.size() > 6)
    throw InputError(where, "", fmt::format("'{}' is not a version number", version));
  return {pin.substr(0, eq), std::stoi(version)};
}

}  // namespace sagasim::cli
