"""The tally the Python tests keep.

    check = Checks()
    check("sweep ran 20 runs", js["runs"] == 20, js)   # counts; prints FAIL with the detail
    check.finish()                                      # "N passed, M failed"; exit 1 if any failed
"""
import sys


class Checks:
    def __init__(self, log=print):
        self.passed = 0
        self.failed = 0
        self._log = log

    def __call__(self, name, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            self._log(f"FAIL: {name}\n{detail}")
        return bool(cond)

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)
