"""`make test-stress`: run pytest again and again while every core is kept busy; stop at the first failure.

The suite's timing tests run on virtual time, so they must pass however loaded the machine is; this is how that
is checked. One busy-looping process per core (plain Python: nothing to install) competes with the tests for
the whole run. Usage: ``python scripts/stress.py --runs 20 -- tests/triggers tests/hardening -x``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time


def _spin() -> None:
    while True:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="how many times to run pytest (default 20)")
    parser.add_argument("pytest_args", nargs="*", help="arguments for pytest (after --)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs must be >= 1, got {args.runs}")
    cores = os.cpu_count() or 1
    hogs = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(cores)]
    for hog in hogs:
        hog.start()
    print(f"test-stress: {cores} busy-looping processes, {args.runs} runs of pytest {' '.join(args.pytest_args)}")
    passed = 0
    try:
        for run in range(1, args.runs + 1):
            began = time.monotonic()
            command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args.pytest_args]
            result = subprocess.run(command, check=False)  # noqa: S603 (our own interpreter and pytest)
            took = time.monotonic() - began
            if result.returncode != 0:
                print(f"test-stress: run {run} FAILED (exit {result.returncode}, {took:.0f} s); {passed} passed before")
                return 1
            passed += 1
            print(f"test-stress: run {run}/{args.runs} passed ({took:.0f} s)")
    finally:
        for hog in hogs:
            hog.terminate()
    print(f"test-stress: {passed}/{args.runs} runs passed under load")
    return 0


if __name__ == "__main__":
    sys.exit(main())
