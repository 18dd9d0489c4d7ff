"""The HTML book (tools/build_docs.py, `make docs`): built from the committed notebooks into a temporary folder,
checked as HTML in pure Python, then opened page by page in headless Chromium."""
import json
import re
import shutil
import sys
import time
from html import escape

import pytest
from conftest import ROOT, experiment_notebooks, library_notebooks

sys.path.insert(0, str(ROOT / "tools"))
import build_docs as bd  # noqa: E402

pytestmark = pytest.mark.xdist_group("docs")   # one worker builds the book once for the whole module


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book") / "_docs"
    t0 = time.perf_counter()
    manifest = bd.build(out, quiet=True)
    manifest["build_s"] = time.perf_counter() - t0
    return out, manifest


def _hidden(src: str) -> bool:
    head = [ln.strip() for ln in src.splitlines() if ln.startswith("#|")]
    return any(h.replace(" ", "") in ("#|hide", "#|include:false") or h.startswith("#| default_exp") for h in head)


def _shown_outputs(path):
    "The outputs of a notebook's code cells that nbdev's docs would show (no `#| hide` or `default_exp` cell)."
    nb = json.loads(path.read_text())
    return [o for c in nb["cells"] if c["cell_type"] == "code" and not _hidden("".join(c["source"]))
            for o in c.get("outputs", [])]


def _notebook_pictures(path):
    return sum(1 for o in _shown_outputs(path) if {"image/png", "image/jpeg", "image/svg+xml"} & set(o.get("data", {})))


def test_pages_in_reading_order(book):
    out, manifest = book
    from finepose.reproduce import discover_experiments
    expected = (["index.html"] + [f"{p.stem}.html" for p in library_notebooks() if p.name != "index.ipynb"]
                + [f"experiment_{p.stem}.html" for p in discover_experiments(ROOT / "experiments")])
    assert [p["file"] for p in manifest["pages"]] == expected
    assert len(expected) == len(library_notebooks()) + len(experiment_notebooks())
    for p in manifest["pages"]:
        assert (out / p["file"]).stat().st_size > 1000, p["file"]
        assert p["title"] and p["title"] != p["file"].removesuffix(".html"), f"{p['file']}: no title cell read"
    assert manifest["build_s"] < 60, f"the book took {manifest['build_s']:.0f} s to build"


def test_reading_paths_are_the_index_tables(book):
    "The sidebar's reading paths are the chapters the index's 'Reading paths' section links, in its order."
    out, manifest = book
    index = json.loads((ROOT / "nbs" / "index.ipynb").read_text())
    text = "\n".join("".join(c["source"]) for c in index["cells"] if c["cell_type"] == "markdown")
    section = text.split("## Reading paths", 1)[1].split("\n## ", 1)[0]
    linked = re.findall(r"^\|\s*\[(\w+)\]\(nbs/\1\.ipynb\)", section, flags=re.M)
    paths = manifest["reading_paths"]
    assert len(paths) >= 2 and [c for p in paths for c in p["chapters"]] == linked
    page = (out / "index.html").read_text()
    for p in paths:
        ol = page.split(f"<h3>{escape(p['name'])}</h3>", 1)[1].split("</ol>", 1)[0]
        assert re.findall(r'href="([^"]+)\.html"', ol) == p["chapters"]


def test_prev_next_chain(book):
    out, manifest = book
    files = [p["file"] for p in manifest["pages"]]
    for i, f in enumerate(files):
        html = (out / f).read_text()
        prev = re.search(r'<a rel="prev"[^>]*href="([^"]+)"', html)
        nxt = re.search(r'<a rel="next"[^>]*href="([^"]+)"', html)
        assert (prev.group(1) if prev else None) == (files[i - 1] if i else None), f
        assert (nxt.group(1) if nxt else None) == (files[i + 1] if i + 1 < len(files) else None), f


def test_code_outputs_and_pictures_shown(book):
    "Every chapter shows code; every picture a reader sees in a notebook is in its page; experiments show their run."
    out, manifest = book
    pages = {p["file"]: p for p in manifest["pages"]}
    for nb in library_notebooks():
        p = pages["index.html" if nb.name == "index.ipynb" else f"{nb.stem}.html"]
        assert p["pictures"] == _notebook_pictures(nb), nb.name
        assert p["outputs"] == len(_shown_outputs(nb)), nb.name
        if nb.name != "index.ipynb": assert p["code_cells"] > 0, nb.name
    assert pages["10_diffusion.html"]["pictures"] > 0 and pages["20_metrics.html"]["formulas"] > 0
    for nb in experiment_notebooks():
        p = pages[f"experiment_{nb.stem}.html"]
        ran = ROOT / "results" / bd.PROFILE / "notebooks" / nb.name
        assert p["source"] == ran.relative_to(ROOT).as_posix(), nb.name
        assert p["outputs"] == len(_shown_outputs(ran)) > 0, nb.name
        record = json.loads((ROOT / "results" / bd.PROFILE / "records" / f"{nb.stem}.json").read_text())
        figs = [f for f in record["figures"] if f.endswith(".png")]
        assert p["pictures"] == len(figs) + _notebook_pictures(ran), nb.name
        html = (out / p["file"]).read_text()
        assert all(f'src="files/results/{bd.PROFILE}/{f}"' in html for f in figs), nb.name


