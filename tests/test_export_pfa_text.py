"""PFA export of text inputs with missing values: the input is declared ["null", "string"] and
read through ifnotnull (one-hot with a missing category, imputed text, ordinal encoding with
encoded_missing_value, a missing indicator). portmodel's export check passes, and portmodel
and titus2 score like scikit-learn within 1e-9 on rows with null text."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from export_util import assert_scores, dataset, expected_outputs, export_fixture, pmml_name

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

import portmodel  # noqa: E402
from portmodel.export.pfa_writer import avro_name  # noqa: E402

NUM = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols"]


def _mixed():
    """The mixed frame as it is: about a tenth of the colour cells are missing."""
    X, y = dataset("mixed")
    assert X["colour"].isna().sum() > 5
    return X, y


def _with(text_step, model):
    return lambda: make_pipeline(ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), NUM),
        ("text", text_step, ["colour"])]), model)


CASES = {
    "onehot_missing_category": (_mixed, _with(OneHotEncoder(handle_unknown="ignore"),
                                              LogisticRegression(max_iter=3000))),
    "imputed_onehot_tree": (_mixed, _with(make_pipeline(SimpleImputer(strategy="most_frequent"),
                                                        OneHotEncoder()),
                                          DecisionTreeClassifier(random_state=0))),
    "constant_ordinal_tree": (_mixed, _with(make_pipeline(
        SimpleImputer(strategy="constant", fill_value="none"), OrdinalEncoder()),
        DecisionTreeClassifier(random_state=0))),
    "ordinal_encoded_missing": (_mixed, _with(OrdinalEncoder(encoded_missing_value=-1),
                                              LogisticRegression(max_iter=3000))),
    "missing_indicator": (_mixed, _with(make_pipeline(
        SimpleImputer(strategy="most_frequent", add_indicator=True),
        OneHotEncoder(handle_unknown="ignore")), LogisticRegression(max_iter=3000))),
}

exported = export_fixture(CASES)


@pytest.mark.parametrize("case", list(CASES))
def test_text_input_is_nullable(exported, case):
    fields = {f["name"]: f["type"] for f in json.loads(exported(case)[3])["input"]["fields"]}
    assert fields["colour"] == ["null", "string"]
    assert fields["alcohol"] == "double"


@pytest.mark.parametrize("case", list(CASES))
def test_round_trip_in_portmodel(exported, case):
    est, X, y, text = exported(case)
    got = portmodel.load(text).predict(X.rename(columns=avro_name)).rename(columns=pmml_name)
    assert_scores(got, expected_outputs(est, X, avro_name(y.name)))


@pytest.mark.oracle
@pytest.mark.parametrize("case", list(CASES))
def test_same_scores_in_titus(exported, case):
    from pfa_titus_util import titus_engine
    est, X, y, text = exported(case)
    engine = titus_engine(text)
    rows = []
    for rec in X.rename(columns=avro_name).to_dict("records"):
        rows.append(engine.action({k: v if isinstance(v, str) else None if k == "colour"
                                   else float(v) for k, v in rec.items()}))
    got = pd.DataFrame(rows).rename(columns=pmml_name)
    assert_scores(got, expected_outputs(est, X, avro_name(y.name)))

