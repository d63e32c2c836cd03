#!/usr/bin/env python3
"""`sagasim monitor` beside a live deployment, on a real Kafka broker this
test starts itself.

1. Healthy: order, payment-1 and inventory run as written while orders flow
   and the broker is restarted; the monitor reports nothing, and its metrics
   show every order decided, none in flight.
2. A broken instance: payment-2 joins running the bug-zoo variant
   payment-forwards-first-line (its PaymentProcessed passes on only the
   order's first line, so inventory reserves less than was ordered). The
   monitor reports effects_match_order naming the order, the record at fault
   and the order's records; the delay from that record's creation to the
   report is measured and printed (bounded generously by 30 s).
   Before 2 the monitor is stopped with SIGTERM (it writes its state) and
   started again on that state with checkpoints far apart, so that what it
   reports in 2 is kept only in its report journal (STATE.reported).
3. The monitor is SIGKILLed and restarted on its state file while more orders
   go through the broken instance: nothing is reported twice (every
   violation id once, though its state predates every report: the journal
   carries them), nothing is missed (the effects_match_order reports
   are exactly those `sagasim check` finds over the whole run).
4. Liveness: with inventory stopped, orders cannot be decided before their
   30 s timeout; each is reported once as orders_terminal_within_bound when
   the monitor's 15 s bound passes (not again when the late cancellation
   arrives).
5. SIGTERM stops the monitor with exit 0.

SAGASIM_MONITOR_TEST_BREAK=forget-state deletes the state file and its
journal before the restart in 3 (the test must then fail: duplicates);
SAGASIM_MONITOR_TEST_BREAK=forget-journal deletes only the journal (it must
fail too: the state was written before the reports);
SAGASIM_MONITOR_TEST_BREAK=no-mutant runs payment-2 as written (2 must fail).

usage: monitor_test.py SAGASIM ROOT   (exit 77: skipped, no broker could start)
"""
import datetime
import json
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SAGASIM = sys.argv[1]
ROOT = pathlib.Path(sys.argv[2])
KAFKA_LOCAL = str(ROOT / "scripts" / "kafka-local")
PORT = int(os.environ.get("SAGASIM_MONITOR_TEST_PORT", "29392"))
BREAK = os.environ.get("SAGASIM_MONITOR_TEST_BREAK", "")
BOUND_MS = 15000
MUTANT = "payment-forwards-first-line"
passed, failed = 0, 0
work = pathlib.Path(tempfile.mkdtemp(prefix="sagasim-monitor-"))
kafka_dir = work / "kafka"
procs = {}


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
    return subprocess.run([KAFKA_LOCAL, *args, "--dir", str(kafka_dir)], capture_output=True, text=True, timeout=timeout)


def sagasim(*args, timeout=300):
    return subprocess.run([SAGASIM, *args], capture_output=True, text=True, timeout=timeout)


props = work / "client.properties"
props.write_text(f"bootstrap.servers=127.0.0.1:{PORT}\nsession.timeout.ms=6000\nheartbeat.interval.ms=1000\n")
KAFKA = ["--kafka", str(props)]
DBS = {s: str(work / f"{s}.db") for s in ("order", "payment", "inventory")}
STATE = work / "monitor.state.json"


def serve(instance, service, *extra):
    logf = open(work / f"{instance}.log", "a")
    procs[instance] = subprocess.Popen(
        [SAGASIM, "serve", service, *KAFKA, "--db", DBS[service], "--instance", instance, *extra], stdout=logf, stderr=logf)


def stop(instance):
    p = procs.pop(instance)
    p.send_signal(signal.SIGTERM)
    return p.wait(timeout=60)


class Monitor:
    """A monitor process; its stdout lines, each stamped when read."""

    def __init__(self, name, checkpoint_ms=500):
        self.errf = open(work / f"{name}.err", "a")
        self.proc = subprocess.Popen(
            [SAGASIM, "monitor", *KAFKA, "--state", str(STATE), "--metrics-port", "0", "--liveness-bound-ms",
             str(BOUND_MS), "--checkpoint-interval-ms", str(checkpoint_ms)],
            stdout=subprocess.PIPE, stderr=self.errf, text=True)
        self.name = name
        self.lines = []  # (time read, parsed)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.lines.append((time.time(), json.loads(line)))
            except json.JSONDecodeError:
                self.lines.append((time.time(), {"msg": "not JSON", "line": line}))

    def metrics_url(self):
        deadline = time.time() + 60
        while time.time() < deadline:
            for line in (work / f"{self.name}.err").read_text().splitlines():
                try:
                    j = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if j.get("msg") == "metrics":
                    return j["url"]
            time.sleep(0.2)
        return None

    def scrape(self):
        text = urllib.request.urlopen(self.metrics_url(), timeout=10).read().decode()
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out


def metric(samples, name, **labels):
    return sum(v for series, v in samples.items()
               if series.split("{")[0] == name and all(f'{k}="{v}"' in series for k, v in labels.items()))


