// sagasim export TRACE --perfetto OUT.json: the trace as Chrome trace-event
// JSON, which the Perfetto UI and chrome://tracing open.
//
// Mapping (the same lanes as the timeline viewer, viewer/trace_model.h):
//   - a service is a process, each of its instances a thread; a topic is a
//     process, each partition a thread; the broker is a process of its own;
//   - handle steps are complete slices ("X") named by event type;
//   - publish, deliver and every other step are thread-scoped instants ("i");
//   - causation is a flow ("s" -> "f") from the handling that published an
//     event to each handling of that event;
//   - fault intervals are async slices ("b"/"e") on the processes they hit.
//
// Handling takes no virtual time, so a slice gets a nominal width: up to
// kSliceNs, shared evenly by the handlings an instance does at the same
// microsecond, and never past its next handling. Slices on a thread then
// never overlap, which both viewers need to nest them, and flows bind to them
// (flow events attach to the slice that encloses their timestamp).
#include <algorithm>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "viewer/trace_model.h"

namespace sagasim::cli {

namespace {

using viewer::Lane;
using viewer::LaneKind;
using viewer::Step;
using viewer::StepKind;
using viewer::TraceModel;
using json = nlohmann::json;

constexpr int64_t kSliceNs = 200'000;  // 0.2 ms: wide enough to see and click when zoomed to a saga

// Timestamps in the file are microseconds; ours are kept in nanoseconds so
// packed slices stay exact, and written with up to three decimals.
double us(int64_t ns) { return static_cast<double>(ns) / 1000.0; }

class Writer {
 public:
  explicit Writer(const std::string& path) : path_(path), out_(path, std::ios::binary | std::ios::trunc) {
    if (!out_) throw InputError(path, "", "cannot open the output for writing");
  }
  void event(const json& e) {
    out_ << (first_ ? "\n" : ",\n");
    first_ = false;
    out_ << e.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  void raw(std::string_view s) { out_ << s; }
  void close() {
    out_.close();
    if (!out_) throw InputError(path_, "", "writing failed (disk full or not writable?)");
  }

 private:
  std::string path_;
  std::ofstream out_;
  bool first_ = true;
};

struct Track {
  int pid = 0;
  int tid = 0;
};

}  // namespace

int export_command(const ExportArgs& args) {
  const TraceModel model = [&] {
    try {
      return TraceModel::load(args.trace);
    } catch (const viewer::TraceError& e) {
      throw InputError(e.line() > 0 ? fmt::format("{}:{}", e.file(), e.line()) : e.file(), "", e.message());
    }
  }();
  for (const std::string& w : model.warnings()) fmt::print(stderr, "sagasim: {}: {}\n", args.trace, w);

  const auto& steps = model.steps();
  const auto& lanes = model.lanes();
  auto s = [&](viewer::StrId id) { return std::string(model.str(id)); };

  // Tracks: processes in lane order, a thread per lane.
  std::map<std::string, int> pids;  // process name -> pid
  std::vector<std::string> process_names;
  std::vector<Track> track(lanes.size());
  for (size_t l = 0; l < lanes.size(); ++l) {
    const Lane& lane = lanes[l];
    const std::string process = lane.kind == LaneKind::Partition ? "topic " + lane.owner : lane.owner;
    auto [it, fresh] = pids.emplace(process, static_cast<int>(pids.size()) + 1);
    if (fresh) process_names.push_back(process);
    track[l] = Track{it->second, static_cast<int>(l) + 1};
  }

  // Slice placement for every handle step: [start, start + dur) in ns.
  std::vector<int64_t> slice_start(steps.size(), -1), slice_dur(steps.size(), 0);
  for (const Lane& lane : lanes) {
    std::vector<uint32_t> handles;
    for (uint32_t i : lane.steps)
      if (steps[i].kind == StepKind::Handle) handles.push_back(i);
    for (size_t a = 0; a < handles.size();) {
      size_t b = a;
      while (b < handles.size() && steps[handles[b]].t_us == steps[handles[a]].t_us) ++b;
      const int64_t t_ns = steps[handles[a]].t_us * 1000;
      const int64_t next_ns = b < handles.size() ? steps[handles[b]].t_us * 1000 : INT64_MAX;
      const int64_t window = std::min(kSliceNs, next_ns - t_ns);
      const int64_t each = std::max<int64_t>(1, window / static_cast<int64_t>(b - a));
      for (size_t k = a; k < b; ++k) {
        slice_start[handles[k]] = t_ns + static_cast<int64_t>(k - a) * each;
        slice_dur[handles[k]] = each;
      }
      a = b;
    }
  }

  Writer out(args.perfetto);
  out.raw("{\"displayTimeUnit\":\"ms\",\n\"otherData\":");
  const viewer::TraceHeader& h = model.header();
  out.raw(json{{"source", "sagasim export"},
               {"sagasim", h.sagasim},
               {"scenario", h.scenario},
               {"seed", h.seed},
               {"swarm", h.swarm},
               {"trace_hash", std::string(model.trace_hash())},
               {"steps", steps.size()}}
              .dump());
  out.raw(",\n\"traceEvents\":[");

  // Names and order of the tracks.
  for (size_t p = 0; p < process_names.size(); ++p) {
    const int pid = static_cast<int>(p) + 1;
    out.event({{"ph", "M"}, {"name", "process_name"}, {"pid", pid}, {"tid", 0}, {"args", {{"name", process_names[p]}}}});
    out.event({{"ph", "M"}, {"name", "process_sort_index"}, {"pid", pid}, {"tid", 0}, {"args", {{"sort_index", pid}}}});
  }
  for (size_t l = 0; l < lanes.size(); ++l) {
    const Lane& lane = lanes[l];
    const std::string name = lane.kind == LaneKind::Group && lane.owner != lane.name ? "consumer group" : lane.name;
    out.event({{"ph", "M"}, {"name", "thread_name"}, {"pid", track[l].pid}, {"tid", track[l].tid}, {"args", {{"name", name}}}});
    out.event({{"ph", "M"}, {"name", "thread_sort_index"}, {"pid", track[l].pid}, {"tid", track[l].tid},
               {"args", {{"sort_index", track[l].tid}}}});
  }

  size_t slices = 0, instants = 0, flows = 0, intervals = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& st = steps[i];
    const Track& tr = track[static_cast<size_t>(st.lane)];
    json a = {{"step", st.step}, {"actor", s(st.actor)}};
    if (st.topic != viewer::kNoStr) a["topic"] = s(st.topic);
    if (st.partition >= 0) a["partition"] = st.partition;
    if (st.offset >= 0) a["offset"] = st.offset;
    if (st.event_id != viewer::kNoStr) a["event_id"] = s(st.event_id);
    if (st.type != viewer::kNoStr) a["type"] = s(st.type);
    if (st.order != viewer::kNoStr) a["order"] = s(st.order);
    if (st.causation != viewer::kNoStr) a["causation"] = s(st.causation);
    if (st.table != viewer::kNoStr) a["table"] = s(st.table);
    if (st.key != viewer::kNoStr) a["key"] = s(st.key);
    if (st.detail != viewer::kNoStr) a["detail"] = s(st.detail);
    const std::string kind(viewer::to_string(st.kind));

    if (st.kind == StepKind::Handle) {
      out.event({{"ph", "X"}, {"name", st.type != viewer::kNoStr ? s(st.type) : "handle"}, {"cat", kind},
                 {"pid", tr.pid}, {"tid", tr.tid}, {"ts", us(slice_start[i])}, {"dur", us(slice_dur[i])}, {"args", a}});
      ++slices;
      continue;
    }
    std::string name = kind;
    switch (st.kind) {
      case StepKind::Publish:
      case StepKind::Deliver: name += " " + s(st.type); break;
      case StepKind::State: name += " " + s(st.table) + "/" + s(st.key) + " " + s(st.detail); break;
      case StepKind::Commit: name += fmt::format(" {}-{} @{}", s(st.topic), st.partition, st.offset); break;
      case StepKind::Fault:
      case StepKind::Lifecycle: name = kind + " " + s(st.detail).substr(0, s(st.detail).find(':')); break;
      default: break;
    }
    out.event({{"ph", "i"}, {"s", "t"}, {"name", name}, {"cat", kind}, {"pid", tr.pid}, {"tid", tr.tid},
               {"ts", us(st.t_us * 1000)}, {"args", a}});
    ++instants;
  }

