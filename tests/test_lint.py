"""ruff over the sources people edit: notebooks, experiments, tools, tests (never the generated finepose/*.py)."""
from conftest import run, tool


def test_ruff():
    r = run([tool("ruff"), "check", "nbs", "experiments", "tools", "tests", "benchmarks", "data_prep"])
    assert r.returncode == 0, r.stdout + r.stderr
