"""Untrusted files and bad input, as a user meets them on the command line.

Each test writes its own bad file (data, profile, checkpoint, argument) and asserts what the user sees: a non-zero
exit, one line saying what is wrong and where, no traceback, no file written by a payload, no work done first."""
import os
import pickle
import time
import zipfile

import numpy as np
import pytest
import torch

from conftest import run, tool
from finepose.checkpoint import save_training_checkpoint
from finepose.config import load_config, to_yaml
from finepose.io import atomic_savez
from finepose.model import FinePOSE
from finepose.synthetic import make_synthetic_h36m

pytestmark = pytest.mark.xdist_group("untrusted")


class Payload:
    "Unpickling this runs a shell command that creates `marker`."
    def __init__(self, marker): self.marker = str(marker)
    def __reduce__(self): return (os.system, (f"touch {self.marker}",))


def one_error(r, *needles, code=None):
    "Non-zero exit, no traceback, exactly one error line, which contains every needle."
    assert r.returncode != 0 and (code is None or r.returncode == code), (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout, r.stderr
    errors = [ln for ln in r.stderr.splitlines() if "error:" in ln]
    assert len(errors) == 1, r.stderr
    for n in needles: assert n in errors[0], (n, errors[0])
    return errors[0]


@pytest.fixture(scope="module")
def synthetic():
    return make_synthetic_h36m(seed=0, frames=40, subjects=["S1", "S5", "S9"])


def h36m_folder(root, data, fault=None, payload=None):
    "A VideoPose3D-layout folder with the synthetic data, one `fault(p3, p2)` applied; returns a profile path for it."
    p3 = {s: {a: x.copy() for a, x in acts.items()} for s, acts in data["positions_3d"].items()}
    p2 = {s: {a: [v.copy() for v in vs] for a, vs in acts.items()}
          for s, acts in data["positions_2d"]["detector_noise"].items()}
    if fault: fault(p3, p2)
    if payload is not None: p3["S1"]["Walking 1"] = payload
    atomic_savez(root / "data_3d_h36m.npz", positions_3d=p3)
    atomic_savez(root / "data_2d_h36m_cpn_ft_h36m_dbb.npz", positions_2d=p2, metadata=data["metadata"])
    prof = root / "profile.yaml"
    prof.write_text(f"base: ci\ndata:\n  dataset: h36m\n  root: {root}\n  keypoints: cpn_ft_h36m_dbb\n"
                    f"  subjects_train: [S1, S5]\n  subjects_test: [S9]\ntrain:\n  val_subjects: [S5]\n  epochs: 1\n"
                    f"  checkpoint_dir: {root / 'ck'}\n")
    return prof


# --- data files never run code -------------------------------------------------------------------------------

def test_pickle_payload_in_npz_is_refused_everywhere(tmp_path, synthetic):
    marker = tmp_path / "MARKER"
    prof = h36m_folder(tmp_path, synthetic, payload=Payload(marker))
    for cmd, code in (([tool("finepose"), "data", "check", tmp_path / "data_3d_h36m.npz"], 1),
                      ([tool("finepose"), "train", "--profile", prof, "--no-progress"], 2),
                      ([tool("finepose"), "evaluate", "--profile", prof, "--checkpoint", prof, "--quiet"], 2)):
        one_error(run(cmd), "data_3d_h36m.npz, key 'positions_3d': refused global 'posix.system'", "nothing was run",
                  code=code)
    assert not marker.exists()


def test_plain_pickle_named_npz_is_never_unpickled(tmp_path):
    marker = tmp_path / "MARKER"
    (tmp_path / "data_3d_h36m.npz").write_bytes(pickle.dumps({"positions_3d": Payload(marker)}))
    r = run([tool("finepose"), "data", "check", tmp_path / "data_3d_h36m.npz"])
    one_error(r, "not an .npz (zip) archive; refused without reading it", code=1)
    assert not marker.exists()


# --- train / evaluate refuse what the data check refuses -------------------------------------------------------

@pytest.mark.parametrize("name,fault,needle", [
    ("nan-camera", lambda p3, p2: p2["S1"]["Walking 1"][2].fill(np.nan), "camera 2 (58860488): NaN at frame 0"),
    ("normalised-2d", lambda p3, p2: p2["S5"]["Eating"][0].__itruediv__(1000), "normalised screen coordinates"),
    ("millimetres", lambda p3, p2: p3["S5"]["Posing"].__imul__(1000), "values look like millimetres"),
    ("all-zero", lambda p3, p2: p3["S1"]["Greeting"].fill(0), "collapsed pose at frame 0"),
    ("2d-only-action", lambda p3, p2: p2["S1"].__setitem__("Dancing", p2["S1"]["Eating"]),
     "action 'Dancing': action of the 2D file missing from the 3D file"),
])
def test_train_and_data_check_refuse_the_same(tmp_path, synthetic, name, fault, needle):
    prof = h36m_folder(tmp_path, synthetic, fault)
    check = one_error(run([tool("finepose"), "data", "check", tmp_path]), needle, code=1)
    train = one_error(run([tool("finepose"), "train", "--profile", prof, "--no-progress"]), needle, code=2)
    assert check.split("error: ", 1)[1] in train, (check, train)      # the same message
    assert not (tmp_path / "ck" / "last.pt").exists()                  # nothing trained


def test_malformed_metadata(tmp_path, synthetic):
    h36m_folder(tmp_path, synthetic)
    with np.load(tmp_path / "data_2d_h36m_cpn_ft_h36m_dbb.npz", allow_pickle=True) as z:   # our own, trusted file
        p2 = z["positions_2d"].item()
    atomic_savez(tmp_path / "data_2d_h36m_cpn_ft_h36m_dbb.npz", positions_2d=p2,
                 metadata=dict(num_joints=17, keypoints_symmetry=5))
    one_error(run([tool("finepose"), "data", "check", tmp_path]), "keypoints_symmetry must be two equally long lists",
              code=1)


# --- configuration ----------------------------------------------------------------------------------------------

def test_billion_laughs_profile_is_refused_at_once(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("base: ci\na: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi")))
    t0 = time.perf_counter()
    r = run([tool("finepose"), "config", "show", "--profile", bomb], timeout=60)
    assert time.perf_counter() - t0 < 20
    one_error(r, "bomb.yaml: line 3: YAML alias '*a' is not allowed", code=2)


