#!/usr/bin/env python3
"""An outside client of sagasim's order saga, in Python with confluent-kafka.

It does what a shop's own front end would do against a deployment that runs
`sagasim serve order|payment|inventory`: it places orders (PlaceOrder commands
on `order-requests`) and reads their decisions (OrderConfirmed / OrderCancelled
on `orders`). docs/clients.md explains every field it writes.

    python saga_client.py --bootstrap 127.0.0.1:9092 --count 20 --run-id shop-1 --wait 60
    python saga_client.py ... --namespace team-a     # a namespaced deployment's topics

It prints one JSON object: {"run_id", "placed", "decided", "outcomes", "orders": {id: outcome}}
and exits 0 when every order it placed was decided within --wait seconds, 1 if
not, 2 on bad arguments.
"""
import argparse
import datetime
import json
import random
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

# The built-in live workload (`sagasim serve` without --scenario): customers
# c-1..c-50 and SKUs sku-1..sku-20 (docs/clients.md).
CUSTOMERS = [f"c-{i}" for i in range(1, 51)]
SKUS = [f"sku-{i}" for i in range(1, 21)]
DECISIONS = {"OrderConfirmed", "OrderCancelled"}


def utc_now():
    """RFC 3339 UTC ending in Z, microseconds: what sagasim accepts (isoformat() gives +00:00, refused)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def place_order_record(order_id, customer_id, lines, traceparent=None):
    """The key, value and Kafka headers of one PlaceOrder command."""
    event_id = f"{order_id}-place-{uuid.uuid4().hex[:12]}"  # unique per command
    envelope = {
        "event_id": event_id,
        "type": "PlaceOrder",
        "schema_version": 1,
        "key": order_id,               # = the Kafka record key
        "occurred_at": utc_now(),      # the order's deadline counts from here: send it now
        "correlation_id": order_id,    # the saga instance: the order itself (or "")
        "causation_id": "",            # required; empty for a client's command
        "headers": {},
        "payload": {
            "order_id": order_id,
            "customer_id": customer_id,
            "lines": lines,
            # must be exactly the lines' price, or the command is dead-lettered
            "amount_cents": sum(l["quantity"] * l["price_cents"] for l in lines),
        },
    }
    headers = [("event_id", event_id), ("event_type", "PlaceOrder"), ("correlation_id", order_id),
               ("causation_id", "")]
    if traceparent:
        headers.append(("traceparent", traceparent))
    return order_id, json.dumps(envelope, separators=(",", ":")), headers


def decision_of(value):
    """(order_id, outcome) if the record is a decision, else None."""
    try:
        e = json.loads(value)
    except (TypeError, ValueError):
        return None
    if not isinstance(e, dict) or e.get("type") not in DECISIONS:
        return None
    if e["type"] == "OrderConfirmed":
        return e["correlation_id"] or e["key"], "confirmed"
    return e["correlation_id"] or e["key"], "cancelled: " + e.get("payload", {}).get("reason", "?")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", required=True, help="bootstrap.servers, HOST:PORT[,...]")
    ap.add_argument("--namespace", default="", help="the deployment's namespace (sagasim --namespace)")
    ap.add_argument("--count", type=int, default=10, help="orders to place")
    ap.add_argument("--run-id", default="py" + uuid.uuid4().hex[:8],
                    help="order ids are RUN-1, RUN-2...: `sagasim check --run-id RUN` judges just these")
    ap.add_argument("--wait", type=float, default=60, help="seconds to wait for every decision")
    ap.add_argument("--seed", type=int, default=1, help="seed of the orders' shapes")
    ap.add_argument("--traceparent", default=None,
                    help="a W3C traceparent to send with every command: the saga continues that trace")
    args = ap.parse_args(argv)
    if args.count < 1:
        ap.error("--count must be at least 1")
    prefix = args.namespace + "." if args.namespace else ""
    rng = random.Random(args.seed)

    # Decisions are read from where `orders` ends now, outside any group.
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": prefix + "python-client",
                         "enable.auto.commit": False, "client.id": prefix + "python-client-" + args.run_id})
    topic = prefix + "orders"
    md = consumer.list_topics(topic, timeout=30)
    if md.topics[topic].error is not None:
        print(f"saga_client: topic {topic}: {md.topics[topic].error} (is `sagasim serve` running?)", file=sys.stderr)
        return 1
    start = []
    for p in md.topics[topic].partitions:
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
        start.append(TopicPartition(topic, p, high))
    consumer.assign(start)

    producer = Producer({
        "bootstrap.servers": args.bootstrap,
        "client.id": prefix + "python-client-" + args.run_id,
        # The same partition for a key as sagasim (and Java clients) choose:
        # librdkafka's default, consistent_random (CRC32), would not.
        "partitioner": "murmur2_random",
        "enable.idempotence": True,
        "acks": "all",
    })
    failures = []
    placed = []
    for i in range(1, args.count + 1):
        order_id = f"{args.run_id}-{i}"
        lines = [{"sku": rng.choice(SKUS), "quantity": rng.randint(1, 3), "price_cents": rng.randint(100, 5000)}
                 for _ in range(rng.randint(1, 3))]
        key, value, headers = place_order_record(order_id, rng.choice(CUSTOMERS), lines, args.traceparent)
        producer.produce(prefix + "order-requests", key=key, value=value, headers=headers,
                         on_delivery=lambda err, msg: err and failures.append(str(err)))
        placed.append(order_id)
        producer.poll(0)
    left = producer.flush(30)
    if left or failures:
        print(f"saga_client: {left} records undelivered; errors: {failures[:3]}", file=sys.stderr)
        return 1

    wanted = set(placed)
    decided = {}
    deadline = time.monotonic() + args.wait
    while len(decided) < len(wanted) and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() != KafkaError._PARTITION_EOF:
                print(f"saga_client: {msg.error()}", file=sys.stderr)
            continue
        d = decision_of(msg.value())
        if d and d[0] in wanted and d[0] not in decided:
            decided[d[0]] = d[1]
    consumer.close()
    outcomes = {}
    for o in decided.values():
        outcomes[o] = outcomes.get(o, 0) + 1
    print(json.dumps({"run_id": args.run_id, "placed": len(placed), "decided": len(decided), "outcomes": outcomes,
                      "orders": decided}))
    return 0 if len(decided) == len(wanted) else 1


if __name__ == "__main__":
    sys.exit(main())
