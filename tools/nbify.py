"""Authoring helper: turn jupytext percent scripts into notebooks, and normalise notebook metadata.

    python tools/nbify.py SCRIPT.py nbs/NN_name.ipynb   convert a percent script into a notebook
    python tools/nbify.py --normalize                  give every notebook a python3 kernelspec, drop jupytext metadata

Notebooks stay the source of truth; the script form is only a convenient way to write long chapters.
"""
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
KERNELSPEC = {"display_name": "python3", "language": "python", "name": "python3"}


def normalize(nb):
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    return nb


def convert(src, dst):
    import jupytext
    nb = normalize(jupytext.read(src, fmt="py:percent"))
    nbformat.write(nb, dst)


def normalize_all():
    for folder in ("nbs", "experiments"):
        for p in sorted((ROOT / folder).rglob("*.ipynb")):
            if ".ipynb_checkpoints" in p.parts: continue
            nb = nbformat.read(p, as_version=4)
            before = nbformat.writes(nb)
            if nbformat.writes(normalize(nb)) != before:
                nbformat.write(nb, p)
                print(f"normalised {p.relative_to(ROOT)}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--normalize"]: normalize_all()
    elif len(sys.argv) == 3: convert(sys.argv[1], sys.argv[2])
    else: sys.exit(__doc__)
