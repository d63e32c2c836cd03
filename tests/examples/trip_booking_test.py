#!/usr/bin/env python3
"""The public API end to end: install sagasim into a temporary prefix, build
examples/trip-booking against it as an outside project (find_package), and
run it. Its main is sagasim::cli::main and nothing else (a few lines), so it has
every command: its scenario passes, a threaded swarm sweep passes with progress,
coverage and JSON, its broken variant (--mutant) is caught by a sweep and
minimised by shrink, its traces are byte-identical per seed and `trip-sim replay`
reproduces them, `trip-sim export` reads them, its property tests (RapidCheck)
pass and catch and shrink the broken variant. The order saga's headers, the
production runtime's headers and the CLI's internals must not be installed.

Production mode for the team's own saga: on a real broker this test starts
itself (scripts/kafka-local), `trip-sim serve` runs the four trip services,
`trip-sim place` books trips and times them while the orchestrator and a
provider are SIGKILLed and restarted and the broker itself is restarted, and
`trip-sim check` passes; then, on
a fresh broker, the broken variant served with --mutant and a 1 ms trip
timeout (every reservation lands late) fails `check` naming the invariant.
SAGASIM_SKIP_KAFKA=1 skips this part.

usage: trip_booking_test.py BUILD_DIR SOURCE_DIR"""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

BUILD = pathlib.Path(sys.argv[1])
ROOT = pathlib.Path(sys.argv[2])
EXAMPLE = ROOT / "examples" / "trip-booking"
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
from checks import Checks  # noqa: E402

check = Checks()


def run(*args, env=None, timeout=900):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, env=env)
    return r


