"""The action classifier (`finepose.action`) as the rest of the kit uses it: its place in the floor plan, a prompt
that reads the 2D input only, refusal of unsafe or damaged files, accuracy on the ci data, and the committed
results of the prompt study."""
import json
import os

import numpy as np
import pytest
import torch

from conftest import ROOT
from finepose.action import (ACTIONS, accuracy_table, cached_action_classifier, load_action_classifier,
                             predict_action, predict_actions, predicted_prompt, save_action_classifier,
                             train_action_classifier)
from finepose.checkpoint import CheckpointError
from finepose.config import load_config
from finepose.experiments import prompt_id, prompt_of, read_table
from finepose.prepare import Sequence, load_prepared
from finepose.skeleton import H36M_ACTIONS


@pytest.fixture(scope="module")
def ci(tmp_path_factory):
    torch.set_num_threads(1)
    return load_config("ci", ["device=cpu", f"train.checkpoint_dir={tmp_path_factory.mktemp('ck')}"])


def _graph():
    import importlib.util
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "tools" / "import_graph.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.graph()


def test_action_sits_at_the_train_level_of_the_floor_plan():
    "It reads data, windows and checkpoints; nothing above it (train, evaluate, experiments) and nothing of the method."
    uses = {m for m, _, _ in _graph()["action"]}
    assert uses <= {"config", "io", "skeleton", "prepare", "generators", "checkpoint"}, uses
    assert "action" in {m for m, _, _ in _graph()["experiments"]}
    assert ACTIONS is H36M_ACTIONS                                       # the 15 words live in skeleton only


def test_classifier_learns_the_ci_actions_and_the_cache_returns_it(ci):
    model, info = cached_action_classifier(ci, say=lambda *a: None)
    again, info2 = cached_action_classifier(ci, say=lambda *a: None)
    assert (info["trained_now"], info2["trained_now"]) == (True, False)
    assert info["subjects"] == sorted(ci.data.subjects_train)           # training subjects only
    test = load_prepared(ci, "test")
    assert {s.subject for s in test}.isdisjoint(info["subjects"])
    acc = accuracy_table(predict_actions(model, test))
    overall, chance = acc.loc["overall", "accuracy %"], acc.loc["chance (best constant guess)", "accuracy %"]
    assert overall > 4 * chance, acc                                     # ci measured about 77 % against 6.8 %
    s = test[0]
    assert np.array_equal(predict_action(again, s.pos2d)[1], predict_action(model, s.pos2d)[1])


def test_the_predicted_prompt_reads_the_2d_input_only(ci):
    prompt, pid = prompt_of("predicted-seed0", ci)
    assert pid == prompt_id("predicted-seed0", ci) and pid.startswith("predicted-seed0-")
    test = load_prepared(ci, "test")[:40]
    words = [prompt(s) for s in test]
    # the same 2D under meaningless names and without 3D: the same words
    blind = [Sequence("S0", f"Unknown {k}", 0, s.intrinsic, np.zeros_like(s.pos3d), s.pos2d)
             for k, s in enumerate(test)]
    fresh, _ = prompt_of("predicted-seed0", ci)
    assert [fresh(s) for s in blind] == words
    assert set(words) <= set(ACTIONS)
    # another 2D input, another word somewhere: the prompt is not a constant
    assert len(set(words)) > 1


def test_a_classifier_file_that_runs_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"

    class Bomb:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "finepose-action/1", "model": Bomb()}, path)
    with pytest.raises(CheckpointError, match="refused by the safe loader"):
        load_action_classifier(path)
    assert not marker.exists()


def test_a_damaged_classifier_file_names_the_file(ci, tmp_path):
    seqs = [s for s in load_prepared(ci, "train") if s.subject == "S1"][:30]
    model, _ = train_action_classifier(ci, seqs, steps=5, say=lambda *a: None)
    path = save_action_classifier(model, tmp_path / "clf.pt", meta={"note": "test"})
    assert load_action_classifier(path).meta == {"note": "test"}
    raw = bytearray(path.read_bytes())
    ck = torch.load(path, weights_only=True)
    ck["model"]["head.weight"][0, 0] += 1.0                              # one number changed after writing
    torch.save(ck, path)
    with pytest.raises(CheckpointError, match=f"{path}: content hash mismatch"):
        load_action_classifier(path)
    path.write_bytes(bytes(raw[: len(raw) // 2]))                        # a truncated file
    with pytest.raises(CheckpointError, match=str(path)):
        load_action_classifier(path)


def test_predicted_prompt_rejects_bad_2d(ci):
    model, _ = cached_action_classifier(ci, say=lambda *a: None)
    s = load_prepared(ci, "test")[0]
    bad = Sequence(s.subject, s.action, s.camera, s.intrinsic, s.pos3d, np.full_like(s.pos2d, np.nan))
    from finepose.io import DataError
    with pytest.raises(DataError, match=f"subject {s.subject}, camera {s.camera}: .* non-finite"):
        predicted_prompt(model)(bad)


def test_committed_smoke_prompt_study_has_the_predicted_row():
    "results/smoke: the label-dependence table has a predicted-label row with seed spread, labelled as using no GT."
    res = ROOT / "results" / "smoke"
    table = read_table(res / "tables" / "prompts_label_dependence.csv")
    assert list(table.index) == ["true label", "predicted label", "generic", "shuffled"]
    row = table.loc["predicted label"]
    assert "±" in row["MPJPE P-Agg"] and int(row["seeds"]) == 3
    assert row["verdict"] in ("within noise", "exceeds seed spread")
    assert row["prompt information"].startswith("none at test time")
    acc = read_table(res / "tables" / "prompts_action_accuracy.csv")
    assert list(acc.index[:15]) == list(ACTIONS) and "chance (best constant guess)" in acc.index
    head = (res / "tables" / "prompts_action_accuracy.csv").read_text().splitlines()[:4]
    assert any("TRAINING subjects" in line for line in head), head
    rec = json.loads((res / "records" / "prompts.json").read_text())
    assert rec["privileged"]["predicted label"].startswith("none at test time")
    assert "tables/prompts_action_accuracy.csv" in rec["tables"]
