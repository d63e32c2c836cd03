#!/usr/bin/env python3
"""Production mode as outside clients see it, on a real Kafka broker.

One section per run (a ctest each), every one in its own namespace, so they
share a broker (SAGASIM_KAFKA_BOOTSTRAP, as scripts/test sets it) or start
their own (scripts/kafka-local) when none is given:

  trace       a command's W3C traceparent is continued by every record of its
              order (same trace id, a span id per record); a malformed one is
              replaced by the derived trace
  namespaces  two deployments side by side on one broker: each `check`
              passes and sees only its own orders; client ids and groups
              name service, instance and namespace
  scope       `check --run-id` / `--since` judge one run of a long-lived
              deployment alone; `check --wait` progress output
  python      the Python example client (examples/python-client) places orders
              and reads their decisions; `check` passes
  catalogue   malformed commands interleaved with valid orders: each is
              dead-lettered with a reason naming the problem (or handled as
              docs/clients.md says), every valid order is decided, `check` passes

It runs under the project's Python environment (scripts/python-env, which
installs confluent-kafka) and re-executes itself there.

usage: clients_test.py SAGASIM ROOT SECTION   (exit 77: skipped: no broker, or the package index unreachable)
"""
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time

SAGASIM, ROOT, SECTION = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
SECTIONS = ["trace", "namespaces", "scope", "python", "catalogue"]
if SECTION not in SECTIONS:
    sys.exit(f"unknown section {SECTION}: one of {SECTIONS}")

try:
    import confluent_kafka  # noqa: F401
except ImportError:
    r = subprocess.run([str(ROOT / "scripts" / "python-env")], capture_output=True, text=True)
    if r.returncode == 3:
        print(f"SKIP: confluent-kafka cannot be installed: {r.stderr}")
        sys.exit(77)
    if r.returncode != 0:
        sys.exit(f"scripts/python-env failed: {r.stderr}")
    os.execv(r.stdout.strip(), [r.stdout.strip(), *sys.argv])

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402

sys.path.insert(0, str(ROOT / "examples" / "python-client"))
import saga_client  # noqa: E402

KAFKA_LOCAL = str(ROOT / "scripts" / "kafka-local")
work = pathlib.Path(tempfile.mkdtemp(prefix=f"sagasim-clients-{SECTION}-"))
NS = f"t{SECTION}{os.getpid()}"  # this run's own namespace
passed, failed = 0, 0
procs = {}
own_broker = None


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


def sagasim(*args, timeout=300, env=None):
    return subprocess.run([SAGASIM, *args], capture_output=True, text=True, timeout=timeout, env=env)


