"""Cold start: what a fresh process pays before its first answer (not timed here: the timing is
benchmarks' business). Scoring a small file must not import numba or scipy.special (the tree
kernels wait until a batch pays for loading them; the numpy walks give the same leaves); and
numba's kernel cache must work for an install whose package folder is not writable.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from portmodel import load as portmodel_load
from portmodel import numba_cache

ROOT = Path(__file__).resolve().parent.parent


def test_small_file_without_numba_or_scipy(tmp_path, samples_dir, monkeypatch):
    """portmodel score on the iris forest in a fresh process: no numba, no scipy.special, and
    the same output as with the numba kernels (PORTMODEL_NUMBA_MIN_WORK=0: always)."""
    script = (
        "import sys, json\n"
        "from portmodel.cli import main\n"
        "sys.argv = ['portmodel', 'score', sys.argv[1], sys.argv[2], '-o', sys.argv[3]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps({m: m in sys.modules for m in ('numba', 'scipy.special')}))\n")
    monkeypatch.delenv("PORTMODEL_NUMBA_MIN_WORK", raising=False)
    out = tmp_path / "numpy.csv"
    proc = subprocess.run([sys.executable, "-c", script, str(samples_dir / "iris_forest.pmml"),
                           str(samples_dir / "iris.csv"), str(out)],
                          capture_output=True, text=True, check=True)
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert loaded == {"numba": False, "scipy.special": False}
    kernels = tmp_path / "numba.csv"
    subprocess.run([sys.executable, "-m", "portmodel", "score",
                    str(samples_dir / "iris_forest.pmml"), str(samples_dir / "iris.csv"),
                    "-o", str(kernels)], check=True, capture_output=True,
                   env={**os.environ, "PORTMODEL_NUMBA_MIN_WORK": "0"})
    assert out.read_text() == kernels.read_text()


def test_commands_and_one_record_without_pandas(samples_dir):
    """pandas (0.2 s to import) waits for a DataFrame: building the command line (which lists
    the export command), loading a document and scoring one record in a fresh process do not
    import it, and the record's answer is the one the column plan gives a DataFrame."""
    script = (
        "import sys, json\n"
        "from portmodel.cli import build_parser\n"
        "import portmodel\n"
        "build_parser()\n"
        "m = portmodel.load(sys.argv[1])\n"
        "rec = {'sepal_length': 6.1, 'sepal_width': 2.8, 'petal_length': 4.7, 'petal_width': 1.2}\n"
        "out = m.predict(rec)\n"
        "print(json.dumps(['pandas' in sys.modules, out]))\n")
    proc = subprocess.run([sys.executable, "-c", script, str(samples_dir / "iris_forest.pmml")],
                          capture_output=True, text=True, check=True)
    imported, out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert imported is False
    import pandas as pd
    model = portmodel_load(samples_dir / "iris_forest.pmml")
    frame = model.predict(pd.DataFrame([{"sepal_length": 6.1, "sepal_width": 2.8,
                                         "petal_length": 4.7, "petal_width": 1.2}]))
    assert out == frame.iloc[0].to_dict()


# ---------------------------------------------------------------------- numba's cache folder


def test_cache_dir_choice(tmp_path):
    env = {"HOME": str(tmp_path / "home")}
    assert numba_cache.cache_dir(tmp_path, env) is None                 # writable: in tree
    blocked = tmp_path / "pkg"
    blocked.mkdir()
    (blocked / "__pycache__").write_text("")       # a file: numba cannot cache there
    assert not numba_cache.writable(blocked)
    assert numba_cache.cache_dir(blocked, env, "linux") == \
        tmp_path / "home" / ".cache" / "portmodel" / "numba"
    assert numba_cache.cache_dir(blocked, {**env, "XDG_CACHE_HOME": "/x/c"}, "linux") == \
        Path("/x/c/portmodel/numba")
    assert numba_cache.cache_dir(blocked, env, "darwin") == \
        tmp_path / "home" / "Library" / "Caches" / "portmodel" / "numba"
    assert numba_cache.cache_dir(blocked, {**env, "LOCALAPPDATA": "C:/L"}, "win32") == \
        Path("C:/L/portmodel/numba")
    assert numba_cache.cache_dir(blocked, {**env, "NUMBA_CACHE_DIR": "/n"}) is None


@pytest.mark.slow
def test_installed_package_not_writable(tmp_path, samples_dir):
    """A normal (non-editable) install whose package folders take no cache: the first process
    compiles the kernels into the user cache folder, the second loads them from there."""
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--target", str(site), str(ROOT)], check=True)
    for folder in (site / "portmodel" / "pmml", site / "portmodel" / "pmml" / "models"):
        cache = folder / "__pycache__"
        for f in cache.glob("*.nbi"):
            f.unlink()
        for f in cache.iterdir():
            f.unlink()
        cache.rmdir()
        cache.write_text("")        # (root can write anywhere: a file blocks the folder)
    script = (
        "import sys, json, pandas as pd, portmodel\n"
        "assert portmodel.__file__.startswith(sys.argv[1]), portmodel.__file__\n"
        "m = portmodel.load(sys.argv[2])\n"
        "m.predict(pd.read_csv(sys.argv[3]))\n"
        "from portmodel.pmml.models import _tree_numba as k\n"
        "s = k.graph_forest.stats\n"
        "print(json.dumps([s.cache_hits.total(), s.cache_misses.total()]))\n")
    cache_home = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(XDG_CACHE_HOME=str(cache_home), PYTHONPATH=str(site),
               PORTMODEL_NUMBA_MIN_WORK="0")        # (the kernels score every batch)
    runs = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", script, str(site),
                               str(samples_dir / "iris_forest.pmml"),
                               str(samples_dir / "iris.csv")],
                              capture_output=True, text=True, env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert runs[0] == [0, 1]                        # compiled, and written to the user folder
    assert runs[1] == [1, 0]                        # loaded from it
    assert list((cache_home / "portmodel" / "numba").rglob("*.nbi"))


def test_score_command_leaves_the_environment(tmp_path, samples_dir, monkeypatch):
    """The command's numba floor is its own: the caller's environment is as it was."""
    from portmodel.cli import main
    monkeypatch.delenv("PORTMODEL_NUMBA_MIN_WORK", raising=False)
    try:
        main(["score", str(samples_dir / "iris_forest.pmml"), str(samples_dir / "iris.csv"),
              "-o", str(tmp_path / "x.csv"), "--quiet"])
    except SystemExit as exc:
        assert not exc.code
    assert "PORTMODEL_NUMBA_MIN_WORK" not in os.environ
