"""The command line: score / inspect / verify, exit codes and messages, CSV handling.

Scoring the samples runs the real command in a subprocess (``python -m portmodel``); its
output must have one row per input row, equal Model.predict, and equal scikit-learn's own
predictions for the fitted models the samples were exported from (samples/make_samples.py).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel import UnsupportedError
from portmodel.cli import main

SAMPLES = {"iris_tree": "iris.csv", "diabetes_linear": "diabetes.csv",
           "iris_forest": "iris.csv"}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "portmodel", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def load_or_skip(path: Path) -> portmodel.Model:
    try:
        return portmodel.load(path)
    except UnsupportedError as exc:
        pytest.skip(f"{path.name}: {exc}")


@pytest.fixture(scope="module", params=list(SAMPLES))
def scored(request, samples_dir, tmp_path_factory):
    """(name, model, input frame, CLI output frame) for each sample, scored once."""
    name = request.param
    model = load_or_skip(samples_dir / f"{name}.pmml")
    data = samples_dir / SAMPLES[name]
    out = tmp_path_factory.mktemp(name) / "scored.csv"
    proc = run("score", str(samples_dir / f"{name}.pmml"), str(data), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    return name, model, pd.read_csv(data), pd.read_csv(out)


def test_score_writes_one_row_per_input_row(scored):
    name, model, frame, out = scored
    assert len(out) == len(frame) > 0
    assert list(out.columns) == model.output_names


def test_score_output_equals_model_predict(scored):
    name, model, frame, out = scored
    expected = model.predict(frame)
    for col in model.output_names:
        if expected[col].dtype.kind == "f":
            np.testing.assert_allclose(out[col], expected[col], rtol=1e-15, atol=0)
        else:
            assert out[col].astype(str).tolist() == expected[col].astype(str).tolist()


def test_score_output_equals_scikit_learn(scored):
    """The samples' models refitted with the settings of make_samples.py predict the same."""
    pytest.importorskip("sklearn")
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LinearRegression
    from sklearn.tree import DecisionTreeClassifier

    name, model, frame, out = scored
    target = model.targets[0].name
    X, y = frame.drop(columns=[target]), frame[target]
    if name == "diabetes_linear":
        reference = LinearRegression().fit(X, y)
        np.testing.assert_allclose(out[target], reference.predict(X), rtol=1e-9)
        return
    if name == "iris_tree":
        reference = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    else:
        reference = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(X, y)
    proba = reference.predict_proba(X)
    for k, label in enumerate(reference.classes_):
        np.testing.assert_allclose(out[f"probability({label})"], proba[:, k], atol=1e-9)
    assert (out[target] == reference.predict(X)).mean() > 0.99   # ties may break differently


# ------------------------------------------------------------------ CSV handling (in-process)

DOC = """<?xml version="1.0"?>
<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
<Header/>
<DataDictionary>
  <DataField name="x" optype="continuous" dataType="double"/>
  <DataField name="code" optype="categorical" dataType="string">
    <Value value="007"/><Value value="7"/>
  </DataField>
  <DataField name="y" optype="continuous" dataType="double"/>
</DataDictionary>
<RegressionModel functionName="regression">
  <MiningSchema>
    <MiningField name="x" missingValueReplacement="4"/>
    <MiningField name="code"/>
    <MiningField name="y" usageType="target"/>
  </MiningSchema>
  <RegressionTable intercept="1">
    <NumericPredictor name="x" coefficient="2"/>
    <CategoricalPredictor name="code" value="007" coefficient="10"/>
    <CategoricalPredictor name="code" value="7" coefficient="20"/>
  </RegressionTable>
</RegressionModel>
</PMML>
"""


@pytest.fixture
def small(tmp_path):
    """A model file y = 1 + 2x + (10 if code == '007', 20 if code == '7'), x missing -> 4."""
    path = tmp_path / "small.pmml"
    path.write_text(DOC)
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_missing_markers_and_text_fields(small, tmp_path, capsys):
    data = write(tmp_path / "in.csv", "id,x,code\n1,NA,007\n2,N/A,7\n3,,007\n4,3,7\n5,0.5,007\n")
    out = tmp_path / "out.csv"
    assert main(["score", str(small), str(data), "-o", str(out), "--keep", "id"]) == 0
    assert "read 5 rows" in capsys.readouterr().err
    got = pd.read_csv(out)
    assert list(got.columns) == ["id", "y"] and got["id"].tolist() == [1, 2, 3, 4, 5]
    # NA, N/A and empty are missing -> x = 4; "007" and "7" are different codes
    assert got["y"].tolist() == [19.0, 29.0, 19.0, 27.0, 12.0]


def test_keep_copies_columns_verbatim_and_renames_clashes(small, tmp_path):
    data = write(tmp_path / "in.csv", "y,x,code,note\n1.50,2,7,007\n,3,007,x\n")
    out = tmp_path / "out.csv"
    assert main(["score", str(small), str(data), "-o", str(out), "--keep", "note,y"]) == 0
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(got.columns) == ["note", "input:y", "y"]
    assert got["note"].tolist() == ["007", "x"] and got["input:y"].tolist() == ["1.50", ""]
    assert [float(v) for v in got["y"]] == [25.0, 17.0]


