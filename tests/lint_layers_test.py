#!/usr/bin/env python3
"""The layering lint passes on this repository and fails on an include that a
folder's README does not allow: the engine including the order saga, a layer
including one above it, and a README naming a folder that does not exist."""
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(sys.argv[1])
LINT = ROOT / "scripts" / "lint-layers"
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "lib"))
from checks import Checks  # noqa: E402

check = Checks()


def lint(root):
    return subprocess.run([sys.executable, str(LINT), "--root", str(root)], capture_output=True, text=True)


r = lint(ROOT)
check("the repository's includes follow its READMEs", r.returncode == 0, r.stdout + r.stderr)

with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    for folder in ["core", "sim", "faults", "properties", "kafka", "sagas/order", "cli", "viewer"]:
        (tmp / folder).mkdir(parents=True)
        shutil.copy(ROOT / folder / "README.md", tmp / folder / "README.md")
    (tmp / "sim" / "fine.cc").write_text('#include "sim/scheduler.h"\n#include "core/event.h"\n#include "x.h"\n')
    (tmp / "cli" / "fine.cc").write_text('#include "sagas/order/events.h"\n#include "kafka/runner.h"\n')
    (tmp / "sagas" / "order" / "fine.cc").write_text('#include "sim/saga.h"\n')
    r = lint(tmp)
    check("allowed includes pass", r.returncode == 0, r.stdout + r.stderr)

    (tmp / "sim" / "bad.cc").write_text('// the engine must not know the order saga\n#include "sagas/order/events.h"\n')
    (tmp / "core" / "bad.h").write_text('#pragma once\n#include "sim/trace.h"\n')
    (tmp / "kafka" / "bad.cc").write_text('#include "faults/world.h"\n')
    r = lint(tmp)
    check("violations fail the lint", r.returncode == 1, r.stdout + r.stderr)
    for where, what in [("sim/bad.cc:2", "sagas/order/events.h"), ("core/bad.h:2", "sim/trace.h"),
                        ("kafka/bad.cc:1", "faults/world.h")]:
        check(f"{where} is named", any(l.startswith(where + ":") and what in l for l in r.stdout.splitlines()), r.stdout)
    check("allowed includes are not reported", "fine.cc" not in r.stdout, r.stdout)

    for f in ["sim/bad.cc", "core/bad.h", "kafka/bad.cc"]:
        (tmp / f).unlink()
    readme = tmp / "sim" / "README.md"
    readme.write_text(readme.read_text().replace("May import: `core/`", "May import: `core/`, `services/`"))
    r = lint(tmp)
    check("a README naming a missing folder is refused", r.returncode == 2 and "services/" in r.stdout, r.stdout)

check.finish()
