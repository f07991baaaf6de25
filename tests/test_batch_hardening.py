"""Batch scoring against hostile or unlucky surroundings: special output paths, file modes,
killed runs, malformed rows, odd encodings. Each test reproduces a defect first seen in use."""
from __future__ import annotations

import gzip
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import portmodel
from portmodel.batch import BatchError, score_file
from portmodel.output import pid_alive

from test_batch import DOC, expected_p, make_frame


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    path = tmp_path_factory.mktemp("hardening") / "model.pmml"
    path.write_text(DOC)
    return path


@pytest.fixture
def data(tmp_path):
    frame = make_frame(40)
    path = tmp_path / "in.csv"
    frame.to_csv(path, index=False)
    return frame, path


def cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "portmodel", *args], capture_output=True,
                          text=True, timeout=120, **kw)


def partials(folder) -> list[str]:
    return [p for p in os.listdir(folder) if p.endswith(".partial")]


# ------------------------------------------------------------------ 1. special output paths

def test_output_onto_a_fifo_writes_through(doc, data, tmp_path):
    frame, inp = data
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    score_file(str(doc), str(inp), str(fifo), output_format="csv", keep=["id"])
    reader.join(timeout=30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)          # still the FIFO, not a regular file
    out = pd.read_csv(pd.io.common.BytesIO(got[0]))
    assert list(out["id"]) == list(frame["id"])
    np.testing.assert_allclose(out["p_yes"], expected_p(frame), rtol=1e-12)
    assert not partials(tmp_path)


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a device node needs root")
def test_output_onto_a_character_device_writes_through(doc, data, tmp_path):
    _, inp = data
    null = tmp_path / "null"                     # a private /dev/null: same device numbers
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    score_file(str(doc), str(inp), str(null), output_format="csv")
    st = os.lstat(null)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert not partials(tmp_path)


def test_output_through_a_symlink_replaces_the_target(doc, data, tmp_path):
    frame, inp = data
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "scores.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    score_file(str(doc), str(inp), str(link), keep=["id"])
    assert link.is_symlink() and os.readlink(link) == str(target)
    out = pd.read_csv(target)
    assert list(out["id"]) == list(frame["id"])
    assert not partials(tmp_path) and not partials(tmp_path / "real")


@pytest.mark.parametrize("spelling", ["same", "dotdot", "symlink", "hardlink"])
def test_output_equal_to_the_input_is_refused(doc, data, tmp_path, spelling):
    _, inp = data
    before = inp.read_bytes()
    if spelling == "same":
        out = str(inp)
    elif spelling == "dotdot":
        (tmp_path / "sub").mkdir()
        out = str(tmp_path / "sub" / ".." / "in.csv")
    elif spelling == "symlink":
        out = str(tmp_path / "alias.csv")
        os.symlink(inp, out)
    else:
        out = str(tmp_path / "hard.csv")
        os.link(inp, out)
    with pytest.raises(BatchError, match="is the input file"):
        score_file(str(doc), str(inp), out)
    assert inp.read_bytes() == before
    r = cli("score", str(doc), str(inp), "-o", out)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "input file" in r.stderr
    assert inp.read_bytes() == before


# ------------------------------------------------------------------ 2. kept column absent

def test_kept_jsonl_column_absent_from_a_later_chunk_is_missing(doc, tmp_path):
    rows = [{"id": 1, "x1": 0.5, "x2": 1.0, "color": "red"},
            {"id": 2, "x1": 1.5, "x2": 0.0, "color": "blue"},
            {"x1": 2.5, "x2": 1.0, "color": "green"},
            {"x1": 3.5, "x2": 2.0, "color": "red"}]
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for suffix in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"out.{suffix}"
        score_file(str(doc), str(inp), str(out), chunk_rows=2, jobs=1, keep=["id"])
        if suffix == "csv":
            got = pd.read_csv(out)
        elif suffix == "jsonl":
            got = pd.read_json(out, lines=True)
        else:
            got = pq.read_table(out).to_pandas()
        assert got["id"].iloc[:2].tolist() == [1, 2]
        assert got["id"].iloc[2:].isna().all()          # never another column's values
        np.testing.assert_allclose(got["p_yes"], expected_p(pd.DataFrame(rows)), rtol=1e-12)


