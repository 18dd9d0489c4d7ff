"""Build the kit's HTML book from the committed notebooks, offline, and check it in a real browser.

    python tools/build_docs.py                     build the book into doc_path of settings.ini (_docs/)
    python tools/build_docs.py --out DIR           build it elsewhere
    python tools/build_docs.py --check             build, then check the HTML (pure Python) and every page in
                                                   headless Chromium (images loaded, math laid out, no request
                                                   leaving the machine)
    python tools/build_docs.py --screenshots DIR   build into a temporary folder and write DIR/*.png

One page per notebook: nbs/index.ipynb first, the library chapters of nbs/ in order, then the experiment notebooks
in run order, shown as `finepose reproduce` last executed them (results/<profile>/notebooks/, committed) with the
figures their records name. Nothing is executed: the notebooks are committed with their outputs. Code cells are
shown without their `#|` directives (`#| hide` cells and `#| default_exp` are left out, as nbdev does); pictures
are embedded. Mathematics is converted to MathML at build time (latex2mathml), which Chromium, Firefox and Safari
lay out natively: no script, no font or file from the network, at build or at view time. A formula the converter
does not understand fails the build with the notebook and the formula named.
"""
from __future__ import annotations

import argparse
import base64
import configparser
import fcntl
import html
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
PROFILE = "smoke"
MAX_ASSET_BYTES = 5_000_000
SCREENSHOTS = (  # (page, CSS selector scrolled to the top of the view or None, file name)
    ("index.html", None, "book_index.png"),
    ("10_diffusion.html", ".output img", "book_10_diffusion.png"),
    ("20_metrics.html", None, "book_20_metrics.png"),
)
SCREENSHOT_SIZE = (1200, 900)
SCREENSHOT_MAX_BYTES = 300_000
INSTALL_CHROMIUM = ("headless Chromium was not found (looked for $FINEPOSE_CHROMIUM, chromium, chromium-browser, "
                    "google-chrome). Install it: 'apt-get install -y chromium' on Debian/Ubuntu ('chromium-browser' on "
                    "older Ubuntu), 'brew install --cask chromium' on macOS; .ci/run installs it before 'make test'.")


class BookError(Exception):
    "A notebook the book cannot show as it is (bad formula, link to a missing file...): the message names it."


def settings() -> configparser.SectionProxy:
    cp = configparser.ConfigParser()
    cp.read(ROOT / "settings.ini")
    return cp["DEFAULT"]


# --------------------------------------------------------------------------------------------------- mathematics
_MATH_ALPHA = {  # mathvariant -> (first capital, first small, first digit) in Unicode's Mathematical Alphanumerics
    "bold": (0x1D400, 0x1D41A, 0x1D7CE), "italic": (0x1D434, 0x1D44E, None),
    "bold-italic": (0x1D468, 0x1D482, None), "script": (0x1D49C, 0x1D4B6, None),
    "bold-script": (0x1D4D0, 0x1D4EA, None), "fraktur": (0x1D504, 0x1D51E, None),
    "double-struck": (0x1D538, 0x1D552, 0x1D7D8), "bold-fraktur": (0x1D56C, 0x1D586, None),
    "sans-serif": (0x1D5A0, 0x1D5BA, 0x1D7E2), "bold-sans-serif": (0x1D5D4, 0x1D5EE, 0x1D7EC),
    "sans-serif-italic": (0x1D608, 0x1D622, None), "sans-serif-bold-italic": (0x1D63C, 0x1D656, None),
    "monospace": (0x1D670, 0x1D68A, 0x1D7F6)}
_MATH_ALPHA_HOLES = {  # letters Unicode placed in the Letterlike Symbols block instead
    ("italic", "h"): "\u210e", ("script", "B"): "\u212c", ("script", "E"): "\u2130", ("script", "F"): "\u2131",
    ("script", "H"): "\u210b", ("script", "I"): "\u2110", ("script", "L"): "\u2112", ("script", "M"): "\u2133",
    ("script", "R"): "\u211b", ("script", "e"): "\u212f", ("script", "g"): "\u210a", ("script", "o"): "\u2134",
    ("fraktur", "C"): "\u212d", ("fraktur", "H"): "\u210c", ("fraktur", "I"): "\u2111", ("fraktur", "R"): "\u211c",
    ("fraktur", "Z"): "\u2128", ("double-struck", "C"): "\u2102", ("double-struck", "H"): "\u210d",
    ("double-struck", "N"): "\u2115", ("double-struck", "P"): "\u2119", ("double-struck", "Q"): "\u211a",
    ("double-struck", "R"): "\u211d", ("double-struck", "Z"): "\u2124"}
_DELIMS = {"\\{": "{", "\\}": "}", "\\lbrace": "{", "\\rbrace": "}", "\\|": "\u2016", "\\Vert": "\u2016",
           "\\lVert": "\u2016", "\\rVert": "\u2016", "\\vert": "|", "\\lvert": "|", "\\rvert": "|",
           "\\langle": "\u27e8", "\\rangle": "\u27e9", "\\lfloor": "\u230a", "\\rfloor": "\u230b",
           "\\lceil": "\u2308", "\\rceil": "\u2309"}
_NAMED_SPACES = {"veryverythinmathspace": 1, "verythinmathspace": 2, "thinmathspace": 3, "mediummathspace": 4,
                 "thickmathspace": 5, "verythickmathspace": 6, "veryverythickmathspace": 7}


def _alpha(variant: str, ch: str) -> str | None:
    if (variant, ch) in _MATH_ALPHA_HOLES: return _MATH_ALPHA_HOLES[variant, ch]
    cap, small, digit = _MATH_ALPHA[variant]
    if "A" <= ch <= "Z": return chr(cap + ord(ch) - 65)
    if "a" <= ch <= "z": return chr(small + ord(ch) - 97)
    if "0" <= ch <= "9" and digit: return chr(digit + ord(ch) - 48)
    return None


def _tex_pre(tex: str) -> str:
    "Rewrite the few TeX spellings latex2mathml misreads into ones it reads right."
    tex = re.sub(r"(?<!\\)((?:\\\\)*)\\\n", r"\1\\ ", tex)          # backslash-newline is a control space
    tex = re.sub(r"\\sim(?![a-zA-Z])", r"\\thicksim", tex)          # latex2mathml writes \sim as a tilde
    tex = re.sub(r"\\arg(?![a-zA-Z])", r"\\operatorname{arg}", tex)
    return tex


_FENCES = set("()[]{}|\u2016\u230a\u230b\u2308\u2309\u27e8\u27e9")


