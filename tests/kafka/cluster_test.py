#!/usr/bin/env python3
"""The order saga on a replicated Kafka cluster while its brokers crash.

A three-node KRaft cluster (scripts/kafka-local --brokers 3: three controllers,
replication factor 3, min.insync.replicas=2) on loopback; the saga's services
(order, two payment instances, inventory) on it with acks=all and idempotence
(the runtime forces both). While orders are placed, the broker that leads
partition 0 of `payments` is SIGKILLed and restarted a few seconds later, and
service instances are SIGKILLed and restarted too. Afterwards every order is
decided and `sagasim check` passes: nothing lost, nothing doubled, money and
stock conserved, every cancellation compensated. The timings (cluster start,
leader failover, broker restart, saga latency, check) and the brokers' memory
are printed; docs/replicated-kafka.md quotes them.

Ports: clients PORT, PORT+10, PORT+20; controllers one above each
(SAGASIM_CLUSTER_TEST_PORT, default 29592: clear of scripts/test's 29092, the
live tests' 29192/29292, the bench's 29392 and the trip example's 29492).

usage: cluster_test.py SAGASIM ROOT   (exit 77: skipped, no java here)
"""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SAGASIM = sys.argv[1]
ROOT = pathlib.Path(sys.argv[2])
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
from checks import Checks  # noqa: E402

KAFKA_LOCAL = str(ROOT / "scripts" / "kafka-local")
PORT = int(os.environ.get("SAGASIM_CLUSTER_TEST_PORT", "29592"))
ORDERS = int(os.environ.get("SAGASIM_CLUSTER_TEST_ORDERS", "300"))
RATE = float(os.environ.get("SAGASIM_CLUSTER_TEST_RATE", "40"))
BOOTSTRAP = ",".join(f"127.0.0.1:{PORT + 10 * i}" for i in range(3))
SAGA_TOPICS = ("order-requests", "orders", "payments", "inventory")
T0 = time.time()
work = pathlib.Path(tempfile.mkdtemp(prefix="sagasim-cluster-"))
kafka_dir = work / "kafka"
procs = {}  # instance -> Popen
timings = {}  # what the run measured, printed at the end


def log(msg):
    print(f"[{time.time() - T0:6.1f}s] {msg}", flush=True)


check = Checks(log=log)


def kafka_local(*args, timeout=300):
    return subprocess.run([KAFKA_LOCAL, *args, "--dir", str(kafka_dir)], capture_output=True, text=True,
                          timeout=timeout)