def test_kept_jsonl_column_changing_type_between_chunks(doc, tmp_path):
    rows = [{"id": 1, "x1": 0.5, "x2": 1.0, "color": "red"},
            {"id": "b-2", "x1": 1.5, "x2": 0.0, "color": "blue"}]
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.csv"
    score_file(str(doc), str(inp), str(out), chunk_rows=1, jobs=1, keep=["id"])
    assert pd.read_csv(out, dtype=str)["id"].tolist() == ["1", "b-2"]
    r = cli("score", str(doc), str(inp), "-o", str(tmp_path / "out.parquet"), "--chunk-rows",
            "1", "--jobs", "1", "--keep", "id")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "'id'" in r.stderr, r.stderr


# ------------------------------------------------------------------ 3. duplicate columns

def test_duplicate_csv_column_names_are_refused(doc, tmp_path):
    inp = tmp_path / "in.csv"
    inp.write_text("id,x1,x2,color,x1\n1,0.5,1.0,red,9\n")
    with pytest.raises(BatchError, match=r"two columns named 'x1' \(columns 2 and 5\)"):
        score_file(str(doc), str(inp), str(tmp_path / "out.csv"), keep_all=True)
    r = cli("score", str(doc), str(inp), "-o", str(tmp_path / "out.csv"))
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "'x1'" in r.stderr
    assert not (tmp_path / "out.csv").exists()


# ------------------------------------------------------------------ 4. output file mode

@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_new_output_gets_the_umask_mode(doc, data, tmp_path, umask):
    _, inp = data
    old = os.umask(umask)
    try:
        score_file(str(doc), str(inp), str(tmp_path / "out.csv"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "out.csv").st_mode) == 0o666 & ~umask


def test_replaced_output_keeps_its_mode(doc, data, tmp_path):
    _, inp = data
    out = tmp_path / "out.csv"
    out.write_text("old\n")
    os.chmod(out, 0o640)
    score_file(str(doc), str(inp), str(out))
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640
    assert out.read_text() != "old\n"


# ------------------------------------------------------------------ 5. killed runs

def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in found:
                found.add(c)
                todo.append(c)
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigkill_leaves_no_workers_and_the_next_run_removes_the_partial(doc, tmp_path):
    inp = tmp_path / "big.csv"
    make_frame(400_000, seed=3).to_csv(inp, index=False)
    out = tmp_path / "out.csv"
    proc = subprocess.Popen([sys.executable, "-m", "portmodel", "score", str(doc), str(inp),
                             "-o", str(out), "--jobs", "2", "--chunk-rows", "2000", "--quiet"],
                            stderr=subprocess.PIPE)
    deadline = time.time() + 90
    workers: set[int] = set()
    while time.time() < deadline:
        workers = _descendants(proc.pid)
        if partials(tmp_path) and len(workers) >= 3:    # forkserver + 2 workers (+ tracker)
            break
        time.sleep(0.1)
    time.sleep(1.0)                                     # the workers are scoring by now
    workers = _descendants(proc.pid)
    assert proc.poll() is None, "the run finished before it could be killed"
    assert len(workers) >= 3 and partials(tmp_path)
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.time() + 15
    while time.time() < deadline and any(pid_alive(p) for p in workers):
        time.sleep(0.1)
    assert not [p for p in workers if pid_alive(p)], "worker processes outlived the run"
    stale = partials(tmp_path)
    assert stale and not out.exists()
    # a partial file of a run still going (this test's own process) must be left alone
    alive = tmp_path / f".other.csv.pm{os.getpid()}-0123abcd.partial"
    alive.write_text("busy")
    small = tmp_path / "small.csv"
    make_frame(10).to_csv(small, index=False)
    score_file(str(doc), str(small), str(tmp_path / "out.csv"))
    assert partials(tmp_path) == [alive.name]


def test_stale_partial_of_a_dead_run_is_removed(doc, data, tmp_path):
    _, inp = data
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".out.csv.pm{dead.pid}-89abcdef.partial"
    stale.write_text("half a file")
    unrelated = tmp_path / ".notes.partial"              # not ours: never touched
    unrelated.write_text("keep")
    score_file(str(doc), str(inp), str(tmp_path / "other.csv"))
    assert not stale.exists() and unrelated.exists()


# ------------------------------------------------------------------ 14. numbers parse alike