def _mathml_post(mathml: str) -> str:
    """latex2mathml's MathML, adjusted for MathML Core (what browsers lay out) and for TeX's spacing: mathvariant
    spelled as Unicode letters, named spaces as ems, delimiters without \\left/\\right or \\big kept at their size,
    a sign after an operator or an opening delimiter unary (`[-1, 1]`), `/` without spaces (TeX's ordinary)."""
    prev = {"mo": True}   # was the previous token an operator (or the start of a row)?

    def token(m):
        tag, attrs, text = m.group(1), m.group(2), html.unescape(m.group(3))
        after_op = prev["mo"]
        if tag == "mo" and text in _DELIMS: text = _DELIMS[text]
        if tag == "mtext": text = re.sub(r"\\([_{}&%#$])", r"\1", text)
        v = re.search(r'\smathvariant="([a-z-]+)"', attrs)
        if v and v.group(1) in _MATH_ALPHA:
            if tag in ("mi", "mn", "mo") and len(text) == 1 and _alpha(v.group(1), text):
                text, attrs = _alpha(v.group(1), text), attrs.replace(v.group(0), "")
            elif v.group(1) == "monospace":
                attrs = attrs.replace(v.group(0), ' class="tt"')
        if tag == "mo":
            sized = re.search(r"\s(stretchy|minsize|maxsize)=", attrs)
            if text in _FENCES and not sized: attrs += ' stretchy="false"'
            if text in ("\u2212", "+", "\u00b1") and after_op and "form=" not in attrs: attrs += ' form="prefix"'
            if text == "/" and "lspace=" not in attrs: attrs += ' lspace="0" rspace="0"'
        closing = text in ")]}\u230b\u2309\u27e9" or (text in ("\u2016", "|") and not after_op)
        prev["mo"] = tag == "mo" and not closing
        return f"<{tag}{attrs}>{html.escape(text, quote=False)}</{tag}>"

    def walk(m):
        if m.group(1): return token(m)
        t = m.group(0)
        if t.startswith("</"): prev["mo"] = False         # after a group: what follows is not unary
        elif not t.startswith("<mspace"): prev["mo"] = True  # a new row or script starts: a sign there is unary
        return t

    mathml = re.sub(r"<(mi|mn|mo|mtext)((?:\s[^>]*)?)>([^<]*)</\1>|<[^>]+>", walk, mathml)

    def space(m):
        name = m.group(2)
        neg = name.startswith("negative")
        eighteenths = _NAMED_SPACES.get(name[8:] if neg else name)
        if eighteenths is None: return m.group(0)
        return f'{m.group(1)}width="{"-" if neg else ""}{eighteenths / 18:.3f}em"'
    return re.sub(r'(<mspace\s[^>]*?)width="([a-z]+)"', space, mathml)


def tex_to_mathml(tex: str, display: bool = False) -> str:
    "LaTeX (the body of `$...$` or `$$...$$`) -> a <math> element; BookError if a command is not understood."
    from latex2mathml.converter import convert
    try:
        out = convert(_tex_pre(tex.strip()), display="block" if display else "inline")
    except Exception as e:  # the converter raises many exception types on bad input
        raise BookError(f"cannot convert the formula {tex.strip()!r}: {type(e).__name__}: {e}") from None
    out = _mathml_post(out)
    left = re.findall(r">([^<]*\\[a-zA-Z{}|][^<]*)<", out) + re.findall(r"<mi>&amp;</mi>|<mi>&</mi>", out)
    if left:
        raise BookError(f"the formula {tex.strip()!r} uses TeX the book cannot render ({', '.join(left)}): "
                        "rewrite it in plain LaTeX math (see tools/build_docs.py, tex_to_mathml)")
    return out


# ------------------------------------------------------------------------------------------------------ the book
@dataclass
class Page:
    src: Path            # the notebook shown
    name: str            # output file name, e.g. "10_diffusion.html"
    kind: str            # "index", "chapter" or "experiment"
    stem: str            # "10_diffusion", "table1_h36m"
    title: str = ""
    summary: str = ""    # the title cell's `> summary` line (the page's meta description)
    note: str = ""       # one line under the title (where an experiment page comes from)
    figures: list = field(default_factory=list)   # extra pictures shown after the cells (experiment records)


def chapter_notebooks() -> list[Path]:
    nbs = ROOT / settings().get("nbs_path", "nbs")
    return sorted(p for p in nbs.glob("[0-9]*.ipynb") if not p.name.startswith(("_", ".")))


def experiment_pages(results: Path) -> list[Page]:
    from finepose.reproduce import discover_experiments  # the run order lives there
    pages = []
    for nb in discover_experiments(ROOT / "experiments"):
        ran = results / "notebooks" / nb.name
        p = Page(ran if ran.exists() else nb, f"experiment_{nb.stem}.html", "experiment", nb.stem)
        rel = results.relative_to(ROOT).as_posix() if results.is_relative_to(ROOT) else str(results)
        if ran.exists():
            p.note = (f"Executed by <code>finepose reproduce --profile {html.escape(results.name)}</code> "
                      f"and committed as <code>{html.escape(rel)}/notebooks/{html.escape(nb.name)}</code>; "
                      f"source: <code>experiments/{html.escape(nb.name)}</code>.")
        else:
            p.note = (f"Not yet executed for this profile (no <code>{html.escape(rel)}/notebooks/"
                      f"{html.escape(nb.name)}</code>): the source notebook without outputs.")
        record = results / "records" / f"{nb.stem}.json"
        if ran.exists() and record.exists():
            try:
                figs = json.loads(record.read_text()).get("figures", [])
            except (ValueError, AttributeError):
                raise BookError(f"{record}: not a JSON object with a 'figures' list") from None
            if not isinstance(figs, list) or not all(isinstance(f, str) for f in figs):
                raise BookError(f"{record}: 'figures' must be a list of paths")
            p.figures = [results / f for f in figs if f.lower().endswith((".png", ".jpg", ".jpeg", ".svg"))]
        pages.append(p)
    return pages


def book_pages(results: Path | None = None) -> list[Page]:
    "Every page of the book in reading order: index, the library chapters, the experiments."
    results = Path(results or ROOT / "results" / PROFILE)
    nbs = ROOT / settings().get("nbs_path", "nbs")
    pages = [Page(nbs / "index.ipynb", "index.html", "index", "index")]
    pages += [Page(p, f"{p.stem}.html", "chapter", p.stem) for p in chapter_notebooks()]
    return pages + experiment_pages(results)


