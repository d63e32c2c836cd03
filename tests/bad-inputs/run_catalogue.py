#!/usr/bin/env python3
"""The bad-input catalogue (tests/bad-inputs/cases.json) against the sagasim
command and the readers no command reaches yet (reader_probe).

    run_catalogue.py SAGASIM READER_PROBE ROOT [CASE_ID_SUBSTRING...]

Every case runs each of its commands and must end in the exit code it names
(2 for bad input, unless the case documents why the input is acceptable) with
a message on stderr that names the input file and, unless the problem is the
file as a whole, a location in it: a JSON pointer (" at /..."), a line
("file:3" or "file:3:7") or a byte offset ("byte 17"). No case may crash
(signal, sanitizer report, uncaught exception) or hang (TIMEOUT_S).
See docs/reliability.md#bad-input-catalogue.
"""
import json
import os
import pathlib
import random
import re
import subprocess
import sys
import tempfile

SAGASIM, PROBE, ROOT = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
ONLY = sys.argv[4:]
HERE = ROOT / "tests" / "bad-inputs"
# Generous: sanitizer builds are several times slower, and a hang is far longer.
TIMEOUT_S = float(os.environ.get("SAGASIM_BAD_INPUT_TIMEOUT_S", "120"))

# How each reader is driven. {input} is the case's file, {tmp} a scratch directory.
COMMANDS = {
    "run": [SAGASIM, "run", "{input}"],
    "sweep": [SAGASIM, "sweep", "{input}", "--seeds", "1..2"],
    "shrink": [SAGASIM, "shrink", "{input}", "--seed", "1", "--out", "{tmp}/shrunk.json"],
    "replay": [SAGASIM, "replay", "{input}"],
    "export": [SAGASIM, "export", "{input}", "--perfetto", "{tmp}/perfetto.json"],
    "event": [PROBE, "event", "{input}"],
    "properties": [PROBE, "properties", "{input}"],
}
DEFAULT_COMMANDS = {
    "scenario": ["run", "sweep", "shrink"],
    "trace": ["replay", "export"],
    "event": ["event"],
    "properties": ["properties"],
}
CRASH_SIGNS = ["AddressSanitizer", "LeakSanitizer", "runtime error:", "terminate called", "Segmentation fault",
               "Assertion", "ThreadSanitizer"]


def placeholder(i):
    return f"@@SAGASIM-BAD-INPUT-{i}@@"


def make_value(spec, fills):
    """A JSON value, or a placeholder for text too big or too odd to build as a value."""
    if isinstance(spec, dict) and "nest" in spec:
        d = spec["nest"]
        fills.append("[" * d + "]" * d)
    elif isinstance(spec, dict) and "string_bytes" in spec:
        fills.append('"' + "x" * spec["string_bytes"] + '"')
    elif isinstance(spec, dict) and "array_of" in spec:
        return [spec["array_of"]] * spec["times"]
    else:
        return spec
    return placeholder(len(fills) - 1)


def set_pointer(doc, pointer, value):
    parts = [p for p in pointer.split("/")[1:]]
    node = doc
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def generate(spec):
    """Builds a case's input from the manifest's recipe, as bytes."""
    if "json_set" in spec:  # a JSON file with values replaced: {"base": path, "json_set": {pointer: value}}
        doc = json.loads((ROOT / spec["base"]).read_text())
        fills = []
        for pointer, value in spec["json_set"].items():
            set_pointer(doc, pointer, make_value(value, fills))
        text = json.dumps(doc)
        for i, f in enumerate(fills):
            text = text.replace(json.dumps(placeholder(i)), f)
        return text.encode()
    out = b""
    for seg in spec["concat"]:  # segments: text, repeat, file line, random bytes
        if "text" in seg:
            out += seg["text"].encode()
        elif "repeat" in seg:
            out += seg["repeat"].encode() * seg["times"]
        elif "file_line" in seg:
            out += (ROOT / seg["file_line"]).read_bytes().splitlines(keepends=True)[seg.get("line", 0)]
        elif "random_bytes" in seg:
            out += random.Random(seg.get("seed", 1)).randbytes(seg["random_bytes"])
    return out


def main():
    cases = json.loads((HERE / "cases.json").read_text())["cases"]
    passed = failed = 0
    ids = set()
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            cid = case["id"]
            assert cid not in ids, f"duplicate case id {cid}"
            ids.add(cid)
            if ONLY and not any(o in cid for o in ONLY):
                continue
            if "input" in case:
                path = case["input"] if case["input"].startswith("/") else str(ROOT / case["input"])
            elif "generate" in case:
                path = os.path.join(tmp, cid.replace("/", "-") + case.get("suffix", ".json"))
                pathlib.Path(path).write_bytes(generate(case["generate"]))
            else:
                path = None
            if "args" in case:  # a command line of its own (CLI arguments out of range)
                runs = [("cli", [SAGASIM] + case["args"])]
            else:
                names = case.get("commands", DEFAULT_COMMANDS[case["reader"]])
                runs = [(n, COMMANDS[n]) for n in names]
            for name, argv in runs:
                argv = [a.replace("{input}", path or "").replace("{tmp}", tmp).replace("{root}", str(ROOT)) for a in argv]
                label = f"{cid} [{name}]"
                problems = []
                try:
                    r = subprocess.run(argv, capture_output=True, timeout=TIMEOUT_S)
                    err = r.stderr.decode(errors="replace")
                    out = r.stdout.decode(errors="replace")
                    rc = r.returncode
                except subprocess.TimeoutExpired:
                    problems.append(f"hung: no exit within {TIMEOUT_S:.0f} s")
                    rc, err, out = None, "", ""
                if rc is not None:
                    want = case.get("exit", 2)
                    if rc < 0:
                        problems.append(f"crashed: killed by signal {-rc}")
                    elif rc != want:
                        problems.append(f"exit code {rc}, want {want}")
                    for sign in CRASH_SIGNS:
                        if sign in err:
                            problems.append(f"stderr shows a crash ({sign!r})")
                    text = err if want == 2 else out + err
                    if want == 2:
                        if path and path not in err:
                            problems.append("the message does not name the file")
                        located = path and (re.search(re.escape(path) + r"(:\d+| at /)", err) or
                                            re.search(r"(byte|offset) \d+", err))
                        if path and case.get("location", True) and not located:
                            problems.append("the message names no location after the file (JSON pointer, line or byte)")
                        if len(err) > 4000:
                            problems.append(f"the message is {len(err)} bytes long (echoes the input?)")
                    for needle in case.get("expect", []):
                        needle = needle.replace("{input}", path or "")
                        if needle not in text:
                            problems.append(f"output lacks {needle!r}")
                if problems:
                    failed += 1
                    print(f"FAIL {label}: " + "; ".join(problems))
                    print("  command: " + " ".join(a if len(a) < 200 else a[:200] + "..." for a in argv))
                    print("  stderr:  " + err[:800].replace("\n", "\n           "))
                else:
                    passed += 1
                    print(f"ok   {label}: {err.strip().splitlines()[0][:160] if err.strip() else out.strip()[:160]}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