def test_on_error_record_writes_every_row(small, tmp_path, capsys):
    data = write(tmp_path / "in.csv", "x,code\n1,007\nabc,007\n2,8\n3,7\n")
    out = tmp_path / "out.csv"
    assert main(["score", str(small), str(data), "-o", str(out), "--on-error", "record"]) == 0
    assert "rejected 2" in capsys.readouterr().err
    got = pd.read_csv(out, keep_default_na=False)
    assert [float(v) if v else None for v in got["y"]] == [13.0, None, None, 27.0]
    assert got["error"][0] == "" and got["error"][3] == ""
    assert all(part in got["error"][1] for part in ("row 2", "'x'", "'abc'"))
    assert all(part in got["error"][2] for part in ("row 3", "'code'", "'8'"))


def test_rejected_row_fails_without_touching_the_output(small, tmp_path, capsys):
    data = write(tmp_path / "in.csv", "x,code\n1,007\n2,8\n")
    out = write(tmp_path / "out.csv", "previous contents\n")
    assert main(["score", str(small), str(data), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("portmodel: error:")
    assert "row 2" in err and "'code'" in err and "'8'" in err      # 1-based data row
    assert out.read_text() == "previous contents\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv", "small.pmml"]


def test_output_is_replaced_atomically(small, tmp_path):
    data = write(tmp_path / "in.csv", "x,code\n1,007\n")
    out = write(tmp_path / "out.csv", "previous contents\n")
    assert main(["score", str(small), str(data), "-o", str(out), "--quiet"]) == 0
    assert pd.read_csv(out)["y"].tolist() == [13.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv", "small.pmml"]


@pytest.mark.parametrize("csv_text, args, message", [
    ("x\n1\n", [], "'code'"),                                   # a required column is absent
    ("x,code\n1,7\n", ["--keep", "nope"], "nope"),              # --keep names no column
    (None, [], "does not exist"),                               # no input file
])
def test_data_problems_exit_1_with_one_line(small, tmp_path, capsys, csv_text, args, message):
    data = tmp_path / "in.csv"
    if csv_text is not None:
        data.write_text(csv_text)
    assert main(["score", str(small), str(data), "-o", str(tmp_path / "o.csv"), *args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "o.csv").exists()


def test_output_folder_must_exist(small, tmp_path, capsys):
    data = write(tmp_path / "in.csv", "x,code\n1,7\n")
    assert main(["score", str(small), str(data), "-o", str(tmp_path / "no" / "o.csv")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_bad_model_document_exits_1_naming_the_line(tmp_path, capsys):
    bad = write(tmp_path / "bad.pmml", DOC.replace("</MiningSchema>", ""))
    data = write(tmp_path / "in.csv", "x,code\n1,7\n")
    assert main(["score", str(bad), str(data), "-o", str(tmp_path / "o.csv")]) == 1
    err = capsys.readouterr().err
    line = DOC[: DOC.index("</RegressionModel>")].count("\n") + 1    # where the mismatch shows
    assert err.count("\n") == 1 and "malformed XML" in err and f"(line {line})" in err


# ------------------------------------------------------------------ subprocess: exit codes

def test_missing_model_file_exits_1(tmp_path, samples_dir):
    proc = run("score", str(tmp_path / "absent.pmml"), str(samples_dir / "iris.csv"),
               "-o", str(tmp_path / "o.csv"))
    assert proc.returncode == 1
    absent = str(tmp_path / "absent.pmml")
    assert proc.stderr.strip() == f"portmodel: error: model file {absent!r} does not exist"
    assert not (tmp_path / "o.csv").exists()


def test_usage_error_exits_2():
    proc = run("score", "only-one-argument")
    assert proc.returncode == 2 and "usage:" in proc.stderr


@pytest.mark.skipif(shutil.which("portmodel") is None, reason="console script not on PATH")
def test_console_script_is_installed():
    proc = subprocess.run(["portmodel", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"portmodel {portmodel.__version__}"


# ------------------------------------------------------------------ inspect and verify

def test_inspect_json(samples_dir, capsys):
    assert main(["inspect", str(samples_dir / "iris_tree.pmml"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["model_type"] == "TreeModel" and info["function"] == "classification"
    assert {f["name"] for f in info["inputs"]} <= {"sepal_length", "sepal_width",
                                                   "petal_length", "petal_width"}
    assert info["targets"][0]["values"] == ["setosa", "versicolor", "virginica"]
    assert [f["name"] for f in info["outputs"]][0] == "species"


def test_inspect_text(small, capsys):
    assert main(["inspect", str(small)]) == 0
    text = capsys.readouterr().out
    assert "RegressionModel (regression)" in text
    assert "Inputs (2):" in text and "missing value replacement: 4.0" in text
    assert "values: 007, 7" in text


def test_verify_sample(samples_dir):
    proc = run("verify", str(samples_dir / "diabetes_linear.pmml"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "verified 10 records: all agree"


def test_verify_detects_a_tampered_document(samples_dir, tmp_path, capsys):
    text = (samples_dir / "diabetes_linear.pmml").read_text()
    intercept = text.split('intercept="', 1)[1].split('"', 1)[0]
    tampered = write(tmp_path / "t.pmml", text.replace(f'intercept="{intercept}"',
                                                       f'intercept="{float(intercept) + 1}"'))
    assert main(["verify", str(tampered)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("portmodel: ModelVerification failed") and "record 0" in err


def test_verify_without_records(small, capsys):
    assert main(["verify", str(small)]) == 0
    assert "no ModelVerification records" in capsys.readouterr().out


def test_python_dash_m_runs_from_any_folder(tmp_path):
    assert os.path.realpath(tmp_path) != os.path.realpath(os.getcwd())
    proc = run("--help", cwd=tmp_path)
    assert proc.returncode == 0 and "score" in proc.stdout and "inspect" in proc.stdout
