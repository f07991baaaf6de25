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


@pytest.mark.parametrize("jobs", [1, 2])
def test_ragged_row_is_one_rejected_row(doc, tmp_path, jobs):
    frame = make_frame(30)
    text = frame.to_csv(index=False).splitlines()
    text.insert(11, "1,2")                                   # data row 11 has two fields
    inp = tmp_path / "in.csv"
    inp.write_text("\n".join(text) + "\n")
    out = tmp_path / "out.csv"
    s = score_file(str(doc), str(inp), str(out), keep=["id"], on_error="record", chunk_rows=7,
                   jobs=jobs)
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


# ------------------------------------------------------------------ 17. documents by suffix and content

PFA_DOC = '{"input": "double", "output": "double", "action": [{"+": ["input", 1]}]}'


def test_verify_and_validate_a_pfa_document(tmp_path):
    good = tmp_path / "plus.pfa"
    good.write_text(PFA_DOC)
    r = cli("verify", str(good))
    assert r.returncode == 0 and "no records" in r.stdout and "Traceback" not in r.stderr
    assert cli("verify", str(good), "--strict").returncode == 1
    r = cli("validate", str(good))
    assert r.returncode == 0 and "valid" in r.stderr and "XML" not in r.stdout + r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text(PFA_DOC.replace('"input", 1', '"input", "nope"'))
    r = cli("validate", str(bad))
    assert r.returncode == 1 and "nope" in r.stdout and "XML" not in r.stdout + r.stderr


def test_verify_without_records_says_so_and_strict_fails(tmp_path):
    doc = tmp_path / "m.pmml"
    doc.write_text(DOC)
    r = cli("verify", str(doc))
    assert r.returncode == 0 and "no records" in r.stdout
    r = cli("verify", str(doc), "--strict")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "no verification" in r.stderr


def test_empty_pmml_file_and_swapped_arguments_name_the_file(tmp_path, data):
    _, inp = data
    empty = tmp_path / "empty.pmml"
    empty.write_bytes(b"")
    for args in (("score", str(empty), str(inp), "-o", str(tmp_path / "o.csv")),
                 ("validate", str(empty)), ("inspect", str(empty))):
        r = cli(*args)
        assert r.returncode == 1 and "empty.pmml" in r.stderr and "empty" in r.stderr
        assert "JSON" not in r.stderr and "NoneType" not in r.stderr
    with pytest.raises(portmodel.DocumentError, match="empty.pmml.*empty"):
        portmodel.load(empty)
    doc = tmp_path / "m.pmml"
    doc.write_text(DOC)
    r = cli("score", str(inp), str(doc), "-o", str(tmp_path / "o.csv"))
    _one_line_error(r, "in.csv", "data file")
    with pytest.raises(portmodel.DocumentError, match="in.csv.*data file"):
        portmodel.load(inp)
    notes = tmp_path / "notes.txt.model"
    notes.write_text("just some words\n")
    with pytest.raises(portmodel.DocumentError, match="neither a PMML"):
        portmodel.load(notes)


def test_yaml_text_is_a_document_not_a_path():
    pytest.importorskip("yaml")
    model = portmodel.load("input: double\noutput: double\naction:\n  - {+: [input, 1]}\n")
    assert model.action(41.0) == 42.0
    with pytest.raises(FileNotFoundError):
        portmodel.load("no-such-model.pmml")


# ------------------------------------------------------------------ 18. one row numbering

def test_row_numbers_agree_in_fail_message_error_column_and_summary(doc, tmp_path):
    inp = tmp_path / "in.csv"
    inp.write_text("x1,x2,color\n1,2,red\n3,4,purple\n5,6,blue\n")   # data row 2 is rejected
    r = cli("score", str(doc), str(inp), "-o", str(tmp_path / "a.csv"))
    _one_line_error(r, "row 2,")
    r = cli("score", str(doc), str(inp), "-o", str(tmp_path / "b.csv"), "--on-error", "record")
    assert r.returncode == 0 and "rejected: row 2," in r.stderr
    assert pd.read_csv(tmp_path / "b.csv")["error"][1].startswith("row 2,")
    # the Python API counts positions from 0, like iloc
    with pytest.raises(portmodel.InvalidValueError) as info:
        portmodel.load(DOC).predict(pd.read_csv(inp))
    assert info.value.row == 1


def test_spark_reasons_name_no_batch_position():
    from portmodel.spark import reason_without_row
    e = portmodel.InvalidValueError("invalid value 'purple'", field="color", row=17)
    assert reason_without_row(e) == "field 'color': invalid value 'purple'"


# ------------------------------------------------------------------ 19. usage errors, pipes

@pytest.mark.parametrize("args, word", [(["--chunk-rows", "-5"], "--chunk-rows"),
                                        (["--chunk-rows", "x"], "--chunk-rows"),
                                        (["--jobs", "-1"], "--jobs"),
                                        (["--delimiter", "ab"], "--delimiter")])
def test_usage_errors_exit_2(doc, data, tmp_path, args, word):
    _, inp = data
    r = cli("score", str(doc), str(inp), "-o", str(tmp_path / "o.csv"), *args)
    assert r.returncode == 2 and word in r.stderr and "chunk_rows" not in r.stderr
    assert not (tmp_path / "o.csv").exists()