def broker():
    global own_broker
    if os.environ.get("SAGASIM_KAFKA_BOOTSTRAP"):
        return os.environ["SAGASIM_KAFKA_BOOTSTRAP"]
    port = int(os.environ.get("SAGASIM_CLIENTS_TEST_PORT", "29392")) + 10 * SECTIONS.index(SECTION)
    own_broker = work / "kafka"
    r = subprocess.run([KAFKA_LOCAL, "start", "--dir", str(own_broker), "--port", str(port), "--timeout", "120"],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        print(f"SKIP: no local Kafka broker could start here:\n{r.stdout}\n{r.stderr}")
        sys.exit(77)
    return f"127.0.0.1:{port}"


BOOTSTRAP = broker()
props = work / "client.properties"
props.write_text(f"bootstrap.servers={BOOTSTRAP}\nsession.timeout.ms=6000\nheartbeat.interval.ms=1000\n")
KAFKA = ["--kafka", str(props)]


class Deployment:
    """The three services of one namespace, each a `sagasim serve` process."""

    def __init__(self, ns, payments=1):
        self.ns = ns
        self.dbs = {s: str(work / f"{ns}-{s}.db") for s in ("order", "payment", "inventory")}
        self.instances = {"order-1": "order", "inventory-1": "inventory"}
        for i in range(1, payments + 1):
            self.instances[f"payment-{i}"] = "payment"
        for instance in self.instances:
            self.start(instance)
        # The services create the topics as they start; a client needs them.
        from confluent_kafka.admin import AdminClient
        admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
        want = {f"{ns}.{t}" for t in ("order-requests", "orders", "payments", "inventory", "order-requests.dlq")}
        ok = wait_for(lambda: want <= set(admin.list_topics(timeout=10).topics), 90)
        check(f"the services of {ns} created its topics", ok)

    def start(self, instance):
        service = self.instances[instance]
        logf = open(work / f"{self.ns}-{instance}.log", "a")
        procs[(self.ns, instance)] = subprocess.Popen(
            [SAGASIM, "serve", service, *KAFKA, "--namespace", self.ns, "--db", self.dbs[service],
             "--instance", instance], stdout=logf, stderr=logf)

    def stop(self, instance):
        p = procs.pop((self.ns, instance))
        p.send_signal(signal.SIGTERM)
        return p.wait(timeout=60)

    def db_args(self):
        return [a for s in ("order", "payment", "inventory") for a in ("--db", self.dbs[s])]

    def check(self, *args, timeout=300):
        return sagasim("check", *KAFKA, "--namespace", self.ns, *self.db_args(), *args, timeout=timeout)


def read_all(topics, timeout=60):
    """Every record of `topics` up to their ends now: [(topic, key, value, headers dict)]."""
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": NS + ".test-reader", "enable.auto.commit": False,
                  "enable.partition.eof": True})
    ends, assign = {}, []
    for t in topics:
        md = c.list_topics(t, timeout=30)
        for p in md.topics[t].partitions:
            lo, hi = c.get_watermark_offsets(TopicPartition(t, p), timeout=30)
            if hi > lo:
                ends[(t, p)] = hi
                assign.append(TopicPartition(t, p, lo))
    c.assign(assign)
    out, pos = [], {}
    deadline = time.monotonic() + timeout
    while any(pos.get(tp, -1) + 1 < hi for tp, hi in ends.items()) and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None or (m.error() and m.error().code() == KafkaError._PARTITION_EOF):
            continue
        if m.error():
            raise RuntimeError(str(m.error()))
        tp = (m.topic(), m.partition())
        if m.offset() >= ends.get(tp, 0):
            continue
        pos[tp] = m.offset()
        headers = {k: (v.decode() if v is not None else "") for k, v in (m.headers() or [])}
        out.append((m.topic(), m.key().decode() if m.key() is not None else None, m.value(), headers))
    c.close()
    return out


def wait_for(cond, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.5)
    return cond()


def place(ns, count, run_id, extra=()):
    return sagasim("place-orders", *KAFKA, "--namespace", ns, "--count", str(count), "--run-id", run_id,
                   "--wait", "120", "--json", *extra)


def send(records, topic):
    """Produce (key, value, headers) records as a client would, murmur2-partitioned."""
    p = Producer({"bootstrap.servers": BOOTSTRAP, "partitioner": "murmur2_random", "enable.idempotence": True,
                  "message.max.bytes": 2_000_000})
    errors = []
    for key, value, headers in records:
        p.produce(topic, key=key, value=value, headers=headers or [],
                  on_delivery=lambda err, msg: err and errors.append(str(err)))
        p.poll(0)
    p.flush(60)
    return errors


# ---- trace continuation -------------------------------------------------------
def trace_hash64(s, basis=0xcbf29ce484222325):
    """core/trace_context.h's hash, to know the derived trace id."""
    m = (1 << 64) - 1
    h = basis
    for c in s.encode():
        h ^= c
        h = (h * 0x100000001b3) & m
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & m
    h ^= h >> 33
    h = (h * 0xc4ceb9fe1a85ec53) & m
    h ^= h >> 33
    return h or 1


def derived_trace_id(order_id):
    return f"{trace_hash64(order_id):016x}{trace_hash64(order_id, 0x84222325cbf29ce4):016x}"


