"""Render nbs/index.ipynb into README.md (quarto, which nbdev_readme needs, cannot be installed everywhere).

    python tools/make_readme.py          write README.md
    python tools/make_readme.py --check  exit 1 if README.md is not what index.ipynb renders to
"""
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
HEADER = "<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->\n\n"


def render(nb_path=ROOT / "nbs" / "index.ipynb") -> str:
    nb = nbformat.read(nb_path, as_version=4)
    parts = []
    for c in nb.cells:
        src = c.source.strip("\n")
        if c.cell_type == "markdown":
            parts.append(src)
        elif c.cell_type == "code":
            lines = src.splitlines()
            if any(ln.strip() in ("#| hide", "#|hide") for ln in lines): continue
            code = "\n".join(ln for ln in lines if not ln.startswith("#|")).strip("\n")
            if code: parts.append(f"```python\n{code}\n```")
    return HEADER + "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    text = render()
    readme = ROOT / "README.md"
    if sys.argv[1:] == ["--check"]:
        if not readme.exists() or readme.read_text() != text:
            sys.exit("README.md is out of date with nbs/index.ipynb: run 'make readme' (python tools/make_readme.py)")
    else:
        readme.write_text(text)
