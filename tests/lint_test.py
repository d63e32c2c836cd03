#!/usr/bin/env python3
"""The determinism lint passes on this repository and fails on every banned call."""
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(sys.argv[1])
LINT = ROOT / "scripts" / "lint-determinism"
failures = []


def lint(root):
    return subprocess.run([sys.executable, str(LINT), "--root", str(root)], capture_output=True, text=True)


r = lint(ROOT)
if r.returncode != 0:
    failures.append("the repository is not clean:\n" + r.stdout)

BAD = {
    "std::chrono::system_clock::now()": "a wall clock",
    "auto t = std::chrono::steady_clock::now();": "a wall clock",
    "std::random_device rd;": "an unseeded random source",
    "int x = rand();": "rand()",
    "srand(3);": "rand()",
    "#include <random>": "<random>",
    "std::thread t([]{});": "a thread",
    "std::this_thread::sleep_for(d);": "a sleep",
    "usleep(10);": "a sleep",
    "time(nullptr);": "a wall clock",
}
with tempfile.TemporaryDirectory() as tmp:
    layers = ["core", "sim", "faults", "properties", "sagas"]
    for layer in layers:
        (pathlib.Path(tmp) / layer).mkdir()
    for i, (line, why) in enumerate(BAD.items()):
        layer = layers[i % len(layers)]
        (pathlib.Path(tmp) / layer / f"bad{i}.cc").write_text(f"void f() {{\n  {line}\n}}\n")
    # Mentions in comments and strings are not calls.
    (pathlib.Path(tmp) / "core" / "fine.cc").write_text(
        '// never call std::chrono::system_clock::now() here\nconst char* s = "rand()";\n/* sleep_for */\n')
    # Other layers own their clocks.
    (pathlib.Path(tmp) / "cli").mkdir()
    (pathlib.Path(tmp) / "cli" / "main.cc").write_text("auto t = std::chrono::steady_clock::now();\n")
    r = lint(tmp)
    if r.returncode != 1:
        failures.append(f"lint exited {r.returncode} on banned calls")
    for i, (line, why) in enumerate(BAD.items()):
        hit = [l for l in r.stdout.splitlines() if f"bad{i}.cc:2:" in l]
        if not hit or why not in hit[0]:
            failures.append(f"not caught: {line!r} (want '{why}'), got {hit}")
    if "fine.cc" in r.stdout or "cli/main.cc" in r.stdout:
        failures.append("false positive:\n" + r.stdout)

for f in failures:
    print("FAIL:", f)
checks = 2 + len(BAD)
print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
