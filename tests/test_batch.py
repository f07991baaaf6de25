"""Batch file scoring: formats, order, parallel equality, error policies, atomic output."""
from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import portmodel
from portmodel.batch import BatchError, score_file

DOC = """<?xml version="1.0"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
 <Header/>
 <DataDictionary>
  <DataField name="x1" optype="continuous" dataType="double"/>
  <DataField name="x2" optype="continuous" dataType="double"/>
  <DataField name="color" optype="categorical" dataType="string">
   <Value value="red"/><Value value="green"/><Value value="blue"/>
  </DataField>
  <DataField name="y" optype="categorical" dataType="string"><Value value="yes"/><Value value="no"/></DataField>
 </DataDictionary>
 <RegressionModel functionName="classification" normalizationMethod="logit">
  <MiningSchema>
   <MiningField name="y" usageType="predicted"/>
   <MiningField name="x1"/><MiningField name="x2"/>
   <MiningField name="color" invalidValueTreatment="returnInvalid"/>
  </MiningSchema>
  <Output>
   <OutputField name="p_yes" feature="probability" value="yes" dataType="double" optype="continuous"/>
  </Output>
  <RegressionTable targetCategory="yes" intercept="0.5">
   <NumericPredictor name="x1" coefficient="1.25"/>
   <NumericPredictor name="x2" coefficient="-0.75"/>
   <CategoricalPredictor name="color" value="red" coefficient="0.3"/>
   <CategoricalPredictor name="color" value="green" coefficient="-0.2"/>
   <CategoricalPredictor name="color" value="blue" coefficient="0.0"/>
  </RegressionTable>
  <RegressionTable targetCategory="no" intercept="0"/>
 </RegressionModel>
</PMML>
"""


def expected_p(df: pd.DataFrame) -> np.ndarray:
    """The document's formula, written out independently: logit(0.5 + 1.25 x1 - 0.75 x2 + c)."""
    c = df["color"].map({"red": 0.3, "green": -0.2, "blue": 0.0}).to_numpy(dtype=float)
    z = 0.5 + 1.25 * df["x1"].astype(float) - 0.75 * df["x2"].astype(float) + c
    return 1.0 / (1.0 + np.exp(-z.to_numpy()))


def make_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": np.arange(n), "x1": rng.normal(size=n).round(6),
                         "x2": rng.normal(size=n).round(6),
                         "color": rng.choice(["red", "green", "blue"], size=n)})


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    p = tmp_path_factory.mktemp("batch") / "model.pmml"
    p.write_text(DOC)
    return p


def read_any(path) -> pd.DataFrame:
    s = str(path)
    if s.endswith(".parquet"):
        return pq.read_table(s).to_pandas()
    if s.endswith(".jsonl"):
        return pd.read_json(s, lines=True)
    return pd.read_csv(s)


@pytest.mark.parametrize("src,dst", [("csv", "csv"), ("csv", "parquet"), ("parquet", "jsonl"),
                                     ("jsonl", "csv"), ("csv.gz", "parquet"),
                                     ("csv.zst", "jsonl")])
def test_round_trip(doc, tmp_path, src, dst):
    df = make_frame(2500)
    inp = tmp_path / f"in.{src}"
    if src == "csv":
        df.to_csv(inp, index=False)
    elif src == "csv.gz":
        with gzip.open(inp, "wt") as fh:
            df.to_csv(fh, index=False)
    elif src == "csv.zst":
        with pa.CompressedOutputStream(str(inp), "zstd") as fh:
            fh.write(df.to_csv(index=False).encode())
    elif src == "parquet":
        df.to_parquet(inp)
    else:
        df.to_json(inp, orient="records", lines=True)
    out = tmp_path / f"out.{dst}"
    summary = score_file(str(doc), str(inp), str(out), keep=["id"], chunk_rows=700)
    assert summary.rows_read == summary.rows_scored == len(df)
    got = read_any(out)
    # one row per input row, in order (a kept CSV column is copied as text)
    assert list(got["id"].astype(int)) == list(df["id"])
    np.testing.assert_allclose(got["p_yes"].to_numpy(float), expected_p(df), rtol=1e-12)
    assert list(got["y"]) == ["yes" if p >= 0.5 else "no" for p in expected_p(df)]


@pytest.mark.slow
def test_parallel_equals_serial_on_a_million_rows(doc, tmp_path):
    df = make_frame(1_000_000, seed=1)
    inp = tmp_path / "big.csv"
    df.to_csv(inp, index=False)
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    s1 = score_file(str(doc), str(inp), str(one), keep=["id"], jobs=1, chunk_rows=100_000)
    s2 = score_file(str(doc), str(inp), str(two), keep=["id"], jobs=2, chunk_rows=100_000)
    assert s1.rows_read == s2.rows_read == 1_000_000
    assert one.read_bytes() == two.read_bytes()


def _bad_file(tmp_path):
    df = make_frame(50)
    df = df.astype({"x1": object, "color": object})
    df.loc[7, "color"] = "purple"          # invalid category, returnInvalid
    df.loc[21, "x1"] = "abc"               # unparsable number
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    return df, path


def test_on_error_fail_names_the_row_and_leaves_no_output(doc, tmp_path):
    _, path = _bad_file(tmp_path)
    out = tmp_path / "out.csv"
    with pytest.raises(BatchError, match=r"row 8, field .color."):
        score_file(str(doc), str(path), str(out), chunk_rows=10)
    assert not out.exists()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".partial")]


