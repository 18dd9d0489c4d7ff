"""Speed of the FinePOSE kit: the official-style computation against the kit's fast path, measured in one run.

    .venv/bin/python benchmarks/run.py --size tiny               # seconds; asserts equal outputs (used by the tests)
    .venv/bin/python benchmarks/run.py --size cpu                # 243 frames, depth 2, width 512: the CPU record
    .venv/bin/python benchmarks/run.py --size full --device cuda # 243 frames, depth 8, width 512: the GPU record

Both computations run on the same seeded weights: the kit's (with its sampling options) and the official one
(`finepose.official.to_official`). Every measurement runs in its own fresh
Python process (same thread count, same allocator environment), so each reports its own peak memory:
CPU: the peak resident set `VmHWM` of /proc/self/status (the whole process: interpreter, torch, weights and
activations), with the resident set after building the model (`VmRSS`) beside it; CUDA:
`torch.cuda.max_memory_allocated`. Timings are wall-clock `time.perf_counter`, with `torch.cuda.synchronize`
around them on CUDA only. Results go to results/benchmarks/<device>-<size>.csv and .md.
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
#   actually run (per-window time is scaled to `steps` per denoiser pass); train_batch: windows per training step.
SIZES = {
    "tiny": dict(profile="ci", over=["model.depth=2"], windows=2, hyps=4, steps=2, steps_run=2, train_batch=2,
                 train_steps=3, repeats=1, chunk=2, check=True),
    "cpu": dict(profile="paper-h36m-cpn", over=["model.depth=2"], windows=1, hyps=20, steps=10, steps_run=1,
                train_batch=2, train_steps=3, repeats=2, chunk=5, check=False),
    "full": dict(profile="paper-h36m-cpn", over=["model.depth=8"], windows=4, hyps=20, steps=10, steps_run=10,
                 train_batch=4, train_steps=5, repeats=3, chunk=None, check=False),
}
TOL_FP32 = 1e-5            # max |official-style - fast| in float32 (metres)
TOL_BF16_REL = 1e-2        # max |bf16 - fp32| / max |fp32| on a GPU
MALLOC_KEYS = ("MALLOC_ARENA_MAX", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_",
               "LD_PRELOAD", "PYTORCH_CUDA_ALLOC_CONF")
GLIBC_TUNED = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


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
def _build(size: dict, device, path: dict, is_train: bool):
    "The benchmark model: seeded weights, a live prompt path (PTS output layer not zero), on `device`."
    import warnings

    import torch
    from finepose.config import load_config
    from finepose.model import FinePOSE
    from finepose.official import to_official
    cfg = load_config(size["profile"], size["over"] + [f"eval.num_proposals={size['hyps']}",
                                                       f"eval.sampling_timesteps={size['steps']}"])
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                      # random CLIP weights: fine for timing
        model = FinePOSE(cfg, is_train=is_train)
    if path["official"]:
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


def worker(spec: dict) -> dict:
    "One measurement in this process: spec = size, device, path (official, hyp_chunk, autocast), task, out path."
    import warnings

    import numpy as np
    import torch
    from finepose.fpp import pretext_ids, word_ids
    warnings.filterwarnings("ignore", message=".*RANDOM weights.*")      # random CLIP weights: fine for timing
    size, dev = SIZES[spec["size"]], torch.device(spec["device"])
    torch.set_num_threads(spec["threads"])
    fp = spec["path"]
    amp = dict(hyp_chunk=fp.get("hyp_chunk"), autocast=fp.get("autocast"))
    cuda = dev.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    res = dict(spec=spec)
    if spec["task"] == "peak":                                   # the CPU reference: a large fp32 matmul
        from finepose.cost import measure_matmul_flops
        return dict(spec=spec, flops=measure_matmul_flops(dev, size=1024, repeats=10))
    if spec["task"] == "sample":
        cfg, model = _build(size, dev, fp, is_train=False)
        model.eval()
        B, H, K = size["windows"], size["hyps"], size["steps_run"]
        x2d, _, g = _inputs(cfg, B, dev)
        text, pretext = word_ids(["Walking"] * B).to(dev), pretext_ids(batch=B).to(dev)
        noise = [torch.randn(B, H, cfg.data.frames, 17, 3, generator=g).to(dev) for _ in range(K)]
        res["rss_after_build_kb"] = _proc_status_kb("VmRSS")
        # warm-up: one step of one hypothesis (kernels, allocator); not timed
        model.sample(x2d, text, pretext, noise=[noise[0][:, :1]], num_proposals=1, sampling_timesteps=1, **amp)
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        times = []
        for _ in range(size["repeats"]):
            sync()
            t0 = time.perf_counter()
            out = model.sample(x2d, text, pretext, noise=noise, num_proposals=H, sampling_timesteps=K, **amp)
            sync()
            times.append(time.perf_counter() - t0)
        res["run_seconds"] = times
        res["seconds"] = min(times)                              # best of the repeats (robust to a busy machine)
        res["passes"] = 2 * K
        np.save(spec["out"], out[:, -1].float().cpu().numpy())
    else:
        cfg, model = _build(size, dev, fp, is_train=True)
        model.train()
        B = size["train_batch"]
        x2d, y0, _ = _inputs(cfg, B, dev)
        acts = ["Walking", "Eating", "Phoning", "SittingDown"]
        text, pretext = word_ids([acts[i % 4] for i in range(B)]).to(dev), pretext_ids(batch=B).to(dev)
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=6e-5, weight_decay=0.1)
        gen = torch.Generator(device=dev).manual_seed(3)
        res["rss_after_build_kb"] = _proc_status_kb("VmRSS")

        prec = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp["autocast"])

        def step():
            with torch.autocast(dev.type, dtype=prec, enabled=prec is not None):
                loss, _ = model.loss(x2d, y0, text, pretext, generator=gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss

        step()                                                     # warm-up (optimizer state, allocator)
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        times = []
        for _ in range(size["train_steps"]):
            sync()
            t0 = time.perf_counter()
            step()
            sync()
            times.append(time.perf_counter() - t0)
        res["step_seconds"] = times
        res["seconds"] = min(times)                              # best step (robust to a busy machine)
    res["peak_rss_kb"] = _proc_status_kb("VmHWM")
    res["cuda_max_allocated_bytes"] = int(torch.cuda.max_memory_allocated()) if cuda else None
    return res


# ------------------------------------------------------------------------------------------------- orchestra --
def _run_worker(spec: dict, env_extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update(env_extra or {})
    env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(spec["threads"])
    r = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)],
                       capture_output=True, text=True, env=env, cwd=ROOT)
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
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                   if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = dict(device=device, python=platform.python_version(), torch=torch.__version__, numpy=numpy.__version__,
                libc=" ".join(platform.libc_ver()), threads=threads, cpu=cpu, cores=os.cpu_count(),
                load_avg_1_5_15=" ".join(f"{x:.2f}" for x in os.getloadavg()),
                allocator=", ".join(f"{k}={os.environ[k]}" for k in MALLOC_KEYS if k in os.environ) or
                "glibc malloc, default settings (no MALLOC_* / LD_PRELOAD)")
    if device.startswith("cuda"):
        info.update(gpu=torch.cuda.get_device_name(0), cuda=torch.version.cuda,
                    tf32_matmul=torch.backends.cuda.matmul.allow_tf32)
    return info


def run(size_name: str = "tiny", device: str = "cpu", threads: int | None = None, out_dir: Path | None = None,
        malloc: bool = False, h36m: Path | None = None, write: bool = True, verbose: bool = True) -> dict:
    "Run every measurement of `size_name`; returns the result dict (and writes the .csv/.md unless `write=False`)."
    import numpy as np
    from finepose.config import load_config
    from finepose.cost import denoiser_flops, nominal_peak_tflops, sampling_flops
    size = SIZES[size_name]
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    threads = threads or int(os.environ.get("OMP_NUM_THREADS", 0)) or os.cpu_count() or 1
    cuda = device.startswith("cuda")
    say = print if verbose else (lambda *a, **k: None)
    official, fast = dict(official=True), dict(official=False)
    variants = [("official-style", official, {}), ("fast", fast, {})]
    if size["chunk"]:
        variants.append((f"fast, hyp_chunk={size['chunk']}", dict(official=False, hyp_chunk=size["chunk"]), {}))
    if cuda:
        variants.append(("fast, bf16 autocast", dict(official=False, autocast="bf16"), {}))
    if malloc and not cuda:                                      # like with like: both paths under the same allocator
        variants += [("official-style, glibc tuned", official, GLIBC_TUNED), ("fast, glibc tuned", fast, GLIBC_TUNED)]
        if size["chunk"]:
            variants.append((f"fast, hyp_chunk={size['chunk']}, glibc tuned",
                             dict(official=False, hyp_chunk=size["chunk"]), GLIBC_TUNED))
    tmp = Path(tempfile.mkdtemp(prefix="finepose-bench-"))
    rows = []
    for task in ("sample", "train"):
        for name, fp, env in variants:
            if task == "train" and "hyp_chunk" in name:
                continue                                         # chunking is a sampling option
            spec = dict(size=size_name, device=device, threads=threads, task=task, name=name,
                        path=dict(fp), out=str(tmp / f"{task}-{len(rows)}.npy"))
            say(f"[{task}] {name} ...", flush=True)
            r = _run_worker(spec, env)
            r.update(task=task, name=name, env=env, fp=fp)
            rows.append(r)
            say(f"    {r['seconds']:.3f} s, peak RSS {r['peak_rss_kb'] / 1024:.0f} MiB", flush=True)
    # equal outputs: every sampling variant against the official-style one, same weights and explicit noise
    s_rows = [r for r in rows if r["task"] == "sample"]
    ref = np.load(s_rows[0]["spec"]["out"])
    fp32_fast = next(np.load(r["spec"]["out"]) for r in s_rows if r["name"] == "fast")
    for r in s_rows:
        o = np.load(r["spec"]["out"])
        r["max_abs_diff"] = float(np.abs(o - ref).max())
        r["rel_diff_vs_fp32_fast"] = float(np.abs(o - fp32_fast).max() / np.abs(fp32_fast).max())
    # derived figures
    cfg = load_config(size["profile"], size["over"])
    B, H, K, Kr, Fr = size["windows"], size["hyps"], size["steps"], size["steps_run"], cfg.data.frames
    peak_cpu = None if cuda else _run_worker(dict(size=size_name, device=device, threads=threads, task="peak",
                                                  name="peak", path={}, out=""))["flops"]
    for r in rows:
        fp = r["fp"]
        if r["task"] == "sample":
            per_pass = r["seconds"] / r["passes"]
            r["seconds_per_window"] = per_pass * 2 * K / B          # K steps, 2 passes (flip) per step
            r["windows_per_s"] = 1.0 / r["seconds_per_window"]
            flops = sampling_flops(cfg, Fr, B, H, Kr, True, fp["official"])["total"]
        else:
            r["windows_per_s"] = size["train_batch"] / r["seconds"]
            fwd = denoiser_flops(cfg, Fr, size["train_batch"], 1, fp["official"])
            # backward ~ 2x the forward of the trained part; CLIP runs without gradient (official quirk)
            flops = 3 * fwd["total"] - 2 * fwd["clip"]
        r["gflop"] = flops / 1e9
        r["achieved_gflops"] = flops / r["seconds"] / 1e9
        if cuda:
            import torch
            prec = "bf16" if fp.get("autocast") else ("tf32" if torch.backends.cuda.matmul.allow_tf32 else "fp32")
            pk = nominal_peak_tflops(torch.cuda.get_device_name(0), prec)
            r["peak_basis"] = f"nominal {prec} peak {pk} TFLOP/s" if pk else "unknown device: no nominal peak"
            r["fraction_of_peak"] = r["achieved_gflops"] / (pk * 1e3) if pk else None
        else:
            r["peak_basis"] = f"measured 1024^3 fp32 matmul: {peak_cpu / 1e9:.1f} GFLOP/s"
            r["fraction_of_peak"] = r["achieved_gflops"] * 1e9 / peak_cpu
    for r in rows:                     # speed-up against the official-style run of the same task and allocator setting
        base = next(b for b in rows if b["task"] == r["task"] and b["name"].startswith("official-style")
                    and b["env"] == r["env"])
        r["speedup"] = r["windows_per_s"] / base["windows_per_s"]
    windows = h36m_test_windows(h36m or ROOT / "data" / "data_3d_h36m.npz", Fr)
    info = _env_info(device if not cuda else "cuda", threads)
    info["load_avg_1_5_15"] = (f"{load_before} before the run, {info['load_avg_1_5_15']} after "
                               "(the run itself adds about `threads`)")
    info.update(size=size_name, model=f"{size['profile']} {' '.join(size['over'])}", frames=Fr,
                dtype="float32 (bf16 where marked)", windows_per_call=B, hyps=H, steps=K, steps_run=Kr,
                train_batch=size["train_batch"], train_steps=size["train_steps"], repeats=size["repeats"],
                h36m_test_windows=windows, peak=rows[0]["peak_basis"])
    result = dict(info=info, rows=rows)
    if size["check"]:
        bad = [(r["name"], r["max_abs_diff"]) for r in s_rows
               if "bf16" not in r["name"] and r["max_abs_diff"] > TOL_FP32]
        if bad:
            raise AssertionError(f"official-style and fast outputs differ by more than {TOL_FP32}: {bad}")
    say(format_table(result))
    if write:
        _write(result, out_dir or ROOT / "results" / "benchmarks")
    return result


def _targets(result: dict) -> list[str]:
    "The project's speed targets for this size and device, each with the achieved figure and met / missed."
    info, rows = result["info"], result["rows"]
    get = lambda task, name: next((r for r in rows if r["task"] == task and r["name"] == name), None)
    ok = lambda c: "met" if c else "MISSED"
    out = []
    fp32 = [r for r in rows if r["task"] == "sample" and "bf16" not in r["name"]]
    worst = max(r["max_abs_diff"] for r in fp32)
    out.append(f"fp32 outputs of every path within {TOL_FP32:g} of official-style: max {worst:.2e} -> "
               f"{ok(worst <= TOL_FP32)}")
    if info["device"] != "cuda":
        if info["size"] == "cpu":
            for r in fp32:
                if r["name"] != "official-style" and not r["name"].startswith("official-style"):
                    out.append(f"CPU sampling >= 1.5x official-style (same allocator): {r['speedup']:.2f}x "
                               f"('{r['name']}') -> {ok(r['speedup'] >= 1.5)}")
        return out
    bf, bft = get("sample", "fast, bf16 autocast"), get("train", "fast, bf16 autocast")
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


def format_table(result: dict) -> str:
    info, rows = result["info"], result["rows"]
    K, Kr = info["steps"], info["steps_run"]
    lines = ["| task | path | seconds | windows/s | speed-up vs official-style | peak memory "
             "| max abs diff vs official-style | GFLOP | achieved GFLOP/s | fraction of peak |", "|" + "---|" * 10]
    for r in rows:
        mem = (f"{r['cuda_max_allocated_bytes'] / 2**20:.0f} MiB (CUDA max allocated)" if r["cuda_max_allocated_bytes"]
               else f"{r['peak_rss_kb'] / 1024:.0f} MiB VmHWM ({r['rss_after_build_kb'] / 1024:.0f} after build)")
        diff = f"{r['max_abs_diff']:.2e}" if "max_abs_diff" in r else "-"
        if "bf16" in r["name"] and "rel_diff_vs_fp32_fast" in r:
            diff += f" (rel. to fp32 fast: {r['rel_diff_vs_fp32_fast']:.2e})"
        frac = f"{r['fraction_of_peak']:.1%}" if r.get("fraction_of_peak") is not None else "-"
        env = " + " + " ".join(f"{k}={v}" for k, v in r["env"].items()) if r["env"] else ""
        lines.append(f"| {r['task']} | {r['name']}{env} | {r['seconds']:.3f} | {r['windows_per_s']:.4g} | "
                     f"{r['speedup']:.2f}x | {mem} | {diff} | {r['gflop']:.1f} | {r['achieved_gflops']:.1f} | {frac} |")
    s_best = max((r for r in rows if r["task"] == "sample"), key=lambda r: r["windows_per_s"])
    n = info["h36m_test_windows"]
    lines += ["", "Targets:"] + [f"- {t}" for t in _targets(result)]
    lines.append("")
    lines.append(f"Training: AdamW step of the official loss on {info['train_batch']} windows of mixed actions; the "
                 f"best of {info['train_steps']} timed steps after one warm-up step.")
    lines.append(f"Sampling: H = {info['hyps']}, K = {K}, flip; {info['windows_per_call']} window(s) per call. "
                 + (f"Measured {Kr} of the {K} DDIM steps; the per-window time is the measured time per denoiser "
                    f"pass x {2 * K} passes (the fast path's single prompt encoding is thereby counted {K // Kr} "
                    "times: conservative)." if Kr != K else "All steps measured.")
                 + f" Best of {info['repeats']} timed call(s) after a one-step warm-up, each path in its own process.")
    if n:
        lines.append(f"Human3.6M test protocol (S9, S11, 4 cameras, 243-frame windows, last-window rule): {n} windows "
                     f"counted from the 3D file -> predicted {n / s_best['windows_per_s'] / 60:.1f} min with "
                     f"'{s_best['name']}'.")
    else:
        lines.append("Human3.6M test protocol: the real 3D file (data/data_3d_h36m.npz) is not present here, so the "
                     "window count is not known to this run; predicted time = N_windows x "
                     f"{1 / s_best['windows_per_s']:.3g} s per window ('{s_best['name']}'), with N_windows = "
                     "sum over S9/S11 sequences and 4 cameras of ceil(T / 243).")
    return "\n".join(lines)


def _write(result: dict, out_dir: Path):
    from finepose.io import atomic_write_text
    info = result["info"]
    stem = f"{info['device']}-{info['size']}"
    cols = ["task", "name", "seconds", "windows_per_s", "speedup", "peak_rss_kb", "rss_after_build_kb",
            "cuda_max_allocated_bytes", "max_abs_diff", "rel_diff_vs_fp32_fast", "gflop", "achieved_gflops",
            "fraction_of_peak", "peak_basis", "seconds_per_window"]
    meta = ["device", "size", "model", "frames", "hyps", "steps", "steps_run", "windows_per_call", "train_batch",
            "threads", "allocator", "torch", "python", "load_avg_1_5_15"]
    esc = lambda v: '"' + str(v).replace('"', "'") + '"' if isinstance(v, str) and ("," in v or " " in v) else (
        "" if v is None else (f"{v:.6g}" if isinstance(v, float) else str(v)))
    lines = [",".join(cols + ["env"] + meta)]
    for r in result["rows"]:
        env = " ".join(f"{k}={v}" for k, v in r["env"].items())
        lines.append(",".join([esc(r.get(c)) for c in cols] + [esc(env)] + [esc(info.get(m)) for m in meta]))
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / f"{stem}.csv", "\n".join(lines) + "\n")
    md = [f"# FinePOSE benchmark: {stem}", "",
          "Official-style computation (`finepose.official.to_official`: prompt re-encoded in every backbone call, "
          "eager attention, copies, whole-tensor PTS, per-sample training noise) against the kit's fast path, "
          "same model and weights, measured by `benchmarks/run.py` in one run, each measurement in a fresh "
          "process.", "",
          "| setting | value |", "|---|---|"]
    md += [f"| {k} | {v} |" for k, v in info.items()]
    md += ["", format_table(result), "",
           "Memory: CPU figures are the peak resident set (VmHWM) of the measuring process, interpreter and weights "
           "included; CUDA figures are torch.cuda.max_memory_allocated. Training: AdamW, the official loss, "
           "windows of mixed actions; FLOPs of a training step are estimated as 3 x forward minus CLIP's backward "
           "(CLIP runs without gradient). CPU peak: the measured fp32 matmul rate on the same threads.", "",
           "'glibc tuned' rows (with --malloc) run both paths with MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ "
           "at 1 GiB: large freed blocks stay in the heap instead of being returned to the system, which saves the "
           "page faults of re-allocating them at the price of a larger resident set (compare the memory column). "
           "Their speed-up is against the official-style run under the same setting."]
    atomic_write_text(out_dir / f"{stem}.md", "\n".join(md) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="cpu")
    ap.add_argument("--device", default="auto", help="cpu, cuda or auto (cuda when available)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: OMP_NUM_THREADS or all cores)")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default results/benchmarks)")
    ap.add_argument("--malloc", action="store_true", help="also time the fast path with tuned glibc malloc settings")
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