def production(sim, scenario, tmp):
    import json
    import signal
    import time
    port = int(os.environ.get("SAGASIM_TRIP_LIVE_PORT", "29492"))
    kafka_dir = tmp / "kafka"
    kafka_local = ROOT / "scripts" / "kafka-local"
    props = tmp / "client.properties"
    props.write_text(f"bootstrap.servers=127.0.0.1:{port}\nsession.timeout.ms=6000\nheartbeat.interval.ms=1000\n")
    K = ["--kafka", props]
    services = ["trip", "flight", "hotel", "car"]

    def deployment(name, scenario_file, mutant=None):
        """Starts a fresh broker and the four services; returns (procs, dbs)."""
        r = run(kafka_local, "start", "--dir", kafka_dir, "--port", port, "--fresh", "--timeout", "120", timeout=300)
        check(f"{name}: the local broker starts", r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:])
        dbs = {s: tmp / f"{name}-{s}.db" for s in services}
        procs = {s: serve(name, s, dbs[s], scenario_file, mutant) for s in services}
        return procs, dbs

    def serve(name, service, db, scenario_file, mutant=None):
        extra = ["--mutant", mutant] if mutant and service == "trip" else []
        logf = open(tmp / f"{name}-{service}.log", "a")
        return subprocess.Popen([str(a) for a in [sim, "serve", service, *K, "--db", db, "--scenario", scenario_file,
                                                  *extra]], stdout=logf, stderr=logf)

    def stop(procs):
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
        codes = [p.wait(timeout=60) for p in procs.values()]
        run(kafka_local, "stop", "--dir", kafka_dir)
        return codes

    # The simulated scenario's 2.5 s timeout is for simulated latencies: on a
    # broker whose groups are still joining, the first trips would all time
    # out. The same scenario with a production-sized timeout:
    live = json.loads(scenario.read_text())
    live["saga"]["trip_timeout_ms"] = 20000
    live["saga"]["liveness_bound_ms"] = 60000
    scenario = tmp / "trip-live.json"
    scenario.write_text(json.dumps(live))
    other = json.loads(scenario.read_text())
    other["workload"]["items"]["flight"][0]["capacity"] += 1
    other_file = tmp / "trip-other.json"
    other_file.write_text(json.dumps(other))
    procs, dbs = deployment("live", scenario)
    try:
        # 80 trips at 20/s while the orchestrator and a provider are SIGKILLed
        # and restarted, and the broker itself is restarted.
        placer = subprocess.Popen([str(a) for a in [sim, "place", *K, "--scenario", scenario, "--count", "80", "--rate",
                                                    "20", "--wait", "240", "--run-id", "trip-live", "--json"]],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        t0 = time.time()
        for victim, at in (("hotel", 1.0), ("trip", 2.5)):
            time.sleep(max(0.0, t0 + at - time.time()))
            procs[victim].send_signal(signal.SIGKILL)
            procs[victim].wait()
            time.sleep(0.7)
            procs[victim] = serve("live", victim, dbs[victim], scenario)
        time.sleep(max(0.0, t0 + 3.5 - time.time()))
        r = run(kafka_local, "stop", "--dir", kafka_dir)
        check("live: the broker stops mid-run", r.returncode == 0, r.stdout + r.stderr)
        r = run(kafka_local, "start", "--dir", kafka_dir, "--port", port, "--timeout", "120", timeout=300)
        check("live: the broker starts again on its data", r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:])
        out, err = placer.communicate(timeout=400)
        try:
            placed = json.loads(out)
        except ValueError:
            placed = {}
        check("trip-sim place books 80 trips on real Kafka through two SIGKILLs and a broker restart, and sees "
              "every decision", placer.returncode == 0 and placed.get("decided") == 80, out + err)
        check("the live trips take more than one path", len(placed.get("outcomes", {})) >= 2, placed.get("outcomes"))
        r = run(sim, "check", *K, "--scenario", scenario, *[a for s in services for a in ("--db", dbs[s])],
                "--wait", "60", "--json", timeout=300)
        try:
            checked = json.loads(r.stdout)
        except ValueError:
            checked = {}
        check("trip-sim check passes on the live trip deployment after the crashes",
              r.returncode == 0 and checked.get("ok") is True, r.stdout[-3000:] + r.stderr[-2000:])
        check("the check saw the 80 trips, in the saga's words",
              checked.get("instances", {}).get("total") == 80 and checked.get("instances", {}).get("noun") == "trips",
              checked.get("instances"))
        r = run(sim, "check", *K, "--scenario", other_file, *[a for s in services for a in ("--db", dbs[s])],
                timeout=300)
        check("check refuses databases opened from another workload (one more seat on a flight), exit 2",
              r.returncode == 2 and "opening state" in r.stderr, r.stdout + r.stderr)
        r = run(sim, "check", *K, "--scenario", scenario, "--db", dbs["trip"], timeout=300)
        check("check names a missing service database, exit 2", r.returncode == 2 and "no flight database" in r.stderr,
              r.stderr)
    finally:
        codes = stop(procs)
    check("every trip service stops cleanly on SIGTERM", codes == [0, 0, 0, 0], codes)

    # The broken variant: a 1 ms timeout cancels every trip before its first
    # reservation comes back; the orchestrator as written releases each late
    # one, the broken one keeps it.
    late = json.loads(scenario.read_text())
    late["saga"]["trip_timeout_ms"] = 1
    late_file = tmp / "trip-late.json"
    late_file.write_text(json.dumps(late))
    for mutant in (None, "keeps-late-reservation"):
        name = "broken" if mutant else "late"
        procs, dbs = deployment(name, late_file, mutant)
        try:
            r = run(sim, "place", *K, "--scenario", late_file, "--count", "20", "--wait", "90", "--run-id", name,
                    timeout=300)
            check(f"{name}: 20 trips placed and decided", r.returncode == 0, r.stdout + r.stderr)
            r = run(sim, "check", *K, "--scenario", late_file, *[a for s in services for a in ("--db", dbs[s])],
                    "--wait", "60", timeout=300)
            if mutant:
                check("the broken variant on real Kafka fails check: cancelled_trip_holds_nothing",
                      r.returncode == 1 and "cancelled_trip_holds_nothing" in r.stdout
                      and "VIOLATION cancelled_trip_holds_nothing trip" in r.stdout, r.stdout[-3000:] + r.stderr)
            else:
                check("the saga as written passes check with every reservation late",
                      r.returncode == 0, r.stdout[-3000:] + r.stderr)
        finally:
            stop(procs)