NOT_NUMBERS = ["1_000", "\u0661\u0662", "\uff11\uff12", "0x10", "1e", "true"]


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_numbers_are_ascii_decimal_on_every_path(doc, tmp_path, text):
    model = portmodel.load(DOC)
    row = {"x1": text, "x2": 1.0, "color": "red"}
    with pytest.raises(portmodel.ValueParseError, match="x1"):
        model.predict(row)                                   # one record
    for n in (3, 200):                                       # small and large column paths
        frame = make_frame(n)
        frame["x1"] = frame["x1"].astype(object)
        frame.loc[1, "x1"] = text
        got = model.predict(frame, errors="mark")
        assert got["error"].notna().tolist() == [i == 1 for i in range(n)]
    inp = tmp_path / "in.csv"
    inp.write_text(f"x1,x2,color\n0.5,1,red\n{text},1,red\n", encoding="utf-8")
    s = score_file(model, str(inp), str(tmp_path / "o.csv"), on_error="record")
    assert (s.rows_scored, s.rows_rejected) == (1, 1)


@pytest.mark.parametrize("others", [[], [1.5], ["text"], [True]])
def test_jsonl_true_for_a_number_is_rejected_whatever_the_chunk_holds(doc, tmp_path, others):
    rows = [{"x1": v, "x2": 1.0, "color": "red"} for v in others]
    rows.append({"x1": True, "x2": 1.0, "color": "red"})
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    score_file(str(doc), str(inp), str(out), on_error="record")
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert got[-1]["error"] and "x1" in got[-1]["error"]
    with pytest.raises(portmodel.ValueParseError):
        portmodel.load(DOC).predict(rows[-1:])


def test_numbers_with_blanks_signs_and_exponents_still_parse(doc, tmp_path):
    model = portmodel.load(DOC)
    for text, value in ((" 1.5 ", 1.5), ("+2", 2.0), (".5", 0.5), ("1e-1", 0.1), ("-3.", -3.0)):
        got = model.predict({"x1": text, "x2": 0.0, "color": "blue"})
        want = expected_p(pd.DataFrame({"x1": [value], "x2": [0.0], "color": ["blue"]}))[0]
        assert got["p_yes"] == pytest.approx(want, rel=1e-12)


# ------------------------------------------------------------------ 16. one line, never a traceback

def _one_line_error(r: subprocess.CompletedProcess, *words: str) -> None:
    assert r.returncode == 1, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("portmodel: error:"), r.stderr
    assert "Traceback" not in r.stderr
    for w in words:
        assert w in r.stderr, r.stderr


def test_ragged_row_is_one_rejected_row(doc, tmp_path):
    frame = make_frame(30)
    text = frame.to_csv(index=False).splitlines()
    text.insert(11, "1,2")                                   # data row 11 has two fields
    inp = tmp_path / "in.csv"
    inp.write_text("\n".join(text) + "\n")
    out = tmp_path / "out.csv"
    s = score_file(str(doc), str(inp), str(out), keep=["id"], on_error="record", chunk_rows=7)
    assert (s.rows_read, s.rows_scored, s.rows_rejected) == (31, 30, 1)
    got = pd.read_csv(out)
    assert len(got) == 31 and got["error"].notna().sum() == 1
    assert got.loc[10, "error"].startswith("row 11:") and "2 field(s)" in got.loc[10, "error"]
    assert np.isnan(got.loc[10, "p_yes"]) and np.isnan(got.loc[10, "id"])
    ok = got.drop(index=10).reset_index(drop=True)
    assert list(ok["id"]) == list(frame["id"])
    np.testing.assert_allclose(ok["p_yes"], expected_p(frame), rtol=1e-12)
    s = score_file(str(doc), str(inp), str(out), keep=["id"], on_error="skip", chunk_rows=7)
    assert (s.rows_read, s.rows_rejected) == (31, 1) and len(pd.read_csv(out)) == 30
    r = cli("score", str(doc), str(inp), "-o", str(tmp_path / "f.csv"))
    _one_line_error(r, "row 11")


