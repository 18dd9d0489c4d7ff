"""glibc allocator settings against the default, like for like: the same path under each setting, side by side.

    .venv/bin/python benchmarks/allocator.py --size full --task train --train-batch 4   # ~10 min on 2 cores
    .venv/bin/python benchmarks/allocator.py --size cpu --task sample                   # ~8 min
    .venv/bin/python benchmarks/allocator.py --size tiny --task train --train-batch 2 --no-write

Each measurement is one fresh process of `benchmarks/run.py`'s worker (same model, weights, inputs and timing as
there) under one allocator environment: glibc's defaults, `run.ALLOCATORS` (mmap and trim thresholds at 1 GiB;
`glibc.malloc.hugetlb=1`). Paths: the official-style computation and the kit's default. Rounds alternate the order.
Per row: best time, per-round ratio against the same path under the default allocator, peak resident set, minor
faults. Writes results/benchmarks/<device>-<size>-allocator-<task>.md. The kit sets no allocator variable itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as R  # noqa: E402  (benchmarks/run.py: the worker and the allocator settings)


def measure(size: str, task: str, train_batch: int, threads: int, repeats: int, say=print) -> list[dict]:
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="finepose-alloc-"))
    settings = {"glibc default": {}, **R.ALLOCATORS}
    paths = {"official-style": dict(official=True), "kit default": dict(official=False)}
    rows = {(p, a): dict(path=p, allocator=a, env=e, rounds=[]) for p in paths for a, e in settings.items()}
    keys = list(rows)
    for rnd in range(repeats):
        for k in keys if rnd % 2 == 0 else keys[::-1]:
            r = rows[k]
            spec = dict(size=size, device="cpu", threads=threads, task=task, name=f"{k[0]}, {k[1]}",
                        path=dict(paths[k[0]]), out=str(tmp / f"{keys.index(k)}-{rnd}.npy"))
            if task == "train":
                spec["train_batch"] = train_batch
            say(f"[round {rnd + 1}/{repeats}] {spec['name']} ...", flush=True)
            w = R._run_worker(spec, r["env"])
            r["rounds"].append(w)
            mib = w["peak_rss_kb"] / 1024
            say(f"    {w['seconds']:.3f} s, peak RSS {mib:.0f} MiB, {w['minor_faults']} minor faults", flush=True)
    out = []
    for (p, a), r in rows.items():
        base = rows[(p, "glibc default")]
        secs = [w["seconds"] for w in r["rounds"]]
        out.append(dict(path=p, allocator=a, env=r["env"], seconds=min(secs), round_seconds=secs,
                        ratio_rounds=[b["seconds"] / w["seconds"] for b, w in zip(base["rounds"], r["rounds"])],
                        peak_mib=max(w["peak_rss_kb"] for w in r["rounds"]) / 1024,
                        minor_faults=min(r["rounds"], key=lambda w: w["seconds"])["minor_faults"]))
    offi = {o["allocator"]: o for o in out if o["path"] == "official-style"}
    for o in out:
        o["vs_official_same_allocator"] = offi[o["allocator"]]["seconds"] / o["seconds"]
    return out


def table(rows: list[dict]) -> str:
    md = ["| path | allocator | seconds (best) | per-round ratio vs the same path, glibc default | "
          "vs official-style, same allocator | peak memory | minor faults |",
          "|---|---|---:|---|---:|---:|---:|"]
    for o in rows:
        rr = " / ".join(f"{x:.2f}" for x in o["ratio_rounds"])
        md.append(f"| {o['path']} | {o['allocator']} | {o['seconds']:.3f} | {rr} | "
                  f"{o['vs_official_same_allocator']:.2f}x | {o['peak_mib']:.0f} MiB | {o['minor_faults']:,} |")
    return "\n".join(md)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="benchmarks/allocator.py", description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(R.SIZES), default="cpu")
    ap.add_argument("--task", choices=["sample", "train"], default="train")
    ap.add_argument("--train-batch", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args(argv)
    import os

    from finepose.io import atomic_write_text

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    try:
        rows = measure(a.size, a.task, a.train_batch, a.threads, a.repeats)
    except RuntimeError as e:
        print(f"benchmarks/allocator.py: error: {e}", file=sys.stderr)
        return 1
    sz = R.SIZES[a.size]
    what = (f"training step (AdamW, official loss), {a.train_batch} windows, best of {sz['train_steps']} steps"
            if a.task == "train" else
            f"sampling: {sz['windows']} window(s) x {sz['hyps']} hypotheses, flip, {sz['steps_run']} DDIM step(s)")
    text = "\n".join([
        f"# glibc allocator settings, {a.task}, size {a.size} ({sz['profile']} {' '.join(sz['over'])})",
        "",
        f"Written by `benchmarks/allocator.py`: {what}; {a.threads} threads, {a.repeats} rounds in alternating order, "
        f"a fresh process per row per round; load average before: {load}. Settings: "
        + "; ".join(f"{k} = {' '.join(f'{x}={y}' for x, y in v.items())}" for k, v in R.ALLOCATORS.items())
        + ". The kit sets none of them itself.",
        "",
        table(rows),
        "",
    ])
    print(text)
    if not a.no_write:
        out = ROOT / "results" / "benchmarks" / f"cpu-{a.size}-allocator-{a.task}.md"
        atomic_write_text(out, text)
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
