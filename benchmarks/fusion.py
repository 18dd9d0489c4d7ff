"""Fewer passes over memory in one transformer block at the paper size: measured before anything is adopted.

    .venv/bin/python benchmarks/fusion.py                       # long: see below; writes results/benchmarks/
    .venv/bin/python benchmarks/fusion.py --rounds 1 --quick    # a short look (rows=1 only)

Measured run time: 4 minutes on a 2-core Intel Xeon with AVX-512 BF16 and AMX (results/benchmarks/cpu-fusion.md,
where the bf16 block is 3.4x faster than the fp32 one). On an earlier, unrecorded 2-core machine the bf16 block was
5-9x *slower* than fp32 and the bf16 rows=20 did not finish in 15 minutes (cpu-fusion-partial.log); that machine's
CPU flags were not recorded, so whether it lacked native bf16 is not known. The header now records them.

One `finepose.mixste.Block` of the paper's width (512, 8 heads, MLP ratio 2) with seeded weights, inference mode,
on the two layouts a FinePOSE pass alternates between at 243 frames: temporal (rows·17 sequences of 243 frames)
and spatial (rows·243 sequences of 17 joints). `rows` is the number of sample·hypothesis rows per backbone call:
the kit's CPU default (`finepose.model.cpu_rows_per_call`, 1 at this size) and 20 (one call per pass of 20
hypotheses, the official layout). Variants, all in this one process, interleaved, order reversed every round:

- `eager`: the kit's `Block.forward` (what `FastPath` runs);
- `in place`: the same operations with the residual sum written into its own fresh tensor and GELU applied in
  place (`aten.gelu_`): two large temporaries fewer per block, bit for bit the same result (asserted);
- `torch.compile`: the block compiled by inductor (bias + GELU, residual add + layer norm, the reshape copies of
  the attention fused into generated C++ loops; the GEMMs and attention stay library calls). Its compile time is
  reported apart; where compiling fails (no C++ compiler, an unsupported platform) the row says so and the
  benchmark goes on.

Each row gives the median time per call over the rounds, the ratio to `eager` of the same round (each round's
ratio, so a reader sees the spread), and the largest absolute difference of the output to `eager`. fp32 and
bfloat16 (the block converted to bf16, as `eval.amp=bf16` runs its bf16 copy of the backbone: no casts between
layers) are measured separately. Results: results/benchmarks/cpu-fusion.md and .csv.
"""

from __future__ import annotations

import argparse
import copy
import csv
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402


def in_place_block(bl, x: torch.Tensor) -> torch.Tensor:
    """`Block.forward` of `bl` under no_grad with two temporaries fewer: the first residual sum is a fresh tensor
    that the second residual is added into, and GELU overwrites the fc1 output. Same arithmetic, same order."""
    y = x + bl.attn(bl.norm1(x))
    h = bl.mlp.fc1(bl.norm2(y))
    torch.ops.aten.gelu_(h)
    return y.add_(bl.mlp.fc2(h))


def _time(fn, reps: int) -> float:
    fn()                                                       # one untimed call: caches, allocator, lazy init
    t0 = time.perf_counter()
    for _ in range(reps): fn()
    return (time.perf_counter() - t0) / reps * 1000.0


