"""The speed benchmark's correctness side: the official-style and the fast computation give equal outputs, the
analytic FLOP count agrees with PyTorch's counter, and the golden file passes under the official computation."""
import importlib.util
import warnings

import pytest

from conftest import ROOT


def _bench():
    spec = importlib.util.spec_from_file_location("finepose_benchmarks_run", ROOT / "benchmarks" / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_tiny_benchmark_outputs_equal(tmp_path):
    bench = _bench()
    res = bench.run("tiny", "cpu", threads=1, out_dir=tmp_path, verbose=False)   # raises if the paths differ
    samples = [r for r in res["rows"] if r["task"] == "sample"]
    assert {r["name"] for r in samples} >= {"official-style", "fast (default)", "fast, one call per pass",
                                            "fast, tiled attention", "fast, bf16 (eval.amp=bf16)"}
    exact = [r for r in samples if not bench._is_bf16(r)]
    assert all(r["max_abs_diff"] <= bench.TOL_FP32 for r in exact), [(r["name"], r["max_abs_diff"]) for r in exact]
    assert {r["task"] for r in res["rows"]} == {"sample", "train"}
    assert all(r["seconds"] > 0 and r["peak_rss_kb"] > 0 and r["minor_faults"] >= 0 for r in res["rows"])
    assert all(len(r["round_ratios"]) == bench.SIZES["tiny"]["repeats"] for r in res["rows"])
    # the attention rows: the rule picks the tiled kernel for bf16 at 243 frames, the built-in one in float32
    assert {(a["dtype"], a["rule"]) for a in res["attention"]} == {("float32", "sdpa"), ("bfloat16", "tiled")}
    assert all(a["max_abs_diff"] <= bench.TOL_FP32 for a in res["attention"] if a["dtype"] == "float32")
    csv, md = tmp_path / "cpu-tiny.csv", tmp_path / "cpu-tiny.md"
    assert csv.exists() and md.exists()
    assert len(csv.read_text().splitlines()) == 1 + len(res["rows"])
    assert "allocator" in md.read_text()


@pytest.mark.parametrize("official", [True, False])
@pytest.mark.parametrize("batch,hyps", [(1, 1), (2, 20)])
def test_flop_formula_matches_counter(official, batch, hyps):
    from finepose.config import load_config
    from finepose.cost import counted_pass_flops, denoiser_flops
    cfg = load_config("paper-h36m-cpn")
    analytic = denoiser_flops(cfg, batch=batch, hyps=hyps, official=official)["total"]
    counted = counted_pass_flops(cfg, batch=batch, hyps=hyps, official=official)
    assert abs(analytic - counted) <= 0.01 * counted, (analytic, counted)
    if official and (batch, hyps) == (1, 1):
        assert abs(counted / 1e9 - 312.2) < 0.05, counted      # the reference count of one full-size pass


def test_fixture_exact_under_the_official_computation():
    from finepose.fixture import default_fixture_dir, format_rows, verify_fixture
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = verify_fixture(default_fixture_dir(), official=True)
    assert len(rows) == 53 and all(r.ok for r in rows), format_rows(rows)