with tempfile.TemporaryDirectory(prefix="sagasim-example-") as tmp:
    tmp = pathlib.Path(tmp)
    prefix, build = tmp / "prefix", tmp / "build"
    r = run("cmake", "--install", BUILD, "--prefix", prefix)
    check("cmake --install succeeds", r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:])
    inc = prefix / "include" / "sagasim"
    for public in ["core/service.h", "core/violation.h", "sim/saga.h", "sim/registry.h", "sim/scenario.h",
                   "faults/world.h", "properties/properties.h", "cli/main.h"]:
        check(f"public header {public} installed", (inc / public).exists())
    for internal in ["sagas", "services", "invariants", "kafka", "cli/commands.h", "cli/live.h"]:  # headers
        check(f"internal {internal} not installed", not (inc / internal).exists())
    libs = " ".join(p.name for p in (prefix / "lib").glob("*.a"))
    check("the order saga's libraries are not installed", "order" not in libs, libs)
    check("the Kafka runtime's libraries are (sagasim::cli's serve, place, check link them)",
          "libsagasim_kafka_runtime.a" in libs, libs)
    main_lines = [l for l in (EXAMPLE / "main.cc").read_text().splitlines() if l.strip()]
    check("trip-sim's main is a few lines", len(main_lines) <= 15, len(main_lines))
    check("package config installed", (prefix / "lib" / "cmake" / "sagasim" / "sagasimConfig.cmake").exists())

    # ccache keyed on paths relative to the temporary directory, so that
    # rebuilding the example in a new directory hits the cache.
    env = dict(os.environ, CCACHE_BASEDIR=str(tmp), CCACHE_NOHASHDIR="1")
    configure = ["cmake", "-S", EXAMPLE, "-B", build, "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_PREFIX_PATH={prefix}"]
    if shutil.which("ninja"):
        configure += ["-G", "Ninja"]
    if shutil.which("ccache"):
        configure.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
    r = run(*configure, env=env)
    check("the example configures against the installed package", r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:])
    r = run("cmake", "--build", build, "-j", "1", env=env)
    check("the example builds", r.returncode == 0, r.stdout[-5000:] + r.stderr[-5000:])

    sim = build / "trip-sim"
    scenario = EXAMPLE / "scenarios" / "trip.json"
    r = run(sim, "run", scenario)
    check("trip.json passes", r.returncode == 0 and "FAIL" not in r.stdout, r.stdout + r.stderr)
    import re
    m = re.search(r"(\d+) booked", r.stdout)
    check("some trips are booked", m is not None and int(m.group(1)) > 0, r.stdout)
    import json
    r = run(sim, "sweep", scenario, "--seeds", "1..300", "--swarm", "--jobs", "2")
    check("a threaded swarm sweep of the correct saga passes", r.returncode == 0, r.stdout[-3000:] + r.stderr)
    check("the sweep reports progress, fault coverage and saga paths", "runs/s" in r.stdout + r.stderr
          and "saga paths" in r.stdout and "booked" in r.stdout and "trips" in r.stdout, r.stdout[-3000:] + r.stderr)
    r = run(sim, "sweep", scenario, "--seeds", "1..50", "--swarm", "--jobs", "2", "--json")
    try:
        js = json.loads(r.stdout)
    except ValueError:
        js = {}
    check("sweep --json gives the runs and coverage", r.returncode == 0 and js.get("runs") == 50 and "paths" in js
          and "faults_fired" in js, r.stdout[-3000:] + r.stderr)
    r = run(sim, "mutants", "--verbose")
    check("trip-sim mutants lists its own variant and the runtime's", r.returncode == 0 and
          "keeps-late-reservation" in r.stdout and "outbox-before-commit" in r.stdout
          and "payment-no-dedupe" not in r.stdout, r.stdout + r.stderr)
    r = run(sim, "run", scenario, "--mutant", "payment-no-dedupe")
    check("another saga's mutant is refused naming the known ones", r.returncode == 2 and "keeps-late-reservation"
          in r.stderr, r.stdout + r.stderr)
    r = run(sim, "sweep", scenario, "--seeds", "1..300", "--swarm", "--mutant", "keeps-late-reservation")
    check("a swarm sweep catches the broken variant", r.returncode == 1 and "cancelled_trip_holds_nothing" in r.stdout
          and "trip-sim run" in r.stdout, r.stdout[-3000:] + r.stderr)
    t1, t2 = tmp / "t1.jsonl", tmp / "t2.jsonl"
    r1 = run(sim, "run", scenario, "--seed", "7", "--swarm", "--trace", t1)
    r2 = run(sim, "run", scenario, "--seed", "7", "--swarm", "--trace", t2)
    check("the same seed gives a byte-identical trace", r1.returncode == 0 and t1.read_bytes() == t2.read_bytes(),
          r1.stdout + r1.stderr)
    r = run(sim, "replay", t1)
    check("trip-sim replay reproduces its trace", r.returncode == 0 and "identical" in r.stdout, r.stdout + r.stderr)
    r = run(sim, "export", t1, "--perfetto", tmp / "trip.perfetto.json")
    check("trip-sim export reads its trace", r.returncode == 0 and (tmp / "trip.perfetto.json").exists(),
          r.stdout + r.stderr)
    r = run(prefix / "bin" / "sagasim", "replay", t1)
    check("the installed sagasim refuses to replay another saga's trace", r.returncode == 2 and "trip" in r.stderr
          and "known: order" in r.stderr, r.stdout + r.stderr)
    # The harness's own shrinker on the sweep's failure (seed from its reproduce line).
    sweep = run(sim, "sweep", scenario, "--seeds", "1..300", "--swarm", "--mutant", "keeps-late-reservation")
    m = re.search(r"trip-sim run \S+ --seed (\d+) --swarm --mutant keeps-late-reservation", sweep.stdout)
    check("the sweep names the failing seed", m is not None, sweep.stdout[-2000:])
    if m:
        seed = m.group(1)
        small = tmp / "trip-min.json"
        r = run(sim, "shrink", scenario, "--seed", seed, "--swarm", "--mutant", "keeps-late-reservation", "--out", small)
        check("trip-sim shrink minimises the failure", r.returncode == 0 and "still fails cancelled_trip_holds_nothing"
              in r.stdout, r.stdout + r.stderr)
        r = run(sim, "run", small, "--seed", seed, "--mutant", "keeps-late-reservation")
        check("the shrunk file fails with the bug", r.returncode == 1, r.stdout + r.stderr)
        r = run(sim, "run", small, "--seed", seed)
        check("and passes without it", r.returncode == 0, r.stdout + r.stderr)
    r = run(sim, "run", tmp / "missing.json")
    check("bad input exits 2", r.returncode == 2 and "missing.json" in r.stderr, r.stderr)

    env["SAGASIM_COUNTEREXAMPLES"] = str(tmp / "counterexamples")
    r = run("ctest", "--test-dir", build, "--output-on-failure", env=env)
    check("the example's tests pass (properties, broken variant caught and shrunk)", r.returncode == 0,
          r.stdout[-6000:] + r.stderr[-2000:])
    shrunk = tmp / "counterexamples" / "trip-broken.json"
    check("the shrunk counterexample was written", shrunk.exists())
    if shrunk.exists():
        seed = json.loads(shrunk.read_text())["seed"]
        r = run(sim, "run", shrunk, "--seed", str(seed), "--mutant", "keeps-late-reservation")
        check("the shrunk counterexample replays failing with the mutant", r.returncode == 1, r.stdout + r.stderr)
        r = run(sim, "run", shrunk, "--seed", str(seed))
        check("and passes without the bug", r.returncode == 0, r.stdout + r.stderr)

    # ---- production mode: the team's saga on a real broker ------------------
    if os.environ.get("SAGASIM_SKIP_KAFKA") != "1":
        production(sim, scenario, tmp)

check.finish()
