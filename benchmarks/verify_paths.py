"""`finepose verify-fixture` on every path benchmarks/run.py lists as exact.

    .venv/bin/python benchmarks/verify_paths.py

Paths: the kit's default (on the CPU, backbone calls sized by `finepose.model.cpu_rows_per_call`), the same with
one row per call forced (`CPU_TEMP_BYTES` = 1 byte), the tiled attention kernel forced everywhere
(`finepose.mixste.use_attention('tiled')`), and the official computation. Exit status 1 if any check fails.
Note: the golden file's batch mixes two actions, so under the official tiling quirk the sampler keeps it in one
call whatever the sizing says (exactness first); the sizing itself is checked on one-prompt batches in 15_finepose
and by the benchmark's equal-output assertion.
"""
from __future__ import annotations

import contextlib
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@contextlib.contextmanager
def _rows_per_call(limit: int):
    import finepose.model as fm
    old, fm.CPU_TEMP_BYTES = fm.CPU_TEMP_BYTES, limit
    try:
        yield
    finally:
        fm.CPU_TEMP_BYTES = old


def main() -> int:
    from finepose.fixture import default_fixture_dir, verify_fixture
    from finepose.mixste import use_attention
    paths = {"kit default (CPU call sizing)": (contextlib.nullcontext, False),
             "kit, one row per call": (lambda: _rows_per_call(1), False),
             "kit, tiled attention forced": (lambda: use_attention("tiled"), False),
             "official computation": (contextlib.nullcontext, True)}
    bad = 0
    for name, (ctx, official) in paths.items():
        with ctx(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = verify_fixture(default_fixture_dir(), official=official)
        ok = sum(r.ok for r in rows)
        worst = max((r.max_abs_err for r in rows if r.max_abs_err == r.max_abs_err), default=0.0)
        print(f"{name}: {ok}/{len(rows)} checks within tolerance (largest difference {worst:.2e})")
        bad += ok != len(rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