def topics(*args):
    r = subprocess.run([KAFKA_LOCAL, "tool", "--dir", str(kafka_dir), "topics", "--bootstrap-server", BOOTSTRAP,
                        *args], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout, r.stderr


def leader(topic, partition):
    r = kafka_local("leader", topic, str(partition), timeout=120)
    return int(r.stdout.strip()) if r.returncode == 0 and r.stdout.strip().isdigit() else None


def wait_for(what, cond, deadline_s, poll_s=0.5):
    """Polls cond() until it returns a truthy value or deadline_s passes; (value, seconds)."""
    start = time.time()
    while True:
        value = cond()
        if value or time.time() - start > deadline_s:
            if not value:
                log(f"gave up waiting for {what} after {deadline_s} s")
            return value, time.time() - start
        time.sleep(poll_s)


def broker_memory():
    """{node: (VmRSS MiB, VmHWM MiB)} of the running brokers, from /proc."""
    out = {}
    for node in (1, 2, 3):
        try:
            pid = (kafka_dir / f"node-{node}" / "kafka.pid").read_text().strip()
            status = pathlib.Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        kb = {k: int(v.split()[0]) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(.*)$", status, re.M)}
        out[node] = (kb.get("VmRSS", 0) // 1024, kb.get("VmHWM", 0) // 1024)
    return out


props = work / "client.properties"
props.write_text(
    f"bootstrap.servers={BOOTSTRAP}\n"
    "# a killed member's partitions move after 6 s (the broker's minimum), not librdkafka's default 45 s\n"
    "session.timeout.ms=6000\n"
    "heartbeat.interval.ms=1000\n")
KAFKA = ["--kafka", str(props)]
DBS = {s: str(work / f"{s}.db") for s in ("order", "payment", "inventory")}
INSTANCES = {"order-1": "order", "payment-1": "payment", "payment-2": "payment", "inventory-1": "inventory"}


def start(instance):
    service = INSTANCES[instance]
    logf = open(work / f"{instance}.log", "a")
    procs[instance] = subprocess.Popen(
        [SAGASIM, "serve", service, *KAFKA, "--db", DBS[service], "--instance", instance],
        stdout=logf, stderr=logf)


def sigkill(instance):
    procs[instance].send_signal(signal.SIGKILL)
    procs[instance].wait()
    log(f"SIGKILL {instance}")


def main():
    if not shutil.which("java"):
        print("SKIP: no java here, so no local Kafka cluster")
        return 77
    log(f"work dir {work}; cluster on {BOOTSTRAP}")
    try:
        t = time.time()
        r = kafka_local("start", "--brokers", "3", "--port", str(PORT), "--timeout", "180")
        timings["cluster start"] = time.time() - t
        log(r.stdout.strip())
        if not check("the three-node cluster starts", r.returncode == 0, r.stdout + r.stderr):
            return check.finish()
        quorum = re.search(r"quorum_leader=(\d+)", r.stdout)
        log(f"cluster ready in {timings['cluster start']:.1f} s; metadata quorum led by node "
            f"{quorum.group(1) if quorum else '?'}")
        mem_idle = broker_memory()

        for instance in INSTANCES:
            start(instance)
        # The services create the saga topics at start, with the cluster's
        # default replication factor (--replication-factor -1).
        described, waited = wait_for(
            "the saga topics",
            lambda: (lambda rc, out, err: out if rc == 0 and all(f"Topic: {t}\t" in out for t in SAGA_TOPICS)
                     else None)(*topics("--describe", "--topic", "|".join(SAGA_TOPICS))), 60, poll_s=1)
        check("the services create the saga topics", described, described)
        for t in SAGA_TOPICS:
            head = re.search(rf"^Topic: {re.escape(t)}\t.*$", described or "", re.M)
            check(f"{t} has 3 replicas and min.insync.replicas=2",
                  head and "ReplicationFactor: 3" in head.group(0) and "min.insync.replicas=2" in head.group(0),
                  head.group(0) if head else described)

        # Leadership only moves when a broker fails (and the preferred-leader
        # rebalance, every 5 minutes, has nothing to move back), so the leader
        # asked now still leads when it is killed, and the kill itself is not
        # delayed by a tool's JVM starting while orders flow.
        victim = leader("payments", 0)
        check("partition 0 of payments has a leader", victim is not None, victim)
        if victim is None:
            return check.finish()
        log(f"payments/0 is led by broker {victim}")

        placer = subprocess.Popen([SAGASIM, "place", *KAFKA, "--count", str(ORDERS), "--rate", str(RATE),
                                   "--wait", "240", "--run-id", "cluster", "--json"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        t_place = time.time()
        log(f"placing {ORDERS} orders at {RATE:g}/s")

        # The schedule of faults (not waits for readiness): placing takes
        # ORDERS/RATE = 7.5 s, and the broker dies 2.5 s into it.
        time.sleep(1.0)
        sigkill("payment-1")
        time.sleep(1.0)
        start("payment-1")
        time.sleep(max(0.0, t_place + 2.5 - time.time()))
        r = kafka_local("kill-node", str(victim))
        t_kill = time.time()
        check(f"SIGKILL broker {victim}, the leader of payments/0", r.returncode == 0, r.stdout + r.stderr)
        log(f"SIGKILL broker {victim} (leader of payments/0"
            + (", and of the metadata quorum" if quorum and int(quorum.group(1)) == victim else "")
            + f") at +{t_kill - t_place:.1f}s of placing")

        new_leader, _ = wait_for("a new leader of payments/0",
                                 lambda: (lambda l: l if l is not None and l != victim else None)(leader("payments", 0)),
                                 60)
        timings["leader failover (seen by the topics tool)"] = time.time() - t_kill
        check("another broker takes over payments/0", new_leader is not None, new_leader)
        log(f"payments/0 led by broker {new_leader}, {timings['leader failover (seen by the topics tool)']:.1f} s "
            "after the kill")

        sigkill("order-1")  # while the cluster runs on two brokers
        time.sleep(1.0)
        start("order-1")

        time.sleep(max(0.0, t_kill + 8 - time.time()))  # the broker stays down 8 s
        t = time.time()
        r = kafka_local("start-node", str(victim), "--timeout", "180")
        timings["broker restart (start-node until it serves)"] = time.time() - t
        check(f"broker {victim} starts again and rejoins", r.returncode == 0, r.stdout + r.stderr)
        log(f"broker {victim} back at +{time.time() - t_place:.1f}s of placing, "
            f"{timings['broker restart (start-node until it serves)']:.1f} s to serve")

        sigkill("inventory-1")  # after the broker is back
        time.sleep(1.0)
        start("inventory-1")

        try:
            out, err = placer.communicate(timeout=400)
        except subprocess.TimeoutExpired:
            placer.kill()
            out, err = placer.communicate()
        timings["place (until every order decided)"] = time.time() - t_place
        check(f"all {ORDERS} orders placed and decided", placer.returncode == 0, out + err)
        try:
            log(f"place: {json.dumps(json.loads(out))}")
        except json.JSONDecodeError:
            log(f"place: {out}{err}")
        # place paces its sends from when its setup is done, so the last order
        # went out at least (ORDERS-1)/RATE after t_place: a kill before that
        # was mid-run.
        check("the broker died while orders were being placed", t_kill - t_place < (ORDERS - 1) / RATE,
              f"killed {t_kill - t_place:.1f} s after place started; placing takes at least "
              f"{(ORDERS - 1) / RATE:.1f} s")

        # The restarted broker catches up: no partition left under-replicated.
        _, caught_up = wait_for("the restarted broker to rejoin every ISR",
                                lambda: (lambda rc, o, e: rc == 0 and o.strip() == "")(
                                    *topics("--describe", "--under-replicated-partitions")), 120, poll_s=1)
        rc, urp, _ = topics("--describe", "--under-replicated-partitions")
        check("no partition is under-replicated afterwards", rc == 0 and urp.strip() == "", urp)
        log(f"every ISR full again {caught_up:.1f} s after the orders were decided")

        t = time.time()
        r = subprocess.run([SAGASIM, "check", *KAFKA, "--db", DBS["order"], "--db", DBS["payment"], "--db",
                            DBS["inventory"], "--wait", "120"], capture_output=True, text=True, timeout=400)
        timings["check --wait 120"] = time.time() - t
        log("check:\n" + r.stdout + r.stderr)
        check("sagasim check passes after the broker and service crashes", r.returncode == 0, r.stdout + r.stderr)
        check("the check saw every order", f"checked {ORDERS} orders placed" in r.stdout, r.stdout)
        for inv in ("money_conserved", "stock_conserved", "effects_at_most_once", "orders_terminal_within_bound",
                    "cancelled_fully_compensated"):
            check(f"{inv} PASS", any(l.split() == [inv, "PASS"] for l in r.stdout.splitlines()), r.stdout)

        mem = broker_memory()
        for node, (rss, hwm) in sorted(mem.items()):
            idle = mem_idle.get(node, (0, 0))[0]
            log(f"broker {node}: RSS {rss} MiB now (idle after start {idle} MiB), peak {hwm} MiB"
                + (" (restarted)" if node == victim else ""))
        timings["total"] = time.time() - T0
        for what, seconds in timings.items():
            log(f"timing: {what}: {seconds:.1f} s")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        t = time.time()
        r = kafka_local("stop")
        log(f"{r.stdout.strip()} ({time.time() - t:.1f} s)")
    if check.failed == 0:
        shutil.rmtree(work, ignore_errors=True)
    else:
        log(f"logs kept in {work}")
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
