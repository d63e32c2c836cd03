// The trace model on a known small trace (tests/viewer/data/small.trace.ndjson,
// written by `sagasim run tests/viewer/data/small.scenario.json --seed 5`):
// lanes, fault spans, orders and saga paths; and bad traces, which must give
// a message naming file:line and never crash.
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "viewer/trace_model.h"

namespace sagasim::viewer {
namespace {

const std::string kSmall = std::string(SAGASIM_SOURCE_DIR) + "/tests/viewer/data/small.trace.ndjson";

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

const TraceModel& small() {
  static const TraceModel m = TraceModel::load(kSmall);
  return m;
}

// The index of the step with this trace step number.
uint32_t idx(const TraceModel& m, uint64_t step) {
  for (size_t i = 0; i < m.steps().size(); ++i)
    if (m.steps()[i].step == step) return static_cast<uint32_t>(i);
  ADD_FAILURE() << "no step " << step;
  return 0;
}

TEST(TraceModel, ReadsTheHeaderStepsAndFooter) {
  const TraceModel& m = small();
  EXPECT_EQ(m.header().version, 1);
  EXPECT_EQ(m.header().scenario, "viewer-fixture");
  EXPECT_EQ(m.header().seed, 5u);
  EXPECT_EQ(m.steps().size(), 226u);
  EXPECT_TRUE(m.complete());
  EXPECT_TRUE(m.warnings().empty());
  EXPECT_EQ(m.trace_hash(), "26c9c1560aa91599");
  const Step& s = m.steps()[idx(m, 21)];
  EXPECT_EQ(s.kind, StepKind::Publish);
  EXPECT_EQ(s.t_us, 240708);
  EXPECT_EQ(m.str(s.actor), "order-1");
  EXPECT_EQ(m.str(s.type), "OrderCreated");
  EXPECT_EQ(m.str(s.event_id), "e-6");
  EXPECT_EQ(m.str(s.causation), "e-3");
  EXPECT_EQ(m.str(s.order), "o-3");
  // The raw line is kept, whole, for the side panel.
  EXPECT_EQ(m.raw_json(idx(m, 21)).substr(0, 40), R"({"step":21,"t_us":240708,"kind":"publish)");
  EXPECT_EQ(m.raw_json(idx(m, 21)).back(), '}');
}

TEST(TraceModel, OneLanePerInstanceGroupAndPartitionInSagaOrder) {
  std::vector<std::string> names;
  for (const Lane& l : small().lanes()) names.push_back(l.name);
  const std::vector<std::string> expected = {
      "order (group)",     "order-1",           "payment (group)",   "payment-1",   "payment-2",   "inventory (group)",
      "inventory-1",       "broker",            "order-requests[0]", "order-requests[1]", "order-requests[2]",
      "orders[0]",         "orders[1]",         "orders[2]",         "payments[0]", "payments[1]", "payments[2]",
      "inventory[0]",      "inventory[1]",      "inventory[2]"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(small().services(), (std::vector<std::string>{"order", "payment", "inventory", "client", "broker"}));
}

TEST(TraceModel, PublishesSitOnTheirPartitionOtherStepsOnTheirActor) {
  const TraceModel& m = small();
  EXPECT_EQ(m.lanes()[static_cast<size_t>(m.steps()[idx(m, 21)].lane)].name, "orders[1]");   // publish
  EXPECT_EQ(m.lanes()[static_cast<size_t>(m.steps()[idx(m, 32)].lane)].name, "payment-2");   // deliver
  EXPECT_EQ(m.lanes()[static_cast<size_t>(m.steps()[idx(m, 20)].lane)].name, "order-1");     // state
  size_t total = 0;
  for (const Lane& l : m.lanes()) {
    total += l.steps.size();
    EXPECT_TRUE(std::is_sorted(l.steps.begin(), l.steps.end(),
                               [&](uint32_t a, uint32_t b) { return m.steps()[a].t_us < m.steps()[b].t_us; }));
  }
  EXPECT_EQ(total, m.steps().size());
}

TEST(TraceModel, FaultDetailsBecomeIntervalsOverTheLanesTheyAffect) {
  const TraceModel& m = small();
  ASSERT_EQ(m.faults().size(), 3u);
  const FaultSpan& spike = m.faults()[0];  // "latency_spike: +40 ms on every topic for 200 ms"
  EXPECT_EQ(spike.fault_class, "latency_spike");
  EXPECT_TRUE(spike.interval);
  EXPECT_EQ(spike.begin_us, 120000);
  EXPECT_EQ(spike.end_us, 320000);
  EXPECT_EQ(spike.lanes.size(), 13u);  // the broker and all twelve partitions
  const FaultSpan& stall = m.faults()[1];  // "stall: for 300 ms" on inventory-1
  EXPECT_EQ(stall.fault_class, "stall");
  EXPECT_EQ(stall.end_us - stall.begin_us, 300000);
  ASSERT_EQ(stall.lanes.size(), 1u);
  EXPECT_EQ(m.lanes()[static_cast<size_t>(stall.lanes[0])].name, "inventory-1");
  const FaultSpan& down = m.faults()[2];  // "partition_unavailable: payments-1 has no leader for 150 ms"
  ASSERT_EQ(down.lanes.size(), 1u);
  EXPECT_EQ(m.lanes()[static_cast<size_t>(down.lanes[0])].name, "payments[1]");
  EXPECT_EQ(down.end_us - down.begin_us, 150000);
}

TEST(TraceModel, FaultsWithoutADurationAreMarkers) {
  const std::string text = join({
      R"({"kind":"header","format":"sagasim-trace","version":1,"scenario":"x","seed":1})",
      R"({"step":1,"t_us":0,"kind":"lifecycle","actor":"order-1","detail":"start"})",
      R"({"step":2,"t_us":0,"kind":"lifecycle","actor":"order-2","detail":"start"})",
      R"({"step":3,"t_us":10,"kind":"fault","actor":"order","detail":"clock_skew: clock +400 ms, drift +3000 ppm"})",
      R"({"step":4,"t_us":20,"kind":"fault","actor":"order-1","detail":"crash: before_handle; restart in 600 ms"})",
      R"({"kind":"end","steps":4,"trace_hash":"0"})",
  });
  const TraceModel m = TraceModel::parse(text, "inline");
  ASSERT_EQ(m.faults().size(), 2u);
  EXPECT_FALSE(m.faults()[0].interval);
  EXPECT_EQ(m.faults()[0].lanes.size(), 3u);  // the group lane and both instances
  EXPECT_TRUE(m.faults()[1].interval);
  EXPECT_EQ(m.faults()[1].end_us, 20 + 600000);
}

// Found by fuzzing (tests/fuzz/regressions/trace/): numbers in a fault's free-text
// detail too big for their type threw std::out_of_range or overflowed.
TEST(TraceModel, HugeNumbersInFaultDetailsSaturateInsteadOfThrowing) {
  const std::string text = join({
      R"({"kind":"header","format":"sagasim-trace","version":1,"scenario":"x","seed":1})",
      R"({"step":1,"t_us":5,"kind":"publish","actor":"client","topic":"payments","partition":0,"offset":0})",
      R"({"step":2,"t_us":10,"kind":"fault","actor":"broker","detail":"stall: for 99999999999999999999 ms"})",
      R"({"step":3,"t_us":20,"kind":"fault","actor":"broker","detail":"stall: for 999999999999999999 ms"})",
      R"({"step":4,"t_us":30,"kind":"fault","actor":"broker","detail":"payments-99999999999 has no leader for 5 ms"})",
      R"({"kind":"end","steps":4,"trace_hash":"0"})",
  });
  const TraceModel m = TraceModel::parse(text, "inline");
  ASSERT_EQ(m.faults().size(), 3u);
  EXPECT_TRUE(m.faults()[0].interval);
  EXPECT_EQ(m.faults()[0].end_us, INT64_MAX);
  EXPECT_EQ(m.faults()[1].end_us, INT64_MAX);
  EXPECT_EQ(m.faults()[2].end_us, 30 + 5000);
  EXPECT_EQ(m.lane_index("payments[99999999999]"), -1);  // no such partition lane
}

TEST(TraceModelErrors, ANumberBeyondADoubleInTheHeaderIsATraceError) {
  try {
    TraceModel::parse(R"({"kind":"header","format":"sagasim-trace","version":1,"seed":1e999})" "\n", "big.ndjson");
    FAIL() << "accepted a number beyond a double";
  } catch (const TraceError& e) {
    EXPECT_EQ(e.line(), 1u);
    EXPECT_NE(std::string(e.what()).find("not JSON"), std::string::npos) << e.what();
  }
}

TEST(TraceModel, OrdersIncludeStateStepsByKey) {
  const TraceModel& m = small();
  EXPECT_EQ(m.orders(), (std::vector<std::string>{"o-1", "o-2", "o-3", "o-4", "o-5", "o-6"}));
  EXPECT_EQ(m.str(m.steps()[idx(m, 20)].order), "o-3");  // state orders/o-3 PENDING
  EXPECT_NE(std::find(m.event_types().begin(), m.event_types().end(), "OrderConfirmed"), m.event_types().end());
}

TEST(TraceModel, SagaPathFollowsTheCausationChain) {
  const TraceModel& m = small();
  const std::vector<uint32_t> path = m.saga_path("o-3");
  std::vector<uint64_t> numbers;
  for (uint32_t i : path) numbers.push_back(m.steps()[i].step);
  for (uint64_t want : {7, 18, 19, 20, 21, 32, 33, 35, 48, 49, 50, 101, 102, 107, 108, 111, 135, 136, 137, 138, 146, 167, 168, 170, 171})
    EXPECT_NE(std::find(numbers.begin(), numbers.end(), want), numbers.end()) << "step " << want;
  for (uint32_t i : path) {
    const Step& s = m.steps()[i];
    EXPECT_TRUE(m.str(s.order) == "o-3") << "step " << s.step << " belongs to " << m.str(s.order);
  }
  EXPECT_TRUE(m.saga_path("o-999").empty());

  const std::vector<Link> links = m.links(path);
  auto linked = [&](uint64_t a, uint64_t b) {
    return std::any_of(links.begin(), links.end(), [&](const Link& l) { return l.from == idx(m, a) && l.to == idx(m, b); });
  };
  EXPECT_TRUE(linked(7, 18));   // publish PlaceOrder -> its delivery
  EXPECT_TRUE(linked(18, 19));  // delivery -> handling
  EXPECT_TRUE(linked(19, 21));  // handling PlaceOrder -> publish OrderCreated
  EXPECT_TRUE(linked(21, 32));
  EXPECT_TRUE(linked(137, 146));
}

TEST(TraceModel, NaturalOrder) {
  EXPECT_TRUE(natural_less("o-2", "o-10"));
  EXPECT_FALSE(natural_less("o-10", "o-2"));
  EXPECT_TRUE(natural_less("payment-9", "payment-10"));
  EXPECT_TRUE(natural_less("a", "b"));
  EXPECT_FALSE(natural_less("o-1", "o-1"));
  EXPECT_TRUE(natural_less("o-01", "o-2"));
}

// --- Bad traces ------------------------------------------------------------

// Parses `text` and returns the error message, or "" if it loaded.
std::string error_of(const std::string& text, size_t* line = nullptr) {
  try {
    TraceModel::parse(text, "bad.jsonl");
  } catch (const TraceError& e) {
    if (line) *line = e.line();
    return e.what();
  }
  return "";
}

TEST(TraceModelErrors, TruncatedLastLineNamesFileAndLine) {
  std::vector<std::string> lines = lines_of(read_all(kSmall));
  lines.pop_back();                                 // no end line
  lines.back().resize(lines.back().size() / 2);    // cut mid-step, as a killed writer leaves it
  std::string text = join(lines);
  text.pop_back();  // and no final newline
  size_t line = 0;
  const std::string e = error_of(text, &line);
  EXPECT_EQ(line, lines.size());
  EXPECT_NE(e.find("bad.jsonl:" + std::to_string(lines.size()) + ": truncated line"), std::string::npos) << e;
}

TEST(TraceModelErrors, UnknownVersion) {
  std::vector<std::string> lines = lines_of(read_all(kSmall));
  const size_t at = lines[0].find("\"version\":1");
  ASSERT_NE(at, std::string::npos);
  lines[0].replace(at, 11, "\"version\":2");
  const std::string e = error_of(join(lines));
  EXPECT_NE(e.find("bad.jsonl:1: trace format version 2 is not supported"), std::string::npos) << e;
}

TEST(TraceModelErrors, UnknownStepKind) {
  std::vector<std::string> lines = lines_of(read_all(kSmall));
  const size_t at = lines[5].find("\"kind\":\"");
  lines[5].replace(at, lines[5].find('"', at + 8) - at + 1, "\"kind\":\"teleport\"");
  const std::string e = error_of(join(lines));
  EXPECT_NE(e.find("bad.jsonl:6: unknown step kind \"teleport\""), std::string::npos) << e;
  EXPECT_NE(e.find("publish, deliver, handle"), std::string::npos) << e;
}

TEST(TraceModelErrors, OtherShapesOfBadInput) {
  const std::string header = R"({"kind":"header","format":"sagasim-trace","version":1,"scenario":"x","seed":1})";
  struct Case {
    std::string text, expect;
  } cases[] = {
      {"", "bad.jsonl:1: empty file"},
      {"\n\n", "empty file"},
      {"hello world\n", "bad.jsonl:1: not a sagasim trace: the first line is not JSON"},
      {R"({"kind":"header","format":"sagasim-trace","vers)", "bad.jsonl:1: truncated header line"},
      {R"({"step":1,"t_us":0,"kind":"publish","actor":"client"})"
       "\n",
       "bad.jsonl:1: not a sagasim trace"},
      {R"({"kind":"header","format":"sagasim-trace"})"
       "\n",
       "no integer \"version\""},
      {header + "\n[1,2]\n", "bad.jsonl:2: a step must be a JSON object"},
      {header + "\n{\"step\":1}\n", "bad.jsonl:2: the line has no \"kind\""},
      {header + "\n" + R"({"step":1,"t_us":"soon","kind":"handle","actor":"a-1"})" + "\n", "needs an integer \"t_us\""},
      {header + "\n" + R"({"step":1,"t_us":5,"kind":"handle"})" + "\n", "needs an \"actor\""},
      {header + "\n" + R"({"step":1,"t_us":5,"kind":"handle","actor":"a-1","partition":"x"})" + "\n",
       "\"partition\" must be an integer"},
      {header + "\n" + R"({"step":1,"t_us":5,"kind":"handle","actor":"a-1","detail":[1]})" + "\n",
       "\"detail\" has the wrong type"},
      {header + "\n" + R"({"step":1,"t_us":5,"kind":"handle","actor":"a-1","offset":10000000000000000000})" + "\n",
       "\"offset\" is out of range"},
      {header + "\n" + R"({"step":1,"t_us":5,"kind":"handle","actor":"a-1","offset":99999999999999999999})" + "\n",
       "\"offset\" must be an integer"},
      {header + "\n" + R"({"step":1,"t_us":5.5,"kind":"handle","actor":"a-1"})" + "\n", "\"t_us\" must be an integer"},
      {header + "\n" + R"({"kind":"end","steps":0})" + "\n" + R"({"step":1,"t_us":5,"kind":"handle","actor":"a-1"})" + "\n",
       "bad.jsonl:3: a line after the trace's end line"},
      {header + "\n" + header + "\n", "bad.jsonl:2: a second header"},
      {header + "\n{\"step\":1,\"t_us\":5,\"kind\":\"handle\",\"actor\":\"a-1\"} x\n", "bad.jsonl:2: not valid JSON"},
  };
  for (const Case& c : cases) {
    const std::string e = error_of(c.text);
    EXPECT_NE(e.find(c.expect), std::string::npos) << "input: " << c.text << "\nmessage: " << e;
  }
}

TEST(TraceModelErrors, MissingFileNamesTheFile) {
  try {
    TraceModel::load("/nonexistent/trace.jsonl");
    FAIL() << "loaded a missing file";
  } catch (const TraceError& e) {
    EXPECT_EQ(e.line(), 0u);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/trace.jsonl: cannot open the trace"), std::string::npos) << e.what();
  }
}

TEST(TraceModelErrors, NoEndLineOrAMiscountIsAWarningNotAnError) {
  std::vector<std::string> lines = lines_of(read_all(kSmall));
  const std::string footer = lines.back();
  lines.pop_back();
  const TraceModel cut = TraceModel::parse(join(lines), "cut.jsonl");
  EXPECT_FALSE(cut.complete());
  ASSERT_EQ(cut.warnings().size(), 1u);
  EXPECT_NE(cut.warnings()[0].find("no end line"), std::string::npos);
  lines.pop_back();
  lines.push_back(footer);
  const TraceModel miscount = TraceModel::parse(join(lines), "miscount.jsonl");
  ASSERT_EQ(miscount.warnings().size(), 1u);
  EXPECT_NE(miscount.warnings()[0].find("counts 226 steps but the file has 225"), std::string::npos) << miscount.warnings()[0];
}

// Whatever is cut off or scrambled, the model either loads or throws
// TraceError: no crash, no other exception.
TEST(TraceModelErrors, NeverCrashesOnDamagedTraces) {
  const std::string good = read_all(kSmall);
  std::mt19937 rng(20260101);  // fixed: the same damage every run
  size_t loaded = 0, rejected = 0;
  auto attempt = [&](const std::string& text) {
    try {
      TraceModel::parse(text, "damaged.jsonl");
      ++loaded;
    } catch (const TraceError&) {
      ++rejected;
    }
  };
  for (size_t cut = 0; cut < good.size(); cut += 97) attempt(good.substr(0, cut));
  for (int round = 0; round < 300; ++round) {
    std::string text = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) text[rng() % text.size()] = static_cast<char>(rng() % 256);
    attempt(text);
  }
  EXPECT_GT(loaded, 0u);
  EXPECT_GT(rejected, 0u);
}

}  // namespace
}  // namespace sagasim::viewer