def place(run_id, count, rate):
    r = sagasim("place-orders", *KAFKA, "--count", str(count), "--rate", str(rate), "--wait", "120", "--run-id", run_id,
                "--json")
    check(f"place {run_id}: {count} orders decided", r.returncode == 0, r.stdout + r.stderr)
    return r


def wait_until(cond, timeout, step=0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def violations(*monitors):
    return [(t, j) for m in monitors for t, j in m.lines if j.get("msg") == "violation"]


def main():
    log(f"work dir {work}")
    r = kafka_local("start", "--port", str(PORT), "--timeout", "120")
    if r.returncode != 0:
        print(f"SKIP: no local Kafka broker could start here:\n{r.stdout}\n{r.stderr}")
        return 77
    monitors = []
    try:
        serve("order-1", "order")
        serve("payment-1", "payment")
        serve("inventory-1", "inventory")
        m1 = Monitor("monitor-1")
        monitors.append(m1)

        # ---- 1. healthy, through a broker restart --------------------------
        place("healthy-a", 150, 50)
        log("restarting the broker")
        r = kafka_local("stop")
        check("broker stopped", r.returncode == 0, r.stdout + r.stderr)
        time.sleep(3)  # the monitor and the services see it gone
        r = kafka_local("start", "--port", str(PORT), "--timeout", "120")
        check("broker restarted", r.returncode == 0, r.stdout + r.stderr)
        place("healthy-b", 150, 50)
        # Every healthy order settled in the monitor's eyes (placement + bound).
        time.sleep(BOUND_MS / 1000 + 3)
        check("healthy deployment: nothing reported", not violations(m1),
              "\n".join(json.dumps(j) for _, j in violations(m1)))
        s = m1.scrape()
        check("healthy: every order's decision seen (latency histogram count 300)",
              metric(s, "sagasim_monitor_decision_latency_seconds_count") == 300, str(s))
        check("healthy: none in flight", metric(s, "sagasim_monitor_in_flight") == 0, str(s))
        check("healthy: every violation counter 0", metric(s, "sagasim_monitor_violations_total") == 0, str(s))
        check("healthy: the counters name the saga's invariants",
              'sagasim_monitor_violations_total{saga="order",invariant="effects_match_order"}' in s, str(s))

        # ---- restarted on its state, checkpoints far apart ------------------
        records_read = metric(m1.scrape(), "sagasim_monitor_records_total")
        m1.proc.send_signal(signal.SIGTERM)
        check("SIGTERM: the monitor exits 0", m1.proc.wait(timeout=30) == 0)
        m1.reader.join(timeout=10)
        check("SIGTERM: the state is written", STATE.exists())
        m1 = Monitor("monitor-1b", checkpoint_ms=600000)
        monitors.append(m1)
        wait_until(lambda: m1.metrics_url() is not None, 30)
        s = m1.scrape()
        check(f"restarted on its state: the records it read are carried ({records_read:.0f})",
              records_read > 0 and metric(s, "sagasim_monitor_records_total") == records_read, str(s))
        state_written_at = STATE.stat().st_mtime

        # ---- 2. one payment instance runs a broken build ---------------------
        serve("payment-2", "payment", *([] if BREAK == "no-mutant" else ["--mutant", MUTANT]))
        time.sleep(8)  # the payment group rebalances: payment-2 takes partitions
        place("broken-a", 120, 30)
        got = wait_until(lambda: any(j.get("order", "").startswith("broken-a-") for _, j in violations(m1)), 30)
        check("the broken instance is reported", got)
        wait_until(lambda: False, 5)  # the last reports of the batch
        reports = [(t, j) for t, j in violations(m1)]
        bad = [j for _, j in reports if not j.get("order", "").startswith("broken-a-")]
        check("every report is about an order of the broken run", not bad, "\n".join(json.dumps(j) for j in bad))
        check("each names effects_match_order",
              all(j["invariant"] == "effects_match_order" for _, j in reports), json.dumps([j for _, j in reports])[:2000])
        well_formed = all(
            j["at_fault"] and j["at_fault"]["type"] in ("PaymentProcessed", "ItemsReserved") and
            any(r["type"] == "PlaceOrder" for r in j["records"]) and
            all({"topic", "partition", "offset"} <= set(r) for r in j["records"]) and
            any(r["offset"] == j["at_fault"]["offset"] and r["topic"] == j["at_fault"]["topic"] for r in j["records"])
            for _, j in reports)
        check("each names the record at fault and the order's records (topic/partition/offset)", well_formed,
              json.dumps(reports[0][1], indent=1) if reports else "")
        delays = []
        for t, j in reports:
            created = datetime.datetime.fromisoformat(j["at_fault"]["occurred_at"].replace("Z", "+00:00")).timestamp()
            delays.append(t - created)
        if delays:
            log(f"report delay after the breaking record: {len(delays)} reports, median "
                f"{statistics.median(delays) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms")
        check("every report within 30 s of the record that broke the invariant", delays and max(delays) < 30,
              str(delays))
        if reports:
            log("a report: " + json.dumps(reports[0][1])[:600])

        # ---- 3. the monitor killed and restarted, orders flowing meanwhile ---
        m1.proc.send_signal(signal.SIGKILL)
        m1.proc.wait(timeout=30)
        m1.reader.join(timeout=10)
        before = len(violations(m1))
        journal = pathlib.Path(str(STATE) + ".reported")
        check("the state predates the reports (they are in the journal only)",
              STATE.stat().st_mtime == state_written_at and journal.exists() and
              len(journal.read_text().splitlines()) == before, f"{before} reports")
        place("broken-b", 120, 30)
        if BREAK == "forget-state":
            STATE.unlink()
            journal.unlink()
        if BREAK == "forget-journal":
            journal.unlink()
        m2 = Monitor("monitor-2")
        monitors.append(m2)
        got = wait_until(lambda: any(j.get("order", "").startswith("broken-b-") for _, j in violations(m2)), 60)
        check("after a restart, the orders placed while it was down are reported", got)
        wait_until(lambda: False, 5)
        ids = [j["id"] for _, j in violations(m1, m2)]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        check(f"no violation reported twice ({before} before the kill, {len(violations(m2))} after)", not dup,
              "\n".join(json.dumps(j) for _, j in violations(m1, m2) if j["id"] in dup)[:3000])
        stop("payment-2")

        # Nothing missed: exactly what `check` finds over the whole run.
        r = sagasim("check", *KAFKA, "--db", DBS["order"], "--db", DBS["payment"], "--db", DBS["inventory"], "--wait",
                    "60", "--json")
        try:
            judged = json.loads(r.stdout)
        except json.JSONDecodeError:
            judged = {"violations": []}
            check("check ran", False, r.stdout + r.stderr)
        # check also compares the stores' records with the order ("reservation HELD holds ..."),
        # which the monitor cannot see; the events as they went out it judges alike.
        want = {(v["entity"], v["message"]) for v in judged["violations"] if v["invariant"] == "effects_match_order"
                and not v["message"].startswith(("reservation ", "payment ", "the order"))}
        have = {(j["entity"], j["message"]) for _, j in violations(m1, m2) if j["invariant"] == "effects_match_order"}
        check(f"the monitor's effects_match_order reports are check's ({len(want)})", want == have and want,
              f"only check: {sorted(want - have)[:10]}\nonly monitor: {sorted(have - want)[:10]}")
        # By now (check waited for every order) the monitor may have reported
        # more than when the duplicates were first looked for: count again.
        def counted():
            lines = [j["id"] for _, j in violations(m1, m2) if j["invariant"] == "effects_match_order"]
            return metric(m2.scrape(), "sagasim_monitor_violations_total", invariant="effects_match_order"), lines
        wait_until(lambda: counted()[0] == len(counted()[1]), 30)
        total, ids = counted()
        check("still no violation reported twice", len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} repeated")
        check("the counter carries the count across the restart", total == len(ids), f"{total} vs {len(ids)}")

        # ---- 4. liveness: inventory away for longer than the bound -----------
        stop("inventory-1")
        r = sagasim("place-orders", *KAFKA, "--count", "3", "--rate", "10", "--run-id", "stuck", "--json")
        check("placed 3 orders with inventory stopped", r.returncode == 0, r.stdout + r.stderr)
        placed_at = time.time()
        got = wait_until(lambda: len([j for _, j in violations(m2) if j.get("order", "").startswith("stuck-")]) >= 3,
                         BOUND_MS / 1000 + 30)
        late = [(t, j) for t, j in violations(m2) if j.get("order", "").startswith("stuck-")]
        check("each undecided order is reported once the bound passes",
              got and all(j["invariant"] == "orders_terminal_within_bound" and j["at_fault"] is None for _, j in late),
              json.dumps([j for _, j in late])[:2000])
        if late:
            log(f"liveness reported {min(t for t, _ in late) - placed_at:.1f}-{max(t for t, _ in late) - placed_at:.1f} s "
                f"after placement (bound {BOUND_MS / 1000:.0f} s)")
        # Their timeout (30 s) cancels them later: not reported again.
        time.sleep(max(0, placed_at + 36 - time.time()))
        late = [j for _, j in violations(m2) if j.get("order", "").startswith("stuck-")]
        check("the late cancellation is not a second report", len(late) == 3, json.dumps(late)[:2000])
        s = m2.scrape()
        check("liveness counted", metric(s, "sagasim_monitor_violations_total",
                                         invariant="orders_terminal_within_bound") == 3, str(s))

        # ---- 5. SIGTERM ---------------------------------------------------
        m2.proc.send_signal(signal.SIGTERM)
        code = m2.proc.wait(timeout=60)
        check("SIGTERM: exit 0", code == 0, (work / "monitor-2.err").read_text()[-2000:])
        check("stdout carries only violation lines",
              all(j.get("msg") == "violation" for m in monitors for _, j in m.lines))
    finally:
        for m in monitors:
            if m.proc.poll() is None:
                m.proc.kill()
        for name in list(procs):
            procs[name].kill()
        kafka_local("stop")
    print(f"{passed} passed, {failed} failed")
    if failed == 0:
        subprocess.run(["rm", "-rf", str(work)])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