def measure(rows_list, dtypes, rounds: int, threads: int, say=print) -> list[dict]:
    from finepose.config import load_config
    from finepose.mixste import Block
    from finepose.model import cpu_rows_per_call
    torch.set_num_threads(threads)
    cfg = load_config("paper-h36m-cpn")
    m, F, J = cfg.model, cfg.data.frames, 17
    default_rows = cpu_rows_per_call(m, F)
    torch.manual_seed(0)
    base = Block(m.embed_dim, m.num_heads, m.mlp_ratio, m.qkv_bias).eval()
    out = []
    for dtype in dtypes:
        for rows in rows_list:
            for layout, shape in (("temporal", (rows * J, F, m.embed_dim)), ("spatial", (rows * F, J, m.embed_dim))):
                bl = copy.deepcopy(base).to(dtype)
                x = torch.randn(*shape, generator=torch.Generator().manual_seed(1)).to(dtype)
                variants = {"eager": lambda bl=bl, x=x: bl(x), "in place": lambda bl=bl, x=x: in_place_block(bl, x)}
                compiled, compile_s, note = None, None, ""
                try:
                    t0 = time.perf_counter()
                    compiled = torch.compile(copy.deepcopy(bl), dynamic=False)
                    with torch.inference_mode(): compiled(x)
                    compile_s = time.perf_counter() - t0
                    variants["torch.compile"] = lambda c=compiled, x=x: c(x)
                except Exception as e:                         # no compiler, unsupported platform: report, go on
                    note = f"torch.compile unavailable: {type(e).__name__}: {str(e).splitlines()[0][:120]}"
                    say(note)
                with torch.inference_mode():
                    ref = bl(x).float()
                    diffs = {k: float((fn().float() - ref).abs().max()) for k, fn in variants.items()}
                    if not torch.equal(in_place_block(bl, x), bl(x)):
                        raise AssertionError("in-place block is not bit for bit the eager block")
                    big = x.numel() * max(3, m.mlp_ratio) * x.element_size() > 64 << 20
                    reps = 2 if big else 10
                    times = {k: [] for k in variants}
                    for r in range(rounds):
                        order = list(variants) if r % 2 == 0 else list(variants)[::-1]
                        for k in order: times[k].append(_time(variants[k], reps))
                for k in variants:
                    ratios = [e / t for e, t in zip(times["eager"], times[k])]
                    row = dict(dtype=str(dtype).removeprefix("torch."), rows=rows, default=rows == default_rows,
                               layout=layout, shape="x".join(map(str, shape)), variant=k,
                               ms=round(statistics.median(times[k]), 2),
                               ratio_vs_eager=round(statistics.median(ratios), 3),
                               ratios_per_round=" ".join(f"{v:.2f}" for v in ratios),
                               max_abs_diff=f"{diffs[k]:.1e}",
                               compile_s=round(compile_s, 1) if k == "torch.compile" else "", note=note)
                    out.append(row)
                    say(f"{row['dtype']:8s} rows={rows:2d} {layout:8s} {k:13s} {row['ms']:9.2f} ms  "
                        f"x{row['ratio_vs_eager']:.3f} ({row['ratios_per_round']})  diff {row['max_abs_diff']}"
                        + (f"  compile {row['compile_s']} s" if row["compile_s"] != "" else ""))
    return out


def cpu_description() -> str:
    "CPU model, torch's CPU capability and the bf16-relevant instruction flags (bf16 speed depends on them)."
    from finepose.reproduce import cpu_model
    model, flags = cpu_model(), set()
    try:
        line = next((ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("flags")), "flags:")
        flags = set(line.split(":", 1)[1].split())
    except OSError: pass
    have = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    return (f"{model}, torch CPU capability {torch.backends.cpu.get_cpu_capability()}, "
            f"flags {' '.join(have) or 'unknown'}")


def table(rows: list[dict]) -> str:
    head = ["dtype", "rows", "layout", "shape", "variant", "ms per call (median)", "vs eager (median)",
            "per round", "max abs diff", "compile s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append("| " + " | ".join(str(v) for v in [
            r["dtype"], f"{r['rows']}{' (kit default)' if r['default'] else ''}", r["layout"], r["shape"],
            r["variant"], r["ms"], f"{r['ratio_vs_eager']:.3f}x", r["ratios_per_round"], r["max_abs_diff"],
            r["compile_s"]]) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--quick", action="store_true", help="rows = the kit default only")
    ap.add_argument("--out", default=str(ROOT / "results" / "benchmarks"))
    a = ap.parse_args(argv)
    if a.rounds < 1: ap.error("--rounds must be at least 1")
    from finepose.config import load_config
    from finepose.model import cpu_rows_per_call
    cfg = load_config("paper-h36m-cpn")
    rows_list = [cpu_rows_per_call(cfg.model, cfg.data.frames)] + ([] if a.quick else [20])
    t0 = time.perf_counter()
    rows = measure(rows_list, [torch.float32, torch.bfloat16], a.rounds, a.threads)
    wall = time.perf_counter() - t0
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    from finepose.io import atomic_write_text
    md = "\n".join([
        "# One transformer block at the paper size: eager, by hand in place, torch.compile (CPU)",
        "",
        f"Machine: {cpu_description()}, {os.cpu_count()} CPUs, {a.threads} threads, "
        f"torch {torch.__version__}; {a.rounds} rounds, order reversed every round; run took {wall:.0f} s "
        "(`benchmarks/fusion.py`).",
        "Block: width 512, 8 heads, MLP ratio 2, inference; temporal = rows·17 sequences of 243 frames, spatial = "
        "rows·243 sequences of 17 joints; rows 1 = the kit's CPU call size at 243 frames, 20 = one call per pass.",
        "",
        table(rows),
        "",
        "- `vs eager` > 1 is faster than the kit's eager block; `per round` lists each round's ratio (the spread).",
        "- `in place` is asserted bit for bit equal to eager; torch.compile's difference is its reordered float "
        "arithmetic.",
    ]) + "\n"
    atomic_write_text(out / "cpu-fusion.md", md)
    with open(out / "cpu-fusion.csv.tmp", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader(); w.writerows(rows)
    os.replace(out / "cpu-fusion.csv.tmp", out / "cpu-fusion.csv")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
