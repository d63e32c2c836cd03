// sagasim shrink: minimise a failing run to a small scenario file that still
// fails the same invariant (faults/shrink.h does the work).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"
#include "faults/shrink.h"

namespace sagasim::cli {

int shrink_command(const Program& program, const ShrinkArgs& args) {
  const std::string& mutant = args.mutant;
  const faults::RunSpec spec = load_spec(program, args.scenario, args.style, mutant);
  const uint64_t seed = args.seed ? *args.seed : spec.scenario.seed.value_or(1);
  std::string out = args.out;
  if (out.empty()) {
    std::filesystem::path p(args.scenario);
    out = (p.parent_path() / (p.stem().string() + fmt::format(".seed{}.min.json", seed))).string();
  }
  {
    // Fail before minutes of shrinking, not after; leave nothing behind.
    const bool existed = std::filesystem::exists(out);
    std::ofstream probe(out, std::ios::app);
    if (!probe) throw InputError(out, "", "cannot write the shrunk scenario here (use --out)");
    probe.close();
    if (!existed) std::filesystem::remove(out);
  }

  const bool tty = isatty(STDERR_FILENO) != 0;
  const std::string noun = spec.scenario.saga->instance_noun();
  faults::ShrinkOptions options;
  options.seed = seed;
  options.swarm = args.swarm;
  options.swarm_version = args.swarm_version;
  options.mutant = mutant;
  options.max_runs = args.max_runs;
  options.progress = [&](int runs, size_t orders, size_t faults) {
    if (tty) fmt::print(stderr, "\rshrinking: {} runs · {} {} · {} faults      ", runs, orders, noun, faults);
    else if (runs % 200 == 0) fmt::print(stderr, "shrinking: {} runs, {} {}, {} faults\n", runs, orders, noun, faults);
  };
  const faults::ShrinkResult r = faults::shrink(spec, options);
  if (tty) fmt::print(stderr, "\n");
  {
    std::ofstream f(out);
    f << r.scenario.dump(2) << "\n";
    if (!f) throw InputError(out, "", "writing the shrunk scenario failed");
  }
  const std::string replay = fmt::format("{} run {} --seed {}{}", program.name, shell_quote(out), seed, mutant_flag(mutant));
  fmt::print("shrunk      {} {}, {} faults → {} {}, {} faults in {} runs\n", r.orders_before, noun, r.faults_before,
             r.orders_after, noun, r.faults_after - r.faults_inert, r.runs);
  if (r.faults_inert)
    fmt::print("            (and {} inert fault entr{} at probability 0: they fire nothing, and keep the other "
               "faults' dice where they were)\n",
               r.faults_inert, r.faults_inert == 1 ? "y" : "ies");
  fmt::print("still fails {}\n", r.invariant);
  fmt::print("written to  {}\n", out);
  fmt::print("replay      {}\n", replay);
  return 0;
}

}  // namespace sagasim::cli
