"""Every benchmark script starts: bench/http.py shares its name with the standard
library's http package, and a script beside it must not import it by mistake."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
# run_all.py runs the others; each of them takes --help
SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if p.name[0] != "_" and p.name != "run_all.py")


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_script_starts_and_explains_itself(script):
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower() or "bench" in done.stdout.lower()
