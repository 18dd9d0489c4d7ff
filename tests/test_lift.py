"""`finepose lift` as a user runs it: a detector's keypoint file in, 3D poses, a JSON record and an animation out.

The model is a randomly initialised `ci` FinePOSE saved as a kit checkpoint: these tests check the plumbing (files,
shapes, windows, errors), not the accuracy (that is `experiments/in_the_wild.ipynb`)."""
import contextlib
import io
import json

import numpy as np
import pytest
import torch
from torch import nn

from conftest import run, tool
from finepose.action import save_action_classifier, train_action_classifier
from finepose.checkpoint import save_official_checkpoint, save_training_checkpoint
from finepose.cli import main
from finepose.config import load_config, to_yaml
from finepose.evaluate import GENERIC_WORD
from finepose.io import load_npz
from finepose.keypoints import write_alphapose_json
from finepose.lift import lift_sequence
from finepose.model import FinePOSE
from finepose.skeleton import H36M_EXAMPLE_POSE, H36M_JOINTS

W, H = 1000, 1002
F = 9                                                      # the ci profile's window


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    "A random ci checkpoint (kit layout and official layout) and keypoint files made from a moving example pose."
    d = tmp_path_factory.mktemp("lift")
    cfg = load_config("ci")
    torch.manual_seed(0)
    model = FinePOSE(cfg)
    save_training_checkpoint(dict(model=model.state_dict(), config=to_yaml(cfg), epoch=1), d / "tiny.pt")
    save_official_checkpoint(model, d / "best_epoch_20_10.bin", epoch=20, lr=6e-5)

    def clip(T, shift=0.0):
        "(T, 17, 2) pixels: the example pose swaying, drawn 400 px tall near the image centre."
        p = H36M_EXAMPLE_POSE[:, [0, 2]] * np.array([1.0, -1.0])            # x right, y down (the pose is z up)
        t = np.arange(T)[:, None, None]
        return p * 250 + np.array([500.0 + shift, 700.0]) + 8 * np.sin(t / 5.0) * np.array([1.0, 0.3])

    rng = np.random.default_rng(0)
    two = [clip(30), clip(24, 250.0)]
    scores = [rng.uniform(0.6, 1.0, (30, 17)), rng.uniform(0.6, 1.0, (24, 17))]
    scores[0][5:8, H36M_JOINTS.index("l_wrist")] = 0.05                     # a short loss: filled
    write_alphapose_json(d / "two.json", two, scores, idx=[1, 2], image_ids=[range(30), range(6, 30)])
    write_alphapose_json(d / "short.json", clip(4))
    small = clip(20)
    write_alphapose_json(d / "small.json", (small - small.mean((0, 1))) * 0.25 + np.array([150.0, 200.0]))  # far, tiny
    write_alphapose_json(d / "long.json", clip(100))
    (d / "empty.json").write_text("")
    (d / "count.json").write_text(json.dumps([{"image_id": "0.jpg", "keypoints": [500.0] * 48, "idx": 0}]))
    return d


def lift(*argv):
    "Run `finepose lift` in this process: (exit status, stdout, stderr)."
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["lift", *map(str, argv)])
    return code, out.getvalue(), err.getvalue()


