"""nbdev_test over every library notebook (one test each, run in parallel by pytest-xdist)."""
import pytest

from conftest import ROOT, library_notebooks, run, tool


@pytest.mark.parametrize("nb", library_notebooks(), ids=lambda p: p.name)
def test_notebook(nb):
    r = run([tool("nbdev_test"), "--path", nb.relative_to(ROOT), "--do_print"], timeout=1800)
    assert r.returncode == 0, f"{nb.name} failed:\n{r.stdout[-6000:]}\n{r.stderr[-6000:]}"