  // Causation: from the handling that published an event to each handling of it.
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& h2 = steps[i];
    if (h2.kind != StepKind::Handle || h2.event_id == viewer::kNoStr) continue;
    const auto& of = model.steps_of_event(h2.event_id);
    std::optional<uint32_t> publish;
    for (uint32_t k : of)
      if (k < i && steps[k].kind == StepKind::Publish) publish = k;
    if (!publish || steps[*publish].causation == viewer::kNoStr) continue;
    const Step& p = steps[*publish];
    std::optional<uint32_t> cause;
    for (uint32_t k : model.steps_of_event(p.causation))
      if (k < *publish && steps[k].kind == StepKind::Handle && steps[k].actor == p.actor) cause = k;
    if (!cause) continue;
    const Track& from = track[static_cast<size_t>(steps[*cause].lane)];
    const Track& to = track[static_cast<size_t>(h2.lane)];
    const int id = static_cast<int>(++flows);
    const std::string name = "causes " + s(h2.type);
    out.event({{"ph", "s"}, {"id", id}, {"name", name}, {"cat", "causation"}, {"pid", from.pid}, {"tid", from.tid},
               {"ts", us(slice_start[*cause] + slice_dur[*cause] / 2)}});
    out.event({{"ph", "f"}, {"bp", "e"}, {"id", id}, {"name", name}, {"cat", "causation"}, {"pid", to.pid}, {"tid", to.tid},
               {"ts", us(slice_start[i] + slice_dur[i] / 2)}});
  }

  // Fault intervals: an async slice per process it touches.
  int async_id = 0;
  for (const viewer::FaultSpan& f : model.faults()) {
    if (!f.interval) continue;
    std::vector<int> hit;
    for (int32_t l : f.lanes) hit.push_back(track[static_cast<size_t>(l)].pid);
    std::sort(hit.begin(), hit.end());
    hit.erase(std::unique(hit.begin(), hit.end()), hit.end());
    const std::string detail = s(steps[f.step].detail);
    for (int pid : hit) {
      const json id = fmt::format("fault-{}", ++async_id);
      out.event({{"ph", "b"}, {"id", id}, {"name", f.fault_class}, {"cat", "fault"}, {"pid", pid}, {"tid", 0},
                 {"ts", us(f.begin_us * 1000)}, {"args", {{"detail", detail}, {"actor", s(steps[f.step].actor)}}}});
      out.event({{"ph", "e"}, {"id", id}, {"name", f.fault_class}, {"cat", "fault"}, {"pid", pid}, {"tid", 0},
                 {"ts", us(f.end_us * 1000)}});
      ++intervals;
    }
  }
  out.raw("\n]}\n");
  out.close();

  fmt::print("export      {} steps → {}: {} tracks in {} processes; {} slices, {} instants, {} causation flows, {} fault intervals\n",
             thousands(steps.size()), args.perfetto, lanes.size(), process_names.size(), thousands(slices),
             thousands(instants), thousands(flows), intervals);
  return 0;
}

}  // namespace sagasim::cli
