#!/usr/bin/env python3
"""Production mode end to end, on a real Kafka broker this test starts itself.

1. Poison: raw garbage, a schema-breaking event and a record whose key
   contradicts its envelope are produced to saga topics; each lands in
   <topic>.dlq with its error and origin as headers, and orders placed before
   and after keep flowing.
2. Crashes: the three services (two payment instances) run 1,200 orders while
   service processes are SIGKILLed at random moments and restarted, and the
   broker itself is restarted mid-run; meanwhile a rolling upgrade runs:
   order-1 and payment-1 start on the build before OrderCreated v2 (--pin
   OrderCreated=1) and come back on the current one when restarted.
   Afterwards `sagasim check` passes.
3. Graceful shutdown: SIGTERM stops every instance with exit code 0.
4. The check can fail: a tampered balance is reported as money_conserved.

5. The live run as a trace: `check --trace` writes one that `sagasim export`
   converts and sagasim-viewer (when built) renders headless.

usage: live_test.py SAGASIM ROOT [SAGASIM_VIEWER]   (exit 77: skipped, no broker could start)
"""
import json
import os
import pathlib
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

SAGASIM = sys.argv[1]
ROOT = pathlib.Path(sys.argv[2])
VIEWER = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
KAFKA_LOCAL = str(ROOT / "scripts" / "kafka-local")
PORT = int(os.environ.get("SAGASIM_LIVE_TEST_PORT", "29192"))
ORDERS = int(os.environ.get("SAGASIM_LIVE_TEST_ORDERS", "1200"))
SEED = int(os.environ.get("SAGASIM_LIVE_TEST_SEED", "20261126"))
# SAGASIM_LIVE_TEST_STYLE=orchestration runs the orchestrator instead.
STYLE = ["--style", os.environ["SAGASIM_LIVE_TEST_STYLE"]] if os.environ.get("SAGASIM_LIVE_TEST_STYLE") else []
passed, failed = 0, 0
work = pathlib.Path(tempfile.mkdtemp(prefix="sagasim-live-"))
kafka_dir = work / "kafka"
procs = {}  # instance -> Popen


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


def sagasim(*args, timeout=300):
    return subprocess.run([SAGASIM, *args], capture_output=True, text=True, timeout=timeout)


props = work / "client.properties"
props.write_text(
    f"bootstrap.servers=127.0.0.1:{PORT}\n"
    "# a killed member's partitions move after 6 s (the broker's minimum), not librdkafka's default 45 s\n"
    "session.timeout.ms=6000\n"
    "heartbeat.interval.ms=1000\n")
KAFKA = ["--kafka", str(props)]
DBS = {s: str(work / f"{s}.db") for s in ("order", "payment", "inventory")}
INSTANCES = {"order-1": "order", "payment-1": "payment", "payment-2": "payment", "inventory-1": "inventory"}
PINS = {}  # instance -> ["--pin", "TYPE=VERSION"]: the old build, during the rolling upgrade


def start(instance):
    service = INSTANCES[instance]
    logf = open(work / f"{instance}.log", "a")
    procs[instance] = subprocess.Popen(
        [SAGASIM, "serve", service, *KAFKA, "--db", DBS[service], "--instance", instance, "--metrics-port", "0", *STYLE,
         *PINS.get(instance, [])],
        stdout=logf, stderr=logf)


