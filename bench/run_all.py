"""Run every benchmark script in bench/ (all *.py but this one), in name order.

``make bench`` calls this. Each script runs with this interpreter and this environment,
one after another (they compete for the same CPUs and databases otherwise). Exits
non-zero when any script fails, after running the rest.

    .venv/bin/python bench/run_all.py            # every script
    .venv/bin/python bench/run_all.py ledger     # only scripts whose name contains "ledger"
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(
        path
        for path in HERE.glob("*.py")
        if path.name != Path(__file__).name and not path.name.startswith("_")
    )
    if argv:
        scripts = [path for path in scripts if any(word in path.stem for word in argv)]
    failed = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"=== {script.name}: exit {code} in {time.perf_counter() - start:.0f} s ===")
        if code != 0:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
