"""environment.yml must describe the same environment as settings.ini (conda cannot be solved here, so we compare)."""
import configparser
import re
import shlex

import yaml

from conftest import ROOT

# conda name -> pip name, where they differ
CONDA_TO_PIP = {"pytorch": "torch", "py-opencv": "opencv-python"}


def _norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _settings():
    cp = configparser.ConfigParser(delimiters=["="])
    cp.read(ROOT / "settings.ini")
    return cp["DEFAULT"]


def _requirements():
    out = {}
    for req in shlex.split(_settings()["requirements"]):
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)", req)
        assert m, f"settings.ini requirement '{req}' is not pinned with =="
        out[_norm(m[1])] = m[2]
    return out


def _environment():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip, python = {}, {}, None
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for req in dep.get("pip", []):
                if req.startswith("-e"):
                    continue
                name, _, ver = req.partition("==")
                pip[_norm(name)] = ver
            continue
        name, _, ver = dep.partition("=")
        if name == "python":
            python = ver
        elif name != "pip":
            conda[_norm(CONDA_TO_PIP.get(name, name))] = ver
    return conda, pip, python


def test_every_requirement_is_in_environment_yml_with_the_same_pin():
    req = _requirements()
    conda, pip, _ = _environment()
    both = set(conda) & set(pip)
    assert not both, f"listed both in conda and pip sections: {sorted(both)}"
    env = {**conda, **pip}
    missing = sorted(set(req) - set(env))
    extra = sorted(set(env) - set(req))
    wrong = {k: (req[k], env[k]) for k in set(req) & set(env) if req[k] != env[k]}
    assert not missing, f"in settings.ini but not environment.yml: {missing}"
    assert not extra, f"in environment.yml but not settings.ini: {extra}"
    assert not wrong, f"pins differ (settings.ini, environment.yml): {wrong}"


def test_python_version_matches_min_python():
    _, _, python = _environment()
    assert python == _settings()["min_python"], (python, _settings()["min_python"])


def test_torch_is_pinned_for_the_cpu_wheel():
    assert _requirements()["torch"] == "2.13.0"
