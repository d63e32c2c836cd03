#!/usr/bin/env python3
"""Golden trace hashes: every library scenario (in both styles of the order
saga, with swarm seeds and with every bug-zoo variant) must give the trace it
gave when the golden file was written. A refactoring that changes behaviour,
even by one step, shows up here as a changed hash.

Two digests per run, in tests/golden/trace_hashes.json:
  trace_hash   the run's own trace hash (header and every step)
  steps_sha256 SHA-256 of the trace's step lines only (no header, no footer):
               what the run did, independent of how the header spells the
               scenario. A change that touches the header alone (a scenario
               file gaining a key) changes trace_hash and keeps steps_sha256.

    trace_hashes_test.py SAGASIM ROOT            # check
    trace_hashes_test.py SAGASIM ROOT --update   # rewrite the golden file (say why in the commit)
"""
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile

SAGASIM = sys.argv[1]
ROOT = pathlib.Path(sys.argv[2])
UPDATE = "--update" in sys.argv[3:]
GOLDEN = ROOT / "tests" / "golden" / "trace_hashes.json"
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
from checks import Checks  # noqa: E402


def cases():
    scenarios = sorted(p.name for p in (ROOT / "scenarios").glob("*.json") if p.name != "scenario.schema.json")
    for name in scenarios:
        yield (f"scenarios/{name}",)
        yield (f"scenarios/{name}", "--style", "orchestration")
        yield (f"scenarios/{name}", "--style", "choreography")
    for seed in range(1, 11):
        yield ("scenarios/chaos.json", "--seed", str(seed), "--swarm")
        yield ("scenarios/chaos.json", "--seed", str(seed), "--swarm", "--style", "orchestration")
        yield ("scenarios/happy-path.json", "--seed", str(seed))
        # Swarm version 1 (before client retries and varied idempotence): its
        # steps are those the version-1 golden file recorded for "--swarm",
        # so a seed an older sweep reported still re-runs as it ran.
        yield ("scenarios/chaos.json", "--seed", str(seed), "--swarm", "--swarm-version", "1")
        yield ("scenarios/chaos.json", "--seed", str(seed), "--swarm", "--swarm-version", "1", "--style", "orchestration")
    mutants = subprocess.run([SAGASIM, "mutants"], capture_output=True, text=True, check=True).stdout.split()
    for m in mutants:
        name = m.split()[0]
        yield ("scenarios/chaos.json", "--seed", "3", "--swarm", "--mutant", name)
        yield ("scenarios/chaos.json", "--seed", "3", "--swarm", "--mutant", name, "--style", "orchestration")


def digest(args, tmp):
    trace = os.path.join(tmp, "t.jsonl")
    r = subprocess.run([SAGASIM, "run", *args, "--trace", trace, "--json"], cwd=ROOT, capture_output=True, text=True,
                       timeout=600)
    if r.returncode == 2:
        return None  # a mutant that changes nothing in that style, refused: nothing to compare
    out = json.loads(r.stdout)
    lines = pathlib.Path(trace).read_bytes().splitlines(keepends=True)
    return {"trace_hash": out["trace_hash"], "steps_sha256": hashlib.sha256(b"".join(lines[1:-1])).hexdigest(),
            "exit": r.returncode}


with tempfile.TemporaryDirectory() as tmp:
    got = {}
    for args in cases():
        d = digest(args, tmp)
        if d is not None:
            got[" ".join(args)] = d

if UPDATE:
    GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(got)} golden digests to {GOLDEN}")
    sys.exit(0)

check = Checks()
want = json.loads(GOLDEN.read_text())
for key, w in sorted(want.items()):
    g = got.get(key)
    check(f"{key}: still runs", g is not None, "the run was refused (exit 2)")
    if g is None:
        continue
    check(f"{key}: same steps", g["steps_sha256"] == w["steps_sha256"], f"golden {w} now {g}")
    check(f"{key}: same trace hash", g["trace_hash"] == w["trace_hash"], f"golden {w} now {g}")
    check(f"{key}: same verdict", g["exit"] == w["exit"], f"golden {w} now {g}")
for key in sorted(set(got) - set(want)):
    check(f"{key}: has a golden digest", False, "new case: run with --update and say why in the commit")
check(f"{len(want)} golden cases", len(want) >= 100, len(want))
check.finish()
