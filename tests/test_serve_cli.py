"""``portmodel serve`` command-line errors: one line on stderr, exit status 1, no traceback,
and nothing left running."""
from __future__ import annotations

import subprocess
import sys

import pytest

from serve_util import ROOT, SAMPLES, free_port

pytest.importorskip("uvicorn")


def _serve(*args: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "portmodel", "serve", "--port", str(free_port()),
                           "--repo", str(tmp_path / "repo"), *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.mark.parametrize("args, message", [
    (["--model", "iris"], "NAME=PATH"),
    (["--model", "iris=no/such/file.pmml"], "does not exist"),
    (["--model", "bad name=" + str(SAMPLES / "iris_tree.pmml")], "invalid model name"),
    (["--max-body", "lots"], "not a size"),
    (["--workers", "0"], "at least 1"),
])
def test_bad_options_are_one_line(tmp_path, args, message):
    run = _serve(*args, tmp_path=tmp_path)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in run.stderr


def test_a_document_that_does_not_load_names_its_line(tmp_path):
    bad = tmp_path / "bad.pmml"
    # a predicate reading a field no dictionary defines (line 32); an undefined MiningField that
    # nothing reads only warns, as producers write them
    bad.write_text(SAMPLES.joinpath("iris_tree.pmml").read_text().replace(
        '<SimplePredicate field="petal_width"', '<SimplePredicate field="nope"', 1))
    run = _serve("--model", f"iris={bad}", tmp_path=tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "line 32" in run.stderr and "nope" in run.stderr and str(bad) in run.stderr


def test_an_unreachable_database_is_one_line(tmp_path):
    pytest.importorskip("psycopg")
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2"
    run = subprocess.run([sys.executable, "-m", "portmodel", "serve", "--repo", url, "--model",
                          f"iris={SAMPLES / 'iris_tree.pmml'}"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "cannot open the repository" in run.stderr
