#!/usr/bin/env python3
"""End-to-end checks of the sagasim command line: determinism of --json,
exit codes, and clear messages for bad input."""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

SAGASIM = sys.argv[1]
ROOT = pathlib.Path(sys.argv[2])
HAPPY = str(ROOT / "scenarios" / "happy-path.json")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
from checks import Checks  # noqa: E402

check = Checks()


def run(*args):
    return subprocess.run([SAGASIM, *args], capture_output=True, text=True, timeout=120)


# Determinism: the same seed gives the same hash; another seed another hash.
a, b, c = run("run", HAPPY, "--seed", "7", "--json"), run("run", HAPPY, "--seed", "7", "--json"), run("run", HAPPY, "--seed", "8", "--json")
check("seed 7 exits 0", a.returncode == 0, a.stdout + a.stderr)
ja, jb, jc = json.loads(a.stdout), json.loads(b.stdout), json.loads(c.stdout)
check("same seed, same trace_hash", ja["trace_hash"] == jb["trace_hash"], f'{ja["trace_hash"]} {jb["trace_hash"]}')
check("seed 8, other trace_hash", ja["trace_hash"] != jc["trace_hash"])
for key in ["seed", "trace_hash", "orders", "invariants", "faults_fired", "deliveries", "virtual_ms", "wall_ms"]:
    check(f"--json has {key}", key in ja, ja.keys())
check("every invariant passes", all(v == "pass" for v in ja["invariants"].values()), ja["invariants"])
o = ja["orders"]
check("every order decided", o["pending"] == 0 and o["confirmed"] + o["cancelled"] == o["total"] > 0, o)
check("both outcomes occur", o["confirmed"] > 0 and o["cancelled"] > 0, o)
check("seed from the file is 7", json.loads(run("run", HAPPY, "--json").stdout)["seed"] == 7)

