"""Execute a library chapter the way `nbdev_test` does, and keep or check its outputs.

    python tools/run_chapter.py --check nbs/NN_name.ipynb   run it; fail if what it shows differs from what is committed
    python tools/run_chapter.py --write nbs/NN_name.ipynb   run it and save the outputs into the notebook (`make nbs`;
                                                            stderr, i.e. warnings and progress bars, is not saved)

Cells are run in one IPython shell in the notebook's folder, skipping cells flagged with a test flag of
`settings.ini` (`#| slow`, `#| gpu`, `#| data`) and `#| eval: false` cells, exactly as `nbdev_test`; any error fails.
The check compares, cell by cell, the *kinds* of output that matter to a reader (results, displays and their MIME
types, pictures), not their text: a chapter whose committed outputs are missing, stale in kind, or that lost a
picture fails. Printed streams (stdout, stderr, progress bars) are not compared.
"""
from __future__ import annotations

import argparse
import configparser
import copy
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _flags() -> set[str]:
    cp = configparser.ConfigParser()
    cp.read(ROOT / "settings.ini")
    return set(cp["DEFAULT"].get("tst_flags", "").split())


def execute(path: Path) -> dict:
    "Run the chapter; returns {cell id: outputs} of its code cells (skipped cells: none)."
    from execnb.shell import CaptureShell
    from nbdev.frontmatter import FrontmatterProc
    from nbdev.process import NBProcessor
    os.environ.setdefault("IN_TEST", "1")
    flags = _flags()
    nb = NBProcessor(path, procs=FrontmatterProc, process=True).nb

    def skip(cell):
        if cell.cell_type != "code": return True
        direc = getattr(cell, "directives_", {}) or {}
        if direc.get("eval:", [""])[0].lower() == "false": return True
        return bool(flags & set(direc))

    shell = CaptureShell(path)
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        shell.run_all(nb, exc_stop=True, preproc=skip)
    except Exception:
        sys.stderr.write(shell.prettytb(fname=path) + "\n")
        raise SystemExit(f"{path.name}: a cell failed (traceback above)") from None
    finally:
        os.chdir(cwd)
    return {c.get("id"): [dict(o) for o in c.get("outputs", [])] for c in nb.cells if c.cell_type == "code"}


def kinds(outputs) -> list[str]:
    "What a reader sees of a cell's outputs: result and display MIME types (pictures included), errors; no streams."
    out = set()
    for o in outputs:
        t = o.get("output_type")
        if t in ("execute_result", "display_data"):
            out |= {f"{t}:{m}" for m in o.get("data", {})}
        elif t == "error":
            out.add("error")
    return sorted(out)


def _clean(o: dict) -> dict:
    o = copy.deepcopy(dict(o))
    o.pop("execution_count", None)
    if o.get("output_type") == "execute_result": o["execution_count"] = None
    o.setdefault("metadata", {})
    if o.get("output_type") == "stream" and isinstance(o.get("text"), list): o["text"] = "".join(o["text"])
    return o


def write(path: Path, outs: dict) -> None:
    import nbformat
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = [nbformat.from_dict(_clean(o)) for o in outs.get(c.get("id"), [])
                         if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]   # warnings, bars
            c.execution_count = None
    nbformat.write(nb, path)


def check(path: Path, outs: dict) -> list[str]:
    import nbformat
    nb = nbformat.read(path, as_version=4)
    problems = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code": continue
        have, now = kinds(c.get("outputs", [])), kinds(outs.get(c.get("id"), []))
        if have != now:
            lost_pic = any("image/" in k for k in have) and not any("image/" in k for k in now)
            first = c.source.splitlines()[0][:50] if c.source else ""
            problems.append(f"cell {i} ({first!r}): committed {have or 'no output'}, now {now or 'no output'}"
                            + (" (the picture is gone)" if lost_pic else ""))
    return problems


def main(argv) -> int:
    ap = argparse.ArgumentParser(prog="run_chapter", description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--check", action="store_true")
    g.add_argument("--write", action="store_true")
    ap.add_argument("notebooks", nargs="+", type=Path)
    a = ap.parse_args(argv)
    bad = 0
    for p in a.notebooks:
        p = p.resolve()
        outs = execute(p)
        if a.write:
            write(p, outs)
            print(f"{p.name}: outputs saved")
        else:
            problems = check(p, outs)
            if problems:
                bad += 1
                print(f"{p.name}: committed outputs are stale ({len(problems)} cell(s)); run `make nbs`:\n  "
                      + "\n  ".join(problems))
            else:
                print(f"{p.name}: ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
