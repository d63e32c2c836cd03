#!/usr/bin/env python3
"""A sweep as a Slurm job array on a real (one-node) Slurm cluster: start
scripts/slurm-local in a temporary directory, `sbatch --array=0-3 --wait` four
tasks that each run the shard Slurm gives them (SLURM_ARRAY_TASK_ID of
SLURM_ARRAY_TASK_COUNT, no --shard) into seed records, `sagasim merge` them,
and compare with the same sweep on one machine: the same runs, failing seeds,
fault classes fired and saga paths seen. The cluster is stopped whatever
happens, and no daemon may outlive the test.

    slurm_sweep_test.py SAGASIM ROOT

Skipped (exit 77) when Slurm or munge is not installed (scripts/setup installs
slurm-wlm and munge) or when not run as root (slurmd starts jobs; CI runs as
root). Ports: SAGASIM_TEST_SLURM_CTLD_PORT (default 26827) and the next one,
clear of scripts/slurm-local's defaults, so a developer's own local cluster
may keep running.
"""
import json
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

SAGASIM = os.path.abspath(sys.argv[1])
ROOT = pathlib.Path(sys.argv[2]).resolve()
CHAOS = str(ROOT / "scenarios" / "chaos.json")
SLURM_LOCAL = str(ROOT / "scripts" / "slurm-local")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
from checks import Checks  # noqa: E402

SKIP = 77
TASKS = 4
SEEDS = "1..400"
# Bug-zoo variants that fail some chaos seeds and pass others (about 38%,
# 42% and 12% of 1..400 in swarm mode); the first the binary knows is used.
MUTANT_CHOICES = ("order-confirms-after-cancel", "inventory-no-tombstone", "payment-no-tombstone")
# What must agree between the merged shards and the one-machine sweep.
COVERAGE = ("runs", "failures", "failing_seeds", "faults_fired", "runs_with_fault", "paths", "classes_not_fired",
            "paths_not_seen")
# Variables that would pick a shard (or another cluster) for the sweeps below
# if they leaked in from the environment this test runs in.
LEAKY = ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX",
         "SLURM_ARRAY_JOB_ID", "SLURM_JOB_ID", "JOB_COMPLETION_INDEX", "SAGASIM_SHARD_COUNT", "SAGASIM_SHARD",
         "SLURM_CONF")

missing = [c for c in ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "sinfo") if shutil.which(c) is None]
if missing:
    print(f"skipped: Slurm is not installed (no {', '.join(missing)}); scripts/setup installs the Debian packages "
          f"slurm-wlm and munge")
    sys.exit(SKIP)
if os.geteuid() != 0:
    print("skipped: a local Slurm cluster needs root (slurmd starts the jobs); CI runs this as root")
    sys.exit(SKIP)

check = Checks()
ctld_port = int(os.environ.get("SAGASIM_TEST_SLURM_CTLD_PORT", "26827"))
env = {k: v for k, v in os.environ.items() if k not in LEAKY}


