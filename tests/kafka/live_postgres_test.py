#!/usr/bin/env python3
"""Production mode end to end with the services' state in PostgreSQL, on a real
Kafka broker and a PostgreSQL server this test starts itself
(scripts/kafka-local, scripts/pg-local).

Every service uses one PostgreSQL database (a schema each); the payment
service runs as two processes with connections of their own, as on two hosts.
First a burst of 1,000 orders while the server ends the services' sessions
every 0.2 s for 2 s (batches in flight are handled again; the test logs how
many). Then, while 600 orders flow, payment instances are SIGKILLed and
restarted, the broker is restarted, and the PostgreSQL server is restarted (a
fast shutdown that ends every session mid-transaction) and later crashed (an
immediate shutdown); every instance running at a restart must reconnect.
Afterwards `sagasim check --db postgresql://...` passes, every instance stops
with exit 0 on SIGTERM, and a balance changed behind the saga's back fails
money_conserved (the check does read PostgreSQL).

usage: live_postgres_test.py SAGASIM ROOT   (exit 77: skipped, no broker or no PostgreSQL)
"""
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import tempfile
import time

SAGASIM = sys.argv[1]
ROOT = pathlib.Path(sys.argv[2])
KAFKA_LOCAL = str(ROOT / "scripts" / "kafka-local")
PG_LOCAL = str(ROOT / "scripts" / "pg-local")
PORT = int(os.environ.get("SAGASIM_LIVE_TEST_PORT", "29392"))
PG_PORT = int(os.environ.get("SAGASIM_LIVE_TEST_PG_PORT", "29432"))
ORDERS = int(os.environ.get("SAGASIM_LIVE_TEST_ORDERS", "600"))
SEED = int(os.environ.get("SAGASIM_LIVE_TEST_SEED", "20261205"))
BURST = 1000  # placed as fast as possible while the server drops the services' connections
passed, failed = 0, 0
work = pathlib.Path(tempfile.mkdtemp(prefix="sagasim-live-pg-"))
kafka_dir = work / "kafka"
# Not under `work`: as root, the server runs as `postgres`, which must reach it.
pg_dir = pathlib.Path(tempfile.mkdtemp(prefix="sagasim-live-pgdata-"))
os.chmod(pg_dir, 0o755)
DB_NAME = "live"
URL = f"postgresql://sagasim@127.0.0.1:{PG_PORT}/{DB_NAME}"
procs = {}
started_at = {}  # instance -> when its current process started


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        log(f"ok: {name}")
    else:
        failed += 1
        log(f"FAIL: {name}\n{detail}")


def kafka_local(*args, timeout=180):
    return subprocess.run([KAFKA_LOCAL, *args, "--dir", str(kafka_dir)], capture_output=True, text=True,
                          timeout=timeout)


def pg_local(*args, timeout=120):
    return subprocess.run([PG_LOCAL, *args, "--dir", str(pg_dir), "--port", str(PG_PORT), "--db", DB_NAME],
                          capture_output=True, text=True, timeout=timeout)


def sagasim(*args, timeout=300):
    return subprocess.run([SAGASIM, *args], capture_output=True, text=True, timeout=timeout)


props = work / "client.properties"
props.write_text(f"bootstrap.servers=127.0.0.1:{PORT}\nsession.timeout.ms=6000\nheartbeat.interval.ms=1000\n")
KAFKA = ["--kafka", str(props)]
INSTANCES = {"order-1": "order", "payment-1": "payment", "payment-2": "payment", "inventory-1": "inventory"}


def start(instance):
    logf = open(work / f"{instance}.log", "a")
    started_at[instance] = time.time()
    procs[instance] = subprocess.Popen(
        [SAGASIM, "serve", INSTANCES[instance], *KAFKA, "--db", URL, "--instance", instance],
        stdout=logf, stderr=logf)


