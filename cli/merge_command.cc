// sagasim merge: the seed records of a sweep's shards (`sweep --out`), read
// back and added up into the report one machine would have printed: every
// failing seed, the union of the coverage, one exit code. Optionally JUnit
// XML for CI dashboards. Refuses (exit 2) records of different sweeps, a
// shard given twice, a shard missing and a shard that did not finish.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/sweep_report.h"
#include "core/error.h"
#include "core/json_depth.h"

namespace sagasim::cli {

namespace {

SweepReport read_shard(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, "", "cannot open the seed records");
  std::vector<SweepFailure> failures;
  std::optional<SweepReport> summary;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const std::string where = fmt::format("{}:{}", path, n);
    if (summary) throw InputError(where, "", "a record after the summary (one shard's sweep per file)");
    if (line.size() > 16 * 1024 * 1024) throw InputError(where, "", "a record longer than 16 MiB");
    nlohmann::json j;
    if (auto at = json_too_deep(line))
      throw InputError(where, "", fmt::format("JSON nested deeper than {} levels (byte {})", kMaxJsonDepth, *at + 1));
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(where, "", fmt::format("not a JSON record ({})", e.what()));
    }
    if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string())
      throw InputError(where, "/kind", "want a seed record: {\"kind\": \"failure\" | \"summary\", ...}");
    const std::string kind = j["kind"];
    if (kind == "failure") {
      try {
        failures.push_back({j.at("seed").get<uint64_t>(), j.at("violation").get<std::string>(),
                            j.at("reproduce").get<std::string>()});
      } catch (const nlohmann::json::exception& e) {
        throw InputError(where, "", fmt::format("a failure record needs seed, violation and reproduce ({})", e.what()));
      }
    } else if (kind == "summary") {
      summary = SweepReport::from_summary(j, where);
    } else {
      throw InputError(where, "/kind", fmt::format("unknown record kind '{}' (want failure or summary)", kind));
    }
  }
  if (!summary)
    throw InputError(path, "", fmt::format("no summary record: that shard's sweep did not finish ({} failure record(s) "
                                           "so far); run it again",
                                           failures.size()));
  const std::set<uint64_t> failing(summary->failing_seeds.begin(), summary->failing_seeds.end());
  for (const auto& f : failures)
    if (!failing.count(f.seed))
      throw InputError(path, "", fmt::format("seed {} has a failure record but is not among the summary's failing seeds",
                                             f.seed));
  std::sort(failures.begin(), failures.end(), [](const SweepFailure& a, const SweepFailure& b) { return a.seed < b.seed; });
  if (failures.size() > SweepReport::kDetailsKept) failures.resize(SweepReport::kDetailsKept);
  summary->failures = std::move(failures);
  return *summary;
}

std::string xml(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += ' ';  // not allowed in XML 1.0
        } else {
          out += c;
        }
    }
  }
  return out;
}

// One test case per shard (its runs, passing when none of its seeds failed)
// and one per failing seed (the violation, and the command that replays it).
void write_junit(const std::string& path, const SweepReport& r) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) throw InputError(path, "", "cannot write the JUnit XML (--junit)");
  const std::string suite = fmt::format("sagasim sweep {}{}", r.scenario, r.mutant.empty() ? "" : " --mutant " + r.mutant);
  const size_t details = r.failures.size();
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << fmt::format("<testsuites tests=\"{}\" failures=\"{}\">\n", r.shards.size() + details, details);
  out << fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" time=\"{:.2f}\">\n", xml(suite),
                     r.shards.size() + details, details, r.wall_s);
  out << "    <properties>\n";
  out << fmt::format("      <property name=\"commit\" value=\"{}\"/>\n", xml(r.commit));
  out << fmt::format("      <property name=\"scenario_digest\" value=\"{}\"/>\n", xml(r.scenario_digest));
  out << fmt::format("      <property name=\"runs\" value=\"{}\"/>\n", r.runs);
  out << fmt::format("      <property name=\"failing_seeds\" value=\"{}\"/>\n", r.failing_seeds.size());
  out << "    </properties>\n";
  std::vector<Shard> shards = r.shards;
  std::sort(shards.begin(), shards.end(), [](const Shard& a, const Shard& b) { return a.index < b.index; });
  for (const Shard& s : shards)
    out << fmt::format("    <testcase classname=\"{}\" name=\"shard {}/{}\"/>\n", xml(suite), s.index, s.count);
  for (const SweepFailure& f : r.failures) {
    const std::string invariant = f.violation.substr(0, f.violation.find(':'));
    out << fmt::format("    <testcase classname=\"{}\" name=\"seed {}\">\n", xml(suite), f.seed);
    out << fmt::format("      <failure message=\"{}\" type=\"{}\">{}\nreproduce: {}</failure>\n", xml(f.violation),
                       xml(invariant), xml(f.violation), xml(f.reproduce));
    out << "    </testcase>\n";
  }
  out << "  </testsuite>\n</testsuites>\n";
  out.close();
  if (!out) throw InputError(path, "", "writing the JUnit XML failed");
}

}  // namespace

int merge_command(const Program& program, const MergeArgs& args) {
  SweepReport total;
  for (const std::string& path : args.files) add_shard(total, read_shard(path), path);
  const uint64_t count = total.shards.front().count;
  std::set<uint64_t> have;
  for (const Shard& s : total.shards) have.insert(s.index);
  std::string missing;
  for (uint64_t i = 0; i < count; ++i)
    if (!have.count(i)) missing += fmt::format("{}{}", missing.empty() ? "" : ", ", i);
  if (!missing.empty())
    throw InputError("merge", "", fmt::format("shard(s) {} of {} missing: the union would not cover the sweep", missing,
                                              count));
  total.jobs = 0;
  if (!args.junit.empty()) write_junit(args.junit, total);

  if (args.json) {
    nlohmann::ordered_json j = total.to_json();
    j.erase("jobs");
    std::cout << j.dump(2) << "\n";
  } else {
    const std::string seeds = total.root ? fmt::format("fresh seeds from root {}", *total.root)
                                         : fmt::format("seeds {}..{}", total.first, total.last);
    const auto saga = program.sagas.find(total.saga);
    total.print(fmt::format("merge       {} {}{}, {} shard(s), commit {}", total.scenario, seeds,
                            total.swarm ? " (swarm)" : "", count, total.commit),
                saga ? saga->instance_noun() : "instances");
  }
  if (!total.failing_seeds.empty()) return kExitViolation;
  return args.require_coverage ? total.coverage_verdict(program.name) : 0;
}

}  // namespace sagasim::cli
