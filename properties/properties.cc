#include "properties/properties.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace sagasim::props {

using nlohmann::json;

namespace {

constexpr const char* kPoints[] = {"before_handle", "after_commit_before_publish", "after_publish_before_commit"};

// RapidCheck scales inRange with the test size, which would make early cases
// all-tiny. Values are drawn over their whole range instead; they still
// shrink towards the lower bound.
template <class T>
rc::Gen<T> uniform(T lo, T hi) {
  return rc::gen::resize(100, rc::gen::inRange<T>(lo, hi));
}

std::string instance_of(const Topology& t, int target) {
  const size_t n = t.services.size();
  const auto& [name, count] = t.services[static_cast<size_t>(target) % n];
  return fmt::format("{}-{}", name, static_cast<int>(static_cast<size_t>(target) / n) % count + 1);
}

struct StringSink : sim::TraceSink {
  std::string text;
  void write(std::string_view line) override { text.append(line); }
};

}  // namespace

Topology topology_of(const sim::Scenario& s) {
  return Topology{s.instances, s.topics, s.partitions, static_cast<int>(s.broker.session_timeout.ms())};
}

std::vector<int> all_classes() {
  std::vector<int> v;
  for (int i = 0; i < faults::kFaultClassCount; ++i) v.push_back(i);
  return v;
}

std::vector<int> duplicating_classes() {
  using FC = faults::FaultClass;
  std::vector<int> dup;
  const auto all = faults::all_fault_classes();
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i] == FC::LostCommit || all[i] == FC::ProducerRetry || all[i] == FC::RelayRepublish || all[i] == FC::Crash ||
        all[i] == FC::SessionTimeout || all[i] == FC::ClientRetry)
      dup.push_back(static_cast<int>(i));
  return dup;
}

rc::Gen<Fault> gen_fault(std::vector<int> classes) {
  return rc::gen::build<Fault>(rc::gen::set(&Fault::cls, rc::gen::elementOf(classes)),
                               rc::gen::set(&Fault::target, uniform(0, 9)),
                               rc::gen::set(&Fault::at_ms, uniform(0, 2500)),
                               rc::gen::set(&Fault::duration_ms, uniform(1, 2000)),
                               rc::gen::set(&Fault::point, uniform(0, 3)),
                               rc::gen::set(&Fault::topic, uniform(0, 4)),
                               rc::gen::set(&Fault::partition, uniform(0, 4)));
}

rc::Gen<std::vector<Fault>> gen_faults(int max_faults, std::vector<int> classes) {
  return rc::gen::resize(max_faults, rc::gen::container<std::vector<Fault>>(gen_fault(std::move(classes))));
}

json fault_json(const Topology& t, const Fault& f) {
  const faults::FaultClass cls = faults::all_fault_classes()[static_cast<size_t>(f.cls)];
  json j = {{"class", std::string(faults::to_string(cls))}, {"at_ms", f.at_ms}};
  const std::string topic = t.topics[static_cast<size_t>(f.topic) % t.topics.size()];
  const int partition = f.partition % t.partitions;
  const std::string service = t.services[static_cast<size_t>(f.target) % t.services.size()].first;
  switch (cls) {
    case faults::FaultClass::LostCommit:
    case faults::FaultClass::RelayRepublish:
      j["target"] = service;
      j["duration_ms"] = f.duration_ms;
      break;
    case faults::FaultClass::ProducerRetry:
    case faults::FaultClass::PartitionReorder:
      j["duration_ms"] = f.duration_ms;
      break;
    case faults::FaultClass::Crash:
      j["target"] = instance_of(t, f.target);
      j["point"] = kPoints[f.point % 3];
      j["downtime_ms"] = f.duration_ms;
      break;
    case faults::FaultClass::Join:
      j["target"] = service;
      j["duration_ms"] = f.duration_ms;
      break;
    case faults::FaultClass::Leave:
    case faults::FaultClass::Stall:
    case faults::FaultClass::NetworkPartition:
      j["target"] = instance_of(t, f.target);
      j["duration_ms"] = f.duration_ms;
      break;
    case faults::FaultClass::SessionTimeout:
      j["target"] = instance_of(t, f.target);
      j["duration_ms"] = t.session_timeout_ms + f.duration_ms;
      break;
    case faults::FaultClass::DelaySkew:
    case faults::FaultClass::LatencySpike:
      j["topic"] = topic;
      j["partition"] = partition;
      j["duration_ms"] = f.duration_ms;
      j["extra_ms"] = f.duration_ms;
      break;
    case faults::FaultClass::PartitionUnavailable:
      j["topic"] = topic;
      j["partition"] = partition;
      j["duration_ms"] = f.duration_ms;
      break;
    case faults::FaultClass::LeaderFailover:
      j["topic"] = topic;
      j["partition"] = partition;
      j["election_ms"] = f.duration_ms;
      break;
    case faults::FaultClass::ClockSkew:
      j["target"] = service;
      j["skew_ms"] = (f.duration_ms - 1000) / 2;  // within ±500 ms
      break;
    case faults::FaultClass::ClientRetry:
      // Every command sent in the window goes again after a timeout of up to
      // 2 s, under a new id (or, for half the points, the same one).
      j["duration_ms"] = f.duration_ms;
      j["after_ms"] = 1 + (f.duration_ms * 7919) % 2000;
      if (f.point % 2 == 1) j["same_id"] = true;
      break;
  }
  return j;
}