def test_a_refusal_just_before_commit_leaves_the_old_output(doc, tmp_path):
    """before_commit sees every row written; if it raises (a job cancelled meanwhile), the
    output is dropped and a file already there is kept as it was."""
    src = tmp_path / "in.csv"
    make_frame(250).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    out.write_text("old\n")
    seen = []

    def refuse(summary):
        seen.append(summary.rows_read)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        score_file(str(doc), str(src), str(out), chunk_rows=100, jobs=1, before_commit=refuse)
    assert seen == [250]
    assert out.read_text() == "old\n"
    assert sorted(os.listdir(tmp_path)) == ["in.csv", "out.csv"]
    score_file(str(doc), str(src), str(out), chunk_rows=100, jobs=1, before_commit=seen.append)
    assert len(pd.read_csv(out)) == 250


def test_on_error_skip_drops_and_counts(doc, tmp_path):
    df, path = _bad_file(tmp_path)
    out = tmp_path / "out.csv"
    s = score_file(str(doc), str(path), str(out), keep=["id"], on_error="skip", chunk_rows=10)
    assert (s.rows_read, s.rows_scored, s.rows_rejected) == (50, 48, 2)
    got = pd.read_csv(out)
    assert 7 not in set(got["id"]) and 21 not in set(got["id"]) and len(got) == 48
    good = df.drop(index=[7, 21]).astype({"x1": float})
    np.testing.assert_allclose(got["p_yes"].to_numpy(), expected_p(good), rtol=1e-12)


def test_on_error_record_keeps_rows_with_reason(doc, tmp_path):
    df, path = _bad_file(tmp_path)
    out = tmp_path / "out.csv"
    s = score_file(str(doc), str(path), str(out), keep=["id"], on_error="record", chunk_rows=10)
    assert (s.rows_read, s.rows_scored, s.rows_rejected) == (50, 48, 2)
    got = pd.read_csv(out)
    assert len(got) == 50
    assert "purple" in got.loc[7, "error"] and "color" in got.loc[7, "error"]
    assert "x1" in got.loc[21, "error"]
    assert np.isnan(got.loc[7, "p_yes"]) and np.isnan(got.loc[21, "p_yes"])
    assert got["error"].isna().sum() == 48


def test_missing_column_reported_before_scoring(doc, tmp_path):
    path = tmp_path / "in.csv"
    make_frame(10).drop(columns=["x2"]).to_csv(path, index=False)
    with pytest.raises(portmodel.MissingFieldError, match="x2"):
        score_file(str(doc), str(path), str(tmp_path / "out.csv"))
    assert not (tmp_path / "out.csv").exists()


def test_unknown_suffix_and_unreadable_file(doc, tmp_path):
    with pytest.raises(BatchError, match="format"):
        score_file(str(doc), str(tmp_path / "in.xlsx"), str(tmp_path / "out.csv"))
    with pytest.raises(BatchError, match="does not exist"):
        score_file(str(doc), str(tmp_path / "nope.csv"), str(tmp_path / "out.csv"))


def _score_cmd(doc, inp, out):
    return [sys.executable, "-m", "portmodel", "score", str(doc), str(inp), "-o", str(out),
            "--chunk-rows", "20000", "--jobs", "1", "--quiet"]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_interrupted_run_leaves_no_output(doc, tmp_path, sig):
    inp = tmp_path / "big.csv"
    make_frame(1_500_000, seed=2).to_csv(inp, index=False)
    out = tmp_path / "out.csv"
    # started with SIGINT ignored, as a background job of a non-interactive shell would be
    proc = subprocess.Popen(_score_cmd(doc, inp, out), stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.endswith(".partial") for p in os.listdir(tmp_path)):
        time.sleep(0.05)
    time.sleep(0.3)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert not out.exists()
    if sig != signal.SIGKILL:   # a handled interruption also removes its temporary file
        assert not [p for p in os.listdir(tmp_path) if p.endswith(".partial")]


def test_cli_summary_and_exit_codes(doc, tmp_path):
    df, path = _bad_file(tmp_path)
    out = tmp_path / "out.csv"
    r = subprocess.run([sys.executable, "-m", "portmodel", "score", str(doc), str(path), "-o",
                        str(out), "--on-error", "skip"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "read 50" in r.stderr and "rejected 2" in r.stderr
    r = subprocess.run([sys.executable, "-m", "portmodel", "score", str(doc), str(path), "-o",
                        str(tmp_path / "fail.csv")], capture_output=True, text=True)
    assert r.returncode != 0 and "row 8" in r.stderr
    assert not (tmp_path / "fail.csv").exists()


def test_stdin_to_stdout(doc, tmp_path):
    df = make_frame(100)
    r = subprocess.run([sys.executable, "-m", "portmodel", "score", str(doc), "-", "-o", "-",
                        "--keep", "id", "--quiet"], input=df.to_csv(index=False),
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    import io
    got = pd.read_csv(io.StringIO(r.stdout))
    assert list(got["id"]) == list(df["id"])
    np.testing.assert_allclose(got["p_yes"], expected_p(df), rtol=1e-12)


def test_progress_bar_when_asked_and_quiet_otherwise(doc, tmp_path, capfd):
    inp = tmp_path / "in.csv"
    make_frame(3000).to_csv(inp, index=False)
    score_file(str(doc), str(inp), str(tmp_path / "a.csv"), chunk_rows=500, progress=True)
    err = capfd.readouterr().err
    assert "3.00k rows" in err and "rows/s" in err
    score_file(str(doc), str(inp), str(tmp_path / "b.csv"), chunk_rows=500)   # not a terminal
    assert capfd.readouterr().err == ""