def read_notebook(path: Path):
    """The notebook as nbformat nodes, without nbformat's schema validation (importing its validator costs seconds;
    the test suite validates the notebooks)."""
    from nbformat.v4.nbjson import JSONReader
    try:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as e:
        raise BookError(f"{path}: not a notebook ({e})") from None
    if not isinstance(d, dict) or d.get("nbformat") != 4 or not isinstance(d.get("cells"), list):
        raise BookError(f"{path}: not an nbformat 4 notebook")
    return JSONReader().to_notebook(d)


def reading_paths(index_nb: Path) -> list[tuple[str, list[str]]]:
    """The reading paths of the index's "Reading paths" section: [(name, [chapter stems in order])].
    A path is a bold line (`**The method in nine chapters**, ...`) followed by a table linking `nbs/NN_x.ipynb`."""
    nb = read_notebook(index_nb)
    paths, in_section = [], False
    for c in nb.cells:
        if c.cell_type != "markdown": continue
        for line in c.source.splitlines():
            if line.startswith("## "): in_section = line[3:].strip().lower() == "reading paths"
            if not in_section: continue
            m = re.match(r"\*\*(.+?)\*\*", line.strip())
            if m: paths.append((m.group(1).strip(), []))
            elif paths and line.lstrip().startswith("|"):
                for target in re.findall(r"\]\(([^)\s]+\.ipynb)\)", line)[:1]:
                    paths[-1][1].append(Path(target).stem)
    return [(n, s) for n, s in paths if s]


def _directives(src: str) -> tuple[dict, str]:
    "({directive: value}, the code without its leading `#|` lines) of a code cell."
    direc, lines = {}, src.splitlines()
    while lines and (lines[0].startswith("#|") or not lines[0].strip()):
        content = lines.pop(0)[2:].strip()
        if not content: continue
        key, val = content.split(":", 1) if ":" in content else (content.split()[0], " ".join(content.split()[1:]))
        direc[key.strip()] = val.strip()
    return direc, "\n".join(lines).strip("\n")


class _Assets:
    "Local files a page links to or shows: copied once into OUT/files/<path in the checkout>."
    def __init__(self, out: Path):
        self.out, self.copied = out, {}

    def add(self, path: Path) -> str:
        path = path.resolve()
        if path not in self.copied:
            if not path.is_file(): raise BookError(f"{path}: not a file")
            if path.stat().st_size > MAX_ASSET_BYTES:
                raise BookError(f"{path}: {path.stat().st_size} bytes, more than the book copies ({MAX_ASSET_BYTES})")
            rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else f"external/{path.name}"
            dest = self.out / "files" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            self.copied[path] = f"files/{rel}"
        return self.copied[path]


def _renderer_class():
    from nbconvert.filters.markdown_mistune import IPythonRenderer

    class BookRenderer(IPythonRenderer):
        "nbconvert's Markdown renderer (what Jupyter shows), with MathML math and links resolved inside the book."
        def __init__(self, resolve, **kw):
            super().__init__(escape=False, **kw)
            self.resolve, self.formulas, self.ids = resolve, 0, set()

        def block_math(self, body):
            self.formulas += 1
            return tex_to_mathml(body, display=True)

        def inline_math(self, body):
            self.formulas += 1
            return tex_to_mathml(body)

        def latex_environment(self, name, body):
            self.formulas += 1
            return tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)

        def heading(self, text, level, **attrs):
            "An id as Jupyter makes it (text, spaces as dashes, URL-quoted), unique in the page, and a ¶ link."
            plain = html.unescape(re.sub(r"<[^>]+>", "", text)).strip()
            hid = quote(plain.replace(" ", "-"), safe="?/:@!$&'()*+,;=") or "section"
            while hid in self.ids: hid += "-1"
            self.ids.add(hid)
            a = html.escape(hid, quote=True)
            return f'<h{level} id="{a}">{text}<a class="anchor-link" href="#{a}">\u00b6</a></h{level}>\n'

        def link(self, text, url, title=None):
            return super().link(text, self.resolve(url), title)

        def image(self, text, url, title=None):
            return super().image(text, self.resolve(url, image=True), title)

    return BookRenderer


_KW_CONST, _KW_NS, _KW_OP = {"True", "False", "None"}, {"import", "from", "as"}, {"and", "or", "not", "in", "is"}
_TRIPLE = ('"""', "'''")


def highlight_python(code: str) -> str:
    """Python source as HTML with its tokens marked (classes k, kc, kn, ow, nb, nf, nc, nd, s, sd, c, m, o), from
    the standard library's tokenizer (Pygments' lexer took most of the build's time). Code it cannot tokenize (an
    unterminated string, say) is shown plain."""
    import builtins
    import io
    import keyword
    import token as tk
    import tokenize
    offs = [0]
    for line in code.splitlines(keepends=True): offs.append(offs[-1] + len(line))
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return f'<div class="highlight"><pre>{html.escape(code, quote=False)}</pre></div>'
    builtin_names = set(dir(builtins))
    out, last, prev, line_start, deco = [], 0, "", True, False
    for i, t in enumerate(toks):
        if max(t.start[0], t.end[0]) > len(offs) - 1: break
        start, end = offs[t.start[0] - 1] + t.start[1], offs[t.end[0] - 1] + t.end[1]
        if start < last or start == end: continue
        text, cls, name = code[start:end], "", tk.tok_name.get(t.type, "")
        if t.type == tk.NAME:
            if text in _KW_CONST: cls = "kc"
            elif text in _KW_NS: cls = "kn"
            elif text in _KW_OP: cls = "ow"
            elif keyword.iskeyword(text): cls = "k"
            elif keyword.issoftkeyword(text) and line_start and i + 1 < len(toks) and toks[i + 1].type in (
                    tk.NAME, tk.NUMBER, tk.STRING): cls = "k"     # `match x:`, not `match = 3`
            elif prev == "def": cls = "nf"
            elif prev == "class": cls = "nc"
            elif deco: cls = "nd"
            elif text in builtin_names: cls = "nb"
        elif t.type == tk.STRING or name.startswith("FSTRING"):
            cls = "sd" if line_start and text.lstrip("rRbBuU")[:3] in _TRIPLE else "s"
        elif t.type == tk.COMMENT: cls = "c"
        elif t.type == tk.NUMBER: cls = "m"
        elif t.type == tk.OP: cls = "nd" if text == "@" and line_start else "o"
        deco = t.type == tk.OP and cls == "nd"   # the name after a decorator's @
        out.append(html.escape(code[last:start], quote=False))
        esc = html.escape(text, quote=False)
        out.append(f'<span class="{cls}">{esc}</span>' if cls else esc)
        last = end
        if t.type not in (tk.NL, tk.COMMENT, tk.INDENT, tk.DEDENT): prev = text
        line_start = t.type in (tk.NEWLINE, tk.NL, tk.INDENT, tk.DEDENT)
    out.append(html.escape(code[last:], quote=False))
    return f'<div class="highlight"><pre>{"".join(out)}</pre></div>'


