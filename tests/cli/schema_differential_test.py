#!/usr/bin/env python3
"""sagasim's JSON Schema validator against an independent one (python-jsonschema,
draft 2020-12): for every event schema in sagas/order/schemas/, a valid payload and
hundreds of mutations of it (fields removed, wrong types, out-of-range values,
bad enum values, nested items broken, unknown fields added) are decoded by
`sagasim schema validate`; both validators must agree on every one.

One difference is by design and excluded: an integral float (2.0) is an integer
to JSON Schema but not to sagasim's codec (docs/schema-evolution.md).

    schema_differential_test.py SAGASIM ROOT
"""
import copy
import json
import pathlib
import re
import subprocess
import sys
import tempfile

import jsonschema

SAGASIM = sys.argv[1]
ROOT = pathlib.Path(sys.argv[2])


def example(schema):
    """A small valid instance of `schema` (the subset sagasim uses)."""
    if "default" in schema:
        return copy.deepcopy(schema["default"])
    if "enum" in schema:
        return copy.deepcopy(schema["enum"][0])
    if "const" in schema:
        return copy.deepcopy(schema["const"])
    t = schema.get("type")
    t = t[0] if isinstance(t, list) else t
    if t == "object":
        return {k: example(v) for k, v in schema.get("properties", {}).items()}
    if t == "array":
        n = max(schema.get("minItems", 0), 2)
        return [example(schema.get("items", {})) for _ in range(n)]
    if t == "integer":
        return max(schema.get("minimum", 0), 3)
    if t == "number":
        return 1.5
    if t == "string":
        n = schema.get("minLength", 1)
        return ("abcdefgh" * 4)[: max(n, min(5, schema.get("maxLength", 5)))]
    if t == "boolean":
        return True
    return None


def mutations(schema, value, path=""):
    """(description, mutated value) pairs: each breaks or bends one thing."""
    out = []
    t = schema.get("type")
    for wrong in ("text", 7, 2.5, True, None, [], {}):
        out.append((f"{path or '/'} = {json.dumps(wrong)}", wrong))
    if t == "integer" and "minimum" in schema:
        out.append((f"{path} below minimum", schema["minimum"] - 1))
        out.append((f"{path} at minimum", schema["minimum"]))
    if t == "string":
        out.append((f"{path} empty", ""))
        out.append((f"{path} unicode", "ü€𝄞"))
        out.append((f"{path} long", "x" * 9))
    if "enum" in schema:
        out.append((f"{path} not in enum", "nonsense"))
    if t == "array":
        out.append((f"{path} empty", []))
        item = schema.get("items", {})
        for desc, m in mutations(item, value[0] if value else example(item), path + "/0"):
            v = copy.deepcopy(value)
            v[0] = m
            out.append((desc, v))
    if t == "object":
        out.append((f"{path} + unknown field", {**value, "colour": "blue"}))
        for name, sub in schema.get("properties", {}).items():
            v = copy.deepcopy(value)
            del v[name]
            out.append((f"{path}/{name} removed", v))
            for desc, m in mutations(sub, value[name], f"{path}/{name}"):
                v = copy.deepcopy(value)
                v[name] = m
                out.append((desc, v))
    return out


def integral_float_somewhere(v):
    if isinstance(v, float):
        return v == int(v)
    if isinstance(v, list):
        return any(integral_float_somewhere(x) for x in v)
    if isinstance(v, dict):
        return any(integral_float_somewhere(x) for x in v.values())
    return False


cases = []  # (file, description, payload, valid according to python-jsonschema)
for f in sorted((ROOT / "sagas" / "order" / "schemas").glob("*.json")):
    schema = json.loads(f.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    jsonschema.Draft202012Validator.check_schema(schema)
    base = example(schema)
    assert validator.is_valid(base), (f.name, base)
    for desc, payload in [("valid example", base)] + mutations(schema, base):
        if integral_float_somewhere(payload):
            continue
        cases.append((f, desc, payload, validator.is_valid(payload)))

failed = 0
with tempfile.TemporaryDirectory() as tmp:
    events = pathlib.Path(tmp) / "events.jsonl"
    with events.open("w") as out:
        for f, desc, payload, _ in cases:
            t, v = f.stem.rsplit(".v", 1)
            out.write(json.dumps({"event_id": "e-1", "type": t, "schema_version": int(v), "key": "o-1",
                                  "occurred_at": "2026-01-01T00:00:00Z", "correlation_id": "o-1",
                                  "causation_id": "", "headers": {}, "payload": payload}) + "\n")
    r = subprocess.run([SAGASIM, "schema", "validate", str(events)], capture_output=True, text=True, timeout=120)
    if r.returncode not in (0, 1):
        print(f"FAIL: sagasim schema validate exited {r.returncode}\n{r.stderr}")
        sys.exit(1)
    invalid = {}
    for line in r.stdout.splitlines():
        m = re.match(re.escape(str(events)) + r":(\d+) (.*)", line)
        if m:
            invalid[int(m.group(1))] = m.group(2)
    for n, (f, desc, payload, valid) in enumerate(cases, start=1):
        ours = n not in invalid
        if ours != valid:
            failed += 1
            print(f"FAIL: {f.name}: {desc}: python-jsonschema says {'valid' if valid else 'invalid'}, "
                  f"sagasim says {'valid' if ours else 'invalid: ' + invalid[n]}\n  payload {json.dumps(payload)}")

valid_count = sum(1 for c in cases if c[3])
print(f"{len(cases)} payloads over {len(list((ROOT / 'sagas' / 'order' / 'schemas').glob('*.json')))} schemas "
      f"({valid_count} valid, {len(cases) - valid_count} invalid): {len(cases) - failed} agree, {failed} disagree")
sys.exit(1 if failed or len(cases) < 500 or valid_count < 50 else 0)