with tempfile.TemporaryDirectory() as tmp:
    trace = os.path.join(tmp, "t.jsonl")
    r = run("run", HAPPY, "--seed", "7", "--trace", trace, "--json")
    lines = pathlib.Path(trace).read_text().splitlines()
    check("trace header", json.loads(lines[0])["kind"] == "header")
    check("trace footer hash matches --json", json.loads(lines[-1])["trace_hash"] == ja["trace_hash"])
    r2 = run("run", HAPPY, "--seed", "7", "--trace", trace + "2")
    check("trace files are byte-identical", pathlib.Path(trace).read_bytes() == pathlib.Path(trace + "2").read_bytes())
    check("human summary names the hash", ja["trace_hash"] in r2.stdout, r2.stdout)

    # Bad input: exit 2 and a message naming what and where.
    def bad(name, args, *needles):
        r = run(*args)
        check(f"{name}: exit 2", r.returncode == 2, f"rc={r.returncode}\n{r.stdout}{r.stderr}")
        for n in needles:
            check(f"{name}: message names {n!r}", n in r.stderr, r.stderr)

    bad("missing file", ["run", "/nonexistent/s.json"], "/nonexistent/s.json", "cannot open")
    bad("a directory", ["run", str(ROOT / "scenarios")], "is a directory")
    broken = os.path.join(tmp, "broken.json")
    pathlib.Path(broken).write_text('{\n  "name": "x",\n  oops\n}\n')
    bad("syntax error", ["run", broken], broken + ":3:", "not valid JSON")
    spec = json.loads(pathlib.Path(HAPPY).read_text())
    spec["topology"]["partitions"] = 0
    invalid = os.path.join(tmp, "invalid.json")
    pathlib.Path(invalid).write_text(json.dumps(spec))
    bad("out of range", ["run", invalid], invalid, "/topology/partitions", "out of range")
    spec = json.loads(pathlib.Path(HAPPY).read_text())
    spec["workload"]["orders"]["cuont"] = 3
    pathlib.Path(invalid).write_text(json.dumps(spec))
    bad("typo", ["run", invalid], "/workload/orders/cuont", "unknown field")
    bad("bad seed", ["run", HAPPY, "--seed", "abc"], "--seed")
    bad("no command", [])
    bad("unknown option", ["run", HAPPY, "--sed", "1"], "--sed")
    bad("unwritable trace", ["run", HAPPY, "--trace", "/nonexistent/dir/t.jsonl"], "/nonexistent/dir/t.jsonl")
    bad("unknown style", ["run", HAPPY, "--style", "telepathy"], "--style", "unknown style 'telepathy'", "orchestration")
    bad("a mutant of the other style", ["run", HAPPY, "--style", "orchestration", "--mutant", "payment-no-tombstone"],
        "payment-no-tombstone", "orchestration")
    spec = json.loads(pathlib.Path(HAPPY).read_text())
    spec["style"] = "telepathy"
    pathlib.Path(invalid).write_text(json.dumps(spec))
    bad("unknown style in the file", ["run", invalid], invalid, "/style", "unknown style")

    # Orchestration: the same scenario and invariants; the style is in the JSON
    # and the trace header, so replay needs no flag.
    o = run("run", HAPPY, "--style", "orchestration", "--json", "--trace", trace + "o")
    jo = json.loads(o.stdout)
    check("orchestration passes", o.returncode == 0 and jo["style"] == "orchestration", o.stdout[-2000:] + o.stderr)
    check("orchestration decides every order", jo["orders"]["pending"] == 0 and jo["orders"]["confirmed"] > 0, jo["orders"])
    check("orchestration differs from choreography", jo["trace_hash"] != ja["trace_hash"])
    check("orchestration reproduce line names the style", "--style orchestration" in jo["reproduce"], jo["reproduce"])
    rp = run("replay", trace + "o")
    check("orchestration trace replays", rp.returncode == 0, rp.stdout + rp.stderr)
    same = run("run", HAPPY, "--style", "choreography", "--json")
    check("--style choreography is the default, byte for byte", json.loads(same.stdout)["trace_hash"] == ja["trace_hash"])

    # Fault plans: a bad entry is bad input too.
    spec = json.loads(pathlib.Path(HAPPY).read_text())
    spec["faults"] = [{"class": "meteor", "at_ms": 5}]
    pathlib.Path(invalid).write_text(json.dumps(spec))
    bad("unknown fault class", ["run", invalid], "/faults/0/class", "unknown fault class 'meteor'")
    spec["faults"] = [{"class": "crash", "target": "payment-9", "probability": 0.1}]
    pathlib.Path(invalid).write_text(json.dumps(spec))
    bad("unknown instance", ["run", invalid], "/faults/0/target", "payment-9")

    # Shrinking a run that passes is bad input, and leaves no file behind.
    out = os.path.join(tmp, "nothing.min.json")
    bad("nothing to shrink", ["shrink", HAPPY, "--seed", "7", "--out", out], "nothing to shrink")
    check("a failed shrink leaves no file", not os.path.exists(out))

    # Sweeps.
    chaos = str(ROOT / "scenarios" / "chaos.json")
    s = run("sweep", chaos, "--seeds", "1..20", "--swarm", "--jobs", "2", "--json")
    check("sweep exits 0", s.returncode == 0, s.stdout[-2000:] + s.stderr)
    js = json.loads(s.stdout)
    for key in ["runs", "failures", "failing_seeds", "faults_fired", "paths", "runs_per_s"]:
        check(f"sweep --json has {key}", key in js, js.keys())
    check("sweep ran 20 runs, none failed", js["runs"] == 20 and js["failures"] == 0 and js["failing_seeds"] == [], js)
    check("sweep reports fault coverage", len(js["faults_fired"]) >= 10, js["faults_fired"])
    check("sweep is deterministic", json.loads(run("sweep", chaos, "--seeds", "1..20", "--swarm", "--json").stdout)["faults_fired"] == js["faults_fired"])
    s = run("sweep", chaos, "--seeds", "1..3")
    check("plain sweep prints a summary", s.returncode == 0 and "runs        3" in s.stdout and "failures    none" in s.stdout, s.stdout)
    bad("reversed seeds", ["sweep", chaos, "--seeds", "5..1"], "--seeds", "greater than the last")
    bad("bad seeds", ["sweep", chaos, "--seeds", "x..9"], "--seeds")
    bad("zero jobs", ["sweep", chaos, "--seeds", "1..2", "--jobs", "0"], "--jobs")

    h = run("run", "--help")
    check("--help exits 0 and explains exit codes", h.returncode == 0 and "Exit codes" in h.stdout, h.stdout)
    check("--version", run("--version").returncode == 0)

check.finish()
