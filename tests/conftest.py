"""Shared helpers of the repository-level tests (the library's own tests live in the notebooks)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    "Path of a console script installed next to the running Python (the kit's virtual environment)."
    p = BIN / name
    if not p.exists():
        pytest.fail(f"{name} is not installed in {BIN}; run 'make install'")
    return str(p)


def run(cmd, cwd=ROOT, timeout=900, env=None):
    "Run a command, return CompletedProcess with text output (never raises on a non-zero exit)."
    # one thread per process: pytest-xdist already runs two notebooks at once on a 2-core machine
    e = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if env: e.update(env)
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=e)


def experiment_notebooks():
    return sorted(p for p in (ROOT / "experiments").glob("*.ipynb") if not p.name.startswith(("_", ".")))


def library_notebooks():
    return sorted(p for p in (ROOT / "nbs").glob("*.ipynb") if not p.name.startswith(("_", ".")))