def _output_html(o: dict, markdown) -> tuple[str, int]:
    "(HTML, number of pictures) of one cell output."
    from nbconvert.filters.ansi import ansi2html
    t = o.get("output_type")
    if t == "stream":
        return f'<pre class="stream {html.escape(o.get("name", ""))}">{ansi2html("".join(o.get("text", "")))}</pre>', 0
    if t == "error":
        return f'<pre class="error">{ansi2html(chr(10).join(o.get("traceback", [])))}</pre>', 0
    data = o.get("data", {})
    def text(k): return "".join(data[k]) if isinstance(data[k], list) else data[k]
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            b64 = text(mime).replace("\n", "")
            alt = html.escape(text("text/plain")[:200]) if "text/plain" in data else "output picture"
            return f'<img src="data:{mime};base64,{b64}" alt="{alt}">', 1
    if "image/svg+xml" in data:
        b64 = base64.b64encode(text("image/svg+xml").encode()).decode()
        return f'<img src="data:image/svg+xml;base64,{b64}" alt="output picture">', 1
    if "text/html" in data: return f'<div class="html">{text("text/html")}</div>', 0
    if "text/markdown" in data: return f'<div class="md">{markdown(text("text/markdown"))}</div>', 0
    if "text/latex" in data:
        tex = text("text/latex").strip().strip("$")
        return f'<div class="latex">{tex_to_mathml(tex, display=True)}</div>', 0
    if "text/plain" in data: return f'<pre class="result">{ansi2html(text("text/plain"))}</pre>', 0
    return "", 0


@dataclass
class Rendered:
    body: str
    formulas: int = 0
    pictures: int = 0
    code_cells: int = 0
    outputs: int = 0
    sections: list = field(default_factory=list)    # (id, text) of the page's h2 headings


