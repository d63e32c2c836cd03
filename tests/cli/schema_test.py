#!/usr/bin/env python3
"""`sagasim schema`: docs/events.md is generated from the schemas and current;
the compatibility checker on the built-in versions and a breaking change;
`validate` on v1, v2, newer and broken envelopes; bad input gives exit 2.

    schema_test.py SAGASIM ROOT
"""
import json
import pathlib
import subprocess
import sys
import tempfile

SAGASIM = sys.argv[1]
ROOT = pathlib.Path(sys.argv[2])
BREAKING = str(ROOT / "tests" / "schemas" / "OrderCreated.v3-breaking.json")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
from checks import Checks  # noqa: E402

check = Checks()


def sagasim(*args):
    return subprocess.run([SAGASIM, *args], capture_output=True, text=True, timeout=60)


r = sagasim("schema", "list", "--markdown")
docs = (ROOT / "docs" / "events.md").read_text()
check("docs/events.md is `sagasim schema list --markdown` (regenerate it after changing a schema)",
      r.returncode == 0 and r.stdout == docs, r.stderr)
for f in sorted((ROOT / "sagas" / "order" / "schemas").glob("*.json")):
    t, v = f.stem.rsplit(".v", 1)
    check(f"docs/events.md covers {f.name}", f"`sagas/order/schemas/{t}.v{v}.json`" in docs)

r = sagasim("schema", "check", "OrderCreated.v1", "OrderCreated.v2", "--json")
j = json.loads(r.stdout) if r.returncode == 0 else {}
check("OrderCreated v1 -> v2 is FULL compatible", j.get("level") == "FULL" and j["backward"]["compatible"]
      and j["forward"]["compatible"], r.stdout + r.stderr)

r = sagasim("schema", "check", "OrderCreated.v2", BREAKING, "--require", "FORWARD")
check("a breaking change fails --require FORWARD with exit 1", r.returncode == 1, r.stdout + r.stderr)
check("and names the field old consumers miss", "/amount_cents: required by the reader, unknown to the writer" in r.stdout
      and "compatibility: NONE" in r.stdout, r.stdout)
r = sagasim("schema", "check", "OrderCreated.v2", BREAKING, "--require", "NONE")
check("--require NONE accepts anything", r.returncode == 0, r.stdout + r.stderr)

with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    bad = tmp / "bad.json"
    bad.write_text('{"type": "object", "properties": {"id": {"type": "string", "pattern": "^o-"}}}')
    r = sagasim("schema", "check", str(bad), "OrderCreated.v2")
    check("a keyword sagasim does not support is exit 2 with its path",
          r.returncode == 2 and "at /properties/id/pattern: 'pattern' is not a keyword" in r.stderr, r.stderr)
    (tmp / "notjson.json").write_text("{nope")
    r = sagasim("schema", "check", str(tmp / "notjson.json"), "OrderCreated.v2")
    check("a schema that is not JSON is exit 2", r.returncode == 2 and "not valid JSON" in r.stderr, r.stderr)
    r = sagasim("schema", "check", "OrderCreated.v9", "OrderCreated.v2")
    check("an unknown built-in schema is exit 2", r.returncode == 2 and "not a built-in schema" in r.stderr, r.stderr)
    r = sagasim("schema", "check", str(tmp), "OrderCreated.v2")
    check("a directory is exit 2", r.returncode == 2 and "is a directory" in r.stderr, r.stderr)
    r = sagasim("schema", "check", "OrderCreated.v1", "OrderCreated.v2", "--require", "SIDEWAYS")
    check("an unknown --require mode is exit 2", r.returncode == 2, r.stderr)

    def envelope(version, payload, eid):
        return json.dumps({"event_id": eid, "type": "OrderCreated", "schema_version": version, "key": "o-1",
                           "occurred_at": "2026-01-01T00:00:00Z", "correlation_id": "o-1", "causation_id": "",
                           "headers": {}, "payload": payload})
    base = {"order_id": "o-1", "customer_id": "c-1", "lines": [{"sku": "s", "quantity": 1, "price_cents": 5}],
            "amount_cents": 5}
    renamed = {k: v for k, v in base.items() if k != "amount_cents"} | {"total_cents": 5}
    events = tmp / "events.jsonl"
    events.write_text("\n".join([
        envelope(1, base, "e-1"),
        envelope(2, base | {"currency": "EUR"}, "e-2"),
        envelope(3, base | {"gift_wrap": True}, "e-3"),           # a newer, compatible producer
        envelope(3, renamed, "e-4"),                              # a newer, breaking producer
        envelope(2, base | {"currency": "EURO"}, "e-5"),          # not an ISO code
    ]) + "\n")
    r = sagasim("schema", "validate", str(events))
    check("validate: 3 valid, 2 invalid, exit 1", r.returncode == 1 and "3 valid, 2 invalid" in r.stdout, r.stdout + r.stderr)
    check("validate names file:line and path of each invalid event",
          f"{events}:4 at /payload/amount_cents: OrderCreated v3 from a newer producer cannot be read as v2" in r.stdout
          and f"{events}:5 at /payload/currency: not a valid OrderCreated v2 payload" in r.stdout, r.stdout)
    r = sagasim("schema", "validate", str(events), "--pin", "OrderCreated=1")
    check("a build pinned to v1 reads v2 and compatible v3 as v1, and still refuses the breaking one",
          r.returncode == 1 and "4 valid, 1 invalid" in r.stdout and "cannot be read as v1" in r.stdout, r.stdout)
    r = sagasim("schema", "validate", str(events), "--pin", "OrderCreated=7")
    check("a pin beyond the known versions is exit 2", r.returncode == 2 and "cannot pin it at 7" in r.stderr, r.stderr)
    r = sagasim("schema", "validate", str(events), "--pin", "Nonsense")
    check("a malformed pin is exit 2", r.returncode == 2 and "expected TYPE=VERSION" in r.stderr, r.stderr)
    (tmp / "empty.jsonl").write_text("\n")
    r = sagasim("schema", "validate", str(tmp / "empty.jsonl"))
    check("a file with no events is exit 2", r.returncode == 2 and "no events" in r.stderr, r.stderr)

check.finish()
