"""How far below the linear baseline can any model get on the smoke data? Probes, measured on the same split.

    .venv/bin/python benchmarks/smoke_headroom.py              # 13 min on one core beside the test suite (measured)
    .venv/bin/python benchmarks/smoke_headroom.py --steps 500  # quicker, a weaker probe

The smoke profile's goal (issue 12) is a FinePOSE whose P-Agg MPJPE is at most half the linear least-squares
baseline's. This script measures what the smoke data allow, independently of FinePOSE:

- the linear least-squares lift and the mean training pose (`finepose.experiments.BASELINES`), frame by frame;
- a large per-frame MLP (three hidden layers of 1024, GELU, AdamW, one-cycle schedule, batches of 512 frames),
  trained on the same training frames FinePOSE trains on (`finepose.train.training_split`), input the normalised
  2D pose of one frame, or of `--window` frames centred on the target frame;
- the error caused by body size alone: the test subjects' ground truth rescaled to the mean size of the training
  subjects (mean joint distance from the root), i.e. what a model that recovers every pose's shape exactly but
  cannot tell a subject's size from normalised 2D keypoints would make.

Errors: MPJPE in mm over every test frame (not the action-wise mean of the official protocol, so they are close to,
not equal to, Table 1's numbers). Writes results/benchmarks/smoke-headroom.md. SYNTHETIC DATA.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _frames(seqs, window: int):
    "(inputs (N, window*17*2), root-relative targets (N, 51)) of every frame with a full window around it."
    import numpy as np

    X, Y = [], []
    for s in seqs:
        y = s.pos3d.copy()
        y[:, 0] = 0.0
        for i in range(len(s) - window + 1):
            X.append(s.pos2d[i : i + window].reshape(-1))
            Y.append(y[i + window // 2].reshape(-1))
    return np.asarray(X, np.float32), np.asarray(Y, np.float32)


def _mpjpe_mm(p, y) -> float:
    return float((p.reshape(-1, 17, 3) - y.reshape(-1, 17, 3)).norm(dim=-1).mean()) * 1000


def mlp_probe(train_seqs, test_seqs, window: int, steps: int, seed: int = 0, width: int = 1024) -> dict:
    "Train the probe MLP; returns train/test MPJPE (mm), frames and seconds."
    import torch

    torch.manual_seed(seed)
    Xtr, Ytr = (torch.from_numpy(a) for a in _frames(train_seqs, window))
    Xte, Yte = (torch.from_numpy(a) for a in _frames(test_seqs, window))
    act = torch.nn.GELU
    net = torch.nn.Sequential(
        torch.nn.Linear(Xtr.shape[1], width), act(), torch.nn.Linear(width, width), act(),
        torch.nn.Linear(width, width), act(), torch.nn.Linear(width, 51),
    )
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    g = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for _ in range(steps):
        i = torch.randint(0, len(Xtr), (512,), generator=g)
        loss = (net(Xtr[i]).view(-1, 17, 3) - Ytr[i].view(-1, 17, 3)).norm(dim=-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        return dict(train_mm=_mpjpe_mm(net(Xtr), Ytr), test_mm=_mpjpe_mm(net(Xte), Yte), train_frames=len(Xtr),
                    test_frames=len(Xte), seconds=time.perf_counter() - t0)


def size_only_error_mm(train_seqs, test_seqs) -> float:
    "MPJPE (mm) of the test ground truth rescaled to the training subjects' mean size (per-subject size)."
    import numpy as np

    def sizes(seqs):
        out = {}
        for s in seqs:
            y = s.pos3d.copy()
            y[:, 0] = 0.0
            out.setdefault(s.subject, []).append(np.linalg.norm(y, axis=-1).mean())
        return {k: float(np.mean(v)) for k, v in out.items()}

    tr, te = sizes(train_seqs), sizes(test_seqs)
    ref = float(np.mean(list(tr.values())))
    errs, n = 0.0, 0
    for s in test_seqs:
        y = s.pos3d.copy()
        y[:, 0] = 0.0
        d = np.linalg.norm(y * (ref / te[s.subject]) - y, axis=-1)
        errs, n = errs + d.sum(), n + d.size
    return errs / n * 1000


def run(profile: str, steps: int, window: int, out: Path | None, threads: int) -> str:
    import torch
    from finepose.config import load_config
    from finepose.experiments import BASELINES
    from finepose.io import atomic_write_text
    from finepose.prepare import load_prepared
    from finepose.train import training_split

    torch.set_num_threads(threads)
    warnings.filterwarnings("ignore", message=".*RANDOM weights.*")
    cfg = load_config(profile)
    train_seqs, _ = training_split(cfg)
    test_seqs = load_prepared(cfg, "test")
    rows = []
    Xte, Yte = (torch.from_numpy(a) for a in _frames(test_seqs, 1))
    x2d = Xte.view(-1, 1, 17, 2)
    for name, cls in BASELINES.items():
        p = cls.fit(train_seqs).predict(x2d)
        rows.append((name + " (closed form)", "-", f"{_mpjpe_mm(p.reshape(len(Yte), -1), Yte):.2f}", "-"))
    lin = float(rows[-1][2])
    for w in sorted({1, window}):
        r = mlp_probe(train_seqs, test_seqs, w, steps)
        rows.append((f"MLP 3 x 1024, {w}-frame input, {steps} steps", f"{r['train_mm']:.2f}", f"{r['test_mm']:.2f}",
                     f"{r['test_mm'] / lin:.2f}"))
        print(rows[-1], f"{r['seconds']:.0f} s, {r['train_frames']} training frames", flush=True)
    size_mm = size_only_error_mm(train_seqs, test_seqs)
    md = [
        f"# What the smoke data allow: probes on the {profile} split (SYNTHETIC DATA)",
        "",
        "Written by `benchmarks/smoke_headroom.py`. MPJPE in mm over every test frame (root-relative, joint 0 "
        "excluded from the prediction), training frames as FinePOSE's (`finepose.train.training_split`).",
        "",
        "| model | train MPJPE | test MPJPE | test / linear |",
        "|---|---:|---:|---:|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        f"Body size alone: the test ground truth rescaled to the training subjects' mean size is {size_mm:.1f} mm "
        "from the truth; normalised 2D keypoints do not tell a subject's size, so this part of the error is "
        "hard to remove for any model trained on these subjects.",
        "",
        f"Training frames: {sum(map(len, train_seqs))}; test frames: {sum(map(len, test_seqs))}; "
        f"torch threads: {threads}, torch {torch.__version__}.",
    ]
    text = "\n".join(md) + "\n"
    out = out or ROOT / "results" / "benchmarks" / "smoke-headroom.md"
    atomic_write_text(out, text)
    print(text)
    return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="benchmarks/smoke_headroom.py", description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--window", type=int, default=9, help="frames of the temporal probe (the smoke window)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    try:
        run(a.profile, a.steps, a.window, a.out, a.threads)
    except (RuntimeError, ValueError, FileNotFoundError) as e:
        print(f"benchmarks/smoke_headroom.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