def test_static_html(book):
    "Without a browser: every src is a file of the book, links resolve, the sidebar links every page, no TeX left."
    out, manifest = book
    assert bd.static_check(out) == []
    assert sum(p["formulas"] for p in manifest["pages"]) > 500
    page = (out / "10_diffusion.html").read_text()
    assert "<math" in page and "$$" not in page
    assert "MathJax" not in page and "<script" not in page   # math is MathML written at build time


def test_static_check_finds_faults(book, tmp_path):
    out, manifest = book
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    page = (bad / "00_io.html").read_text()
    page = page.replace("</article>", '<img src="https://example.org/x.png"><a href="nowhere.html">x</a>'
                                      '<p>left $x_t$ and \\frac{a}{b}</p><a href="#no-such-anchor">y</a></article>')
    page = page.replace('href="20_metrics.html"', 'href="20_metricz.html"')
    (bad / "00_io.html").write_text(page)
    keep = ("index.html", "00_io.html", "20_metrics.html")
    m = dict(manifest, pages=[p for p in manifest["pages"] if p["file"] in keep])
    (bad / "book.json").write_text(json.dumps(m))
    problems = "\n".join(bd.static_check(bad))
    for needle in ("https://example.org/x.png", "nowhere.html", "TeX left as text", "#no-such-anchor",
                   "20_metricz.html", "the sidebar does not link ['20_metrics.html']"):
        assert needle in problems, needle
    assert "index.html" not in problems and "20_metrics.html:" not in problems


def test_math_conversion():
    m = bd.tex_to_mathml(r"\frac{a}{b} + \mathbb R^{J\times C} \mathcal N \mathbf{t} \texttt{a\_b}", display=True)
    assert m.startswith("<math") and 'display="block"' in m and "<mfrac>" in m
    assert "\u211d" in m and "\U0001d4a9" in m and "\U0001d42d" in m and ">a_b<" in m and "mathvariant" not in m
    assert 'form="prefix">\u2212' in bd.tex_to_mathml("[-1, 1]")
    for tex in (r"\foo x", r"\begin{aligned}a&=b\end{aligned}", r"\frac{a}{"):
        with pytest.raises(bd.BookError, match=re.escape(tex[:6])):
            bd.tex_to_mathml(tex)


def _chromium() -> str:
    "The browser, or a failure saying how to install it (never a silent skip: CI installs it in .ci/run)."
    binary = bd.find_chromium()
    if not binary: pytest.fail(bd.INSTALL_CHROMIUM)
    return binary


def test_in_chromium(book):
    """Every page loads in headless Chromium; every picture decoded (naturalWidth > 0) and shown; every formula laid
    out as MathML (fractions stacked, subscripts lowered), no TeX left as text; navigation links resolve to files;
    every request the pages made was a file: or data: URL."""
    out, manifest = book
    t0 = time.perf_counter()
    problems, seen = bd.browser_check(out, _chromium())
    took = time.perf_counter() - t0
    assert problems == []
    assert set(seen) == {p["file"] for p in manifest["pages"]}
    d = seen["10_diffusion.html"]
    assert d["images"] and all(i["ok"] and i["w"] > 100 for i in d["images"])
    assert d["math"] > 20 and d["fractions"] > 0 and d["fractionsStacked"] == d["fractions"]
    assert {"block math"} <= set(d["mathDisplay"])
    assert len(seen["index.html"]["sidebar"]) >= len(manifest["pages"])
    assert took < 45, f"the browser check took {took:.0f} s"


def test_chromium_check_finds_faults(book, tmp_path):
    out, manifest = book
    chromium = _chromium()
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    page = (bad / "00_io.html").read_text()
    page = page.replace("</article>", '<img src="files/missing.png"><p>left $x_t$ here</p>'
                                      '<link rel="stylesheet" href="https://example.org/s.css"></article>')
    (bad / "00_io.html").write_text(page)
    m = dict(manifest, pages=[p for p in manifest["pages"] if p["file"] in ("index.html", "00_io.html")])
    (bad / "book.json").write_text(json.dumps(m))
    problems = "\n".join(bd.browser_check(bad, chromium)[0])
    assert "00_io.html: 1 picture(s) not loaded" in problems
    assert "00_io.html: TeX left as text" in problems
    assert "requested https://example.org/s.css" in problems
    assert "index.html" not in problems