def render_notebook(page: Page, by_src: dict, assets: _Assets) -> Rendered:
    from nbconvert.filters.markdown_mistune import MarkdownWithMath

    nb = read_notebook(page.src)
    base = page.src.parent

    def resolve(url: str, image: bool = False) -> str:
        parts = urlsplit(url)
        if url.startswith("#"): return url
        if parts.scheme in ("http", "https", "mailto") and not image: return url   # followed only when clicked
        if parts.scheme == "data" and image: return url
        if parts.scheme or url.startswith("//"): raise BookError(f"{url!r} would be fetched from outside the book")
        frag = f"#{parts.fragment}" if parts.fragment else ""
        # relative to the notebook; the index (README source) is written relative to the checkout's root
        for cand in (base / unquote(parts.path), ROOT / unquote(parts.path)):
            cand = cand.resolve()
            if cand in by_src: return by_src[cand] + frag
            if cand.is_file(): return assets.add(cand) + frag
        raise BookError(f"a link to {url!r}, which is neither a page of the book nor a file of the checkout")

    renderer = _renderer_class()(resolve)
    md = MarkdownWithMath(renderer=renderer)
    out, r = [], Rendered("")
    title_done = False
    for i, c in enumerate(nb.cells):
        where = f"{page.src.relative_to(ROOT) if page.src.is_relative_to(ROOT) else page.src}, cell {i}"
        try:
            if c.cell_type == "markdown":
                src = c.source
                if not title_done and src.lstrip().startswith("# "):
                    title_done = True
                    lines = src.strip().splitlines()
                    page.title = lines[0][2:].strip()
                    page.summary = " ".join(ln.lstrip("> ").strip() for ln in lines[1:] if ln.startswith(">"))
                out.append(f'<div class="cell markdown">{md.render(src)}</div>')
            elif c.cell_type == "code":
                direc, code = _directives(c.source)
                if {"hide", "default_exp"} & set(direc) or direc.get("include", "") == "false": continue
                show_code = direc.get("echo", "") != "false" and code.strip()
                outs = [] if direc.get("output", "") == "false" else c.get("outputs", [])
                parts = []
                if show_code:
                    r.code_cells += 1
                    parts.append(f'<div class="input">{highlight_python(code)}</div>')
                shown = []
                for o in outs:
                    h, n = _output_html(o, md.render)
                    if h: shown.append(f'<div class="output">{h}</div>'); r.pictures += n
                if shown:
                    r.outputs += len(shown)
                    parts.append(f'<div class="outputs">{"".join(shown)}</div>')
                if parts: out.append(f'<div class="cell code">{"".join(parts)}</div>')
        except BookError as e:
            raise BookError(f"{where}: {e}") from None
    for fig in page.figures:
        if not fig.exists(): raise BookError(f"{page.src}: its record names the figure {fig}, which does not exist")
        src = assets.add(fig)
        cap = html.escape(fig.relative_to(ROOT).as_posix() if fig.is_relative_to(ROOT) else fig.name)
        out.append(f'<figure class="record"><img src="{src}" alt="{cap}"><figcaption>{cap}</figcaption></figure>')
        r.pictures += 1
    if page.figures:
        out.insert(len(out) - len(page.figures), '<h2 id="figures-of-this-run">Figures of this run</h2>')
    if not page.title: page.title = page.stem
    r.body = "\n".join(out)
    r.formulas = renderer.formulas
    r.sections = [(html.unescape(m.group(1)), html.unescape(re.sub(r"<[^>]+>|\u00b6", "", m.group(2))).strip())
                  for m in re.finditer(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', r.body, flags=re.S)]
    return r


def _label(p: Page) -> str:
    if p.kind == "index": return "Introduction"
    if p.kind == "chapter":
        num = p.stem.split("_")[0]
        return f'<span class="num">{html.escape(num)}</span> {html.escape(p.title)}'
    return html.escape(p.title)


def _sidebar(pages: list[Page], current: Page, paths, rendered: Rendered, book_title: str) -> str:
    by_stem = {p.stem: p for p in pages}
    def item(p: Page) -> str:
        cls = ' class="current"' if p is current else ""
        sub = ""
        if p is current and rendered.sections:
            sub = "<ul>" + "".join(f'<li><a href="#{html.escape(i)}">{html.escape(t)}</a></li>'
                                   for i, t in rendered.sections) + "</ul>"
        return f'<li{cls}><a href="{p.name}">{_label(p)}</a>{sub}</li>'
    parts = [f'<a class="book-title" href="index.html">{html.escape(book_title)}</a>']
    for name, stems in paths:
        parts.append(f'<h3>{html.escape(name)}</h3><ol class="path">' +
                     "".join(f'<li><a href="{by_stem[s].name}">{_label(by_stem[s])}</a></li>' for s in stems) + "</ol>")
    parts.append("<h3>All chapters</h3><ol class=\"chapters\">" +
                 "".join(item(p) for p in pages if p.kind in ("index", "chapter")) + "</ol>")
    parts.append("<h3>Experiments</h3><ol class=\"experiments\">" +
                 "".join(item(p) for p in pages if p.kind == "experiment") + "</ol>")
    return '<nav class="sidebar" aria-label="Table of contents">' + "".join(parts) + "</nav>"


def _pager(pages: list[Page], i: int, paths) -> str:
    def link(p: Page, rel: str, arrow: str) -> str:
        lab = _label(p)
        return f'<a rel="{rel}" class="{rel}" href="{p.name}">{arrow if rel == "prev" else ""}{lab}' \
               f'{arrow if rel == "next" else ""}</a>'
    prev = link(pages[i - 1], "prev", "\u2190 ") if i > 0 else "<span></span>"
    nxt = link(pages[i + 1], "next", " \u2192") if i + 1 < len(pages) else "<span></span>"
    rows = [f'<nav class="pager" aria-label="Previous and next page">{prev}{nxt}</nav>']
    by_stem = {p.stem: p for p in pages}
    for name, stems in paths:
        if pages[i].stem not in stems: continue
        k = stems.index(pages[i].stem)
        bits = [f"<em>{html.escape(name)}</em>, {k + 1} of {len(stems)}"]
        if k > 0: bits.append(f'<a class="path-prev" href="{by_stem[stems[k - 1]].name}">\u2190 {stems[k - 1]}</a>')
        if k + 1 < len(stems):
            bits.append(f'<a class="path-next" href="{by_stem[stems[k + 1]].name}">{stems[k + 1]} \u2192</a>')
        rows.append(f'<p class="path-nav">{" · ".join(bits)}</p>')
    return "".join(rows)


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="tools/build_docs.py">
<title>{title}</title>
<meta name="description" content="{summary}">
<link rel="stylesheet" href="style.css">
</head>
<body>
{sidebar}
<main>
<header class="page-head"><p class="source">{source}</p>{note}</header>
<article>
{body}
</article>
<footer>{pager}</footer>
</main>
</body>
</html>
"""

CSS = """
:root { --side: 19rem; --ink: #1d2329; --mute: #5c6670; --line: #d9dee3; --code: #f6f8fa; --accent: #1f5fa8; }
* { box-sizing: border-box; }
html { font-size: 16px; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.55;
       font-family: "DejaVu Sans", "Liberation Sans", "Segoe UI", Helvetica, Arial, sans-serif; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
nav.sidebar { position: fixed; top: 0; bottom: 0; left: 0; width: var(--side); overflow-y: auto;
              padding: 1rem 1rem 2rem; background: #f3f5f7; border-right: 1px solid var(--line); font-size: .86rem; }
nav.sidebar .book-title { display: block; font-weight: bold; font-size: 1.05rem; color: var(--ink);
                          margin-bottom: .6rem; }
nav.sidebar h3 { font-size: .74rem; text-transform: uppercase; letter-spacing: .05em; color: var(--mute);
                 margin: 1.1rem 0 .3rem; }
nav.sidebar ol, nav.sidebar ul { list-style: none; margin: 0; padding: 0; }
nav.sidebar li { margin: .08rem 0; }
nav.sidebar li a { display: block; padding: .1rem .4rem; border-radius: 4px; color: var(--ink); }
nav.sidebar li.current > a { background: var(--accent); color: #fff; }
nav.sidebar li ul { margin: .2rem 0 .4rem 1.2rem; font-size: .8rem; }
nav.sidebar li ul a { color: var(--mute); }
nav.sidebar .num { display: inline-block; min-width: 1.6em; color: var(--mute); font-variant-numeric: tabular-nums; }
nav.sidebar li.current > a .num { color: #dce8f6; }
main { margin-left: var(--side); max-width: 62rem; padding: 1rem 2.5rem 3rem; }
.page-head { font-size: .8rem; color: var(--mute); border-bottom: 1px solid var(--line); margin-bottom: 1rem; }
.page-head p { margin: .3rem 0; }
h1 { font-size: 2rem; line-height: 1.2; margin: .6rem 0 .4rem; }
h2 { font-size: 1.45rem; margin-top: 2rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
h3 { font-size: 1.15rem; margin-top: 1.5rem; }
.anchor-link { visibility: hidden; margin-left: .3em; font-size: .8em; }
h1:hover .anchor-link, h2:hover .anchor-link, h3:hover .anchor-link { visibility: visible; }
blockquote { margin: .6rem 0 1rem; padding: .1rem 1rem; border-left: 4px solid var(--accent); color: #38424c;
             background: #f7f9fb; }
code, pre { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: .84rem; }
:not(pre) > code { background: var(--code); padding: .05em .3em; border-radius: 3px; }
pre { margin: 0; padding: .6rem .8rem; overflow-x: auto; white-space: pre; }
.cell { margin: .8rem 0; }
.cell.code .input { background: var(--code); border: 1px solid var(--line); border-radius: 5px; }
.cell.code .input .highlight { background: none; }
.cell.code .outputs { border-left: 3px solid #c9d6e3; margin: .25rem 0 0 .2rem; padding-left: .6rem; }
.output pre { padding: .3rem 0; font-size: .8rem; }
.output pre.stderr { background: #fff4f0; }
.output pre.error { background: #fdecec; }
.output img, figure.record img, .markdown img { max-width: 100%; height: auto; }
.markdown img { border: 1px solid var(--line); }
.output .html { overflow-x: auto; font-size: .82rem; }
figure.record { margin: 1rem 0; } figure.record figcaption { font-size: .8rem; color: var(--mute); }
table { border-collapse: collapse; margin: .6rem 0; font-size: .86rem; }
th, td { border: 1px solid var(--line); padding: .25rem .55rem; vertical-align: top; }
thead th, table.dataframe th { background: #eef2f6; }
math { font-family: "STIX Two Math", "Latin Modern Math", "DejaVu Math TeX Gyre", "Cambria Math", math;
       font-size: 1.08em; }
math[display="block"] { margin: .8rem 0; overflow-x: auto; overflow-y: hidden; }
math .tt { font-family: "DejaVu Sans Mono", monospace; }
.highlight .k, .highlight .kn, .highlight .ow { color: #8a2b8f; font-weight: bold; }
.highlight .kc, .highlight .nf, .highlight .nc { color: #1f5fa8; font-weight: bold; }
.highlight .nb, .highlight .m { color: #1d6f6a; } .highlight .nd { color: #9a5b00; } .highlight .o { color: #555; }
.highlight .s { color: #a3341f; } .highlight .sd { color: #7b5a3a; font-style: italic; }
.highlight .c { color: #5d7a5d; font-style: italic; }
footer { margin-top: 3rem; border-top: 1px solid var(--line); padding-top: .8rem; }
.pager { display: flex; justify-content: space-between; gap: 1rem; }
.pager a { padding: .4rem .7rem; border: 1px solid var(--line); border-radius: 5px; }
.path-nav { font-size: .85rem; color: var(--mute); margin: .6rem 0 0; }
@media (max-width: 60rem) { nav.sidebar { position: static; width: auto; border-right: 0; }
                            main { margin-left: 0; padding: 1rem; } }
"""


def _write_book(out: Path, results, t0: float) -> dict:
    "Every page, style.css and book.json into the (new, empty) folder `out`."
    pages = book_pages(results)
    paths = reading_paths(pages[0].src)
    by_stem = {p.stem for p in pages}
    for name, stems in paths:
        missing = [s for s in stems if s not in by_stem]
        if missing: raise BookError(f"nbs/index.ipynb: the reading path {name!r} names {missing}, not in the book")
    by_src = {p.src.resolve(): p.name for p in pages}
    for p in pages:  # an experiment is also reached through its source notebook
        if p.kind == "experiment": by_src[(ROOT / "experiments" / f"{p.stem}.ipynb").resolve()] = p.name
    assets = _Assets(out)
    rendered = [render_notebook(p, by_src, assets) for p in pages]   # first pass: titles for the sidebar
    book_title = pages[0].title or settings().get("title", "book")
    manifest = {"title": book_title, "reading_paths": [{"name": n, "chapters": s} for n, s in paths], "pages": []}
    for i, (p, r) in enumerate(zip(pages, rendered)):
        src = p.src.relative_to(ROOT).as_posix() if p.src.is_relative_to(ROOT) else str(p.src)
        note = f"<p>{p.note}</p>" if p.note else ""
        text = PAGE.format(title=html.escape(f"{p.title} \u2014 {book_title}" if p.kind != "index" else book_title),
                           summary=html.escape(p.summary, quote=True),
                           sidebar=_sidebar(pages, p, paths, r, book_title), body=r.body, pager=_pager(pages, i, paths),
                           source=f"Built from <code>{html.escape(src)}</code> with its committed outputs "
                                  "(not re-executed).", note=note)
        (out / p.name).write_text(text, encoding="utf-8")
        manifest["pages"].append({"file": p.name, "source": src, "kind": p.kind, "title": p.title,
                                  "formulas": r.formulas, "pictures": r.pictures, "code_cells": r.code_cells,
                                  "outputs": r.outputs, "bytes": len(text.encode())})
    (out / "style.css").write_text(CSS)
    manifest["seconds"] = round(time.perf_counter() - t0, 2)
    (out / "book.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def build(out: Path | None = None, results: Path | None = None, quiet: bool = False) -> dict:
    """Write the book into `out` (default: doc_path of settings.ini); returns the manifest also written as
    out/book.json: the pages in order with their source, title and what they show."""
    try:
        import latex2mathml  # noqa: F401
    except ImportError:
        raise BookError("the book needs latex2mathml (pure Python): pip install latex2mathml==3.81.1") from None
    t0 = time.perf_counter()
    out = Path(out or ROOT / settings().get("doc_path", "_docs")).resolve()
    if out == ROOT or out in ROOT.parents: raise BookError(f"refusing to build the book into {out}")
    if out.exists() and any(out.iterdir()) and not (out / "book.json").is_file():
        raise BookError(f"refusing to replace {out}: it is not empty and holds no book.json of an earlier build")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))   # swapped in whole at the end
    try:
        tmp.chmod(0o755)
        manifest = _write_book(tmp, results, t0)
        if out.exists(): shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not quiet:
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        print(f"book: {len(manifest['pages'])} pages, {sum(x['formulas'] for x in manifest['pages'])} formulas, "
              f"{sum(x['pictures'] for x in manifest['pages'])} pictures, {size / 1e6:.1f} MB in "
              f"{out} ({manifest['seconds']:.1f} s); open {out / 'index.html'}")
    return manifest


# ------------------------------------------------------------------------------------- checking the built HTML
class _Scan(HTMLParser):
    "Collects a page's ids, references (tag, attribute, value) and its text outside code, maths and outputs."
    SKIP = {"pre", "code", "math", "style", "script"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.refs, self.text, self.sidebar, self.maths = set(), [], [], [], 0
        self.stack, self.skip_depth, self.in_side, self.in_output = [], 0, 0, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in ("br", "img", "meta", "link", "input", "hr", "mspace", "col"): self.stack.append(tag)
        if a.get("id"): self.ids.add(a["id"])
        if a.get("name") and tag == "a": self.ids.add(a["name"])
        if tag == "math": self.maths += 1
        if tag in self.SKIP: self.skip_depth += 1
        if tag == "nav" and "sidebar" in a.get("class", ""): self.in_side = len(self.stack)
        if tag == "div" and "outputs" in (a.get("class") or "").split() and not self.in_output:
            self.in_output = len(self.stack)
        for k in ("src", "href", "srcset", "poster", "data"):
            if a.get(k) is not None: self.refs.append((tag, k, a[k]))
        if tag == "a" and self.in_side and a.get("href"): self.sidebar.append(a["href"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self.stack and self.stack[-1] == tag: self.stack.pop()

    def handle_endtag(self, tag):
        if tag in self.SKIP: self.skip_depth = max(0, self.skip_depth - 1)
        if tag in self.stack:
            while self.stack:
                if len(self.stack) == self.in_side: self.in_side = 0
                if len(self.stack) == self.in_output: self.in_output = 0
                if self.stack.pop() == tag: break

    def handle_data(self, data):
        if not self.skip_depth and not self.in_output: self.text.append(data)


RAW_TEX = re.compile(r"\$[^$\s][^$\n]*\$|\$\$|\\(?:frac|mathrm|mathbf|sqrt|alpha|beta|sum|hat|bar|tilde|left|right|"
                     r"begin|end|text|mathcal|mathbb|cdot|times|qquad|quad|lVert|rVert|lfloor|rfloor|varepsilon)\b")


def static_check(out: Path) -> list[str]:
    """Problems of the built book found without a browser: every page of book.json exists; every src is a file of
    the book or a data: URI; every link is an anchor of its page, a file of the book (and anchor there) or a web
    address (only a reader's click goes there); the sidebar links every page; no TeX is left as text."""
    out = Path(out)
    manifest = json.loads((out / "book.json").read_text())
    problems, scans = [], {}
    names = [p["file"] for p in manifest["pages"]]
    for n in names:
        if not (out / n).is_file(): problems.append(f"{n}: listed in book.json but not written"); continue
        text = (out / n).read_text(encoding="utf-8")
        # what holds no reference, left out to parse fast: picture payloads, code's token spans, formulas' tokens
        text = re.sub(r'(src="data:[\w/+.-]+;base64,)[A-Za-z0-9+/=\s]+"', r'\1"', text)
        text = re.sub(r"</?span\b[^>]*>", "", text)
        text = re.sub(r"(<math\b[^>]*>).*?</math>", r"\1</math>", text, flags=re.S)
        s = _Scan(); s.feed(text); scans[n] = s
    for n, s in scans.items():
        for tag, attr, val in s.refs:
            parts = urlsplit(val)
            if val.startswith("data:"):
                if attr == "href": problems.append(f"{n}: a data: link <{tag} {attr}>")
                continue
            if parts.scheme or val.startswith("//"):
                if tag == "a" and attr == "href" and parts.scheme in ("http", "https", "mailto"): continue
                problems.append(f"{n}: <{tag} {attr}={val[:80]!r}> would load from outside the book")
                continue
            if not parts.path:
                if parts.fragment and parts.fragment not in s.ids:
                    problems.append(f"{n}: anchor #{parts.fragment} missing")
                continue
            target = (out / unquote(parts.path)).resolve()
            if not target.is_relative_to(out.resolve()):
                problems.append(f"{n}: {val!r} points outside the book"); continue
            if not target.is_file(): problems.append(f"{n}: {val!r} does not exist in the book"); continue
            if parts.fragment and target.name in scans and parts.fragment not in scans[target.name].ids:
                problems.append(f"{n}: {val!r}: no anchor #{parts.fragment} in {target.name}")
        side = {urlsplit(h).path for h in s.sidebar if urlsplit(h).path}
        missing = [m for m in names if m not in side]
        if missing: problems.append(f"{n}: the sidebar does not link {missing}")
        raw = RAW_TEX.findall(" ".join(s.text))
        if raw: problems.append(f"{n}: TeX left as text: {raw[:3]}")
    for p in manifest["pages"]:
        if p["file"] in scans and scans[p["file"]].maths != p["formulas"]:
            problems.append(f"{p['file']}: {p['formulas']} formulas in the notebook, {scans[p['file']].maths} <math>")
    return problems


# ------------------------------------------------------------------------------------------- headless Chromium
def find_chromium() -> str | None:
    env = os.environ.get("FINEPOSE_CHROMIUM")
    if env: return env if Path(env).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        p = shutil.which(name)
        if p: return p
    return None


class Chromium:
    """Headless Chromium driven through the DevTools protocol over a pipe (--remote-debugging-pipe: no port, no
    extra library). Every request a page makes is recorded; host names resolve to nothing, so none can leave."""

    def __init__(self, binary: str | None = None, size=SCREENSHOT_SIZE, timeout: float = 30):
        self.binary = binary or find_chromium()
        if not self.binary: raise BookError(INSTALL_CHROMIUM)
        self.timeout, self.size, self.next_id, self.buf, self.events = timeout, size, 0, b"", []
        self.profile = tempfile.mkdtemp(prefix="finepose-chromium-")
        self.log = open(Path(self.profile) / "chromium.log", "w+b")
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()
        hi_r, hi_w = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10), fcntl.fcntl(res_w, fcntl.F_DUPFD, 10)
        os.close(cmd_r); os.close(res_w)

        def child():  # the protocol's fixed descriptors: commands in on 3, replies out on 4
            os.dup2(hi_r, 3); os.dup2(hi_w, 4)

        args = [self.binary, "--headless", "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
                "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-domain-reliability", "--no-pings", "--mute-audio",
                "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND", f"--window-size={size[0]},{size[1]}",
                "about:blank"]
        if hasattr(os, "geteuid") and os.geteuid() == 0: args.insert(1, "--no-sandbox")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     preexec_fn=child, close_fds=False)
        os.close(hi_r); os.close(hi_w)
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for m in ("Page.enable", "Network.enable", "Runtime.enable"): self.call(m, session=True)
            self.call("Emulation.setDeviceMetricsOverride", {"width": size[0], "height": size[1],
                                                             "deviceScaleFactor": 1, "mobile": False}, session=True)
        except Exception:
            self.close()
            raise

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.log.seek(0)
                tail = self.log.read()[-1500:].decode(errors="replace")
                why = "exited" if self.proc.poll() is not None else f"gave no answer within {self.timeout:.0f} s"
                raise BookError(f"Chromium ({self.binary}) {why}; its log ends:\n{tail}")
            ready, _, _ = select.select([self.res_r], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(self.res_r, 1 << 20)
                if not chunk: continue
                self.buf += chunk
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method: str, params: dict | None = None, session: bool = False) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session: msg["sessionId"] = self.session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            m = self._read(deadline)
            if m.get("id") == self.next_id:
                if "error" in m: raise BookError(f"Chromium: {method} failed: {m['error']}")
                return m.get("result", {})
            if "method" in m: self.events.append(m)

    def wait_event(self, method: str, since: int = 0) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            for e in self.events[since:]:
                if e["method"] == method: return e
            since = len(self.events)
            self.events.append(self._read(deadline))
            if "method" not in self.events[-1]: self.events.pop()

    def open(self, url: str) -> list[str]:
        "Load `url` until its load event; returns the URLs of every request the page made."
        start = len(self.events)
        res = self.call("Page.navigate", {"url": url}, session=True)
        if res.get("errorText"): raise BookError(f"{url}: {res['errorText']}")
        self.wait_event("Page.loadEventFired", start)
        return [e["params"]["request"]["url"] for e in self.events[start:]
                if e["method"] == "Network.requestWillBeSent"]

    def evaluate(self, js: str):
        r = self.call("Runtime.evaluate", {"expression": js, "awaitPromise": True, "returnByValue": True},
                      session=True)
        if "exceptionDetails" in r: raise BookError(f"script failed in the page: {r['exceptionDetails']}")
        return r["result"].get("value")

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                try:
                    os.write(self.cmd_w, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
                    self.proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    self.proc.kill(); self.proc.wait()
        finally:
            for fd in (self.cmd_w, self.res_r):
                try: os.close(fd)
                except OSError: pass
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self): return self
    def __exit__(self, *exc): self.close()


PROBE = r"""(() => {
  const imgs = [...document.images];   // the load event came after every picture loaded or failed
  const box = e => e.getBoundingClientRect();
  const maths = [...document.querySelectorAll('math')];
  const fr = [...document.querySelectorAll('mfrac')];
  const subs = [...document.querySelectorAll('msub')];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let text = '';
  while (walker.nextNode()) {
    const p = walker.currentNode.parentElement;
    if (!p.closest('pre, code, math, style, script, .outputs')) text += walker.currentNode.nodeValue + ' ';
  }
  return {
    title: document.title,
    articles: document.querySelectorAll('main article').length,
    code: document.querySelectorAll('.cell.code .input pre').length,
    outputs: document.querySelectorAll('.cell.code .output').length,
    images: imgs.map(i => ({src: i.getAttribute('src').slice(0, 60), ok: i.complete && i.naturalWidth > 0,
                            w: i.naturalWidth, shown: box(i).width})),
    math: maths.length,
    mathDisplay: [...new Set(maths.map(m => getComputedStyle(m).display))],
    mathEmpty: maths.filter(m => !(box(m).width > 0 && box(m).height > 0)).length,
    fractions: fr.length,
    fractionsStacked: fr.filter(f => f.children.length === 2 &&
                                     box(f.children[0]).bottom <= box(f.children[1]).top + 1).length,
    subscripts: subs.length,
    subscriptsLowered: subs.filter(s => s.children.length === 2 &&
                                        box(s.children[1]).bottom > box(s.children[0]).bottom).length,
    text,
    sidebar: [...document.querySelectorAll('nav.sidebar a')].map(a => a.href),
    pager: [...document.querySelectorAll('nav.pager a')].map(a => a.href),
    resources: performance.getEntriesByType('resource').map(e => e.name),
  };
})()"""


def browser_check(out: Path, binary: str | None = None) -> tuple[list[str], dict]:
    """Open every page of the built book in headless Chromium; (problems, {page: probe result})."""
    out = Path(out).resolve()
    manifest = json.loads((out / "book.json").read_text())
    problems, seen = [], {}
    with Chromium(binary) as b:
        for p in manifest["pages"]:
            n, url = p["file"], (out / p["file"]).as_uri()
            try:
                requests = b.open(url)
            except BookError as e:
                problems.append(f"{n}: did not load: {e}"); continue
            r = b.evaluate(PROBE)
            seen[n] = r
            for u in requests + r["resources"]:
                if urlsplit(u).scheme not in ("file", "data"): problems.append(f"{n}: requested {u[:100]}")
            if not r["title"] or r["articles"] != 1: problems.append(f"{n}: no title or no article")
            bad = [i["src"] for i in r["images"] if not i["ok"] or i["shown"] <= 0]
            if bad: problems.append(f"{n}: {len(bad)} picture(s) not loaded or not shown: {bad[:3]}")
            if len(r["images"]) < p["pictures"]:
                problems.append(f"{n}: {p['pictures']} pictures built, {len(r['images'])} <img> in the page")
            if r["math"] != p["formulas"]: problems.append(f"{n}: {p['formulas']} formulas, {r['math']} <math> in page")
            if r["math"]:
                if not set(r["mathDisplay"]) <= {"math", "inline math", "block math"}:
                    problems.append(f"{n}: <math> not laid out as MathML (display {r['mathDisplay']})")
                if r["mathEmpty"]: problems.append(f"{n}: {r['mathEmpty']} formulas take no space")
                if r["fractionsStacked"] != r["fractions"]:
                    problems.append(f"{n}: {r['fractions'] - r['fractionsStacked']} fractions not stacked")
                if r["subscriptsLowered"] != r["subscripts"]:
                    problems.append(f"{n}: {r['subscripts'] - r['subscriptsLowered']} subscripts not lowered")
            raw = RAW_TEX.findall(r["text"])
            if raw: problems.append(f"{n}: TeX left as text: {raw[:3]}")
            for h in r["sidebar"] + r["pager"]:
                parts = urlsplit(h)
                if parts.scheme != "file" or not Path(unquote(parts.path)).is_file():
                    problems.append(f"{n}: navigation link {h} does not resolve to a file")
    return problems, seen


def screenshots(dest: Path, results: Path | None = None) -> list[Path]:
    "Build the book into a temporary folder and photograph the pages of SCREENSHOTS into dest (palette PNG)."
    from PIL import Image
    dest = Path(dest); dest.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="finepose-book-") as tmp, Chromium() as b:
        build(Path(tmp) / "book", results, quiet=True)
        for page, selector, name in SCREENSHOTS:
            b.open((Path(tmp) / "book" / page).as_uri())
            b.evaluate("document.fonts.ready.then(() => true)")
            if selector:
                found = b.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
                                   " if (!e) return false; e.scrollIntoView({block: 'start'}); window.scrollBy(0, -24);"
                                   " return true; })()")
                if not found: raise BookError(f"{page}: nothing matches {selector!r} to photograph")
            raw = dest / f".{name}.raw.png"
            b.screenshot(raw)
            with Image.open(raw) as im:
                im.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(
                    dest / name, optimize=True)
            raw.unlink()
            size = (dest / name).stat().st_size
            if size > SCREENSHOT_MAX_BYTES:
                raise BookError(f"{dest / name}: {size} bytes (limit {SCREENSHOT_MAX_BYTES})")
            written.append(dest / name)
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, help="output folder (default: doc_path of settings.ini)")
    ap.add_argument("--results", type=Path, help=f"results of the executed experiments (default results/{PROFILE})")
    ap.add_argument("--check", action="store_true", help="check the built book, then open every page in Chromium")
    ap.add_argument("--screenshots", type=Path, metavar="DIR", help="write screenshots of a few pages into DIR")
    a = ap.parse_args(argv)
    try:
        if a.screenshots:
            for p in screenshots(a.screenshots, a.results):
                print(f"screenshot: {p} ({p.stat().st_size / 1e3:.0f} kB)")
            return 0
        manifest = build(a.out, a.results)
        if a.check:
            out = Path(a.out or ROOT / settings().get("doc_path", "_docs"))
            problems = static_check(out)
            t0 = time.perf_counter()
            more, _ = browser_check(out)
            problems += more
            for p in problems: print("problem:", p)
            print(f"check: {len(manifest['pages'])} pages, {len(problems)} problems "
                  f"(browser {time.perf_counter() - t0:.1f} s)")
            return 1 if problems else 0
    except BookError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