def scrape(instance):
    """The instance's Prometheus metrics, {series-with-labels: value}."""
    urls = [l["url"] for l in lines_of(instance) if l.get("msg") == "metrics"]
    if not urls:
        return {}
    text = urllib.request.urlopen(urls[-1], timeout=10).read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def metric(samples, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for series, value in samples.items():
        if series.split("{")[0] == name and all(f'{k}="{v}"' in series for k, v in labels.items()):
            total += value
    return total


def lines_of(instance):
    out = []
    for line in (work / f"{instance}.log").read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            out.append({"msg": "not JSON", "line": line})
    return out


def main():
    global passed, failed
    log(f"work dir {work}")
    r = kafka_local("start", "--port", str(PORT), "--timeout", "120")
    if r.returncode != 0:
        print(f"SKIP: no local Kafka broker could start here:\n{r.stdout}\n{r.stderr}")
        return 77
    try:
        for instance in INSTANCES:
            start(instance)

        # ---- 1. poison ---------------------------------------------------
        r = sagasim("place-orders", *KAFKA, "--count", "100", "--rate", "200", "--wait", "90", "--run-id", "before",
                    "--json")
        check("orders before the poison are all decided", r.returncode == 0, r.stdout + r.stderr)
        bad_event = json.dumps({"event_id": "poison-1", "type": "OrderCreated", "schema_version": 1, "key": "p-2",
                                "occurred_at": "2026-01-01T00:00:00Z", "correlation_id": "p-2", "causation_id": "",
                                "payload": {"order_id": "p-2", "customer_id": "c-1", "lines": "three"}})
        wrong_key = json.dumps({"event_id": "poison-2", "type": "PlaceOrder", "schema_version": 1, "key": "p-9",
                                "occurred_at": "2026-01-01T00:00:00Z", "correlation_id": "p-9", "causation_id": "",
                                "payload": {"order_id": "p-9", "customer_id": "c-1", "amount_cents": 100,
                                            "lines": [{"sku": "s-1", "quantity": 1, "price_cents": 100}]}})
        p = subprocess.run([KAFKA_LOCAL, "tool", "--dir", str(kafka_dir), "console-producer", "--bootstrap-server",
                            f"127.0.0.1:{PORT}", "--topic", "orders", "--property", "parse.key=true",
                            "--property", "key.separator=|"],
                           input=f"p-1|\x00\x01 this is not JSON {{\np-2|{bad_event}\n", capture_output=True,
                           text=True, timeout=120)
        check("garbage produced to orders", p.returncode == 0, p.stdout + p.stderr)
        p = subprocess.run([KAFKA_LOCAL, "tool", "--dir", str(kafka_dir), "console-producer", "--bootstrap-server",
                            f"127.0.0.1:{PORT}", "--topic", "order-requests", "--property", "parse.key=true",
                            "--property", "key.separator=|"],
                           input=f"p-3|{wrong_key}\n", capture_output=True, text=True, timeout=120)
        check("a key-mismatched record produced to order-requests", p.returncode == 0, p.stdout + p.stderr)
        r = sagasim("place-orders", *KAFKA, "--count", "100", "--rate", "200", "--wait", "90", "--run-id", "after",
                    "--json")
        check("orders after the poison are all decided", r.returncode == 0, r.stdout + r.stderr)

        def dlq(topic, expect):
            c = subprocess.run([KAFKA_LOCAL, "tool", "--dir", str(kafka_dir), "console-consumer", "--bootstrap-server",
                                f"127.0.0.1:{PORT}", "--topic", topic, "--from-beginning", "--max-messages",
                                str(expect), "--timeout-ms", "30000", "--property", "print.headers=true",
                                "--property", "print.key=true"], capture_output=True, text=True, timeout=120)
            return c.stdout
        out = dlq("orders.dlq", 4)  # payment and inventory both read orders: each dead-letters both records
        check("orders.dlq holds the garbage, once per consuming service",
              out.count("dlq.topic:orders") == 4 and out.count("dlq.service:payment") == 2 and
              out.count("dlq.service:inventory") == 2, out)
        check("the DLQ headers name the offset, the JSON path and the reason",
              "dlq.offset:" in out and re.search(r"at /payload/\w+: not a valid OrderCreated v1 payload", out)
              and "not valid JSON" in out, out)
        out = dlq("payments", 1)
        check("saga records carry their ids and a W3C traceparent as headers",
              "event_id:" in out and "correlation_id:" in out and "causation_id:" in out
              and re.search(r"traceparent:00-[0-9a-f]{32}-[0-9a-f]{16}-01", out), out)
        out = dlq("order-requests.dlq", 1)
        check("order-requests.dlq holds the key-mismatched record",
              "dlq.error:" in out and "differs from the event's key" in out and "dlq.service:order" in out, out)
        dl = sum(1 for i in ("payment-1", "payment-2", "inventory-1", "order-1") for l in lines_of(i)
                 if l.get("msg") == "dead-lettered a poison record")
        check("each dead letter is logged", dl == 5, dl)
        r = sagasim("check", *KAFKA, *STYLE, "--db", DBS["order"], "--db", DBS["payment"], "--db", DBS["inventory"])
        check("check fails records_readable on the three poison records, naming where each is",
              r.returncode == 1 and "records_readable                     FAIL (3)" in r.stdout
              and "money_conserved                      PASS" in r.stdout
              and re.search(r"VIOLATION records_readable: dead-lettered, unreadable: .*order-requests.*offset", r.stdout),
              r.stdout + r.stderr)
        r = sagasim("check", *KAFKA, *STYLE, "--db", DBS["order"], "--db", DBS["payment"], "--db", DBS["inventory"],
                    "--allow-poison")
        check("check --allow-poison counts them and passes",
              r.returncode == 0 and "(3 poison, dead-lettered)" in r.stdout
              and "records_readable                     PASS (poison allowed)" in r.stdout, r.stdout + r.stderr)

        # The metrics endpoint, scraped while the services run.
        time.sleep(1.5)  # rendered once a second
        m = {i: scrape(i) for i in INSTANCES}
        check("metrics: dead letters counted",
              sum(metric(m[i], "sagasim_dead_lettered_total") for i in INSTANCES) == 5, m)
        check("metrics: PlaceOrder records processed by the order service",
              metric(m["order-1"], "sagasim_records_processed_total", event_type="PlaceOrder") >= 200, m["order-1"])
        charge = "ChargePayment" if STYLE else "OrderCreated"  # what payment acts on in each style
        check(f"metrics: {charge} charged across the payment instances",
              sum(metric(m[i], "sagasim_records_processed_total", event_type=charge)
                  for i in ("payment-1", "payment-2")) >= 200, m)
        check("metrics: the handler histogram counts every handled record",
              metric(m["inventory-1"], "sagasim_handler_seconds_count") > 0 and
              metric(m["inventory-1"], "sagasim_handler_seconds_bucket", le="+Inf")
              == metric(m["inventory-1"], "sagasim_handler_seconds_count"), m["inventory-1"])
        check("metrics: consumer lag per partition is exported",
              any(k.startswith("sagasim_consumer_lag{") and 'topic="orders"' in k for k in m["inventory-1"]),
              m["inventory-1"])
        check("metrics: the outbox backlog is exported", any(k.startswith("sagasim_outbox_backlog{") for k in m["order-1"]))

        # ---- 2. crashes, a broker restart and a rolling upgrade ---------------
        # order-1 and payment-1 go back to the build before OrderCreated v2:
        # they write v1, and payment-1 reads v2 records (from nobody yet) as v1.
        # Every restart below brings an instance back on the current build, and
        # whatever is still old after the crashes is upgraded at the end.
        for instance in ("order-1", "payment-1"):
            procs[instance].send_signal(signal.SIGTERM)
            check(f"{instance} stops for the downgrade", procs[instance].wait(timeout=60) == 0)
            PINS[instance] = ["--pin", "OrderCreated=1"]
            start(instance)
        rng = random.Random(SEED)
        log(f"placing {ORDERS} orders; SIGKILLs and a broker restart chosen by seed {SEED}")
        placer = subprocess.Popen([SAGASIM, "place-orders", *KAFKA, "--count", str(ORDERS), "--rate", "60",
                                   "--wait", "300", "--run-id", "crash", "--json"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        t0 = time.time()
        kills = 0
        events = sorted([("kill", rng.uniform(2, 18)) for _ in range(4)] + [("broker", rng.uniform(6, 12))],
                        key=lambda e: e[1])
        for what, at in events:
            time.sleep(max(0.0, t0 + at - time.time()))
            if what == "kill":
                victim = rng.choice(sorted(INSTANCES))
                procs[victim].send_signal(signal.SIGKILL)
                procs[victim].wait()
                kills += 1
                log(f"SIGKILL {victim} at +{time.time() - t0:.1f}s")
                time.sleep(rng.uniform(0.5, 2.0))
                if PINS.pop(victim, None):
                    log(f"{victim} comes back upgraded")
                start(victim)
            else:
                log(f"broker restart at +{time.time() - t0:.1f}s")
                r = kafka_local("stop")
                check("broker stopped", r.returncode == 0, r.stdout + r.stderr)
                r = kafka_local("start", "--port", str(PORT), "--timeout", "120")
                check("broker started again", r.returncode == 0, r.stdout + r.stderr)
                log(f"broker back at +{time.time() - t0:.1f}s")
        check("at least 3 service processes were SIGKILLed", kills >= 3, kills)
        for instance in sorted(PINS):  # the rest of the rolling upgrade
            procs[instance].send_signal(signal.SIGTERM)
            check(f"{instance} stops for its upgrade", procs[instance].wait(timeout=60) == 0)
            del PINS[instance]
            start(instance)
            log(f"{instance} upgraded at +{time.time() - t0:.1f}s")
        out, err = placer.communicate(timeout=600)
        check(f"all {ORDERS} orders placed and decided", placer.returncode == 0, out + err)
        if placer.returncode == 0:
            log(f"place-orders: {out.strip()}")
        r = sagasim("check", *KAFKA, *STYLE, "--db", DBS["order"], "--db", DBS["payment"], "--db", DBS["inventory"],
                    "--wait", "120", "--allow-poison")
        log("check:\n" + r.stdout + r.stderr)
        check("sagasim check passes after the crashes", r.returncode == 0, r.stdout + r.stderr)
        check("the check saw every order", f"checked {ORDERS + 200} orders placed" in r.stdout, r.stdout)
        for inv in ("money_conserved", "stock_conserved", "effects_at_most_once", "orders_terminal_within_bound",
                    "cancelled_fully_compensated"):
            check(f"{inv} PASS", any(l.split() == [inv, "PASS"] for l in r.stdout.splitlines()), r.stdout)
        if STYLE:
            # The orchestrator ran: its saga log holds one entry per order.
            with sqlite3.connect(DBS["order"]) as db:
                logs = db.execute("SELECT COUNT(*) FROM records WHERE tbl = 'saga_log'").fetchone()[0]
            check(f"the orchestrator's saga log covers every order ({logs})", logs >= ORDERS, logs)
            check("saga_log_complete PASS", any(l.split() == ["saga_log_complete", "PASS"] for l in r.stdout.splitlines()),
                  r.stdout)

        # ---- 5. the live run as a trace ----------------------------------------
        trace = work / "live.trace.jsonl"
        r = sagasim("check", *KAFKA, *STYLE, "--db", DBS["order"], "--db", DBS["payment"], "--db", DBS["inventory"],
                    "--trace", str(trace), "--allow-poison")
        check("check --trace writes the live run", r.returncode == 0 and trace.exists(), r.stdout + r.stderr)
        if trace.exists():
            lines = [json.loads(l) for l in trace.read_text().splitlines()]
            publishes = [l for l in lines if l.get("kind") == "publish"]
            check("the live trace has a header, a publish step per record and a footer",
                  lines[0].get("format") == "sagasim-trace" and lines[-1].get("kind") == "end"
                  and len(publishes) > 5 * ORDERS, (lines[0], lines[-1], len(publishes)))
            check("live publish steps name the producing instance",
                  {"client", "order-1", "inventory-1"} <= {p["actor"] for p in publishes}
                  and ({"payment-1", "payment-2"} & {p["actor"] for p in publishes}),
                  sorted({p["actor"] for p in publishes}))
            if not STYLE:
                versions = {p["event"]["schema_version"] for p in publishes if p["type"] == "OrderCreated"}
                check("the trace shows OrderCreated as written: v1 by the old build, v2 by the new",
                      versions == {1, 2}, versions)
            check("every live publish step carries its traceparent",
                  all(re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", p.get("traceparent", "")) for p in publishes))
            r = sagasim("export", str(trace), "--perfetto", str(work / "live.perfetto.json"))
            check("sagasim export reads the live trace", r.returncode == 0, r.stdout + r.stderr)
            if VIEWER:
                png = work / "live.png"
                r = subprocess.run([VIEWER, str(trace), "--png", str(png)], capture_output=True, text=True,
                                   timeout=300, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
                check("the viewer renders the live trace headless",
                      r.returncode == 0 and png.exists() and png.stat().st_size > 10000, r.stdout + r.stderr)

        # ---- 3. graceful shutdown ---------------------------------------------
        for instance, proc in procs.items():
            proc.send_signal(signal.SIGTERM)
        for instance, proc in procs.items():
            try:
                code = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = "hung"
            lines = lines_of(instance)
            check(f"{instance} exits 0 on SIGTERM", code == 0, code)
            check(f"{instance} logs a clean stop", lines and lines[-1].get("msg") == "stopped", lines[-3:])
        check("every log line is JSON", all(l.get("msg") != "not JSON" for i in INSTANCES for l in lines_of(i)))
        check("log lines carry service and instance",
              all(l.get("service") == "payment" and l.get("instance") == "payment-1" for l in lines_of("payment-1")))

        # ---- 4. the check fails when an invariant does -----------------------
        db = sqlite3.connect(DBS["payment"])
        row = db.execute("SELECT key, json FROM records WHERE tbl = 'accounts' ORDER BY key LIMIT 1").fetchone()
        acct = json.loads(row[1])
        acct["balance_cents"] += 1
        db.execute("UPDATE records SET json = ? WHERE tbl = 'accounts' AND key = ?", (json.dumps(acct), row[0]))
        db.commit()
        db.close()
        r = sagasim("check", *KAFKA, *STYLE, "--db", DBS["order"], "--db", DBS["payment"], "--db", DBS["inventory"])
        check("a balance changed behind the saga's back fails money_conserved",
              r.returncode == 1 and "money_conserved                      FAIL" in r.stdout, r.stdout + r.stderr)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
        kafka_local("stop")
    print(f"{passed} passed, {failed} failed (logs in {work})")
    if failed == 0:
        subprocess.run(["rm", "-rf", str(work)])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