json faults_json(const Topology& t, const std::vector<Fault>& faults) {
  json out = json::array();
  for (const Fault& f : faults) out.push_back(fault_json(t, f));
  return out;
}

CaseRun run_case(const json& scenario, std::shared_ptr<const sim::SagaDefinition> saga, uint64_t seed,
                 const std::string& mutant, bool keep_trace) {
  return run_case(faults::make_run_spec(sim::parse_scenario(scenario, "generated case", std::move(saga))), seed, mutant,
                  keep_trace);
}

CaseRun run_case(const faults::RunSpec& spec, uint64_t seed, const std::string& mutant, bool keep_trace) {
  StringSink sink;
  CaseRun o;
  o.result = faults::run(spec, faults::RunConfig{seed, false, keep_trace ? &sink : nullptr, "0.1.0", mutant});
  o.trace = std::move(sink.text);
  return o;
}

bool holds(const sim::RunResult& r, std::initializer_list<std::string_view> names) {
  for (const auto& i : r.invariants) {
    if (i.pass) continue;
    if (names.size() == 0) return false;
    for (std::string_view n : names)
      if (i.name == n) return false;
  }
  return true;
}

std::string counterexample_path(const std::string& property) {
  const char* dir = std::getenv("SAGASIM_COUNTEREXAMPLES");
  const std::filesystem::path base = dir && *dir ? std::filesystem::path(dir) : std::filesystem::current_path() / "counterexamples";
  std::filesystem::create_directories(base);
  return (base / (property + ".json")).string();
}

std::string write_counterexample(const json& scenario, const CaseRun& o, const std::string& property,
                                 const std::string& replay) {
  const std::string path = counterexample_path(property);
  {
    std::ofstream out(path);
    out << scenario.dump(2) << "\n";
  }
  const size_t n_faults = scenario.contains("faults") ? scenario["faults"].size() : 0;
  std::ostringstream r;
  std::string command = replay.find("{path}") == std::string::npos ? replay + " {path} --seed {seed}" : replay;
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"{path}", path},
                                   std::pair<std::string, std::string>{"{seed}", std::to_string(o.result.seed)}})
    for (size_t at = command.find(key); at != std::string::npos; at = command.find(key, at + value.size()))
      command.replace(at, key.size(), value);
  r << "counterexample: " << o.result.instances.total << " " << o.result.instances.noun << ", " << n_faults << " fault(s), written to " << path
    << "\nreplay with:    " << command << "\n";
  std::set<std::string> orders;
  for (const auto& i : o.result.invariants)
    for (const auto& v : i.violations) {
      r << "violated:       " << i.name << ": " << v.entity << (v.entity.empty() ? "" : " ") << v.message << "\n";
      if (!v.entity.empty()) orders.insert(v.entity);
    }
  // The timeline: every fault and lifecycle change, and every step of the
  // saga instances the violations name (all if none is named).
  r << "timeline (virtual ms, actor, step):\n";
  std::istringstream in(o.trace);
  std::string line;
  int shown = 0;
  while (std::getline(in, line) && shown < 80) {
    const json s = json::parse(line);
    if (!s.contains("step")) continue;
    const std::string kind = s["kind"];
    const bool mine = s.contains("order") && (orders.empty() || orders.count(s["order"].get<std::string>()));
    if (kind == "fault" || kind == "lifecycle" || (mine && kind != "deliver" && kind != "commit") ||
        (kind == "state" && (orders.empty() || orders.count(s.value("key", ""))))) {
      r << fmt::format("  {:>8.1f}  {:<12} {:<9} {}{}{}{}\n", s["t_us"].get<int64_t>() / 1000.0, s["actor"].get<std::string>(),
                       kind, s.value("type", ""), s.contains("order") ? " " + s["order"].get<std::string>() : "",
                       s.contains("key") ? " " + s.value("table", "") + "/" + s["key"].get<std::string>() : "",
                       s.contains("detail") ? " — " + s["detail"].get<std::string>() : "");
      ++shown;
    }
  }
  return r.str();
}

}  // namespace sagasim::props