def sagasim(*args, timeout=600):
    return subprocess.run([SAGASIM, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def js(r):
    try:
        return json.loads(r.stdout)
    except ValueError:
        return {}


mutants = sagasim("mutants").stdout.split()
mutant = next((m for m in MUTANT_CHOICES if m in mutants), None)
if not check("a bug-zoo variant to sweep", mutant, f"none of {MUTANT_CHOICES} in `sagasim mutants`: {mutants}"):
    check.finish()
SWEEP = ["sweep", CHAOS, "--seeds", SEEDS, "--swarm", "--mutant", mutant, "--keep-going"]

# The reference: the whole range on this machine.
one = sagasim(*SWEEP, "--json")
whole = js(one)
check(f"the one-machine sweep of {mutant} fails some seeds and passes others",
      one.returncode == 1 and 0 < whole.get("failures", 0) < whole.get("runs", 0) == 400,
      f"rc={one.returncode} " + json.dumps({k: whole.get(k) for k in ("runs", "failures")}) + one.stderr[-1500:])


def read_json(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def sweep_on_slurm(tmp, cluster, slurm_args):
    """Starts the cluster, runs the job array, merges and compares; returns
    early (the failure already counted) when a step leaves nothing to check."""
    records = tmp / "records"
    records.mkdir()
    t0 = time.monotonic()
    start = subprocess.run([SLURM_LOCAL, "start", *slurm_args, "--timeout", "90"], capture_output=True, text=True,
                           timeout=180, env=env)
    print(f"slurm-local start: {time.monotonic() - t0:.1f} s\n{start.stdout}{start.stderr}")
    if not check("scripts/slurm-local start brings the node up idle", start.returncode == 0,
                 start.stdout[-2000:] + start.stderr[-4000:]):
        return
    again = subprocess.run([SLURM_LOCAL, "start", *slurm_args], capture_output=True, text=True, timeout=60, env=env)
    check("a second start finds it running and exits 0", again.returncode == 0 and "already running" in again.stdout,
          again.stdout + again.stderr)
    status = subprocess.run([SLURM_LOCAL, "status", *slurm_args], capture_output=True, text=True, timeout=60, env=env)
    check("status: all three daemons run and the node is idle",
          status.returncode == 0 and "running:" in status.stdout and " idle " in status.stdout, status.stdout)

    # Each task runs the shard Slurm hands it: no --shard, no arithmetic.
    script = tmp / "sweep.sbatch"
    script.write_text("#!/bin/sh\n"
                      f"exec {shlex.join([SAGASIM, *SWEEP, '--jobs', '1', '--json'])} \\\n"
                      f"  --out {shlex.quote(str(records))}/shard-$SLURM_ARRAY_TASK_ID.jsonl\n")
    job_env = dict(env, SLURM_CONF=str(cluster / "slurm.conf"))
    t0 = time.monotonic()
    try:
        sb = subprocess.run(["sbatch", f"--array=0-{TASKS - 1}", "--wait", "--parsable", "--job-name=sagasim-sweep",
                             "--cpus-per-task=1", f"--chdir={tmp}", f"--output={tmp}/task-%a.out",
                             f"--error={tmp}/task-%a.err", str(script)],
                            capture_output=True, text=True, timeout=300, env=job_env)
    except subprocess.TimeoutExpired:
        queue = subprocess.run(["sh", "-c", "squeue; sinfo -N -l"], capture_output=True, text=True, timeout=60,
                               env=job_env)
        check("the job array finishes within 300 s", False, queue.stdout + queue.stderr)
        return
    print(f"sbatch --array=0-{TASKS - 1} --wait: {time.monotonic() - t0:.1f} s")
    # sbatch --wait exits with the highest exit code of the array's tasks: 1,
    # since every shard of this variant has failing seeds.
    check("sbatch --wait: the job array ran and its tasks found failures (exit 1)", sb.returncode == 1,
          f"rc={sb.returncode}\n{sb.stdout}{sb.stderr}")

    shard_files = sorted(records.glob("shard-*.jsonl"))
    check(f"{TASKS} tasks, {TASKS} seed record files", [f.name for f in shard_files] ==
          [f"shard-{k}.jsonl" for k in range(TASKS)], [f.name for f in shard_files])
    total = 0
    for k in range(TASKS):
        err_file = tmp / f"task-{k}.err"
        err = err_file.read_text() if err_file.exists() else ""
        out = read_json(tmp / f"task-{k}.out")
        first = err.splitlines()[:1]
        want = f"sweep: shard {k}/{TASKS} (from SLURM_ARRAY_TASK_ID={k} of SLURM_ARRAY_TASK_COUNT={TASKS})"
        check(f"task {k} took its shard from Slurm and said so on its first line",
              first and first[0].startswith(want), f"want {want!r}\n{err[:600]}")
        check(f"task {k} ran a quarter of the seeds", out.get("runs") == 100 and
              out.get("shard", {}).get("index") == k and out.get("shard", {}).get("count") == TASKS,
              json.dumps({key: out.get(key) for key in ("runs", "shard")}) + err[-800:])
        total += out.get("runs", 0)
    check("the tasks together ran the range once", total == 400, total)

    m = sagasim("merge", *shard_files, "--json")
    merged = js(m)
    check("merge of the shards exits 1 (a violation) and names the 4 shards",
          m.returncode == 1 and [(s.get("index"), s.get("count")) for s in merged.get("shards", [])] ==
          [(k, TASKS) for k in range(TASKS)], f"rc={m.returncode} {merged.get('shards')}\n{m.stderr[-1500:]}")
    for key in COVERAGE:
        check(f"merged shards and one machine agree on {key}", merged.get(key) == whole.get(key),
              f"merged:      {json.dumps(merged.get(key))[:1000]}\none machine: {json.dumps(whole.get(key))[:1000]}")
    check("and every failing seed comes with its reproduce command",
          [d.get("seed") for d in merged.get("failure_details", [])] == whole.get("failing_seeds")
          and all(f"--seed {d['seed']}" in d.get("reproduce", "") for d in merged.get("failure_details", [])),
          merged.get("failure_details", [])[:3])


tmp = pathlib.Path(tempfile.mkdtemp(prefix="sagasim-slurm-test-"))
cluster = tmp / "cluster"
slurm_args = ["--dir", str(cluster), "--ctld-port", str(ctld_port), "--slurmd-port", str(ctld_port + 1)]
try:
    sweep_on_slurm(tmp, cluster, slurm_args)
finally:
    t0 = time.monotonic()
    stop = subprocess.run([SLURM_LOCAL, "stop", *slurm_args], capture_output=True, text=True, timeout=180, env=env)
    print(f"slurm-local stop: {time.monotonic() - t0:.1f} s")
    check("scripts/slurm-local stop", stop.returncode == 0, stop.stdout + stop.stderr)
    after = subprocess.run([SLURM_LOCAL, "status", *slurm_args], capture_output=True, text=True, timeout=60, env=env)
    check("after stop no daemon of the cluster runs", after.returncode == 3 and "not running" in after.stdout,
          after.stdout + after.stderr)
    left = []
    for proc in pathlib.Path("/proc").glob("[0-9]*"):
        try:
            if str(cluster).encode() in (proc / "cmdline").read_bytes():
                left.append(proc.name)
        except OSError:
            pass
    check("and no process names the cluster's directory any more", not left, left)
    again = subprocess.run([SLURM_LOCAL, "stop", *slurm_args], capture_output=True, text=True, timeout=60, env=env)
    check("a second stop exits 0", again.returncode == 0, again.stdout + again.stderr)
    if check.failed:
        for log in ("slurmctld.log", "slurmd.log", "munged.out"):
            path = cluster / "logs" / log
            if path.exists():
                print(f"---- last 30 lines of {log} ----\n" + "\n".join(path.read_text().splitlines()[-30:]))
    shutil.rmtree(tmp, ignore_errors=True)

check.finish()