def section_trace():
    d = Deployment(NS)
    trace_id, client_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    given = f"00-{trace_id}-{client_span}-01"
    bad = [f"00-{trace_id.upper()}-{client_span}-01",  # upper case
           f"00-{'0' * 32}-{client_span}-01",          # all-zero trace id
           f"01-{trace_id}-{client_span}-01",          # another version
           f"00-{trace_id}-{'0' * 16}-01",             # all-zero span id
           "garbage"]
    orders = {"tr-given": given, "tr-none": None}
    for i, b in enumerate(bad):
        orders[f"tr-bad{i}"] = b
    records = []
    for order_id, tp in orders.items():
        records.append(saga_client.place_order_record(order_id, "c-1", [{"sku": "sku-1", "quantity": 1,
                                                                          "price_cents": 100}], tp))
    check("commands sent", not send(records, NS + ".order-requests"))
    r = d.check("--wait", "90", "--json")
    check("every order decided, check passes", r.returncode == 0, r.stdout + r.stderr)
    topics = [NS + t for t in (".order-requests", ".orders", ".payments", ".inventory")]
    recs = read_all(topics)
    by_order = {}
    for topic, key, value, h in recs:
        by_order.setdefault(key, []).append((topic, json.loads(value), h))
    mine = by_order.get("tr-given", [])
    check("the order went through the saga (command, creation, payment, decision...)", len(mine) >= 4,
          [(t, e["type"]) for t, e, _ in mine])
    tps = [h.get("traceparent", "") for _, _, h in mine]
    check("every record of the order carries the client's trace id",
          all(re.fullmatch(rf"00-{trace_id}-[0-9a-f]{{16}}-01", tp) for tp in tps), tps)
    spans = [tp[36:52] for tp in tps]
    check("each record has its own span id", len(set(spans)) == len(spans), spans)
    cmd = [h["traceparent"] for t, e, h in mine if e["type"] == "PlaceOrder"]
    check("the command's span is the client's (the parent of what it causes)", cmd == [given], cmd)
    downstream = [(e, h) for t, e, h in mine if e["type"] != "PlaceOrder"]
    check("downstream spans are new ones, never the client's",
          downstream and all(h["traceparent"][36:52] != client_span for _, h in downstream), downstream)
    events = {e["event_id"]: h["traceparent"] for _, e, h in mine}
    check("each downstream record's cause is a record of the same trace",
          all(e["causation_id"] in events and events[e["causation_id"]][3:35] == trace_id for e, _ in downstream),
          [(e["type"], e["causation_id"]) for e, _ in downstream])
    for order_id, tp in orders.items():
        if order_id == "tr-given":
            continue
        # The services' records (the command carries what the client sent).
        tps = [h.get("traceparent", "") for _, e, h in by_order.get(order_id, []) if e["type"] != "PlaceOrder"]
        want = derived_trace_id(order_id)
        check(f"{order_id} ({tp!r}): the derived trace on every record the saga wrote",
              len(tps) >= 3 and all(t[3:35] == want for t in tps), tps)


# ---- namespaces -----------------------------------------------------------------
def section_namespaces():
    a, b = Deployment(NS + "-a"), Deployment(NS + "-b")
    r = place(a.ns, 30, "na")
    check("30 orders placed in namespace a and decided", r.returncode == 0, r.stdout + r.stderr)
    env = dict(os.environ, SAGASIM_NAMESPACE=b.ns)  # the environment variable names it too
    r = sagasim("place-orders", *KAFKA, "--count", "20", "--run-id", "nb", "--wait", "120", "--json", env=env)
    check("20 orders placed in namespace b (from $SAGASIM_NAMESPACE) and decided", r.returncode == 0,
          r.stdout + r.stderr)
    for dep, n in ((a, 30), (b, 20)):
        r = dep.check("--wait", "60", "--json")
        j = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
        check(f"check in {dep.ns} passes and sees only its own {n} orders",
              r.returncode == 0 and j.get("instances", {}).get("total") == n, r.stdout + r.stderr)
    r = sagasim("check", *KAFKA, *a.db_args(), "--namespace", b.ns)
    check("a's databases judged against b's topics: the orders do not match", r.returncode == 1, r.stdout + r.stderr)
    topics = subprocess.run([KAFKA_LOCAL, "tool", "topics", "--bootstrap-server", BOOTSTRAP, "--list"],
                            capture_output=True, text=True, timeout=120).stdout.split()
    check("each namespace has its own topics and dead-letter topics",
          all(f"{ns}.{t}" in topics for ns in (a.ns, b.ns)
              for t in ("order-requests", "orders", "payments", "inventory", "orders.dlq")), topics)
    out = subprocess.run([KAFKA_LOCAL, "tool", "consumer-groups", "--bootstrap-server", BOOTSTRAP, "--describe",
                          "--group", f"{a.ns}.payment", "--group", f"{b.ns}.inventory"],
                         capture_output=True, text=True, timeout=120).stdout
    check("consumer groups are namespaced and client ids name namespace, service and instance",
          f"{a.ns}.payment " in out and f"{a.ns}.sagasim-payment-payment-1" in out
          and f"{b.ns}.inventory " in out and f"{b.ns}.sagasim-inventory-inventory-1" in out, out)


