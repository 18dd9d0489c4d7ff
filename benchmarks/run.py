"""Speed of the FinePOSE kit: the official-style computation against the kit's paths, measured side by side.

    .venv/bin/python benchmarks/run.py --size tiny               # seconds; asserts equal outputs (used by the tests)
    .venv/bin/python benchmarks/run.py --size cpu                # 243 frames, depth 2, width 512
    .venv/bin/python benchmarks/run.py --size full --malloc      # 243 frames, depth 8, width 512: the CPU record

Every path runs on the same seeded weights: the kit's (with its sampling options) and the official one
(`finepose.official.to_official`). Every measurement runs in its own fresh Python process (same thread count;
the allocator environment of its row), `repeats` rounds, the order of the paths reversed every other round, and
each round's ratio to the official-style run of that round is kept. Each process reports its peak resident set
(`VmHWM` of /proc/self/status: interpreter, torch, weights and activations; `VmRSS` after building the model
beside it) or, on CUDA, `torch.cuda.max_memory_allocated`; minor and major page faults and CPU seconds of the timed
call (`getrusage`); wall-clock time (`time.perf_counter`, `torch.cuda.synchronize` around it on CUDA). Achieved
GFLOP/s are set against the measured float32 and bfloat16 matmul rates of the same threads. Rows: sampling (one
window, H hypotheses, flip, `steps_run` DDIM steps), the CPU call-sizing rule at 27, 81 and 243 frames, the attention
kernels at the model's shapes, and the training step at each `train_batches` size. Results go to
results/benchmarks/<device>-<size>.csv and .md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Every size: model overrides of the paper profile, the sampling and training workloads.
#   windows: 243-frame windows per sample() call; hyps/steps: H and K of the protocol; steps_run: DDIM steps
#   actually run (per-window time is scaled to `steps` per denoiser pass); train_batches: windows per training step
#   (one set of rows each); repeats: rounds (fresh process per path per round, order reversed every other round);
#   rule_frames: window lengths of the call-sizing rows besides the model's own.
SIZES = {
    "tiny": dict(
        profile="ci",
        over=["model.depth=2"],
        windows=2,
        hyps=4,
        steps=2,
        steps_run=2,
        train_batches=[2],
        train_steps=2,
        repeats=1,
        chunk=2,
        rule_frames=[],
        check=True,
    ),
    "cpu": dict(
        profile="paper-h36m-cpn",
        over=["model.depth=2"],
        windows=1,
        hyps=20,
        steps=10,
        steps_run=1,
        train_batches=[2],
        train_steps=3,
        repeats=2,
        chunk=None,
        rule_frames=[27, 81],
        check=True,
    ),
    "full": dict(
        profile="paper-h36m-cpn",
        over=["model.depth=8"],
        windows=1,
        hyps=20,
        steps=10,
        steps_run=1,
        train_batches=[2, 4],
        train_steps=2,
        repeats=2,
        chunk=None,
        rule_frames=[27, 81],
        check=True,
    ),
}
TOL_FP32 = 1e-5  # max |official-style - fast| in float32 (metres)
TOL_BF16_REL = 1e-2  # max |bf16 - fp32| / max |fp32| on a GPU
MALLOC_KEYS = (
    "MALLOC_ARENA_MAX",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "GLIBC_TUNABLES",
    "LD_PRELOAD",
    "PYTORCH_CUDA_ALLOC_CONF",
)
GLIBC_TUNED = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
GLIBC_HUGETLB = {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}
ALLOCATORS = {"glibc thresholds 1 GiB": GLIBC_TUNED, "glibc hugetlb=1": GLIBC_HUGETLB}
"Allocator settings timed with --malloc, each on the official-style and the kit's paths (like for like)."


def _proc_status_kb(key: str) -> int | None:
    "A field of /proc/self/status in kB (Linux), else None."
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


# ---------------------------------------------------------------------------------------------------- worker --
def _build(size: dict, device, path: dict, is_train: bool, frames: int | None = None):
    "The benchmark model: seeded weights, a live prompt path (PTS output layer not zero), on `device`."
    import warnings

    import torch
    from finepose.config import load_config
    from finepose.model import FinePOSE
    from finepose.official import to_official

    over = size["over"] + [f"eval.num_proposals={size['hyps']}", f"eval.sampling_timesteps={size['steps']}"]
    cfg = load_config(size["profile"], over + ([f"data.frames={frames}"] if frames else []))
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # random CLIP weights: fine for timing
        model = FinePOSE(cfg, is_train=is_train)
    if path.get("official"):
        to_official(model)
    torch.nn.init.normal_(model.pose_estimator.temporal_cross_attn.proj_out.out_layers[2].weight, std=0.02)
    return cfg, model.to(device)


def _inputs(cfg, B: int, device, seed: int = 1):
    "Seeded 2D windows, ground truth and prompt ids; sampling batches carry one action (as the official evaluation)."
    import torch

    g = torch.Generator().manual_seed(seed)
    Fr = cfg.data.frames
    x2d = (torch.randn(B, Fr, 17, 2, generator=g) * 0.3).to(device)
    y0 = torch.randn(B, Fr, 17, 3, generator=g) * 0.25
    y0[:, :, 0] = 0
    return x2d, y0.to(device), g


def _usage():
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return dict(minflt=r.ru_minflt, majflt=r.ru_majflt, cpu=r.ru_utime + r.ru_stime)


def _delta(a: dict, b: dict) -> dict:
    return dict(
        minor_faults=b["minflt"] - a["minflt"], major_faults=b["majflt"] - a["majflt"], cpu_seconds=b["cpu"] - a["cpu"]
    )


def _attention_rows(dev, reps: int = 5, quick: bool = False) -> list[dict]:
    """Built-in kernel against `tiled_attention` at the model's shapes (one window, rows of one hypothesis),
    alternating; `quick`: the 243-frame temporal shape only."""
    import torch
    import torch.nn.functional as F
    from finepose.mixste import attention_kernel, tiled_attention

    out = []
    shapes = [("temporal, 243 frames", 17, 243), ("temporal, 81 frames", 17 * 3, 81), ("spatial, 243 frames", 243, 17)]
    for name, N, L in shapes[:1] if quick else shapes:
        for dt in (torch.float32, torch.bfloat16):
            qkv = torch.randn(N, L, 3, 8, 64, dtype=dt, device=dev)
            q, k, v = qkv.permute(2, 0, 3, 1, 4)
            fs = {
                "built-in": lambda q=q, k=k, v=v: F.scaled_dot_product_attention(q, k, v),
                "tiled": lambda q=q, k=k, v=v: tiled_attention(q, k, v),
            }
            best = {n: math.inf for n in fs}
            for f in fs.values():
                f()
            for r in range(reps):
                for n in list(fs) if r % 2 == 0 else list(fs)[::-1]:
                    t0 = time.perf_counter()
                    fs[n]()
                    best[n] = min(best[n], time.perf_counter() - t0)
            diff = float((fs["tiled"]().float() - fs["built-in"]().float()).abs().max())
            flop = 4 * N * 8 * L * L * 64
            out.append(
                dict(
                    shape=f"{name}: ({N}, 8, {L}, 64)",
                    dtype=str(dt).replace("torch.", ""),
                    builtin_ms=best["built-in"] * 1e3,
                    tiled_ms=best["tiled"] * 1e3,
                    ratio=best["built-in"] / best["tiled"],
                    builtin_gflops=flop / best["built-in"] / 1e9,
                    tiled_gflops=flop / best["tiled"] / 1e9,
                    max_abs_diff=diff,
                    rule=attention_kernel(q),
                )
            )
    return out


def worker(spec: dict) -> dict:
    """One measurement in this process: spec = size, device, path (official, hyp_chunk, precision, outer_autocast,
    attention), task (sample / train / peak / attention), frames, train_batch, out path."""
    import warnings

    import numpy as np
    import torch
    from finepose.fpp import pretext_ids, word_ids
    from finepose.mixste import use_attention

    warnings.filterwarnings("ignore", message=".*RANDOM weights.*")  # random CLIP weights: fine for timing
    size, dev = SIZES[spec["size"]], torch.device(spec["device"])
    torch.set_num_threads(spec["threads"])
    fp = spec["path"]
    if fp.get("flush_denormal"):  # flush-to-zero / denormals-are-zero for this whole process (x86 FTZ/DAZ)
        torch.set_flush_denormal(True)
    cuda = dev.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    res = dict(spec=spec)
    if spec["task"] == "peak":  # the references: large fp32 and bf16 matmuls
        from finepose.cost import measure_matmul_flops

        return dict(
            spec=spec,
            fp32=measure_matmul_flops(dev, size=2048, repeats=10),
            bf16=measure_matmul_flops(dev, size=2048, dtype=torch.bfloat16, repeats=10),
        )
    if spec["task"] == "attention":
        torch.manual_seed(0)
        quick = spec["size"] == "tiny"
        return dict(spec=spec, rows=_attention_rows(dev, reps=2 if quick else 5, quick=quick))
    amp = dict(hyp_chunk=fp.get("hyp_chunk"), autocast=fp.get("precision") or "off")
    outer = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bool(fp.get("outer_autocast")))
    with use_attention(fp.get("attention", "auto")):
        if spec["task"] == "sample":
            cfg, model = _build(size, dev, fp, is_train=False, frames=spec.get("frames"))
            model.eval()
            B, H, K = size["windows"], size["hyps"], size["steps_run"]
            x2d, _, g = _inputs(cfg, B, dev)
            text, pretext = word_ids(["Walking"] * B).to(dev), pretext_ids(batch=B).to(dev)
            noise = [torch.randn(B, H, cfg.data.frames, 17, 3, generator=g).to(dev) for _ in range(K)]
            res["rss_after_build_kb"] = _proc_status_kb("VmRSS")
            with outer:  # warm-up: one step of one hypothesis (kernels, allocator, bf16 copy); not timed
                model.sample(x2d, text, pretext, noise=[noise[0][:, :1]], num_proposals=1, sampling_timesteps=1, **amp)
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            sync()
            u0, t0 = _usage(), time.perf_counter()
            with outer:
                out = model.sample(x2d, text, pretext, noise=noise, num_proposals=H, sampling_timesteps=K, **amp)
            sync()
            res["seconds"] = time.perf_counter() - t0
            res.update(_delta(u0, _usage()))
            res["passes"] = 2 * K
            np.save(spec["out"], out[:, -1].float().cpu().numpy())
        else:
            cfg, model = _build(size, dev, fp, is_train=True)
            model.train()
            B = spec["train_batch"]
            x2d, y0, _ = _inputs(cfg, B, dev)
            acts = ["Walking", "Eating", "Phoning", "SittingDown"]
            text, pretext = word_ids([acts[i % 4] for i in range(B)]).to(dev), pretext_ids(batch=B).to(dev)
            opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=6e-5, weight_decay=0.1)
            gen = torch.Generator(device=dev).manual_seed(3)
            res["rss_after_build_kb"] = _proc_status_kb("VmRSS")
            prec = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(fp.get("precision"))

            def step():
                with torch.autocast(dev.type, dtype=prec or torch.bfloat16, enabled=prec is not None):
                    loss, _ = model.loss(x2d, y0, text, pretext, generator=gen)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                return loss

            step()  # warm-up (optimizer state, allocator)
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            times, faults = [], []
            for _ in range(size["train_steps"]):
                sync()
                u0, t0 = _usage(), time.perf_counter()
                step()
                sync()
                times.append(time.perf_counter() - t0)
                faults.append(_delta(u0, _usage()))
            res["step_seconds"] = times
            res["seconds"] = min(times)  # best step (robust to a busy machine)
            best = faults[times.index(min(times))]
            res.update(best)
    res["peak_rss_kb"] = _proc_status_kb("VmHWM")
    res["cuda_max_allocated_bytes"] = int(torch.cuda.max_memory_allocated()) if cuda else None
    return res


# ------------------------------------------------------------------------------------------------- orchestra --
def _run_worker(spec: dict, env_extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update(env_extra or {})
    env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(spec["threads"])
    r = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    if r.returncode != 0:
        raise RuntimeError(f"benchmark worker {spec['name']} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def h36m_test_windows(path: Path, frames: int = 243) -> int | None:
    """Number of test windows of the official Human3.6M protocol from the real 3D file: S9 and S11, every action,
    4 cameras, ceil(T / frames) windows per sequence (the last one is the last `frames` frames; shorter sequences
    are padded to one window). None when the file is absent."""
    if not path.exists():
        return None
    import numpy as np

    data = np.load(path, allow_pickle=True)["positions_3d"].item()
    n = 0
    for subj in ("S9", "S11"):
        if subj not in data:
            raise ValueError(f"{path}: subject {subj} missing (keys: {sorted(data)})")
        n += 4 * sum(max(1, math.ceil(len(a) / frames)) for a in data[subj].values())
    return n


def _env_info(device: str, threads: int) -> dict:
    import numpy
    import torch

    from finepose.reproduce import cpu_model

    cpu = cpu_model()
    info = dict(
        device=device,
        python=platform.python_version(),
        torch=torch.__version__,
        numpy=numpy.__version__,
        libc=" ".join(platform.libc_ver()),
        threads=threads,
        cpu=cpu,
        cores=os.cpu_count(),
        load_avg_1_5_15=" ".join(f"{x:.2f}" for x in os.getloadavg()),
        allocator=", ".join(f"{k}={os.environ[k]}" for k in MALLOC_KEYS if k in os.environ)
        or "glibc malloc, default settings (no MALLOC_* / GLIBC_TUNABLES / LD_PRELOAD)",
    )
    if device.startswith("cuda"):
        info.update(
            gpu=torch.cuda.get_device_name(0),
            cuda=torch.version.cuda,
            tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
        )
    return info


def _variants(size: dict, cuda: bool, malloc: bool) -> list[tuple[str, dict, dict]]:
    "(name, path, allocator env) of every sampling path."
    H = size["hyps"]
    official, fast = dict(official=True), dict(official=False)
    v = [
        ("official-style", official, {}),
        ("fast, one call per pass", dict(official=False, hyp_chunk=H), {}),
        ("fast (default)", fast, {}),
    ]
    if size["chunk"]:
        v.append((f"fast, hyp_chunk={size['chunk']}", dict(official=False, hyp_chunk=size["chunk"]), {}))
    v.append(("fast, tiled attention", dict(official=False, attention="tiled"), {}))
    v.append(("fast (default), denormals flushed", dict(official=False, flush_denormal=True), {}))
    v.append(("fast, bf16 autocast", dict(official=False, outer_autocast=True), {}))
    v.append(("fast, bf16 (eval.amp=bf16)", dict(official=False, precision="bf16"), {}))
    if malloc and not cuda:  # like with like: both paths under the same allocator
        for alloc, env in ALLOCATORS.items():
            v += [
                (f"official-style, {alloc}", official, env),
                (f"fast (default), {alloc}", fast, env),
            ]
    return v


def _train_variants(cuda: bool, malloc: bool) -> list[tuple[str, dict, dict]]:
    official, fast = dict(official=True), dict(official=False)
    v = [
        ("official-style", official, {}),
        ("fast", fast, {}),
        ("fast, bf16 autocast", dict(official=False, precision="bf16"), {}),
        ("fast, denormals flushed", dict(official=False, flush_denormal=True), {}),
    ]
    if malloc and not cuda:
        for alloc, env in ALLOCATORS.items():
            v += [(f"official-style, {alloc}", official, env), (f"fast, {alloc}", fast, env)]
    return v


def _base_name(name: str, env: dict) -> str:
    "The official-style row a row is compared with: same task, same allocator setting."
    alloc = next((a for a, e in ALLOCATORS.items() if e == env), None)
    return "official-style" + (f", {alloc}" if alloc else "")


def run(
    size_name: str = "tiny",
    device: str = "cpu",
    threads: int | None = None,
    out_dir: Path | None = None,
    malloc: bool = False,
    h36m: Path | None = None,
    write: bool = True,
    verbose: bool = True,
) -> dict:
    "Run every measurement of `size_name`; returns the result dict (and writes the .csv/.md unless `write=False`)."
    import numpy as np
    from finepose.config import load_config
    from finepose.cost import denoiser_flops, nominal_peak_tflops, sampling_flops
    from finepose.model import call_plan, cpu_rows_per_call

    size = SIZES[size_name]
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    threads = threads or int(os.environ.get("OMP_NUM_THREADS", 0)) or os.cpu_count() or 1
    cuda = device.startswith("cuda")
    say = print if verbose else (lambda *a, **k: None)
    tmp = Path(tempfile.mkdtemp(prefix="finepose-bench-"))
    cfg = load_config(size["profile"], size["over"])
    Fr0 = cfg.data.frames
    # every measurement: (task, name, path, env, extra spec)
    jobs = [("sample", n, fp, env, {}) for n, fp, env in _variants(size, cuda, malloc)]
    for Fr in size["rule_frames"]:
        if Fr == Fr0:
            continue
        for n, fp in [
            ("fast, one call per pass", dict(official=False, hyp_chunk=size["hyps"])),
            ("fast (default)", dict(official=False)),
        ]:
            jobs.append(("rule", f"{n} @ {Fr} frames", fp, {}, dict(frames=Fr)))
    for tb in size["train_batches"]:
        jobs += [
            ("train", f"{n} @ {tb} windows", fp, env, dict(train_batch=tb))
            for n, fp, env in _train_variants(cuda, malloc)
        ]
    rows = {
        j[1] if j[0] != "train" else "train: " + j[1]: dict(
            task=j[0], name=j[1], fp=j[2], env=j[3], extra=j[4], rounds=[]
        )
        for j in jobs
    }
    keys = list(rows)
    for rnd in range(size["repeats"]):
        for key in keys if rnd % 2 == 0 else keys[::-1]:
            r = rows[key]
            spec = dict(
                size=size_name,
                device=device,
                threads=threads,
                task="sample" if r["task"] == "rule" else r["task"],
                name=r["name"],
                path=dict(r["fp"]),
                out=str(tmp / f"{keys.index(key)}-{rnd}.npy"),
                **r["extra"],
            )
            say(f"[round {rnd + 1}/{size['repeats']}] {key} ...", flush=True)
            w = _run_worker(spec, r["env"])
            r["rounds"].append(w)
            say(
                f"    {w['seconds']:.3f} s, peak RSS {w['peak_rss_kb'] / 1024:.0f} MiB, "
                f"{w['minor_faults']} minor faults",
                flush=True,
            )
    att = (
        []
        if cuda
        else _run_worker(
            dict(size=size_name, device=device, threads=threads, task="attention", name="attention", path={}, out="")
        )["rows"]
    )
    peak = (
        None
        if cuda
        else _run_worker(
            dict(size=size_name, device=device, threads=threads, task="peak", name="peak", path={}, out="")
        )
    )
    out_rows = []
    for key in keys:
        r = rows[key]
        best = min(r["rounds"], key=lambda w: w["seconds"])
        o = dict(
            task=r["task"],
            name=r["name"],
            env=r["env"],
            fp=r["fp"],
            frames=r["extra"].get("frames", Fr0),
            train_batch=r["extra"].get("train_batch"),
            seconds=best["seconds"],
            round_seconds=[w["seconds"] for w in r["rounds"]],
            peak_rss_kb=max(w["peak_rss_kb"] for w in r["rounds"]),
            rss_after_build_kb=best["rss_after_build_kb"],
            cuda_max_allocated_bytes=best["cuda_max_allocated_bytes"],
            minor_faults=best["minor_faults"],
            major_faults=best["major_faults"],
            cpu_seconds=best["cpu_seconds"],
            out=r["rounds"][0]["spec"]["out"],
            passes=best.get("passes"),
        )
        out_rows.append(o)
    get = lambda task, name, **kw: next(
        o for o in out_rows if o["task"] == task and o["name"] == name and all(o[k] == v for k, v in kw.items())
    )
    # equal outputs: every sampling path against the official-style one, same weights and explicit noise
    ref = np.load(get("sample", "official-style")["out"])
    fp32_fast = np.load(get("sample", "fast (default)")["out"])
    mpjpe_mm = lambda a, b: float(np.linalg.norm(a - b, axis=-1).mean() * 1000)
    for o in out_rows:
        if o["task"] == "sample":
            x = np.load(o["out"])
            o["max_abs_diff"] = float(np.abs(x - ref).max())
            o["rel_diff_vs_fp32_fast"] = float(np.abs(x - fp32_fast).max() / np.abs(fp32_fast).max())
            o["pose_mpjpe_vs_fp32_mm"] = mpjpe_mm(x, fp32_fast)
        elif o["task"] == "rule":
            whole = get("rule", f"fast, one call per pass @ {o['frames']} frames")
            o["max_abs_diff_vs_one_call"] = float(np.abs(np.load(o["out"]) - np.load(whole["out"])).max())
    # derived figures
    B, H, K, Kr = size["windows"], size["hyps"], size["steps"], size["steps_run"]
    for o in out_rows:
        fp = o["fp"]
        bf16 = bool(fp.get("precision") or fp.get("outer_autocast"))
        if o["task"] in ("sample", "rule"):
            per_pass = o["seconds"] / o["passes"]
            o["seconds_per_window"] = per_pass * 2 * K / B  # K steps, 2 passes (flip) per step
            o["windows_per_s"] = 1.0 / o["seconds_per_window"]
            flops = sampling_flops(cfg, o["frames"], B, H, Kr, True, bool(fp.get("official")))["total"]
        else:
            o["windows_per_s"] = o["train_batch"] / o["seconds"]
            fwd = denoiser_flops(cfg, Fr0, o["train_batch"], 1, bool(fp.get("official")))
            # backward ~ 2x the forward of the trained part; CLIP runs without gradient (official quirk)
            flops = 3 * fwd["total"] - 2 * fwd["clip"]
        o["gflop"] = flops / 1e9
        o["achieved_gflops"] = flops / o["seconds"] / 1e9
        if cuda:
            import torch

            prec = "bf16" if bf16 else ("tf32" if torch.backends.cuda.matmul.allow_tf32 else "fp32")
            pk = nominal_peak_tflops(torch.cuda.get_device_name(0), prec)
            o["peak_basis"] = f"nominal {prec} peak {pk} TFLOP/s" if pk else "unknown device: no nominal peak"
            o["fraction_of_peak"] = o["achieved_gflops"] / (pk * 1e3) if pk else None
        else:
            key = "bf16" if bf16 else "fp32"
            o["peak_basis"] = f"measured {key} matmul"
            o["fraction_of_peak"] = o["achieved_gflops"] * 1e9 / peak[key]
    for o in out_rows:  # speed-up against the official-style run of the same task, allocator and round
        if o["task"] == "rule":
            base = get("rule", f"fast, one call per pass @ {o['frames']} frames")
        else:
            base = get(
                o["task"],
                _base_name(o["name"], o["env"]) + (f" @ {o['train_batch']} windows" if o["task"] == "train" else ""),
            )
        o["speedup"] = base["seconds"] / o["seconds"]
        o["round_ratios"] = [b / s for b, s in zip(base["round_seconds"], o["round_seconds"])]
        o["peak_vs_base"] = o["peak_rss_kb"] / base["peak_rss_kb"]
    rule = []
    for Fr in sorted(set([Fr0] + list(size["rule_frames"]))):
        for itemsize, dt in ((4, "float32"), (2, "bfloat16")):
            rpc = cpu_rows_per_call(cfg.model, Fr, itemsize=itemsize)
            rule.append(
                dict(
                    frames=Fr,
                    dtype=dt,
                    rows_per_call=rpc,
                    plan=call_plan(B, H, rpc),
                    qkv_mib_per_row=Fr * 17 * 3 * cfg.model.embed_dim * itemsize / 2**20,
                )
            )
    windows = h36m_test_windows(h36m or ROOT / "data" / "data_3d_h36m.npz", Fr0)
    info = _env_info(device if not cuda else "cuda", threads)
    info["load_avg_1_5_15"] = (
        f"{load_before} before the run, {info['load_avg_1_5_15']} after (the run itself adds about `threads`)"
    )
    info.update(
        size=size_name,
        model=f"{size['profile']} {' '.join(size['over'])}",
        frames=Fr0,
        dtype="float32 (bf16 where marked)",
        windows_per_call=B,
        hyps=H,
        steps=K,
        steps_run=Kr,
        train_batches=" ".join(map(str, size["train_batches"])),
        train_steps=size["train_steps"],
        repeats=size["repeats"],
        h36m_test_windows=windows,
        peak=(
            f"measured 2048^3 matmul: fp32 {peak['fp32'] / 1e9:.1f} GFLOP/s, bf16 {peak['bf16'] / 1e9:.1f} GFLOP/s"
            if peak
            else out_rows[0]["peak_basis"]
        ),
    )
    result = dict(info=info, rows=out_rows, rule=rule, attention=att)
    if size["check"]:
        bad = [
            (o["name"], o["max_abs_diff"])
            for o in out_rows
            if o["task"] == "sample" and not _is_bf16(o) and o["max_abs_diff"] > TOL_FP32
        ]
        bad += [
            (o["name"], o["max_abs_diff_vs_one_call"])
            for o in out_rows
            if o["task"] == "rule" and o["max_abs_diff_vs_one_call"] > TOL_FP32
        ]
        if bad:
            raise AssertionError(f"official-style and fast outputs differ by more than {TOL_FP32}: {bad}")
    say(format_table(result))
    if write:
        _write(result, out_dir or ROOT / "results" / "benchmarks")
    return result


def _is_bf16(o: dict) -> bool:
    return bool(o["fp"].get("precision") or o["fp"].get("outer_autocast"))


def _targets(result: dict) -> list[str]:
    "The project's speed targets for this size and device, each with the achieved figure and met / missed."
    info, rows = result["info"], result["rows"]
    get = lambda task, name: next((r for r in rows if r["task"] == task and r["name"] == name), None)
    ok = lambda c: "met" if c else "MISSED"
    out = []
    fp32 = [r for r in rows if r["task"] == "sample" and not _is_bf16(r)]
    worst = max(r["max_abs_diff"] for r in fp32)
    out.append(
        f"fp32 outputs of every path within {TOL_FP32:g} of official-style: max {worst:.2e} -> {ok(worst <= TOL_FP32)}"
    )
    if info["device"] != "cuda":
        d, b = get("sample", "fast (default)"), get("sample", "fast, bf16 (eval.amp=bf16)")
        rr = lambda r: "/".join(f"{x:.2f}" for x in r["round_ratios"])
        out.append(
            f"CPU sampling, exact default >= 2.3x official-style: {d['speedup']:.2f}x (rounds {rr(d)}) -> "
            f"{ok(d['speedup'] >= 2.3)}"
        )
        out.append(
            f"CPU sampling, bf16 >= 4.0x: {b['speedup']:.2f}x (rounds {rr(b)}; pose MPJPE vs fp32 "
            f"{b['pose_mpjpe_vs_fp32_mm']:.2f} mm) -> {ok(b['speedup'] >= 4.0)}"
        )
        for tb in sorted({r["train_batch"] for r in rows if r["task"] == "train"}):
            f, bt = get("train", f"fast @ {tb} windows"), get("train", f"fast, bf16 autocast @ {tb} windows")
            out.append(
                f"CPU training step, {tb} windows: fp32 {f['speedup']:.2f}x (>= 1.5: {ok(f['speedup'] >= 1.5)}), "
                f"bf16 {bt['speedup']:.2f}x (>= 2.5: {ok(bt['speedup'] >= 2.5)})"
            )
        heavy = [
            f"{r['task']}: {r['name']} ({r['peak_vs_base']:.2f}x)"
            for r in rows
            if r["task"] != "rule" and r["peak_vs_base"] > 1.0
        ]
        out.append(
            "no path above the official-style peak memory (same task and allocator): "
            + ("met" if not heavy else "MISSED: " + "; ".join(heavy))
        )
        return out
    bf = get("sample", "fast, bf16 autocast")
    bft = next((r for r in rows if r["task"] == "train" and r["name"].startswith("fast, bf16 autocast @")), None)
    if bf:
        out.append(f"GPU sampling >= 8x in bf16: {bf['speedup']:.2f}x -> {ok(bf['speedup'] >= 8)}")
        rel = bf["rel_diff_vs_fp32_fast"]
        out.append(f"bf16 within {TOL_BF16_REL:g} relative of fp32: {rel:.2e} -> {ok(rel <= TOL_BF16_REL)}")
    if bft:
        out.append(f"GPU training >= 2x: {bft['speedup']:.2f}x -> {ok(bft['speedup'] >= 2)}")
    n = info["h36m_test_windows"]
    if n and bf:
        minutes = n / bf["windows_per_s"] / 60
        out.append(f"full protocol <= 15 min: {minutes:.1f} min predicted -> {ok(minutes <= 15)}")
    else:
        out.append("full protocol <= 15 min: window count unknown here (see below)")
    return out


def _mem(r: dict) -> str:
    if r["cuda_max_allocated_bytes"]:
        return f"{r['cuda_max_allocated_bytes'] / 2**20:.0f} MiB (CUDA max allocated)"
    return f"{r['peak_rss_kb'] / 1024:.0f} MiB VmHWM ({r['rss_after_build_kb'] / 1024:.0f} after build)"


def format_table(result: dict) -> str:
    info, rows = result["info"], result["rows"]
    K, Kr = info["steps"], info["steps_run"]
    env = lambda r: (" + " + " ".join(f"{k}={v}" for k, v in r["env"].items())) if r["env"] else ""
    head = (
        "| task | path | seconds (best) | per-round ratio vs official-style | speed-up (best) | peak memory "
        "| minor / major faults | CPU s | GFLOP | achieved GFLOP/s | fraction of peak "
        "| max abs diff vs official-style |"
    )
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        if r["task"] == "rule":
            continue
        what = r["name"] + env(r)
        diff = f"{r['max_abs_diff']:.2e}" if "max_abs_diff" in r else "-"
        if _is_bf16(r) and "pose_mpjpe_vs_fp32_mm" in r:
            diff += f" (pose MPJPE vs fp32 {r['pose_mpjpe_vs_fp32_mm']:.2f} mm)"
        frac = (
            f"{r['fraction_of_peak']:.1%} ({r['peak_basis'].split()[1]})"
            if r.get("fraction_of_peak") is not None
            else "-"
        )
        lines.append(
            f"| {r['task']} | {what} | {r['seconds']:.3f} | {' / '.join(f'{x:.2f}' for x in r['round_ratios'])} "
            f"| {r['speedup']:.2f}x | {_mem(r)} | {r['minor_faults']:,} / {r['major_faults']} | "
            f"{r['cpu_seconds']:.1f} | {r['gflop']:.1f} | {r['achieved_gflops']:.1f} | {frac} | {diff} |"
        )
    lines += [
        "",
        "CPU call sizing (15_finepose `cpu_rows_per_call`, `call_plan` for "
        f"{info['windows_per_call']} window(s) x {info['hyps']} hypotheses):",
        "",
        "| frames | dtype | qkv output per row (MiB) | rows per call | (windows, hypotheses) per call |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['frames']} | {r['dtype']} | {r['qkv_mib_per_row']:.1f} | {r['rows_per_call']} | {tuple(r['plan'])} |"
        for r in result["rule"]
    ]
    rule_rows = [r for r in rows if r["task"] == "rule"]
    sized = {r["frames"]: r for r in rows if r["task"] == "sample" and r["name"] == "fast (default)"}
    whole = {r["frames"]: r for r in rows if r["task"] == "sample" and r["name"] == "fast, one call per pass"}
    if sized:
        lines += [
            "",
            "Effect of the rule (fp32; the same kit computation in one call per pass against calls sized by the rule):",
            "",
            "| frames | one call per pass: s / minor faults / peak | sized: s / minor faults / peak "
            "| ratio (rounds) | max abs diff |",
            "|---|---|---|---|---|",
        ]
        pairs = [(Fr, whole[Fr], sized[Fr]) for Fr in sized if Fr in whole]
        for r in rule_rows:
            if r["name"].startswith("fast (default)"):
                w = next(x for x in rule_rows if x["frames"] == r["frames"] and x["name"].startswith("fast, one call"))
                pairs.append((r["frames"], w, r))
        for Fr, w, s_ in sorted(pairs, key=lambda p: p[0]):
            ratios = [a / b for a, b in zip(w["round_seconds"], s_["round_seconds"])]
            lines.append(
                f"| {Fr} | {w['seconds']:.3f} / {w['minor_faults']:,} / {w['peak_rss_kb'] / 1024:.0f} MiB | "
                f"{s_['seconds']:.3f} / {s_['minor_faults']:,} / {s_['peak_rss_kb'] / 1024:.0f} MiB | "
                f"{w['seconds'] / s_['seconds']:.2f}x ({' / '.join(f'{x:.2f}' for x in ratios)}) | "
                + (
                    f"{s_['max_abs_diff_vs_one_call']:.1e}"
                    if "max_abs_diff_vs_one_call" in s_
                    else f"{s_['max_abs_diff']:.1e} (vs official-style)"
                )
                + " |"
            )
    if result["attention"]:
        lines += [
            "",
            "Attention kernels at the model's shapes (one process, alternating, best of 5; the rule's choice in "
            "the last column):",
            "",
            "| shape (N, heads, L, d) | dtype | built-in ms | tiled ms | tiled speed-up | built-in GFLOP/s "
            "| tiled GFLOP/s | max abs diff | rule |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {a['shape']} | {a['dtype']} | {a['builtin_ms']:.2f} | {a['tiled_ms']:.2f} | {a['ratio']:.2f}x | "
            f"{a['builtin_gflops']:.0f} | {a['tiled_gflops']:.0f} | {a['max_abs_diff']:.1e} | {a['rule']} |"
            for a in result["attention"]
        ]
    s_best = max((r for r in rows if r["task"] == "sample" and not _is_bf16(r)), key=lambda r: r["windows_per_s"])
    n = info["h36m_test_windows"]
    lines += ["", "Targets:"] + [f"- {t}" for t in _targets(result)]
    lines.append("")
    lines.append(
        f"Training: AdamW step of the official loss on windows of mixed actions; the best of {info['train_steps']} "
        "timed steps after one warm-up step, faults and CPU seconds of that step."
    )
    lines.append(
        f"Sampling: H = {info['hyps']}, K = {K}, flip; {info['windows_per_call']} window(s) per call. "
        + (
            f"Measured {Kr} of the {K} DDIM steps; the per-window time is the measured time per denoiser "
            f"pass x {2 * K} passes."
            if Kr != K
            else "All steps measured."
        )
        + f" One timed call after a one-step warm-up per process; {info['repeats']} round(s), a fresh process "
        "per path per round, the order reversed every other round; 'seconds' is the best round, the "
        "per-round ratio divides the official-style time of the same round and allocator by the path's."
    )
    if n:
        lines.append(
            f"Human3.6M test protocol (S9, S11, 4 cameras, 243-frame windows, last-window rule): {n} windows "
            f"counted from the 3D file -> predicted {n / s_best['windows_per_s'] / 60:.1f} min with "
            f"'{s_best['name']}' (fp32)."
        )
    return "\n".join(lines)


def _write(result: dict, out_dir: Path):
    from finepose.io import atomic_write_text

    info = result["info"]
    stem = f"{info['device']}-{info['size']}"
    cols = [
        "task",
        "name",
        "frames",
        "train_batch",
        "seconds",
        "round_seconds",
        "round_ratios",
        "windows_per_s",
        "speedup",
        "peak_rss_kb",
        "rss_after_build_kb",
        "cuda_max_allocated_bytes",
        "minor_faults",
        "major_faults",
        "cpu_seconds",
        "max_abs_diff",
        "max_abs_diff_vs_one_call",
        "rel_diff_vs_fp32_fast",
        "pose_mpjpe_vs_fp32_mm",
        "gflop",
        "achieved_gflops",
        "fraction_of_peak",
        "peak_basis",
        "seconds_per_window",
    ]
    meta = [
        "device",
        "size",
        "model",
        "frames",
        "hyps",
        "steps",
        "steps_run",
        "windows_per_call",
        "train_batches",
        "threads",
        "allocator",
        "torch",
        "python",
        "load_avg_1_5_15",
        "peak",
    ]

    def esc(v):
        if isinstance(v, list):
            v = " ".join(f"{x:.4g}" for x in v)
        if v is None:
            return ""
        if isinstance(v, float):
            return f"{v:.6g}"
        v = str(v)
        return '"' + v.replace('"', "'") + '"' if ("," in v or " " in v) else v

    lines = [",".join(cols + ["env"] + meta)]
    for r in result["rows"]:
        env = " ".join(f"{k}={v}" for k, v in r["env"].items())
        lines.append(",".join([esc(r.get(c)) for c in cols] + [esc(env)] + [esc(info.get(m)) for m in meta]))
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / f"{stem}.csv", "\n".join(lines) + "\n")
    md = [
        f"# FinePOSE benchmark: {stem}",
        "",
        "Official-style computation (`finepose.official.to_official`: prompt re-encoded in every backbone call, "
        "eager attention, copies, whole-tensor PTS, every hypothesis in one call, per-sample training noise) "
        "against the kit's paths, same model and weights, measured by `benchmarks/run.py` in one run, each "
        "measurement in a fresh process.",
        "",
        "| setting | value |",
        "|---|---|",
    ]
    md += [f"| {k} | {v} |" for k, v in info.items()]
    md += [
        "",
        format_table(result),
        "",
        "Paths: 'fast (default)' is what `FinePOSE.sample` does with no options (on the CPU: backbone calls sized so "
        "that temporaries stay under glibc's mmap threshold, 15_finepose); 'one call per pass' is the kit's "
        "computation with every hypothesis in one call (`hyp_chunk=H`, the previous default); 'tiled attention' "
        "forces `finepose.mixste.tiled_attention` in float32; 'bf16 autocast' wraps the call in "
        "`torch.autocast('cpu', bfloat16)`; 'bf16 (eval.amp=bf16)' is the kit's bf16 option (a bfloat16 copy of "
        "the backbone). Its effect on the evaluation metrics: bf16-accuracy-smoke.md. 'denormals flushed' is the "
        "default path in a process that called `torch.set_flush_denormal(True)` (x86 flush-to-zero and "
        "denormals-are-zero: results below 1.2e-38 become 0); the kit does not set it.",
        "",
        "Memory: CPU figures are the peak resident set (VmHWM) of the measuring process, interpreter and weights "
        "included; CUDA figures are torch.cuda.max_memory_allocated. Faults and CPU seconds: getrusage over the "
        "timed call. Training: AdamW, the official loss, windows of mixed actions; FLOPs of a training step are "
        "estimated as 3 x forward minus CLIP's backward (CLIP runs without gradient). Fraction of peak: against "
        "the measured fp32 matmul rate for fp32 rows, the bf16 rate for bf16 rows, same threads.",
        "",
        "Allocator rows (with --malloc) run a path under MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ at "
        "1 GiB (freed blocks stay in the heap: fewer faults, a larger resident set) or GLIBC_TUNABLES="
        "glibc.malloc.hugetlb=1 (transparent huge pages for the heap); their ratios are against the official-style "
        "run under the same setting.",
    ]
    atomic_write_text(out_dir / f"{stem}.md", "\n".join(md) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="cpu")
    ap.add_argument("--device", default="auto", help="cpu, cuda or auto (cuda when available)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: OMP_NUM_THREADS or all cores)")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default results/benchmarks)")
    ap.add_argument("--malloc", action="store_true", help="also time the paths under the ALLOCATORS settings")
    ap.add_argument("--h36m", type=Path, default=None, help="real data_3d_h36m.npz to count the test windows")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        print(json.dumps(worker(json.loads(a.worker))))
        return 0
    from finepose.config import get_device

    try:
        device = str(get_device(a.device))
        device = "cuda" if device.startswith("cuda") else device
        run(a.size, device, a.threads, a.out, a.malloc, a.h36m, write=not a.no_write)
    except (RuntimeError, AssertionError, ValueError) as e:
        print(f"benchmarks/run.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
