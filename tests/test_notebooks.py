"""Every library notebook, run as nbdev_test runs it, its committed outputs checked (one test each, in parallel)."""
import sys

import pytest

from conftest import ROOT, library_notebooks, run


@pytest.mark.parametrize("nb", library_notebooks(), ids=lambda p: p.name)
def test_notebook(nb):
    "The chapter runs, and what it shows (results, displays, pictures) is what is committed (`make nbs` refreshes it)."
    r = run([sys.executable, ROOT / "tools" / "run_chapter.py", "--check", nb], timeout=1800)
    assert r.returncode == 0, f"{nb.name} failed:\n{r.stdout[-6000:]}\n{r.stderr[-6000:]}"
