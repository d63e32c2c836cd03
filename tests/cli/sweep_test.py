#!/usr/bin/env python3
"""The sweep's worker pool: the report does not depend on the number of
threads. Run by every build and, with label `sweep`, under ThreadSanitizer by
`scripts/test --tsan` (the pool is the only threaded code outside kafka/).

    sweep_test.py SAGASIM ROOT
"""
import json
import pathlib
import subprocess
import sys
import tempfile

SAGASIM = sys.argv[1]
ROOT = pathlib.Path(sys.argv[2])
CHAOS = str(ROOT / "scenarios" / "chaos.json")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
from checks import Checks  # noqa: E402

check = Checks()


def sweep(jobs, *extra):
    r = subprocess.run([SAGASIM, "sweep", CHAOS, "--seeds", "1..40", "--swarm", "--json", "--jobs", str(jobs), *extra],
                       capture_output=True, text=True, timeout=600)
    return r.returncode, (json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}), r.stderr


# Fields that legitimately depend on the machine or on the thread count.
VOLATILE = {"jobs", "wall_s", "runs_per_s"}


def stable(report):
    return {k: v for k, v in report.items() if k not in VOLATILE}


# A passing sweep and a failing one (a mutant, every seed run): both must give
# the same report with 1 worker and with 4, whatever the interleaving.
for extra, want_rc in [((), 0), (("--mutant", "payment-no-dedupe", "--keep-going"), 1)]:
    name = " ".join(extra) or "canonical"
    rc1, one, err1 = sweep(1, *extra)
    rc4, four, err4 = sweep(4, *extra)
    check(f"{name}: exit {want_rc} with 1 job", rc1 == want_rc, f"rc={rc1}\n{err1[-2000:]}")
    check(f"{name}: exit {want_rc} with 4 jobs", rc4 == want_rc, f"rc={rc4}\n{err4[-2000:]}")
    check(f"{name}: 40 runs each", one.get("runs") == 40 and four.get("runs") == 40, f"{one.get('runs')} {four.get('runs')}")
    check(f"{name}: 4 jobs report what 1 job reports", stable(one) == stable(four),
          json.dumps(stable(one), sort_keys=True)[:1500] + "\n---\n" + json.dumps(stable(four), sort_keys=True)[:1500])
    if want_rc == 1:
        check(f"{name}: the mutant is caught", one.get("failures", 0) > 0, one.get("failures"))

# --keep-going over many failing seeds: every failing seed is listed, the
# first violation only for the lowest 1,000 (what keeps a long sweep small).
with tempfile.TemporaryDirectory() as tmp:
    one = json.loads((ROOT / "scenarios" / "happy-path.json").read_text())
    one["workload"]["orders"]["count"] = 1
    one["wire"] = True
    path = pathlib.Path(tmp) / "one-order.json"
    path.write_text(json.dumps(one))
    r = subprocess.run([SAGASIM, "sweep", str(path), "--seeds", "1..1200", "--mutant", "breaking-schema-change",
                        "--keep-going", "--json", "--jobs", "2"], capture_output=True, text=True, timeout=600)
    js = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
    check("a sweep in which every seed fails lists all 1,200 failing seeds",
          r.returncode == 1 and js.get("failures") == 1200 and js.get("failing_seeds") == list(range(1, 1201)),
          r.stdout[:500] + r.stderr[-500:])
    details = js.get("failure_details", [])
    check("and the first violation of the lowest 1,000",
          [d["seed"] for d in details] == list(range(1, 1001))
          and all("records_readable" in d["violation"] for d in details), details[:2])

check.finish()
