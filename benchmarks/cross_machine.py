"""How far do regenerated results move from one machine kind to another? Measured on finished results folders.

    .venv/bin/python benchmarks/cross_machine.py REFERENCE CANDIDATE [CANDIDATE ...] [--label TEXT ...] [--out FILE.md]

Each folder is a results folder of `finepose reproduce` (its `manifest.json` says on which CPU, with which instruction
set and libraries it was computed). Every candidate is compared with the reference cell by cell with tolerance 0
(`finepose.reproduce.compare_results` with `EXACT_TOLERANCES`), and the script reports, per file and per kind of
quantity, how many numbers differ and the largest absolute difference; then whether the candidate passes the
default tolerances of `finepose reproduce --check` (`CHECK_TOLERANCES`).

To measure another instruction set on one machine, regenerate with torch's kernels held to AVX2, e.g.
`ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 make reproduce` (the manifest records
these variables). Nothing is trained here: the script only reads the folders (seconds).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from finepose.reproduce import CHECK_TOLERANCES, EXACT_TOLERANCES, compare_results  # noqa: E402


def machine(folder: Path) -> str:
    "A one-line description of where the results in `folder` were computed (from its manifest)."
    try: man = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError): return "no manifest"
    d, libs = man.get("device") or {}, man.get("libraries") or {}
    isa = "".join(f", {k}={v}" for k, v in (d.get("ISA_settings") or {}).items())
    cpu, isa_name = d.get("cpu_model", "CPU not recorded"), d.get("cpu_capability", "instruction set not recorded")
    return (f"{cpu} ({isa_name}{isa}), "
            f"torch {libs.get('torch', '?')}, commit {str((man.get('code') or {}).get('git_commit'))[:8]}")


def compare(ref: Path, cand: Path, labels: tuple[str, str] = ("", "")) -> tuple[list[str], dict]:
    """Markdown lines of the per-file, per-kind differences of `cand` against `ref`, and the default check's summary.
    `labels`: what the caller knows of the two machines, printed beside what the manifests record."""
    exact = compare_results(ref, cand, EXACT_TOLERANCES)
    default = compare_results(ref, cand, CHECK_TOLERANCES)
    s, sd = exact.attrs["summary"], default.attrs["summary"]
    num = exact[exact.problem == "outside tolerance"]
    other = exact[exact.problem != "outside tolerance"]
    say = lambda lab: f" ({lab})" if lab else ""
    lines = [f"### {cand}", "", f"- reference {ref}: {machine(ref)}{say(labels[0])}",
             f"- candidate: {machine(cand)}{say(labels[1])}",
             f"- {s['numbers']} numbers compared; **{s['numbers'] - len(num)} equal**, {len(num)} differ; "
             f"{len(other)} structural differences (files, rows, columns, texts)",
             f"- default tolerances {CHECK_TOLERANCES}: {sd['within']} of {sd['numbers']} within, "
             f"{'PASS' if sd['ok'] else 'FAIL'} ({len(default)} mismatches)", ""]
    if len(num):
        g = num.groupby(["file", "kind"])["diff"].agg(["count", "max"]).reset_index()
        lines += ["| file | kind | numbers that differ | largest difference |", "|---|---|--:|--:|"]
        lines += [f"| {r.file} | {r.kind} | {r['count']} | {r['max']:.4g} |" for _, r in g.iterrows()]
        worst = num.head(8)
        lines += ["", "Largest differences:", "", "| file | row | column | reference | candidate | diff |",
                  "|---|---|---|--:|--:|--:|"]
        lines += [f"| {r.file} | {r.row} | {r.column} | {r.reference} | {r.regenerated} | {r['diff']:.4g} |"
                  for _, r in worst.iterrows()]
    if len(other):
        lines += ["", "Structural differences:", ""] + [f"- {r.file}: {r.problem} {r.row} {r.column}".rstrip()
                                                       for _, r in other.head(10).iterrows()]
    largest = {k: round(v, 4) for k, v in s["largest"].items()}
    lines += ["", f"Largest difference per kind: {largest}", ""]
    return lines, sd


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("reference")
    p.add_argument("candidates", nargs="+")
    p.add_argument("--out", default=None, help="write the report here (markdown) as well as printing it")
    p.add_argument("--title", default="Cross-machine differences of regenerated results")
    p.add_argument("--label", action="append", default=[], metavar="TEXT",
                   help="what is known of each folder's machine, in the order given (reference first), for folders "
                        "whose manifest predates the CPU fields")
    a = p.parse_args(argv)
    ref = Path(a.reference)
    for f in [ref, *map(Path, a.candidates)]:
        if not (f / "manifest.json").is_file():
            print(f"cross_machine: error: {f} is not a results folder (no manifest.json)", file=sys.stderr)
            return 2
    lines = [f"# {a.title}", "", "Every number of every result table compared with tolerance 0 "
             "(`benchmarks/cross_machine.py`); SYNTHETIC DATA (smoke profile) unless the manifests say otherwise.", ""]
    labels = a.label + [""] * (1 + len(a.candidates) - len(a.label))
    for c, lab in zip(a.candidates, labels[1:]):
        lines += compare(ref, Path(c), (labels[0], lab))[0]
    text = "\n".join(lines)
    print(text)
    if a.out:
        out = Path(a.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        tmp.write_text(text + "\n")
        tmp.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