def _unreadable_inputs(tmp_path):
    frame = make_frame(30_000, seed=4)
    lines = frame.to_csv(index=False).encode().split(b"\n")
    cases = {}
    bad = lines[:25_000] + [b"1,0.5,0.5,re\xff\xfed"] + lines[25_000:]
    cases["utf8"] = (bad, "UTF-8")
    long_cell = lines[:25_000] + [b'1,0.5,0.5,"' + b"x" * (3 << 20) + b'"'] + lines[25_000:]
    cases["long"] = (long_cell, "longer than")
    out = {}
    for name, (body, word) in cases.items():
        p = tmp_path / f"{name}.csv"
        p.write_bytes(b"\n".join(body))
        out[name] = (p, word)
    whole = gzip.compress(b"\n".join(lines))
    p = tmp_path / "cut.csv.gz"
    p.write_bytes(whole[: len(whole) // 2])
    out["truncated"] = (p, "ends in the middle")
    return out


@pytest.mark.parametrize("case", ["utf8", "long", "truncated"])
def test_unreadable_input_after_the_first_chunk_is_one_line(doc, tmp_path, case):
    path, word = _unreadable_inputs(tmp_path)[case]
    out = tmp_path / "out.csv"
    r = cli("score", str(doc), str(path), "-o", str(out), "--chunk-rows", "1000", "--jobs", "1")
    _one_line_error(r, word, path.name)
    assert not out.exists() and not partials(tmp_path)


def test_jsonl_lone_surrogate_is_one_rejected_row(doc, tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"id": 1, "x1": 1, "x2": 2, "color": "red"}\n'
                   '{"id": 2, "x1": 1, "x2": 2, "color": "\\ud800"}\n'
                   '{"id": 3, "x1": 1, "x2": 2, "color": "blue"}\n')
    out = tmp_path / "out.csv"
    r = cli("score", str(doc), str(inp), "-o", str(out), "--on-error", "record", "--keep", "id")
    assert r.returncode == 0, r.stderr
    got = pd.read_csv(out)
    assert got["error"].notna().tolist() == [False, True, False]
    assert "row 2" in got.loc[1, "error"] and "surrogate" in got.loc[1, "error"]
    r = cli("score", str(doc), str(inp), "-o", str(tmp_path / "f.csv"))
    _one_line_error(r, "row 2")


def test_predict_mark_with_a_lone_surrogate_over_64_rows():
    model = portmodel.load(DOC)
    for n in (10, 100):
        frame = make_frame(n)
        frame["color"] = frame["color"].astype(object)
        frame.loc[3, "color"] = "\ud800"
        got = model.predict(frame, errors="mark")
        assert got["error"].notna().tolist() == [i == 3 for i in range(n)]
        assert "color" in got.loc[3, "error"]
        ok = frame.drop(index=3)
        np.testing.assert_allclose(got["p_yes"].drop(index=3), expected_p(ok), rtol=1e-12)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_dead_worker_is_one_line(doc, tmp_path):
    inp = tmp_path / "big.csv"
    make_frame(400_000, seed=5).to_csv(inp, index=False)
    out = tmp_path / "out.csv"
    proc = subprocess.Popen([sys.executable, "-m", "portmodel", "score", str(doc), str(inp),
                             "-o", str(out), "--jobs", "2", "--chunk-rows", "2000"],
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 90
    victims: list[int] = []
    while time.time() < deadline and not victims:
        kids = _descendants(proc.pid)
        # a worker: a grandchild (the forkserver's child) that has started scoring
        victims = [p for p in kids if p not in _children(proc.pid)]
        time.sleep(0.1)
    assert victims and proc.poll() is None
    time.sleep(0.5)
    os.kill(victims[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert err.count("\n") == 1 and "worker process died" in err and "Traceback" not in err
    assert not out.exists() and not partials(tmp_path)


def _children(pid: int) -> set[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return {int(p) for p in fh.read().split()}
    except OSError:
        return set()


@pytest.mark.parametrize("spelling", ["\\t", "tab", "\t"])
def test_tab_delimiter(doc, tmp_path, spelling):
    frame = make_frame(20)
    inp = tmp_path / "in.txt"
    frame.to_csv(inp, index=False, sep="\t")
    out = tmp_path / "out.csv"
    r = cli("score", str(doc), str(inp), "-o", str(out), "--delimiter", spelling, "--keep", "id")
    assert r.returncode == 0, r.stderr
    got = pd.read_csv(out, sep="\t")         # the delimiter given is the output's too
    np.testing.assert_allclose(got["p_yes"], expected_p(frame), rtol=1e-12)


def test_tsv_suffix_reads_and_writes_tabs(doc, tmp_path):
    frame = make_frame(20)
    inp = tmp_path / "in.tsv"
    frame.to_csv(inp, index=False, sep="\t")
    out = tmp_path / "out.tsv"
    assert cli("score", str(doc), str(inp), "-o", str(out), "--keep", "id").returncode == 0
    got = pd.read_csv(out, sep="\t")
    assert list(got.columns) == ["id", "y", "p_yes"]
    np.testing.assert_allclose(got["p_yes"], expected_p(frame), rtol=1e-12)
