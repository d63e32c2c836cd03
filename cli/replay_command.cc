// sagasim replay TRACE: re-runs the scenario and seed a trace recorded (its
// header carries the scenario itself and the swarm flag) and compares the new
// trace with the old one line by line, as it is produced.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "faults/world.h"

namespace sagasim::cli {

namespace {

class ComparingSink final : public sim::TraceSink {
 public:
  explicit ComparingSink(std::istream& recorded) : recorded_(recorded) {}

  void write(std::string_view line) override {
    ++lines_;
    if (diverged_) return;
    std::string old;
    if (!std::getline(recorded_, old)) {
      diverged_ = true;
      first_line_ = lines_;
      replayed_ = std::string(line.substr(0, line.size() - 1));
      recorded_line_ = "(the recorded trace ends here)";
      return;
    }
    if (std::string_view(old) != line.substr(0, line.size() - 1)) {
      diverged_ = true;
      first_line_ = lines_;
      replayed_ = std::string(line.substr(0, line.size() - 1));
      recorded_line_ = old;
    }
  }
  bool more_recorded() {
    std::string rest;
    return static_cast<bool>(std::getline(recorded_, rest));
  }

  std::istream& recorded_;
  uint64_t lines_ = 0;
  bool diverged_ = false;
  uint64_t first_line_ = 0;
  std::string recorded_line_, replayed_;
};

std::string clip(const std::string& s) { return s.size() > 400 ? s.substr(0, 397) + "..." : s; }

}  // namespace

int replay_command(const Program& program, const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(path, "", "is a directory, not a trace file");
  if (std::filesystem::is_character_file(path, ec) || std::filesystem::is_block_file(path, ec))
    throw InputError(path, "", "is a device, not a trace file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", "cannot open the trace file");
  // The header line carries the scenario, so it is at most a scenario file's
  // limit plus a little; a longer first line is not a trace header (and
  // getline on an endless line would take all memory).
  constexpr size_t kMaxHeaderBytes = sim::kMaxScenarioFileBytes + 64 * 1024;
  std::string first;
  for (int c; (c = in.get()) != std::char_traits<char>::eof() && c != '\n';) {
    if (first.size() == kMaxHeaderBytes)
      throw InputError(path + ":1", "", fmt::format("the first line is longer than {} bytes: not a sagasim trace header",
                                                    kMaxHeaderBytes));
    first.push_back(static_cast<char>(c));
  }
  if (first.empty() && in.eof()) throw InputError(path + ":1", "", "empty file: not a sagasim trace");
  if (const auto deep = json_too_deep(first))
    throw InputError(path + ":1", "",
                     fmt::format("JSON nested deeper than {} levels (byte {} of the header)", kMaxJsonDepth, *deep));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(first);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path + ":1", "", std::string("the header is not valid JSON: ") + e.what());
  } catch (const nlohmann::json::out_of_range& e) {  // a number too big for a double (out_of_range.406)
    throw InputError(path + ":1", "", std::string("the header is not valid JSON: ") + e.what());
  }
  if (!header.is_object() || header.value("kind", "") != "header" || header.value("format", "") != "sagasim-trace")
    throw InputError(path + ":1", "", "not a sagasim trace (the first line must be its header)");
  // Compared as a 64-bit value: get<int>() would wrap 4294967297 round to 1.
  if (!header.contains("version") || !header["version"].is_number_integer() ||
      header["version"].get<int64_t>() != sim::Trace::kVersion)
    throw InputError(path + ":1", "/version",
                     fmt::format("trace format version {} is not one this sagasim reads ({})",
                                 header.contains("version") ? header["version"].dump() : "(missing)", sim::Trace::kVersion));
  if (!header.contains("seed") || !header["seed"].is_number_unsigned())
    throw InputError(path + ":1", "/seed", "missing or not a non-negative integer");
  if (!header.contains("spec") || !header["spec"].is_object())
    throw InputError(path + ":1", "/spec", "the trace does not carry its scenario, so it cannot be replayed");
  const uint64_t seed = header["seed"].get<uint64_t>();
  const bool swarm = header.value("swarm", false);
  // A swarm trace without a version was recorded before version 2: it replays with version 1.
  int swarm_version = 1;
  if (header.contains("swarm_version")) {
    const nlohmann::json& v = header["swarm_version"];
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > faults::kSwarmVersion)
      throw InputError(path + ":1", "/swarm_version",
                       fmt::format("swarm version {} is not one this sagasim knows (1 to {})", v.dump(),
                                   faults::kSwarmVersion));
    swarm_version = static_cast<int>(v.get<int64_t>());
  }
  std::string mutant;
  if (header.contains("mutant")) {
    if (!header["mutant"].is_string() || header["mutant"].get<std::string>().empty())
      throw InputError(path + ":1", "/mutant", "expected a mutant's name: " + header["mutant"].dump());
    mutant = header["mutant"].get<std::string>();
  }

  // The embedded scenario names its saga; this program must define it.
  const faults::RunSpec spec =
      faults::make_run_spec(sim::parse_scenario(header["spec"], path + ":1 (embedded scenario)", program.sagas));
  sim::check_mutant(*spec.scenario.saga, mutant, spec.scenario.style, path + ":1 at /mutant");
  in.clear();
  in.seekg(0);
  ComparingSink sink(in);
  sim::RunResult r = faults::run(spec, faults::RunConfig{seed, swarm, &sink, kVersion, mutant, swarm_version});
  const bool trailing = !sink.diverged_ && sink.more_recorded();

  if (!sink.diverged_ && !trailing) {
    fmt::print("replay      identical: {} lines, trace hash {} (scenario {}, seed {}{})\n", thousands(sink.lines_),
               r.trace_hash, spec.scenario.name, seed, swarm ? ", swarm" : "");
    return 0;
  }
  fmt::print("replay      DIVERGED (scenario {}, seed {}{}); replayed trace hash {}\n", spec.scenario.name, seed,
             swarm ? ", swarm" : "", r.trace_hash);
  if (trailing) {
    fmt::print("  the replay ended after {} lines but the recorded trace goes on\n", sink.lines_);
  } else {
    fmt::print("  first difference at line {} (step {})\n", sink.first_line_, sink.first_line_ - 1);
    fmt::print("  recorded: {}\n  replayed: {}\n", clip(sink.recorded_line_), clip(sink.replayed_));
  }
  return kExitViolation;
}

}  // namespace sagasim::cli
