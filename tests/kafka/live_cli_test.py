#!/usr/bin/env python3
"""Bad input to the production-mode commands (serve, place-orders, check, monitor):
exit code 2 and a message naming the file, line, path or argument, before
anything connects to Kafka; secrets are never echoed."""
import os
import pathlib
import subprocess
import sys
import tempfile

SAGASIM = sys.argv[1]
passed, failed = 0, 0
tmp = pathlib.Path(tempfile.mkdtemp(prefix="sagasim-live-cli-"))


def run(*args):
    return subprocess.run([SAGASIM, *args], capture_output=True, text=True, timeout=60)


def check(name, r, *needles, code=2):
    global passed, failed
    out = r.stdout + r.stderr
    if r.returncode == code and all(n in out for n in needles):
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {name}: exit {r.returncode}, want {code} and {needles}\n{out}")


good = tmp / "client.properties"
good.write_text("bootstrap.servers=127.0.0.1:1\n")
secret = tmp / "secret.properties"
secret.write_text("bootstrap.servers=127.0.0.1:1\nsasl.password=hunter2\nthis line has no equals sign hunter3\n")
K = ["--kafka", str(good)]

check("an unknown service", run("serve", "shipping", *K, "--db", str(tmp / "x.db")), "shipping", "order")
check("a missing properties file", run("serve", "payment", "--kafka", str(tmp / "nope.properties"), "--db", str(tmp / "p.db")),
      "nope.properties")
r = run("serve", "payment", "--kafka", str(secret), "--db", str(tmp / "p.db"))
check("a malformed properties line names file:line", r, "secret.properties:3")
check("a malformed properties line is never echoed (it may be a secret)", r, code=2)
if "hunter2" in r.stdout + r.stderr or "hunter3" in r.stdout + r.stderr:
    failed += 1
    print("FAIL: a secret was echoed:\n" + r.stdout + r.stderr)
check("a malformed --kafka-set", run("serve", "payment", *K, "--kafka-set", "linger.ms", "--db", str(tmp / "p.db")),
      "--kafka-set")
check("a database in a missing directory",
      run("serve", "payment", *K, "--db", str(tmp / "no" / "such" / "dir" / "p.db")), "does not exist")
check("a bad scenario for the workload", run("serve", "payment", *K, "--db", str(tmp / "p.db"), "--scenario", str(tmp / "none.json")),
      "none.json")
check("a bad log level", run("serve", "payment", *K, "--db", str(tmp / "p.db"), "--log-level", "loud"), "--log-level")
check("--count 0", run("place-orders", *K, "--count", "0"), "--count")
check("a negative rate", run("place-orders", *K, "--count", "5", "--rate", "-3"), "--rate")
check("check without a database file", run("check", *K, "--db", str(tmp / "missing.db")), "missing.db", "no such store file")
not_store = tmp / "notes.db"
not_store.write_text("this is not a database")
check("check with a file that is not a store", run("check", *K, "--db", str(not_store)), "notes.db", "not a sagasim store")
check("a runtime mutant is the simulator's, not the Kafka runtime's",
      run("serve", "payment", *K, "--db", str(tmp / "p.db"), "--mutant", "outbox-before-commit"), "outbox-before-commit",
      "Kafka runtime")
check("an unknown mutant names the saga's variants",
      run("serve", "payment", *K, "--db", str(tmp / "p.db"), "--mutant", "no-such-bug"), "no-such-bug",
      "payment-no-dedupe")
check("an unknown style names the known ones",
      run("check", *K, "--db", str(tmp / "p.db"), "--style", "sideways"), "sideways", "orchestration")
for cmd in (["serve", "payment", "--db", str(tmp / "p.db")], ["place-orders", "--count", "1"],
            ["check", "--db", str(tmp / "p.db")]):
    check(f"{cmd[0]}: a namespace with a character topic names refuse",
          run(*cmd, *K, "--namespace", "team a"), "--namespace", "' '", "position 5")
    check(f"{cmd[0]}: a namespace from the environment is checked too",
          subprocess.run([SAGASIM, *cmd, *K], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "SAGASIM_NAMESPACE": "team/a"}), "SAGASIM_NAMESPACE", "'/'")
check("a namespace longer than 200 characters", run("check", *K, "--db", str(tmp / "p.db"), "--namespace", "n" * 201),
      "longer than 200")
for bad in (["--since", "2026-05-01T10:00:00+00:00"], ["--until", "tomorrow"], ["--run-id", ""],
            ["--since", "2026-05-02T00:00:00Z", "--until", "2026-05-01T00:00:00Z"]):
    check(f"check {' '.join(bad)}", run("check", *K, "--db", str(tmp / "p.db"), *bad), bad[-2])
check("monitor without --state", run("monitor", *K), "--state")
garbage = tmp / "garbage.json"
garbage.write_text("{not json")
check("monitor with a state file that is not JSON", run("monitor", *K, "--state", str(garbage)), "garbage.json")
other = tmp / "other.json"
other.write_text('{"format": "something else"}')
check("monitor with another program's JSON as its state", run("monitor", *K, "--state", str(other)), "other.json",
      "not a monitor state file")
check("monitor with its state in a missing directory",
      run("monitor", *K, "--state", str(tmp / "no" / "such" / "m.json")), "does not exist")
check("monitor --liveness-bound-ms 0", run("monitor", *K, "--state", str(tmp / "m.json"), "--liveness-bound-ms", "0"),
      "--liveness-bound-ms")
check("monitor with an unknown style", run("monitor", *K, "--state", str(tmp / "m.json"), "--style", "sideways"),
      "sideways")
# PostgreSQL stores: a URL libpq refuses, a server that cannot be reached
# (port 1 on loopback: refused at once). The password never shows.
r = run("serve", "payment", *K, "--db", "postgresql://saga:hunter4@127.0.0.1:1/shop")
check("serve with an unreachable PostgreSQL names the URL", r, "postgresql://saga:***@127.0.0.1:1/shop",
      "cannot connect to PostgreSQL")
r2 = run("check", *K, "--db", "postgres://saga:hunter4@127.0.0.1:1/shop")
check("check with an unreachable PostgreSQL names the URL", r2, "postgres://saga:***@127.0.0.1:1/shop")
if "hunter4" in r.stdout + r.stderr + r2.stdout + r2.stderr:
    failed += 1
    print("FAIL: a database password was echoed:\n" + r.stdout + r.stderr + r2.stdout + r2.stderr)
check("a PostgreSQL URL with a parameter libpq does not know",
      run("serve", "payment", *K, "--db", "postgresql://127.0.0.1/shop?colour=blue"), "not a valid PostgreSQL URL",
      "colour")
print(f"{passed} passed, {failed} failed")
subprocess.run(["rm", "-rf", str(tmp)])
sys.exit(1 if failed else 0)
