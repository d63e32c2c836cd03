#!/usr/bin/env python3
"""sagasim-viewer from the command line, headless (QT_QPA_PLATFORM=offscreen):
--png writes a PNG of the asked size, --order changes it, bad traces and bad
arguments exit 2 with a message naming file:line, the window opens and paints
(--smoke), and a 100,000-step trace opens and renders (its timings printed).

usage: viewer_cli_test.py SAGASIM_VIEWER SAGASIM SOURCE_DIR
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

viewer, sagasim, source = sys.argv[1], sys.argv[2], sys.argv[3]
trace = os.path.join(source, "tests/viewer/data/small.trace.ndjson")
env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
failures = []
# The large trace's timings are printed, never asserted: a test that fails
# on a busy machine says nothing about the viewer (docs/viewer.md has the
# figures, measured on a quiet one). The subprocess timeouts catch a hang.


def check(cond, what):
    if not cond:
        failures.append(what)


def run(*args, timeout=120):
    return subprocess.run([viewer, *args], capture_output=True, text=True, env=env, timeout=timeout)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


with tempfile.TemporaryDirectory() as tmp:
    plain = os.path.join(tmp, "plain.png")
    r = run(trace, "--png", plain, "--width", "1000", "--height", "600")
    check(r.returncode == 0, f"--png: exit {r.returncode}: {r.stderr}")
    check(png_size(plain) == (1000, 600), f"--png size {png_size(plain)}")

    lit = os.path.join(tmp, "lit.png")
    r = run(trace, "--png", lit, "--width", "1000", "--height", "600", "--order", "o-3", "--whole")
    check(r.returncode == 0, f"--order: exit {r.returncode}: {r.stderr}")
    check(open(plain, "rb").read() != open(lit, "rb").read(), "highlighting o-3 changed nothing")

    r = run(trace, "--png", os.path.join(tmp, "x.png"), "--order", "o-999")
    check(r.returncode == 2 and 'no order "o-999"' in r.stderr, f"unknown order: {r.returncode} {r.stderr!r}")
    r = run(trace, "--png", os.path.join(tmp, "x.png"), "--width", "12")
    check(r.returncode == 2 and "--width" in r.stderr, f"bad width: {r.returncode} {r.stderr!r}")
    r = run("--png", os.path.join(tmp, "x.png"))
    check(r.returncode == 2 and "needs a trace" in r.stderr, f"--png without trace: {r.returncode} {r.stderr!r}")
    r = run(trace, "--png", os.path.join(tmp, "no-such-dir", "x.png"))
    check(r.returncode == 2 and "cannot write" in r.stderr, f"unwritable png: {r.returncode} {r.stderr!r}")

    lines = open(trace).read().splitlines()
    bad = {
        "truncated.jsonl": ("\n".join(lines[:40]) + "\n" + lines[40][:50], "truncated.jsonl:41: truncated line"),
        "version.jsonl": ("\n".join([lines[0].replace('"version":1', '"version":2')] + lines[1:]) + "\n",
                          "version.jsonl:1: trace format version 2 is not supported"),
        "kind.jsonl": ("\n".join(lines[:9] + [lines[9].replace('"kind":"fault"', '"kind":"oops"')] + lines[10:]) + "\n",
                       'kind.jsonl:10: unknown step kind "oops"'),
        "empty.jsonl": ("", "empty.jsonl:1: empty file"),
    }
    for name, (text, expect) in bad.items():
        p = os.path.join(tmp, name)
        open(p, "w").write(text)
        for mode in (["--png", os.path.join(tmp, "bad.png")], ["--smoke"]):
            r = run(p, *mode, timeout=60)  # --smoke must not sit in a dialog
            check(r.returncode == 2, f"{name} {mode[0]}: exit {r.returncode}, want 2")
            check(expect in r.stderr, f"{name} {mode[0]}: stderr {r.stderr!r} lacks {expect!r}")
    check(not os.path.exists(os.path.join(tmp, "bad.png")), "a PNG was written for a bad trace")

    r = run(trace, "--smoke", "--timing", "--order", "o-3")
    check(r.returncode == 0 and "window painted" in r.stderr, f"--smoke: {r.returncode} {r.stderr!r}")
    shot = os.path.join(tmp, "window.png")
    r = run(trace, "--window-png", shot, "--width", "1300", "--height", "800")
    check(r.returncode == 0 and png_size(shot) == (1300, 800), f"--window-png: {r.returncode} {png_size(shot)} {r.stderr!r}")

    # A 100,000-step trace: the chaos scenario with more orders.
    scenario = json.load(open(os.path.join(source, "scenarios/chaos.json")))
    scenario["name"] = "chaos-large"
    scenario["workload"]["orders"]["count"] = 2900
    sc = os.path.join(tmp, "large.json")
    json.dump(scenario, open(sc, "w"))
    large = os.path.join(tmp, "large.jsonl")
    r = subprocess.run([sagasim, "run", sc, "--seed", "3", "--trace", large], capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, f"large run: {r.returncode} {r.stderr}")
    steps = sum(1 for _ in open(large)) - 2
    check(steps >= 100000, f"large trace has {steps} steps")
    for mode in (["--smoke", "--timing"], ["--png", os.path.join(tmp, "large.png"), "--timing"]):
        t0 = time.monotonic()
        r = run(large, *mode, timeout=300)
        wall = time.monotonic() - t0
        check(r.returncode == 0, f"large {mode[0]}: exit {r.returncode} {r.stderr}")
        timing = [l for l in r.stderr.splitlines() if l.startswith("timing:")]
        print(f"{mode[0]} on {steps} steps: {wall:.2f} s wall; {timing[0] if timing else r.stderr.strip()}")
        check(timing, f"large {mode[0]} --timing printed no timing line: {r.stderr!r}")

for f in failures:
    print("FAIL:", f)
print(f"viewer cli: {len(failures)} failures")
sys.exit(1 if failures else 0)
