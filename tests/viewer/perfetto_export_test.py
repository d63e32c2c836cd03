#!/usr/bin/env python3
"""`sagasim export TRACE --perfetto OUT.json` against a known trace
(tests/viewer/data/small.trace.ndjson): the output is Chrome trace-event JSON
whose structure Perfetto's and chrome://tracing's importers accept, and it
says what the trace says.

What the importers need, checked here: every event has a phase, pid and tid
and a numeric ts; complete slices ("X") have a duration and do not overlap on
a thread (they would mis-nest); a v1 flow has one "s" and one "f" with the same
id, category and name, each at a timestamp inside a slice on its thread (flows
bind to the enclosing slice); async slices ("b"/"e") pair up by id.

usage: perfetto_export_test.py SAGASIM SOURCE_DIR
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

sagasim, source = sys.argv[1], sys.argv[2]
trace = os.path.join(source, "tests/viewer/data/small.trace.ndjson")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def export(path, out):
    return subprocess.run([sagasim, "export", path, "--perfetto", out], capture_output=True, text=True, timeout=120)


with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "small.perfetto.json")
    r = export(trace, out)
    check(r.returncode == 0, f"export exit {r.returncode}: {r.stderr}")
    check("226 steps" in r.stdout, f"summary: {r.stdout!r}")
    doc = json.load(open(out))

    steps = [json.loads(l) for l in open(trace)][1:-1]
    by_step = {s["step"]: s for s in steps}

    check(isinstance(doc, dict) and isinstance(doc.get("traceEvents"), list), "top level: {traceEvents: [...]}")
    check(doc.get("displayTimeUnit") in ("ms", "ns"), "displayTimeUnit")
    check(doc.get("otherData", {}).get("trace_hash") == "26c9c1560aa91599", "otherData carries the trace hash")
    events = doc["traceEvents"]

    # Every event: a known phase, integer pid/tid, a name; a numeric ts except metadata.
    for e in events:
        check(e.get("ph") in ("M", "X", "i", "s", "f", "b", "e"), f"phase {e.get('ph')!r}")
        check(isinstance(e.get("pid"), int) and isinstance(e.get("tid"), int), f"pid/tid in {e}")
        check(isinstance(e.get("name"), str) and e["name"], f"name in {e}")
        if e["ph"] != "M":
            check(isinstance(e.get("ts"), (int, float)) and e["ts"] >= 0, f"ts in {e}")

    # Tracks: named processes and threads, every used thread named.
    procs = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    for name in ("order", "payment", "inventory", "broker", "topic orders", "topic payments"):
        check(name in procs.values(), f"process {name!r} in {sorted(procs.values())}")
    check(len(threads) == 20, f"20 tracks (one per lane), got {len(threads)}")
    for e in events:
        if e["ph"] in ("X", "i", "s", "f"):
            check((e["pid"], e["tid"]) in threads, f"unnamed thread for {e['name']}")
    thread_of = {v: k for k, v in threads.items()}
    check(procs[thread_of["payment-2"][0]] == "payment", "payment-2 is a thread of the payment process")
    check(procs[thread_of["orders[1]"][0]] == "topic orders", "orders[1] is a thread of the topic orders process")

    # One event per step: handlings as slices, everything else as instants.
    xs = [e for e in events if e["ph"] == "X"]
    insts = [e for e in events if e["ph"] == "i"]
    kinds = collections.Counter(s["kind"] for s in steps)
    check(len(xs) == kinds["handle"], f"{len(xs)} slices for {kinds['handle']} handlings")
    check(len(insts) == len(steps) - kinds["handle"], "an instant per other step")
    seen = collections.Counter(e["args"]["step"] for e in xs + insts)
    check(sorted(seen) == sorted(by_step) and max(seen.values()) == 1, "every step exactly once")
    for e in xs + insts:
        s = by_step[e["args"]["step"]]
        check(e["cat"] == s["kind"], f"category of step {s['step']}")
        check(abs(e["ts"] - s["t_us"]) < 200.5, f"step {s['step']} at {e['ts']} µs, traced at {s['t_us']}")
        if e["ph"] == "i":
            check(e.get("s") == "t" and e["ts"] == s["t_us"], f"instant of step {s['step']}")
        if s["kind"] in ("deliver", "handle"):
            check(threads[(e["pid"], e["tid"])] == s["actor"], f"step {s['step']} on its instance's track")
        if s["kind"] == "publish":
            check(threads[(e["pid"], e["tid"])] == f"{s['topic']}[{s['partition']}]", f"publish {s['step']} on its partition")
    x19 = next(e for e in xs if e["args"]["step"] == 19)
    check(x19["name"] == "PlaceOrder" and x19["args"]["order"] == "o-3", f"handle step 19: {x19}")

    # Slices: positive durations, never overlapping on a thread.
    slices = collections.defaultdict(list)
    for e in xs:
        check(isinstance(e.get("dur"), (int, float)) and e["dur"] > 0, f"dur of {e}")
        slices[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"]))
    for key, spans in slices.items():
        spans.sort()
        for (a0, a1), (b0, _) in zip(spans, spans[1:]):
            check(a1 <= b0 + 1e-6, f"overlapping slices on {threads[key]}: ends {a1}, next starts {b0}")

    def inside_slice(e):
        return any(a < e["ts"] < b for a, b in slices[(e["pid"], e["tid"])])

    # Flows: one "s" and one "f" per id, same cat and name, bound inside slices, in time order.
    flows = collections.defaultdict(dict)
    for e in events:
        if e["ph"] in ("s", "f"):
            check(e["ph"] not in flows[e["id"]], f"flow {e['id']} has two {e['ph']!r}")
            flows[e["id"]][e["ph"]] = e
    check(len(flows) > 20, f"causation flows: {len(flows)}")
    for fid, pair in flows.items():
        s, f = pair.get("s"), pair.get("f")
        check(s is not None and f is not None, f"flow {fid} is not a pair")
        if not (s and f):
            continue
        check((s["cat"], s["name"]) == (f["cat"], f["name"]), f"flow {fid} cat/name differ")
        check(f.get("bp") == "e", f"flow {fid} end binds to its enclosing slice")
        check(s["ts"] <= f["ts"], f"flow {fid} goes back in time")
        check(inside_slice(s) and inside_slice(f), f"flow {fid} is not inside slices")
    # The known chain of o-3: PlaceOrder handled by order-1 caused OrderCreated, handled by payment-2.
    x33 = next(e for e in xs if e["args"]["step"] == 33)
    check(any(p["s"]["tid"] == x19["tid"] and p["f"]["tid"] == x33["tid"] and x19["ts"] < p["s"]["ts"] < x19["ts"] + x19["dur"]
              and x33["ts"] < p["f"]["ts"] < x33["ts"] + x33["dur"] for p in flows.values() if "s" in p and "f" in p),
          "a flow from handling e-3 (step 19) to handling e-6 (step 33)")

    # Fault intervals: async pairs, the stall of inventory-1 from 150 to 450 ms on the inventory process.
    asyncs = collections.defaultdict(dict)
    for e in events:
        if e["ph"] in ("b", "e"):
            asyncs[e["id"]][e["ph"]] = e
    for aid, pair in asyncs.items():
        check(set(pair) == {"b", "e"}, f"async {aid} unpaired")
        if set(pair) == {"b", "e"}:
            check(pair["b"]["ts"] <= pair["e"]["ts"] and pair["b"]["pid"] == pair["e"]["pid"], f"async {aid}")
    stalls = [p["b"] for p in asyncs.values() if p["b"]["name"] == "stall"]
    check(len(stalls) == 1 and stalls[0]["ts"] == 150000 and procs[stalls[0]["pid"]] == "inventory", f"stall: {stalls}")
    check(any(p["e"]["ts"] == 450000 for p in asyncs.values() if p["b"]["name"] == "stall"), "stall ends at 450 ms")

    # Bad input: exit 2 with a message naming file:line; nothing half-written counts as success.
    lines = open(trace).read().splitlines()
    bad_cases = {
        "truncated.jsonl": ("\n".join(lines[:40]) + "\n" + lines[40][: len(lines[40]) // 2], "truncated.jsonl:41: truncated line"),
        "version.jsonl": ("\n".join([lines[0].replace('"version":1', '"version":9')] + lines[1:]) + "\n",
                          "version.jsonl:1: trace format version 9 is not supported"),
        "kind.jsonl": ("\n".join(lines[:3] + [lines[3].replace('"kind":"lifecycle"', '"kind":"warp"')] + lines[4:]) + "\n",
                       'kind.jsonl:4: unknown step kind "warp"'),
    }
    for name, (text, expect) in bad_cases.items():
        p = os.path.join(tmp, name)
        open(p, "w").write(text)
        r = export(p, os.path.join(tmp, "out.json"))
        check(r.returncode == 2, f"{name}: exit {r.returncode}, want 2")
        check(expect in r.stderr, f"{name}: stderr {r.stderr!r} lacks {expect!r}")
    r = export(os.path.join(tmp, "missing.jsonl"), os.path.join(tmp, "out.json"))
    check(r.returncode == 2 and "missing.jsonl: cannot open the trace" in r.stderr, f"missing file: {r.returncode} {r.stderr!r}")
    r = export(trace, os.path.join(tmp, "no-such-dir", "out.json"))
    check(r.returncode == 2 and "cannot open the output" in r.stderr, f"unwritable output: {r.returncode} {r.stderr!r}")
    r = subprocess.run([sagasim, "export", trace], capture_output=True, text=True)
    check(r.returncode == 2, f"export without --perfetto: exit {r.returncode}")

for f in failures:
    print("FAIL:", f)
print(f"perfetto export: {len(failures)} failures")
sys.exit(1 if failures else 0)
