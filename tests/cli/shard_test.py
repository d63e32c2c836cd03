#!/usr/bin/env python3
"""Sweeps in shards and their merge (docs/scaling.md): for several N the
shards K/N of a range are disjoint and cover it, and `merge` of their seed
records reports exactly what the one-machine sweep reports (the same failing
seeds on a bug-zoo variant, the same coverage); the shard comes from a
scheduler's environment (Slurm job arrays, Kubernetes Indexed Jobs) and the
first line says which; --duration runs fresh seeds from a root seed, each of
which replays alone; JUnit XML; and every bad input is refused with exit 2.

    shard_test.py SAGASIM ROOT
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SAGASIM = sys.argv[1]
ROOT = pathlib.Path(sys.argv[2])
CHAOS = str(ROOT / "scenarios" / "chaos.json")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
from checks import Checks  # noqa: E402

check = Checks()
MUTANT = ["--mutant", "inventory-partial-reservation", "--keep-going"]
SCHEDULER_VARS = ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "JOB_COMPLETION_INDEX",
                  "SAGASIM_SHARD_COUNT", "SAGASIM_SHARD")


def run(*args, env=None, timeout=600):
    clean = {k: v for k, v in os.environ.items() if k not in SCHEDULER_VARS}
    clean.update(env or {})
    return subprocess.run([SAGASIM, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=clean)


def js(r):
    try:
        return json.loads(r.stdout)
    except ValueError:
        return {}


COVERAGE = ("runs", "failing_seeds", "faults_fired", "runs_with_fault", "paths", "classes_not_fired", "paths_not_seen",
            "runs_not_quiet")


def same_report(a, b):
    return {k: a.get(k) for k in COVERAGE} == {k: b.get(k) for k in COVERAGE}


# Pick a bug-zoo variant that fails some seeds of the range and not others.
mutants = run("mutants").stdout.split()
if "inventory-partial-reservation" not in mutants:
    MUTANT = ["--mutant", "payment-no-dedupe", "--keep-going"]

with tempfile.TemporaryDirectory(prefix="sagasim-shard-") as tmp:
    tmp = pathlib.Path(tmp)
    whole = run("sweep", CHAOS, "--seeds", "1..120", "--swarm", "--jobs", "2", "--json", *MUTANT)
    full = js(whole)
    check("the one-machine sweep of the variant fails some seeds", whole.returncode == 1 and 0 < full.get("failures", 0),
          whole.stdout[-1500:] + whole.stderr[-1500:])

    for n in (1, 2, 3, 5):
        files, seen = [], []
        for k in range(n):
            out = tmp / f"n{n}-shard{k}.jsonl"
            r = run("sweep", CHAOS, "--seeds", "1..120", "--swarm", "--jobs", "2", "--json", "--shard", f"{k}/{n}",
                    "--out", out, *MUTANT)
            part = js(r)
            files.append(out)
            seen.append(part.get("runs", 0))
            check(f"shard {k}/{n} says which shard it runs on its first line",
                  r.stderr.splitlines()[:1] == [f"sweep: shard {k}/{n} (from --shard): {len(range(k, 120, n))} of the 120 "
                                                f"seeds 1..120"], r.stderr[:300])
            records = [json.loads(l) for l in out.read_text().splitlines()]
            check(f"shard {k}/{n}: one failure record per failing seed, then one summary",
                  records and records[-1]["kind"] == "summary" and
                  sorted(x["seed"] for x in records if x["kind"] == "failure") == part.get("failing_seeds"),
                  records[-1:])
            s = records[-1] if records else {}
            check(f"shard {k}/{n}: the summary carries commit, digest, seed range and reproduce commands",
                  s.get("commit") and s.get("scenario_digest", "").startswith("fnv1a64:") and
                  s.get("seeds") == {"first": 1, "last": 120} and
                  all("--seed " + str(x["seed"]) in x["reproduce"] for x in records if x["kind"] == "failure"), s)
        check(f"{n} shards: disjoint and together the whole range", sum(seen) == 120, seen)
        m = run("merge", *files, "--json", "--junit", tmp / f"n{n}.xml")
        merged = js(m)
        check(f"merge of {n} shard(s) exits 1 (a violation) and reports what the one machine reports",
              m.returncode == 1 and same_report(full, merged),
              json.dumps({k: (full.get(k), merged.get(k)) for k in COVERAGE if full.get(k) != merged.get(k)})[:2000]
              + m.stderr)
        if n == 3:
            suite = ET.parse(tmp / "n3.xml").getroot().find("testsuite")
            cases = suite.findall("testcase")
            check("JUnit XML: a case per shard and one per failing seed, each failure naming its reproduce command",
                  len(cases) == 3 + full.get("failures", 0) and int(suite.get("failures")) == full.get("failures")
                  and all("run " in c.find("failure").text for c in cases if c.find("failure") is not None),
                  ET.tostring(suite)[:1000])
            human = run("merge", *files)
            check("merge prints the human report", human.returncode == 1 and "3 shard(s)" in human.stdout and
                  "failures    " in human.stdout, human.stdout[-1500:])

    # The schedulers' environments.
    env_cases = [
        ({"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "4", "SLURM_ARRAY_TASK_COUNT": "3"}, "1/3",
         "SLURM_ARRAY_TASK_ID=5 of SLURM_ARRAY_TASK_COUNT=3"),
        ({"JOB_COMPLETION_INDEX": "2", "SAGASIM_SHARD_COUNT": "4"}, "2/4",
         "JOB_COMPLETION_INDEX=2 of SAGASIM_SHARD_COUNT=4"),
        ({"SAGASIM_SHARD": "0/2"}, "0/2", "SAGASIM_SHARD=0/2"),
    ]
    for env, shard, source in env_cases:
        r = run("sweep", CHAOS, "--seeds", "1..12", "--json", env=env)
        first = r.stderr.splitlines()[:1]
        check(f"the shard comes from the environment ({source})",
              r.returncode == 0 and first and first[0].startswith(f"sweep: shard {shard} (from {source})")
              and js(r).get("shard", {}).get("source") == source, r.stderr[:400] + r.stdout[:300])
    r = run("sweep", CHAOS, "--seeds", "1..12", "--json", "--shard", "1/2", env={"SAGASIM_SHARD": "0/2"})
    check("--shard wins over the environment", js(r).get("shard", {}).get("index") == 1, r.stderr[:300])

    # --duration: fresh seeds from a root, each replays alone; shards merge.
    dur = []
    for k in range(2):
        out = tmp / f"dur{k}.jsonl"
        r = run("sweep", CHAOS, "--duration", "2s", "--root-seed", "20261205", "--swarm", "--shard", f"{k}/2",
                "--out", out, "--json", *MUTANT)
        dur.append(out)
        check(f"--duration shard {k}/2 ran fresh seeds for about 2 s", r.returncode in (0, 1) and
              js(r).get("runs", 0) > 0 and js(r).get("seeds") == {"root": 20261205}, r.stdout[-800:] + r.stderr[-800:])
    # A range that --duration cuts short says so, in the shard and merged.
    cut = []
    for k in range(2):
        out = tmp / f"cut{k}.jsonl"
        r = run("sweep", CHAOS, "--seeds", "1..5000000", "--duration", "1s", "--shard",
                f"{k}/2", "--out", out)
        cut.append(out)
        check(f"shard {k}/2 of a range cut short by --duration says so", r.returncode == 0 and
              "stopped when --duration ran out" in r.stdout, r.stdout[-600:] + r.stderr[-300:])
    m = run("merge", *cut, "--json")
    check("the merge of shards cut short reports it (stopped: duration, runs < the range)",
          m.returncode == 0 and js(m).get("stopped") == "duration" and js(m).get("runs", 0) < 5000000,
          m.stdout[-500:] + m.stderr)
    m = run("merge", *dur, "--json")
    merged = js(m)
    check("the timed shards merge", m.returncode in (0, 1) and merged.get("runs", 0) > 0, m.stdout[-500:] + m.stderr)
    if merged.get("failure_details"):
        cmd = merged["failure_details"][0]["reproduce"].split()
        replay = run(*cmd[1:cmd.index("--trace")])
        check("a fresh seed's reproduce command fails again alone", replay.returncode == 1,
              " ".join(cmd) + "\n" + replay.stdout[-800:])

    # Bad input: exit 2, naming what is wrong.
    bad_sweeps = [
        (["--seeds", "1..10", "--shard", "4/4"], "numbered 0..3"),
        (["--seeds", "1..10", "--shard", "1/0"], "between 1 and"),
        (["--seeds", "1..10", "--shard", "one/two"], "want K/N"),
        (["--duration", "2s", "--shard", "0/2"], "--root-seed"),
        (["--duration", "soon"], "--duration"),
        (["--seeds", "1..10", "--root-seed", "3"], "--root-seed"),
        ([], "--seeds"),
        (["--seeds", "1..10", "--out", tmp / "no-such-dir" / "x.jsonl"], "--out"),
    ]
    for args, says in bad_sweeps:
        r = run("sweep", CHAOS, *args)
        check(f"sweep {' '.join(map(str, args))}: exit 2 naming {says}", r.returncode == 2 and says in r.stderr,
              f"rc={r.returncode} {r.stderr[-500:]}")
    for env, says in [({"SLURM_ARRAY_TASK_ID": "1"}, "SLURM_ARRAY_TASK_COUNT"),
                      ({"JOB_COMPLETION_INDEX": "1"}, "SAGASIM_SHARD_COUNT"),
                      ({"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "2"}, "not a non-negative integer")]:
        r = run("sweep", CHAOS, "--seeds", "1..10", env=env)
        check(f"a malformed scheduler environment {env}: exit 2 naming {says}", r.returncode == 2 and says in r.stderr,
              r.stderr[-500:])

    n2 = [tmp / "n2-shard0.jsonl", tmp / "n2-shard1.jsonl"]
    unfinished = tmp / "unfinished.jsonl"
    unfinished.write_text("".join(l + "\n" for l in n2[1].read_text().splitlines()[:-1]))
    garbage = tmp / "garbage.jsonl"
    garbage.write_text('{"kind": "failure", "seed": 3}\n')
    other = tmp / "other.jsonl"
    run("sweep", CHAOS, "--seeds", "1..120", "--swarm", "--shard", "1/2", "--out", other, "--keep-going")
    bad_merges = [
        ([n2[0]], "shard(s) 1 of 2 missing"),
        ([n2[0], n2[0]], "is there twice"),
        ([n2[0], unfinished], "did not finish"),
        ([n2[0], garbage], "garbage.jsonl:1"),
        ([n2[0], other], "mutant"),
        ([n2[0], tmp / "n3-shard1.jsonl"], "shard count"),
        ([tmp / "missing.jsonl"], "cannot open"),
    ]
    for files, says in bad_merges:
        r = run("merge", *files)
        check(f"merge {' '.join(f.name for f in files)}: exit 2 naming '{says}'", r.returncode == 2 and says in r.stderr,
              f"rc={r.returncode} {r.stderr[-500:]}")
    r = run("merge", *n2, "--junit", tmp / "no-such-dir" / "x.xml")
    check("an unwritable --junit: exit 2", r.returncode == 2 and "--junit" in r.stderr, r.stderr[-300:])
    # Coverage gates: the project's CI sweep of the chaos scenario must fire
    # every fault class and take every saga path, in both styles.
    for style in ("choreography", "orchestration"):
        r = run("sweep", CHAOS, "--seeds", "1..500", "--swarm", "--jobs", "2", "--require-coverage", "--json",
                "--style", style)
        check(f"chaos, 500 swarm seeds, {style}: every class fired and every path seen (--require-coverage)",
              r.returncode == 0 and js(r).get("coverage_complete") is True, r.stderr[-800:])
    happy = str(ROOT / "scenarios" / "happy-path.json")
    r = run("sweep", happy, "--seeds", "1..2", "--require-coverage")
    check("a sweep that never takes a declared path fails --require-coverage, naming the path",
          r.returncode == 1 and "never seen:" in r.stderr and "failures    none" in r.stdout, r.stderr[-800:])
    r = run("sweep", happy, "--seeds", "1..2")
    check("the same sweep without the gate passes", r.returncode == 0, r.stderr[-300:])
    r = run("merge", *n2, "--require-coverage")
    check("merge --require-coverage judges the union of the shards (a violation still comes first: exit 1)",
          r.returncode == 1, r.stderr[-300:])
    cov = []
    for k in range(2):
        out = tmp / f"cov{k}.jsonl"
        run("sweep", CHAOS, "--seeds", "1..400", "--swarm", "--shard", f"{k}/2", "--out", out, "--jobs", "2")
        cov.append(out)
    r = run("merge", *cov, "--require-coverage", "--json")
    check("merge --require-coverage passes when the shards together saw everything",
          r.returncode == 0 and js(r).get("coverage_complete") is True, r.stdout[-500:] + r.stderr[-500:])
    r = run("sweep", "--help")
    check("sweep --help explains sharding and the schedulers' variables",
          all(w in r.stdout for w in ("--shard", "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "--duration", "--out")),
          r.stdout[-2000:])

check.finish()
