"""The console entry point as users call it."""
from finepose import __version__

from conftest import run, tool


def test_version():
    r = run([tool("finepose"), "--version"])
    assert r.returncode == 0 and r.stdout.strip() == f"finepose {__version__}", r.stdout + r.stderr


def test_help_lists_commands():
    r = run([tool("finepose"), "--help"])
    assert r.returncode == 0 and "commands:" in r.stdout and "config" in r.stdout, r.stdout


def test_bad_profile_type_is_one_clear_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("base: ci\neval:\n  num_proposals: many\n")
    r = run([tool("finepose"), "config", "show", "--profile", p])
    assert r.returncode == 2
    assert r.stderr.strip().endswith("eval.num_proposals: expected int, got str 'many'"), r.stderr
    assert "Traceback" not in r.stderr