def test_huge_value_gives_a_bounded_message(tmp_path):
    p = tmp_path / "long.yaml"
    p.write_text("base: ci\neval:\n  num_proposals: '" + "x" * 200_000 + "'\n")
    line = one_error(run([tool("finepose"), "config", "show", "--profile", p]), "eval.num_proposals: expected int",
                     code=2)
    assert len(line) < 400, len(line)


# --- kit checkpoints ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kit_ckpt(tmp_path_factory):
    cfg = load_config("ci")
    torch.manual_seed(0)
    sd = FinePOSE(cfg).state_dict()
    d = tmp_path_factory.mktemp("ck")
    return cfg, sd, d


def evaluate(ck, *extra):
    return run([tool("finepose"), "evaluate", "--profile", "ci", "--checkpoint", ck, "--quiet", *extra])


@pytest.mark.parametrize("name,change,needle", [
    ("noconfig", lambda d: d.pop("config"), "field 'config' is missing"),
    ("badyaml", lambda d: d.update(config="a: [1"), "field 'config': stored configuration: not valid YAML"),
    ("nan", lambda d: d["model"]["pose_estimator.head.1.bias"].fill_(float("nan")),
     "tensor 'pose_estimator.head.1.bias' holds 3 non-finite value(s)"),
])
def test_bad_kit_checkpoint_for_evaluation(kit_ckpt, name, change, needle):
    cfg, sd, d = kit_ckpt
    ck = dict(model={k: v.clone() for k, v in sd.items()}, config=to_yaml(cfg), epoch=1)
    change(ck)
    save_training_checkpoint(ck, d / f"{name}.pt")
    one_error(evaluate(d / f"{name}.pt"), needle, code=2)


def test_flipped_bit_is_refused_for_evaluation_and_resume(kit_ckpt, tmp_path):
    cfg, sd, d = kit_ckpt
    save_training_checkpoint(dict(model=sd, config=to_yaml(cfg), epoch=1), tmp_path / "good.pt")
    with zipfile.ZipFile(tmp_path / "good.pt") as z, zipfile.ZipFile(tmp_path / "last.pt", "w") as w:
        for n in z.namelist():
            b = z.read(n)
            if n.endswith("data/0"): b = b[:10] + bytes([b[10] ^ 4]) + b[11:]
            w.writestr(n, b)
    one_error(evaluate(tmp_path / "last.pt"), "last.pt: content hash mismatch", code=2)
    r = run([tool("finepose"), "train", "--profile", "ci", "--resume", tmp_path / "last.pt", "--no-progress",
             f"train.checkpoint_dir={tmp_path / 'ck'}"])
    one_error(r, "content hash mismatch", code=2)


def test_unsafe_pickle_in_checkpoint_names_the_global(tmp_path):
    marker = tmp_path / "MARKER"
    torch.save({"format": "finepose-train/2", "model": {}, "x": Payload(marker)}, tmp_path / "evil.pt")
    line = one_error(evaluate(tmp_path / "evil.pt"), "'posix.system', which no checkpoint needs",
                     "nothing in it was run", code=2)
    assert "weights_only" not in line
    assert not marker.exists()


# --- refuse before work -----------------------------------------------------------------------------------------

def test_paths_and_numbers_are_refused_before_any_work(kit_ckpt, tmp_path):
    cfg, sd, d = kit_ckpt
    save_training_checkpoint(dict(model=sd, config=to_yaml(cfg), epoch=1), tmp_path / "ok.pt")
    (tmp_path / "file.txt").write_text("x")
    one_error(evaluate(tmp_path / "ok.pt", "--out", tmp_path / "file.txt"), "--out", "exists and is not a folder",
              code=2)
    one_error(run([tool("finepose"), "train", "--profile", "ci", "--no-progress",
                   f"train.checkpoint_dir={tmp_path / 'file.txt'}"]), "train.checkpoint_dir", "is not a folder", code=2)
    one_error(run([tool("finepose"), "train", "--profile", "ci", "--max-steps", "0"]), "--max-steps", "must be >= 1")
    for flag in ("--steps", "--hyps", "--batch"):
        one_error(run([tool("finepose"), "cost", "--profile", "ci", flag, "0"]), flag, "must be >= 1", code=2)
    one_error(run([tool("finepose"), "config", "show", "--profile", "ci", "data.frames=0"]), "data.frames must be >= 1")
    assert not (tmp_path / "file.txt" / "last.pt").exists()


def test_legitimate_files_still_load(tmp_path, synthetic):
    """The embedded data in the VideoPose3D layout passes the same checks (the converters, the fixture and official
    checkpoints are covered by the chapter tests and `finepose verify-fixture`)."""
    h36m_folder(tmp_path, synthetic)
    r = run([tool("finepose"), "data", "check", tmp_path])
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