def test_broken_pipe_ends_quietly(doc, tmp_path):
    inp = tmp_path / "big.csv"
    make_frame(200_000, seed=6).to_csv(inp, index=False)
    r = subprocess.run(f"{sys.executable} -m portmodel score {doc} {inp} -o - --jobs 1 "
                       f"--chunk-rows 5000 | head -3; exit ${{PIPESTATUS[0]}}",
                       shell=True, executable="/bin/bash", capture_output=True, text=True,
                       timeout=120)
    assert r.stdout.count("\n") == 3
    assert r.returncode == 0 and r.stderr == "", r.stderr


# ------------------------------------------------------------------ 20. compression by suffix

@pytest.mark.parametrize("suffix, magic", [(".gz", b"\x1f\x8b"), (".bz2", b"BZh"),
                                           (".zst", b"\x28\xb5\x2f\xfd")])
def test_output_is_compressed_by_suffix(doc, data, tmp_path, suffix, magic):
    frame, inp = data
    out = tmp_path / f"out.csv{suffix}"
    score_file(str(doc), str(inp), str(out), keep=["id"])
    assert out.read_bytes()[: len(magic)] == magic

    def plain(path) -> bytes:         # decompressed by the suffix, as pyarrow reads it
        with pa.input_stream(str(path), compression="detect") as fh:
            return fh.read()
    got = pd.read_csv(pd.io.common.BytesIO(plain(out)))
    assert list(got["id"]) == list(frame["id"])
    np.testing.assert_allclose(got["p_yes"], expected_p(frame), rtol=1e-12)
    jl = tmp_path / f"out.jsonl{suffix}"
    score_file(str(doc), str(inp), str(jl))
    assert jl.read_bytes()[: len(magic)] == magic
    assert len(plain(jl).decode().splitlines()) == len(frame)
    with pytest.raises(BatchError, match="Parquet"):
        score_file(str(doc), str(inp), str(tmp_path / f"out.parquet{suffix}"))


# ------------------------------------------------------------------ 21. empty and partial inputs

def test_header_only_input_writes_the_header(doc, tmp_path):
    inp = tmp_path / "in.csv"
    inp.write_text("id,x1,x2,color\n")
    out = tmp_path / "out.csv"
    s = score_file(str(doc), str(inp), str(out), keep=["id"], on_error="record")
    assert s.rows_read == 0
    assert out.read_text().strip() == '"id","y","p_yes","error"'
    pq_out = tmp_path / "out.parquet"
    score_file(str(doc), str(inp), str(pq_out))
    assert pq.read_table(pq_out).column_names == ["y", "p_yes"]


def test_predict_empty_list_and_records_lacking_a_key():
    model = portmodel.load(DOC)
    assert model.predict([]) == []
    rows = [{"x1": 1.0, "x2": 2.0, "color": "red"}, {"x1": 1.0, "color": "red"}]
    with pytest.raises(portmodel.MissingFieldError) as info:
        model.predict(rows)
    assert (info.value.field, info.value.row) == ("x2", 1)
    with pytest.raises(portmodel.MissingFieldError):
        model.predict(rows[1])
    marked = model.predict(rows, errors="mark")
    assert marked[0]["error"] is None and marked[0]["p_yes"] is not None
    assert marked[1]["p_yes"] is None and "x2" in marked[1]["error"]


# ------------------------------------------------------------------ 22. what a user sees

def test_help_texts():
    top = cli("--help").stdout
    assert "PMML and PFA" in top
    score = cli("score", "--help").stdout
    assert "(.pmml)" not in score and "PFA" in score and "--delimiter" in score
    for command in ("inspect", "verify"):
        text = cli(command, "--help").stdout
        assert len(text.split("\n\n")) >= 3, text           # usage, description, arguments


def test_readme_synopsis_lists_every_score_option():
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md")).read()
    synopsis = readme[readme.index("portmodel score MODEL"):readme.index("```", readme.index(
        "portmodel score MODEL"))]
    from portmodel.cli import build_parser
    parser = build_parser()
    score = parser._subparsers._group_actions[0].choices["score"]
    for action in score._actions:
        for opt in action.option_strings:
            if opt.startswith("--") and opt != "--help":
                assert opt in synopsis, opt


def test_progress_bar_has_a_total_for_a_file_of_known_size(doc, tmp_path, capfd):
    inp = tmp_path / "in.csv"
    make_frame(200_000, seed=7).to_csv(inp, index=False)
    score_file(str(doc), str(inp), str(tmp_path / "o.csv"), chunk_rows=20_000, jobs=1,
               progress=True)
    err = capfd.readouterr().err
    assert "%|" in err and "200k/200k rows" in err


def test_repr_and_dir():
    model = portmodel.load(DOC)
    text = repr(model)
    assert "RegressionModel" in text and "x1" in text and "p_yes" in text
    names = dir(portmodel)
    assert "load" in names and not {"os", "gc", "Any", "annotations"} & set(names)


def test_license_file_is_apache_2():
    root = os.path.join(os.path.dirname(__file__), "..")
    text = open(os.path.join(root, "LICENSE")).read()
    assert "Apache License" in text and "Version 2.0" in text and "END OF TERMS" in text
    assert 'license = { text = "Apache-2.0" }' in open(os.path.join(root, "pyproject.toml")).read()