# ---- check scoping and --wait output ----------------------------------------
def section_scope():
    d = Deployment(NS)
    r = place(d.ns, 20, "s1")
    check("run s1: 20 orders decided", r.returncode == 0, r.stdout + r.stderr)
    # Something wrong in run s1: a garbage command for one of its orders.
    check("garbage sent in run s1", not send([("s1-99", b"\x00 not JSON", None)], d.ns + ".order-requests"))
    time.sleep(1.1)  # record timestamps are in ms: s2 starts strictly later
    now = time.time()
    between = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    time.sleep(1.1)
    r = place(d.ns, 25, "s2")
    check("run s2: 25 orders decided", r.returncode == 0, r.stdout + r.stderr)

    r = d.check("--wait", "60", "--json")
    j = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
    check("unscoped: both runs (45 orders) and run s1's poison fail it",
          r.returncode == 1 and j.get("instances", {}).get("total") == 45 and j.get("poison_records") == 1,
          r.stdout + r.stderr)
    r = d.check("--run-id", "s2", "--json")
    j = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
    check("--run-id s2: judged alone, 25 orders, passes",
          r.returncode == 0 and j.get("instances", {}).get("total") == 25 and j.get("poison_records") == 0
          and j.get("scope", {}).get("records_outside", 0) > 0, r.stdout + r.stderr)
    r = d.check("--run-id", "s1")
    check("--run-id s1: its own poison fails it", r.returncode == 1 and "records_readable" in r.stdout
          and "checked 20 orders" in r.stdout, r.stdout + r.stderr)
    r = d.check("--since", between)
    check(f"--since {between}: only run s2, passes", r.returncode == 0 and "checked 25 orders" in r.stdout
          and "scope: since" in r.stdout, r.stdout + r.stderr)
    r = d.check("--until", between)
    check(f"--until {between}: only run s1, fails on its poison",
          r.returncode == 1 and "checked 20 orders" in r.stdout, r.stdout + r.stderr)
    for bad in (["--since", "2026-01-01T00:00:00+00:00"], ["--since", "yesterday"],
                ["--since", "2026-01-02T00:00:00Z", "--until", "2026-01-01T00:00:00Z"], ["--run-id", ""]):
        r = d.check(*bad)
        check(f"check {' '.join(bad)}: exit 2 naming the option",
              r.returncode == 2 and any(o in r.stderr for o in bad if o.startswith("--")), r.stdout + r.stderr)

    # --wait progress: an order that cannot be decided (no payment service).
    check("payment stops", d.stop("payment-1") == 0)
    r = sagasim("place-orders", *KAFKA, "--namespace", d.ns, "--count", "1", "--run-id", "s3")
    check("run s3 placed", r.returncode == 0, r.stdout + r.stderr)
    t0 = time.monotonic()
    r = d.check("--run-id", "s3", "--wait", "9")
    took = time.monotonic() - t0
    lines = [l for l in r.stderr.splitlines() if l.startswith("waiting:")]
    check("--wait to a pipe: a progress line every 5 s, not every second",
          r.returncode == 1 and 1 <= len(lines) <= took / 5 + 1 and "\r" not in r.stderr,
          f"{took:.1f} s: {r.stderr}")
    import pty
    master, slave = pty.openpty()
    p = subprocess.Popen([SAGASIM, "check", *KAFKA, "--namespace", d.ns, *d.db_args(), "--run-id", "s3",
                          "--wait", "6"], stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    p.wait(timeout=120)
    os.close(master)
    tty = b"".join(chunks).decode(errors="replace")
    progress = tty.split("check: not quiet")[0]
    check("--wait on a terminal: one line rewritten in place (carriage returns, no new lines)",
          progress.count("\rwaiting:") >= 2 and "\n" not in progress, repr(tty))


# ---- the Python example client ---------------------------------------------
def section_python():
    d = Deployment(NS, payments=2)
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "python-client" / "saga_client.py"), "--bootstrap",
                        BOOTSTRAP, "--namespace", NS, "--count", "40", "--run-id", "py1", "--wait", "120"],
                       capture_output=True, text=True, timeout=300)
    j = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
    check("the Python client placed 40 orders and read 40 decisions",
          r.returncode == 0 and j.get("placed") == 40 and j.get("decided") == 40, r.stdout + r.stderr)
    check("its decisions are confirmations and cancellations with reasons",
          all(o == "confirmed" or o.startswith("cancelled: ") for o in j.get("orders", {}).values()), j)
    r = d.check("--wait", "60", "--json")
    jc = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
    check("sagasim check passes on the client's orders",
          r.returncode == 0 and jc.get("instances", {}).get("total") == 40, r.stdout + r.stderr)
    inst = jc.get("instances", {})
    check("check and the client agree on the outcomes",
          inst.get("completed") == j.get("outcomes", {}).get("confirmed", 0), (inst, j.get("outcomes")))


