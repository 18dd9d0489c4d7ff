"""Effect of bfloat16 sampling on every Table 1 metric: the cached smoke models evaluated in float32 and in bf16.

    .venv/bin/python benchmarks/bf16_accuracy.py                 # every Table 1 model cached in checkpoints/smoke
    .venv/bin/python benchmarks/bf16_accuracy.py --limit 1       # one model per 2D input (quicker)

For each Table 1 model of the smoke profile found in `checkpoints/smoke` (folders `detector-*` and `gt-*`, one per
training seed), the official Human3.6M evaluation (`finepose.evaluate.evaluate_h36m`: same test split, same seeded
noise) runs twice on the same weights: `eval.amp=off` (float32, the paper setting) and `eval.amp=bf16` (the
bfloat16 copy of the backbone, 15_finepose). It writes results/benchmarks/bf16-accuracy-smoke.{csv,md}: for every
model, action and metric at the last DDIM step the two errors (mm) and their difference, and per metric the largest
action-wise difference against the target (0.2 mm). The checkpoints are read by path, so the script measures the
models that are in the folder whatever the current code's cache key is. SYNTHETIC DATA (the smoke profile).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_MM = 0.2  # each action-wise MPJPE of bf16 within this of float32


def _checkpoints(folder: Path, tag: str) -> list[Path]:
    return sorted(
        p / "best.pt"
        for p in folder.glob(f"{tag}-*")
        if (p / "best.pt").is_file() and not p.name.startswith(f"{tag}-regression")
    )


def run(
    profile: str = "smoke",
    limit: int | None = None,
    out_dir: Path | None = None,
    threads: int | None = None,
    mode: str = "copy",
    say=print,
) -> dict:
    """Evaluate every cached Table 1 model in float32 and bf16; `mode` 'copy': `eval.amp=bf16` (the bfloat16 copy
    of the backbone), 'autocast': float32 weights under `torch.autocast('cpu', bfloat16)`."""
    import pandas as pd
    import torch
    from finepose.evaluate import evaluate_h36m
    from finepose.experiments import model_from_checkpoint, table1_configs
    from finepose.io import atomic_write_text

    if threads:
        torch.set_num_threads(threads)
    cfgs = table1_configs(profile)
    rows, meta = [], []
    for inp, cfg in cfgs.items():
        cks = _checkpoints(ROOT / cfg.train.checkpoint_dir, inp)[:limit]
        if not cks:
            say(
                f"{inp}: no cached model under {cfg.train.checkpoint_dir} "
                f"(run `finepose reproduce --profile {profile}`)"
            )
        for ck in cks:
            res = {}
            for prec in ("off", "bf16"):
                c = copy.deepcopy(cfg)
                c.eval.amp = prec if mode == "copy" else "off"
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model, _ = model_from_checkpoint(c, ck)
                model.cfg = c
                t0 = time.perf_counter()
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=prec == "bf16" and mode == "autocast"):
                    r = evaluate_h36m(model, c, progress=False)
                res[prec] = (r.final_table(privileged_row=False), time.perf_counter() - t0)
                say(f"{inp} {ck.parent.name} {prec}: {res[prec][1]:.1f} s")
            f32, b16 = res["off"][0], res["bf16"][0]
            for action in f32.index:
                for metric in f32.columns:
                    a, b = float(f32.loc[action, metric]), float(b16.loc[action, metric])
                    rows.append(
                        dict(
                            input=inp,
                            model=ck.parent.name,
                            action=action,
                            metric=metric,
                            fp32_mm=a,
                            bf16_mm=b,
                            diff_mm=b - a,
                        )
                    )
            meta.append(
                dict(input=inp, model=ck.parent.name, fp32_s=round(res["off"][1], 2), bf16_s=round(res["bf16"][1], 2))
            )
    if not rows:
        raise RuntimeError("no cached Table 1 model found: nothing measured")
    df = pd.DataFrame(rows)
    per_action = df[~df.action.isin(["action-wise mean", "frame-wise mean"])]
    worst = (
        per_action.assign(abs_diff=per_action.diff_mm.abs())
        .groupby("metric")
        .abs_diff.max()
        .rename("max |bf16 - fp32| over models and actions (mm)")
        .to_frame()
    )
    worst["target"] = [f"<= {TARGET_MM} mm" if m.startswith("MPJPE") else "-" for m in worst.index]
    worst["verdict"] = [
        "met" if not m.startswith("MPJPE") or v <= TARGET_MM else "MISSED" if m.startswith("MPJPE") else "-"
        for m, v in worst.iloc[:, 0].items()
    ]
    worst.loc[~worst.index.str.startswith("MPJPE"), "verdict"] = "-"
    means = df[df.action == "action-wise mean"].pivot_table(
        index=["input", "model"], columns="metric", values="diff_mm"
    )
    out_dir = out_dir or ROOT / "results" / "benchmarks"
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"bf16-accuracy-{profile}" + ("" if mode == "copy" else f"-{mode}")
    atomic_write_text(out_dir / f"{stem}.csv", df.to_csv(index=False, float_format="%.4f"))
    md = [
        f"# bf16 against float32 sampling, every Table 1 metric: profile {profile} (SYNTHETIC DATA)",
        "",
        "Measured by `benchmarks/bf16_accuracy.py`: the official evaluation of each cached Table 1 model, once with "
        "`eval.amp=off` (float32) and once with `eval.amp=bf16` (a bfloat16 copy of the backbone, 15_finepose), "
        f"same weights, test split and seeded noise. This file: bf16 mode '{mode}' ('copy': `eval.amp=bf16`, "
        "'autocast': float32 weights under torch.autocast). Errors at the last DDIM step, in mm; "
        "difference = bf16 - fp32. "
        f"Target: every action-wise MPJPE within {TARGET_MM} mm.",
        "",
        f"threads: {torch.get_num_threads()}, torch {torch.__version__}",
        "",
        "## Largest difference per metric",
        "",
        worst.to_markdown(floatfmt=".3f"),
        "",
        "## Difference of the action-wise mean, per model",
        "",
        means.to_markdown(floatfmt=".3f"),
        "",
        "## Evaluation time per model (s; smoke size, not representative of the paper size)",
        "",
        pd.DataFrame(meta).to_markdown(index=False),
        "",
        "Per action and metric: the CSV beside this file.",
    ]
    atomic_write_text(out_dir / f"{stem}.md", "\n".join(md) + "\n")
    say("\n".join(md[:12]))
    return dict(rows=df, worst=worst, means=means, meta=meta)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="benchmarks/bf16_accuracy.py", description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--limit", type=int, default=None, help="models per 2D input (default: all cached seeds)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--mode",
        choices=["copy", "autocast"],
        default="copy",
        help="copy: eval.amp=bf16 (the kit's bf16 option); autocast: torch.autocast around the evaluation",
    )
    a = ap.parse_args(argv)
    try:
        run(a.profile, a.limit, a.out, a.threads, a.mode)
    except (RuntimeError, ValueError, FileNotFoundError) as e:
        print(f"benchmarks/bf16_accuracy.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
