"""Experiment notebooks: a real `parameters` cell whose values papermill overrides, and a full run on the ci profile."""
import ast
import json

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell

from conftest import experiment_notebooks, run, tool
from finepose.reproduce import REQUIRED_PARAMETERS, notebook_parameters

EXPERIMENTS = experiment_notebooks()


def test_there_are_experiments():
    assert EXPERIMENTS, "experiments/ holds no notebook"


@pytest.mark.parametrize("nb", EXPERIMENTS, ids=lambda p: p.stem)
def test_parameters_cell_is_tagged_and_complete(nb):
    params = notebook_parameters(nb)            # raises with a clear message when the tag is missing
    assert set(REQUIRED_PARAMETERS) <= set(params)


def _sentinel(default_src):
    "A value of the same type as the default but different from it."
    value = ast.literal_eval(default_src)
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 7
    if isinstance(value, str):
        return value + "-overridden"
    if isinstance(value, list):
        return [*value, "probe.value=1"]
    if value is None:
        return "not-none"
    raise TypeError(f"unsupported parameter default {default_src!r}")


@pytest.mark.parametrize("nb", EXPERIMENTS, ids=lambda p: p.stem)
def test_papermill_override_reaches_the_notebook(nb, tmp_path):
    """Run the notebook's cells up to its defaults cell (kept exactly as written, tag or no tag) plus a probe
    cell, with every parameter overridden by `-p`; the probe must see the overridden values."""
    src = nbformat.read(nb, as_version=4)
    idx = next((i for i, c in enumerate(src.cells) if c.cell_type == "code"
                and all(f"{p} =" in c.source or f"{p}=" in c.source for p in REQUIRED_PARAMETERS)), None)
    assert idx is not None, f"{nb.name}: no cell assigns {REQUIRED_PARAMETERS}"
    # the defaults as written in the cell (not as papermill sees them, so that a missing tag cannot make this vacuous)
    declared = {t.id: {"default": ast.unparse(a.value)} for a in ast.parse(src.cells[idx].source).body
                if isinstance(a, ast.Assign) for t in a.targets if isinstance(t, ast.Name)}
    assert set(REQUIRED_PARAMETERS) <= set(declared), f"{nb.name}: defaults cell lacks {REQUIRED_PARAMETERS}"
    probe = src.copy()
    probe.cells = [c for c in src.cells[: idx + 1] if c.cell_type != "code" or c is src.cells[idx]]
    names = sorted(declared)
    probe.cells.append(new_code_cell(
        "import json\n" + f"print('PROBE' + json.dumps({{n: globals()[n] for n in {names!r}}}))"))
    pin, pout = tmp_path / "probe.ipynb", tmp_path / "probe-out.ipynb"
    nbformat.write(probe, pin)
    overrides = {n: _sentinel(declared[n]["default"]) for n in names}
    papermill.execute_notebook(str(pin), str(pout), parameters=overrides, progress_bar=False, kernel_name="python3")
    out = nbformat.read(pout, as_version=4)
    text = "".join(o.get("text", "") for c in out.cells if c.cell_type == "code" for o in c.get("outputs", []))
    seen = json.loads(text.split("PROBE", 1)[1].splitlines()[0])
    assert seen == overrides, f"{nb.name}: papermill overrides did not reach the notebook: {seen} != {overrides}"


def test_reproduce_runs_every_experiment_on_the_ci_profile(tmp_path):
    # checkpoints go to the temporary folder too: every model is trained from scratch, as on a fresh clone
    r = run([tool("finepose"), "reproduce", "--profile", "ci", "--results", tmp_path,
             f"train.checkpoint_dir={tmp_path / 'checkpoints'}"], timeout=1800)
    assert r.returncode == 0, r.stdout[-5000:] + r.stderr[-5000:]
    man = json.loads((tmp_path / "ci" / "manifest.json").read_text())
    assert {e.stem for e in EXPERIMENTS} == set(man["experiments"]), man["experiments"].keys()
    assert all(v["status"] == "ok" for v in man["experiments"].values())
    assert man["synthetic"] is True