# ---- the malformed-command catalogue ------------------------------------------
def envelope(order_id, **over):
    _, value, _ = saga_client.place_order_record(order_id, "c-2", [{"sku": "sku-2", "quantity": 2,
                                                                     "price_cents": 150}])
    e = json.loads(value)
    for k, v in over.items():
        if k.startswith("payload_"):
            e["payload"][k[len("payload_"):]] = v
        elif v is None:
            e.pop(k)
        else:
            e[k] = v
    return e


def section_catalogue():
    d = Deployment(NS)
    dump = lambda e: json.dumps(e).encode()  # noqa: E731
    no_order_id = envelope("cat-nofield")
    del no_order_id["payload"]["order_id"]
    # (name, key, value, what the dead letter's reason must say)
    bad = [
        ("wrong key", "cat-wk-other", dump(envelope("cat-wk")), "differs from the event's key"),
        ("payload order_id differs from the key", "cat-oid", dump(envelope("cat-oid", payload_order_id="cat-else")),
         "/payload/order_id"),
        ("correlation_id not the order", "cat-corr", dump(envelope("cat-corr", correlation_id="cat-x")),
         "/correlation_id"),
        ("amount not the lines' price", "cat-amt", dump(envelope("cat-amt", payload_amount_cents=301)),
         "/payload/amount_cents"),
        ("timestamp +00:00 (isoformat)", "cat-ts1", dump(envelope("cat-ts1", occurred_at="2026-05-01T10:00:00+00:00")),
         "must end in Z"),
        ("timestamp without a zone", "cat-ts2", dump(envelope("cat-ts2", occurred_at="2026-05-01T10:00:00")),
         "/occurred_at"),
        ("timestamp month 13", "cat-ts3", dump(envelope("cat-ts3", occurred_at="2026-13-01T10:00:00Z")),
         "out of range"),
        ("amount_cents a string", "cat-type1", dump(envelope("cat-type1", payload_amount_cents="300")),
         "/payload/amount_cents"),
        ("lines an object", "cat-type2", dump(envelope("cat-type2", payload_lines={"sku": "sku-2"})),
         "/payload/lines"),
        ("schema_version a string", "cat-type3", dump(envelope("cat-type3", schema_version="1")), "/schema_version"),
        ("amount_cents 300.0", "cat-float1", json.dumps(envelope("cat-float1")).replace('"amount_cents": 300',
                                                                                        '"amount_cents": 300.0').encode(),
         "/payload/amount_cents"),
        ("schema_version 1.0", "cat-float2", json.dumps(envelope("cat-float2")).replace('"schema_version": 1',
                                                                                        '"schema_version": 1.0').encode(),
         "/schema_version"),
        ("schema_version 0", "cat-ver0", dump(envelope("cat-ver0", schema_version=0)), "/schema_version"),
        ("schema_version 2 whose payload v1 cannot read", "cat-ver2",
         dump(envelope("cat-ver2", schema_version=2, payload_lines="see attachment")), "/payload/lines"),
        ("causation_id missing", "cat-nocause", dump(envelope("cat-nocause", causation_id=None)), "/causation_id"),
        ("correlation_id missing", "cat-nocorr", dump(envelope("cat-nocorr", correlation_id=None)), "/correlation_id"),
        ("event_id missing", "cat-noid", dump(envelope("cat-noid", event_id=None)), "/event_id"),
        ("payload order_id missing", "cat-nofield", dump(no_order_id), "order_id"),
        ("headers not an object", "cat-hdr", dump(envelope("cat-hdr", headers=["a"])), "/headers"),
        ("an unknown envelope field", "cat-extra", dump(envelope("cat-extra", tenant="t-1")), "/tenant"),
        ("not JSON", "cat-nojson", b"PlaceOrder cat-nojson please", "not valid JSON"),
        ("an empty value", "cat-empty", b"", "no value"),
        ("a huge value (900 kB, not JSON)", "cat-huge", b"{" + b"x" * 900_000, "not valid JSON"),
        ("JSON nested too deep", "cat-deep", b"[" * 5000 + b"]" * 5000, "nested deeper"),
    ]
    # Handled as docs/clients.md says, not dead-lettered:
    fine = {
        "cat-ver2ok": dump(envelope("cat-ver2ok", schema_version=2)),  # a newer version that v1 reads: accepted
        "cat-nohdr": dump(envelope("cat-nohdr", headers=None)),        # headers are optional
        "cat-nocorrid": dump(envelope("cat-nocorrid", correlation_id="")),  # empty: the key stands for it
        "cat-unknowncust": dump(envelope("cat-unknowncust", payload_customer_id="c-nobody")),  # declined
    }
    records, valid = [], []
    for i, (name, key, value, _) in enumerate(bad):
        valid_id = f"cat-ok{i}"
        records.append(saga_client.place_order_record(valid_id, "c-3", [{"sku": "sku-3", "quantity": 1,
                                                                          "price_cents": 200}]))
        valid.append(valid_id)
        records.append((key, value, [("event_type", "PlaceOrder")]))
    for key, value in fine.items():
        records.append((key, value, None))
    errors = send(records, NS + ".order-requests")
    check("the catalogue and the valid orders were sent", not errors, errors)

    def dead():
        return [(k, v, h) for _, k, v, h in read_all([NS + ".order-requests.dlq"])]
    wait_for(lambda: len(dead()) >= len(bad), 90)
    letters = dead()
    check(f"{len(bad)} dead letters, one per malformed command", len(letters) == len(bad),
          [(k, h.get("dlq.error")) for k, _, h in letters])
    by_value = {v or b"": h for _, v, h in letters}
    for name, key, value, want in bad:
        h = by_value.get(value, {})
        why = h.get("dlq.error", "")
        check(f"dead-lettered with its reason: {name}", want in why and h.get("dlq.service") == "order"
              and h.get("dlq.topic") == NS + ".order-requests", why or "(not dead-lettered)")
    r = d.check("--wait", "90", "--json", "--allow-poison")
    j = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
    inst = j.get("instances", {})
    check(f"every valid order ({len(valid) + len(fine)}) decided and check --allow-poison passes",
          r.returncode == 0 and inst.get("total") == len(valid) + len(fine) and inst.get("undecided") == 0
          and j.get("poison_records") == len(bad), r.stdout + r.stderr)
    decided = {}
    for _, k, v, _ in read_all([NS + ".orders"]):
        e = json.loads(v)
        if e["type"] in ("OrderConfirmed", "OrderCancelled"):
            decided[k] = e["type"] + ":" + e["payload"].get("reason", "")
    check("the valid orders interleaved with the catalogue are decided", all(v in decided for v in valid), decided)
    check("the newer version v1 can read, no headers, an empty correlation_id: decided",
          all(k in decided for k in ("cat-ver2ok", "cat-nohdr", "cat-nocorrid")), decided)
    check("an unknown customer: cancelled, payment declined",
          decided.get("cat-unknowncust") == "OrderCancelled:payment_declined", decided)
    r = d.check()
    check("without --allow-poison, records_readable fails once per dead letter, naming why",
          r.returncode == 1 and f"records_readable                     FAIL ({min(len(bad), 21)})" in r.stdout
          and "dead-lettered, unreadable: topic " in r.stdout, r.stdout[-3000:])


def main():
    log(f"section {SECTION}, namespace {NS}, broker {BOOTSTRAP}, work dir {work}")
    try:
        globals()[f"section_{SECTION}"]()
    finally:
        for key, p in list(procs.items()):
            p.send_signal(signal.SIGTERM)
        for key, p in list(procs.items()):
            try:
                code = p.wait(timeout=60)
                check(f"{key[1]} of {key[0]} stops cleanly on SIGTERM", code == 0, code)
            except subprocess.TimeoutExpired:
                p.kill()
                check(f"{key[1]} of {key[0]} stops on SIGTERM", False)
        if own_broker:
            subprocess.run([KAFKA_LOCAL, "stop", "--dir", str(own_broker)], capture_output=True, timeout=120)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
