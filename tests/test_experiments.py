"""Experiment notebooks: a real `parameters` cell whose values papermill overrides, and a full run on the ci profile."""
import ast
import csv
import io
import json
import re

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
    """(a) a full run makes a reference; (b) `--check --exact` regenerates it into ci.check/ and finds every number
    equal (the same machine); (c) one number of the reference altered beyond the default tolerance: the check names
    that cell and exits 1."""
    # checkpoints go to the temporary folder too: every model is trained from scratch, as on a fresh clone
    base = [tool("finepose"), "reproduce", "--profile", "ci", "--results", tmp_path,
            f"train.checkpoint_dir={tmp_path / 'checkpoints'}"]
    r = run(base, timeout=1800)
    assert r.returncode == 0, r.stdout[-5000:] + r.stderr[-5000:]
    man = json.loads((tmp_path / "ci" / "manifest.json").read_text())
    assert {e.stem for e in EXPERIMENTS} == set(man["experiments"]), man["experiments"].keys()
    assert all(v["status"] == "ok" for v in man["experiments"].values())
    assert man["synthetic"] is True

    # (b) the same checkpoints: the trainings are reused, every experiment runs again into ci.check/; on the same
    # machine every number must come back bit for bit
    r = run([*base, "--check", "--exact"], timeout=1800)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-8000:]
    verdict = r.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"check: (\d+) numbers compared, \1 within tolerance \(\d+ skipped: timings\), "
                        r"largest difference \d+\.\d\d mm", verdict), verdict
    assert int(verdict.split()[1]) > 100, verdict
    assert "largest difference 0.00 mm" in verdict, verdict
    assert "same machine kind as the reference" in r.stdout, r.stdout[-3000:]
    chk = json.loads((tmp_path / "ci.check" / "manifest.json").read_text())
    assert chk["complete"] is True and chk["check"]["ok"] is True, chk.get("check")
    assert {e.stem for e in EXPERIMENTS} == set(chk["experiments"])

    # (c) alter one mm number of the reference (a copy: this test's own); a check of that experiment fails naming it
    table = tmp_path / "ci" / "tables" / "figure3_frames.csv"
    lines = table.read_text().splitlines()
    head = next(i for i, ln in enumerate(lines) if not ln.startswith("#"))
    cols = next(csv.reader([lines[head]]))
    row = next(csv.reader([lines[head + 1]]))
    j = cols.index("mpjpe_frame_mm")
    row[j] = f"{float(row[j]) + 5.0:.4f}"                  # beyond the 2 mm cross-machine tolerance
    buf = io.StringIO(); csv.writer(buf, lineterminator="").writerow(row); lines[head + 1] = buf.getvalue()
    table.write_text("\n".join(lines) + "\n")
    r = run([*base, "--check", "--only", "figure3_qualitative"], timeout=1800)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out[-8000:]
    named = [ln for ln in r.stdout.splitlines() if ln.strip().startswith("tables/figure3_frames.csv")]
    assert len(named) == 1 and f" {row[0][:30]}" in named[0] and " mpjpe_frame_mm " in named[0], r.stdout[-5000:]
    assert r.stdout.strip().splitlines()[-1].startswith("check: "), r.stdout[-3000:]
    assert "largest difference 5.00 mm" in r.stdout.strip().splitlines()[-1], r.stdout[-3000:]