def test_cli_end_to_end_writes_npz_json_gif(files, tmp_path):
    "The console script on an AlphaPose file of two people: the longest track, its frames, filled joints, an animation."
    out = tmp_path / "out"
    r = run([tool("finepose"), "lift", files / "two.json", "--checkpoint", files / "tiny.pt", "--out", out,
             "--width", W, "--height", H, "--quiet"], timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    z = load_npz(out / "poses_3d.npz")
    rec = json.loads((out / "poses_3d.json").read_text())
    assert z["poses"].shape == (30, 17, 3) and z["spread"].shape == (30,) and z["filled"].shape == (30, 17)
    assert z["frames"].tolist() == list(range(30)) and z["joints"].tolist() == H36M_JOINTS
    assert np.abs(z["poses"][:, 0]).max() == 0.0                              # root-relative: the pelvis at 0
    assert rec["input"]["person"] == "1" and rec["input"]["people"] == {"1": 30, "2": 24}
    assert rec["frames"] == list(range(30)) and np.allclose(rec["poses"], z["poses"], atol=1e-5)
    assert rec["filled"]["per_joint"]["l_wrist"] == [[5, 8]] and rec["long_gaps"] == []
    assert rec["prompt"] == dict(word=GENERIC_WORD, chosen="generic", how=rec["prompt"]["how"], probability=None,
                                 probabilities=None)
    assert (rec["aggregation"], rec["units"], rec["normalisation"], rec["checkpoint"]) == (
        "P-Agg", "metres", "screen", str(files / "tiny.pt"))
    gif = out / "poses_3d.gif"
    assert gif.is_file() and gif.read_bytes()[:6] in (b"GIF87a", b"GIF89a")
    from PIL import Image
    with Image.open(gif) as im: assert im.n_frames == 30
    assert "wrote" in r.stdout and "lifted person 1" in r.stdout


@pytest.mark.parametrize("name,T", [("short", 4), ("long", 100)])
def test_short_and_long_clips(files, tmp_path, name, T):
    "A clip shorter than one window and one of many windows: one pose per frame, as many windows as the chunking says."
    code, out, err = lift(files / f"{name}.json", "--checkpoint", files / "tiny.pt", "--out", tmp_path,
                          "--width", W, "--height", H, "--no-animation", "--hypotheses", "--quiet")
    assert code == 0, err
    z = load_npz(tmp_path / "poses_3d.npz")
    rec = json.loads((tmp_path / "poses_3d.json").read_text())
    assert z["poses"].shape == (T, 17, 3) and z["hyps"].shape == (2, T, 17, 3) and len(rec["frames"]) == T
    assert rec["sampling"]["windows"] == -(-T // F) and rec["sampling"]["window"] == F
    assert np.allclose(z["hyps"].mean(0), z["poses"], atol=1e-6)
    assert not (tmp_path / "poses_3d.gif").exists()


class FrameEcho(nn.Module):
    "A stand-in with FinePOSE's `sample` whose answer for a frame is a fixed function of that frame's 2D alone."
    @torch.no_grad()
    def sample(self, x2d, text=None, pretext=None, x2d_flip=None, num_proposals=1, sampling_timesteps=1, flip=True,
               generator=None, **kw):
        B, Fr, J, _ = x2d.shape
        p = torch.cat([x2d, (x2d ** 2).sum(-1, keepdim=True)], -1)             # (B, F, J, 3)
        h = torch.arange(num_proposals, dtype=p.dtype).view(1, 1, -1, 1, 1, 1)  # hypotheses h - mean: spread known
        out = p[:, None, None] + (h - (num_proposals - 1) / 2) * 0.01             # (B, 1, H, F, J, 3)
        return out.expand(B, sampling_timesteps, num_proposals, Fr, J, 3)


@pytest.mark.parametrize("T", [1, 4, 9, 10, 23, 100])
def test_windows_are_stitched_frame_by_frame(T):
    "Whatever the length, each frame's pose is the model's answer for that frame (chunking, padding, stitching)."
    cfg = load_config("ci")
    x = np.random.default_rng(T).normal(0, 0.3, (T, 17, 2)).astype(np.float32)
    r = lift_sequence(FrameEcho(), cfg, x, hypotheses=True)
    want = np.concatenate([x, (x ** 2).sum(-1, keepdims=True)], -1)
    want[:, 0] = 0.0
    assert r.poses.shape == (T, 17, 3) and r.hyps.shape == (2, T, 17, 3) and r.meta["windows"] == -(-T // F)
    np.testing.assert_allclose(r.poses, want, atol=1e-6)
    # two hypotheses 1 cm apart around the mean: 5 mm from it at every joint but the root (0 there)
    np.testing.assert_allclose(r.spread, np.full(T, 5.0 * np.sqrt(3) * 16 / 17), rtol=1e-4)


def one_error_line(code, err, needle):
    errors = [ln for ln in err.splitlines() if "error:" in ln]
    assert code == 2, (code, err)
    assert "Traceback" not in err
    assert len(errors) == 1 and errors[0].startswith("finepose lift: error: "), err
    assert needle in errors[0], (needle, errors[0])


@pytest.mark.parametrize("case,needle", [
    ("wrong keypoint count", "48 keypoint numbers; expected a flat list of 51 (COCO-17"),
    ("no image size", "does not say the image size; pass --width and --height"),
    ("only a width", "give both --width and --height"),
    ("empty file", "empty.json: empty file (no JSON)"),
    ("unknown person", "no person '9' in the file; it holds 2: '1' (30 frames), '2' (24 frames)"),
    ("unknown action word", "unknown action word 'Dancing'"),
    ("missing checkpoint", "checkpoint not found"),
    ("not a checkpoint", "not a PyTorch checkpoint"),
    ("missing keypoint file", "nope.json: file not found"),
    ("auto without classifier file", "action classifier not found"),
])
def test_bad_input_is_one_line(files, tmp_path, case, needle):
    "Reader, checkpoint and option errors reach the command line as one line and exit status 2; nothing is written."
    ck, size = ["--checkpoint", files / "tiny.pt"], ["--width", W, "--height", H]
    argv = {"wrong keypoint count": [files / "count.json", *ck, *size],
            "no image size": [files / "two.json", *ck],
            "only a width": [files / "two.json", *ck, "--width", W],
            "empty file": [files / "empty.json", *ck, *size],
            "unknown person": [files / "two.json", *ck, *size, "--person", 9],
            "unknown action word": [files / "two.json", *ck, *size, "--action", "Dancing"],
            "missing checkpoint": [files / "two.json", "--checkpoint", files / "none.pt", *size],
            "not a checkpoint": [files / "two.json", "--checkpoint", files / "two.json", *size],
            "missing keypoint file": [files / "nope.json", *ck, *size],
            "auto without classifier file": [files / "two.json", *ck, *size, "--action", "auto",
                                             "--classifier", files / "none.pt"]}[case]
    code, out, err = lift(*argv, "--out", tmp_path / "o")
    one_error_line(code, err, needle)
    assert not (tmp_path / "o" / "poses_3d.npz").exists()


def test_bad_input_through_the_console_script(files, tmp_path):
    "The same one line from the installed `finepose` command (a fresh process: no traceback escapes)."
    r = run([tool("finepose"), "lift", files / "two.json", "--checkpoint", files / "tiny.pt", "--out", tmp_path,
             "--person", "9", "--width", W, "--height", H])
    one_error_line(r.returncode, r.stderr, "no person '9' in the file")


def test_auto_prompt_and_official_checkpoint(files, tmp_path):
    "--action auto with a classifier file records the predicted word and its probability; an official file lifts too."
    cfg = load_config("ci")
    clf, _ = train_action_classifier(cfg, steps=5, say=lambda *a: None)
    save_action_classifier(clf, tmp_path / "clf.pt")
    code, out, err = lift(files / "two.json", "--checkpoint", files / "best_epoch_20_10.bin", "--out", tmp_path / "o",
                          "--width", W, "--height", H, "--action", "auto", "--classifier", tmp_path / "clf.pt",
                          "--no-animation", "--quiet")
    assert code == 0, err
    p = json.loads((tmp_path / "o" / "poses_3d.json").read_text())["prompt"]
    assert p["chosen"] == "auto" and p["word"] in p["probabilities"]
    assert p["probability"] == max(p["probabilities"].values()) and abs(sum(p["probabilities"].values()) - 1) < 1e-6
    assert f"prompt: {p['word']!r} (auto, probability" in out


def test_coverage_warning_suggests_bbox(files, tmp_path):
    "A person much smaller than the training subjects: a warning naming --normalise bbox; with bbox the warning goes."
    argv = [files / "small.json", "--checkpoint", files / "tiny.pt", "--width", W, "--height", H, "--no-animation",
            "--quiet"]
    code, out, err = lift(*argv, "--out", tmp_path / "screen")
    assert code == 0, err
    warn = [ln for ln in err.splitlines() if "warning:" in ln]
    assert len(warn) == 1 and "outside the training range" in warn[0] and "try --normalise bbox" in warn[0], err
    rec = json.loads((tmp_path / "screen" / "poses_3d.json").read_text())
    assert rec["coverage"]["inside"] is False and "--normalise bbox" in rec["coverage_warning"]
    code, out, err = lift(*argv, "--normalise", "bbox", "--out", tmp_path / "bbox")
    assert code == 0 and "warning:" not in err, err
    rec = json.loads((tmp_path / "bbox" / "poses_3d.json").read_text())
    assert rec["normalisation"] == "bbox" and rec["coverage"]["inside"] is True and rec["coverage_warning"] is None