def lines_of(instance):
    out = []
    for line in (work / f"{instance}.log").read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            out.append({"msg": "not JSON", "line": line})
    return out


def main():
    log(f"work dir {work}, PostgreSQL data {pg_dir}")
    r = pg_local("start", "--timeout", "60")
    if r.returncode != 0:
        print(f"SKIP: no local PostgreSQL could start here:\n{r.stdout}\n{r.stderr}")
        return 77
    r = kafka_local("start", "--port", str(PORT), "--timeout", "120")
    if r.returncode != 0:
        pg_local("stop")
        print(f"SKIP: no local Kafka broker could start here:\n{r.stdout}\n{r.stderr}")
        return 77
    try:
        for instance in INSTANCES:
            start(instance)
        r = sagasim("place-orders", *KAFKA, "--count", "50", "--rate", "100", "--wait", "90", "--run-id", "warm",
                    "--json")
        check("orders flow with every service on PostgreSQL", r.returncode == 0, r.stdout + r.stderr)
        schemas = pg_local("psql", "-tAc", "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace "
                                           "WHERE nspname LIKE 'sagasim_%'")
        check("one schema per service in the one database",
              schemas.stdout.strip() == "sagasim_inventory,sagasim_order,sagasim_payment", schemas.stdout + schemas.stderr)

        # Connections dropped under load: a burst of orders, and while the
        # services are busy with it the server ends their sessions (as a
        # network or a proxy would) every 0.2 s for 2 s. Batches in flight
        # lose their transaction and are handled again.
        burst = subprocess.Popen([SAGASIM, "place-orders", *KAFKA, "--count", str(BURST), "--rate", "0", "--wait", "300",
                                  "--run-id", "burst", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        for _ in range(10):
            time.sleep(0.2)
            pg_local("psql", "-tAc", "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                     "WHERE application_name ~ '^(order|payment|inventory)-'")
        out, err = burst.communicate(timeout=600)
        check(f"the {BURST} orders of the burst placed and decided through the dropped connections",
              burst.returncode == 0, out + err)
        redone = sum(1 for i in INSTANCES for l in lines_of(i) if l.get("msg", "").startswith("store unavailable"))
        log(f"batches or timers cut off by a dropped connection and done again: {redone}")

        rng = random.Random(SEED)
        log(f"placing {ORDERS} orders; SIGKILLs, a broker restart and PostgreSQL restarts chosen by seed {SEED}")
        placer = subprocess.Popen([SAGASIM, "place-orders", *KAFKA, "--count", str(ORDERS), "--rate", "40",
                                   "--wait", "300", "--run-id", "crash", "--json"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        t0 = time.time()
        kills = 0
        pg_restarted_at = []
        events = sorted([("kill", rng.uniform(1, 13)) for _ in range(3)] + [("broker", rng.uniform(4, 8)),
                         ("pg-restart", rng.uniform(2, 5)), ("pg-crash", rng.uniform(9, 12))], key=lambda e: e[1])
        for what, at in events:
            time.sleep(max(0.0, t0 + at - time.time()))
            if what == "kill":
                # Mostly the payment instances: two processes on one schema.
                victim = rng.choice(["payment-1", "payment-2", "payment-1", "payment-2", "order-1", "inventory-1"])
                procs[victim].send_signal(signal.SIGKILL)
                procs[victim].wait()
                kills += 1
                log(f"SIGKILL {victim} at +{time.time() - t0:.1f}s")
                time.sleep(rng.uniform(0.5, 2.0))
                starts = sum(1 for j in lines_of(victim) if j.get("msg") == "starting")
                start(victim)
                # The restarted process has opened its store before the next
                # event: a slow start (a sanitizer build) must not straddle a
                # PostgreSQL restart's refused-connection moment, which at
                # start is the user's error (exit 2) by design.
                deadline = time.time() + 60
                while time.time() < deadline and procs[victim].poll() is None and \
                        sum(1 for j in lines_of(victim) if j.get("msg") == "starting") == starts:
                    time.sleep(0.1)
            elif what == "broker":
                log(f"broker restart at +{time.time() - t0:.1f}s")
                r = kafka_local("stop")
                check("broker stopped", r.returncode == 0, r.stdout + r.stderr)
                r = kafka_local("start", "--port", str(PORT), "--timeout", "120")
                check("broker started again", r.returncode == 0, r.stdout + r.stderr)
            else:
                mode = ["--immediate"] if what == "pg-crash" else []
                log(f"PostgreSQL {what} at +{time.time() - t0:.1f}s")
                pg_restarted_at.append(time.time())
                r = pg_local("restart", *mode)
                check(f"PostgreSQL {what} done", r.returncode == 0, r.stdout + r.stderr)
                log(f"PostgreSQL back at +{time.time() - t0:.1f}s")
        check("at least 2 service processes were SIGKILLed", kills >= 2, kills)
        out, err = placer.communicate(timeout=600)
        check(f"all {ORDERS} orders placed and decided", placer.returncode == 0, out + err)
        if placer.returncode == 0:
            log(f"place-orders: {out.strip()}")
        for instance, proc in procs.items():
            check(f"{instance} survived the PostgreSQL restarts (still running)", proc.poll() is None,
                  [l for l in lines_of(instance) if l.get("level") in ("error", "warn")][-5:])
        # The server ends every session when it restarts: each instance whose
        # process was running at a restart must have reconnected.
        for instance in [i for i in INSTANCES if started_at[i] < max(pg_restarted_at)]:
            n = max([l.get("reconnections", 0) for l in lines_of(instance) if l.get("msg") == "store reconnected"],
                    default=0)
            check(f"{instance} reconnected to PostgreSQL after the restarts ({n} times)", n >= 1,
                  [l for l in lines_of(instance) if l.get("level") in ("error", "warn")][-5:])

        r = sagasim("check", *KAFKA, "--db", URL, "--wait", "120")
        log("check:\n" + r.stdout + r.stderr)
        check("sagasim check --db postgresql://... passes", r.returncode == 0, r.stdout + r.stderr)
        check("the check saw every order", f"checked {ORDERS + 50 + BURST} orders placed" in r.stdout, r.stdout)
        for name in ("money_conserved", "stock_conserved", "effects_at_most_once", "orders_terminal_within_bound",
                     "cancelled_fully_compensated"):
            check(f"{name} PASS", any(l.split() == [name, "PASS"] for l in r.stdout.splitlines()), r.stdout)

        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for instance, proc in procs.items():
            try:
                code = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = "hung"
            check(f"{instance} exits 0 on SIGTERM", code == 0, code)
        check("no password-bearing URL or secret in the logs",
              all("password" not in json.dumps(l) for i in INSTANCES for l in lines_of(i)))

        # The check reads PostgreSQL: a balance changed behind the saga's back.
        r = pg_local("psql", "-c", "UPDATE sagasim_payment.records SET json = jsonb_set(json::jsonb, '{balance_cents}', "
                                   "to_jsonb((json::jsonb->>'balance_cents')::bigint + 1))::text "
                                   "WHERE tbl = 'accounts' AND key = (SELECT min(key) FROM sagasim_payment.records "
                                   "WHERE tbl = 'accounts')")
        check("a balance tampered with in PostgreSQL", r.returncode == 0, r.stdout + r.stderr)
        r = sagasim("check", *KAFKA, "--db", URL)
        check("a balance changed behind the saga's back fails money_conserved",
              r.returncode == 1 and "money_conserved                      FAIL" in r.stdout, r.stdout + r.stderr)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
        kafka_local("stop")
        pg_local("stop")
    print(f"{passed} passed, {failed} failed (logs in {work})")
    if failed == 0:
        subprocess.run(["rm", "-rf", str(work), str(pg_dir)])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
