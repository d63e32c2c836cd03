#!/usr/bin/env python3
"""The public API end to end: install sagasim into a temporary prefix, build
examples/trip-booking against it as an outside project (find_package), and
run it: its scenario passes, a swarm sweep passes, its broken variant is caught by a
sweep and minimised by faults::shrink, its traces are byte-identical per seed,
its property tests (RapidCheck) pass and catch and shrink the broken variant.
Internal headers must not be installed.

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


with tempfile.TemporaryDirectory(prefix="sagasim-example-") as tmp:
    tmp = pathlib.Path(tmp)
    prefix, build = tmp / "prefix", tmp / "build"
    r = run("cmake", "--install", BUILD, "--prefix", prefix)
    check("cmake --install succeeds", r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:])
    inc = prefix / "include" / "sagasim"
    for public in ["core/service.h", "sim/saga.h", "sim/scenario.h", "faults/world.h", "properties/properties.h"]:
        check(f"public header {public} installed", (inc / public).exists())
    for internal in ["sagas/order/order_service.h", "sagas/order/state.h", "sagas/order/checker.h", "sagas/order/order_saga.h",
                     "kafka", "cli"]:
        check(f"internal {internal} not installed", not (inc / internal).exists())
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
    r = run(sim, "sweep", scenario, "--seeds", "1..300", "--swarm")
    check("a swarm sweep of the correct saga passes", r.returncode == 0, r.stdout[-3000:] + r.stderr)
    r = run(sim, "sweep", scenario, "--seeds", "1..300", "--swarm", "--broken")
    check("a swarm sweep catches the broken variant", r.returncode == 1 and "cancelled_trip_holds_nothing" in r.stdout
          and "reproduce: trip-sim run" in r.stdout, r.stdout[-3000:] + r.stderr)
    t1, t2 = tmp / "t1.jsonl", tmp / "t2.jsonl"
    r1 = run(sim, "run", scenario, "--seed", "7", "--swarm", "--trace", t1)
    r2 = run(sim, "run", scenario, "--seed", "7", "--swarm", "--trace", t2)
    check("the same seed gives a byte-identical trace", r1.returncode == 0 and t1.read_bytes() == t2.read_bytes(),
          r1.stdout + r1.stderr)
    r = run(prefix / "bin" / "sagasim", "replay", t1)
    check("the installed sagasim refuses to replay another saga's trace", r.returncode == 2 and "trip" in r.stderr,
          r.stdout + r.stderr)
    # The harness's own shrinker on the sweep's failure (seed from its reproduce line).
    sweep = run(sim, "sweep", scenario, "--seeds", "1..300", "--swarm", "--broken")
    m = re.search(r"reproduce: trip-sim run \S+ --seed (\d+) --swarm --broken", sweep.stdout)
    check("the sweep names the failing seed", m is not None, sweep.stdout[-2000:])
    if m:
        seed = m.group(1)
        small = tmp / "trip-min.json"
        r = run(sim, "shrink", scenario, "--seed", seed, "--swarm", "--broken", "--out", small)
        check("trip-sim shrink minimises the failure", r.returncode == 0 and "still fails cancelled_trip_holds_nothing"
              in r.stdout, r.stdout + r.stderr)
        r = run(sim, "run", small, "--seed", seed, "--broken")
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
        import json
        seed = json.loads(shrunk.read_text())["seed"]
        r = run(sim, "run", shrunk, "--seed", str(seed), "--broken")
        check("the shrunk counterexample replays failing with --broken", r.returncode == 1, r.stdout + r.stderr)
        r = run(sim, "run", shrunk, "--seed", str(seed))
        check("and passes without the bug", r.returncode == 0, r.stdout + r.stderr)

check.finish()
