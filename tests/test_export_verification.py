"""The ModelVerification block of exported PMML: 20 rows whose numbers are rounded to 5
significant digits, with the estimator's own outputs on those rounded rows written with the
digits the tolerance needs; it passes ``verify`` in portmodel, and a value moved beyond the
precision fails it."""
from __future__ import annotations

import re
import warnings

import pytest

from export_util import dataset

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

import portmodel  # noqa: E402
from portmodel.errors import PortmodelError  # noqa: E402

NUM = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols"]


@pytest.fixture(scope="module")
def document():
    X, y = dataset("mixed")
    X = X.assign(colour=X["colour"].fillna("white"))
    est = make_pipeline(ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), NUM),
        ("cat", OneHotEncoder(), ["colour"])]), LogisticRegression(max_iter=3000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    return portmodel.export(est, None, X, target_name="cultivar")


def _block(text: str) -> str:
    return text[text.index("<ModelVerification"):text.index("</ModelVerification>")]


def test_rows_are_rounded_and_verify(document):
    block = _block(document)
    assert 'recordCount="20"' in block
    inputs = re.findall(r"<b>([^<]*)</b>", block)          # column b: malic_acid
    assert len(inputs) >= 10          # missing cells are left out of a row
    for v in inputs:
        digits = re.sub(r"[-.]|e.*$", "", v).lstrip("0")
        assert len(digits) <= 5, v
    assert portmodel.load(document).verify() == 20


def test_a_value_beyond_the_precision_fails_verify(document):
    block = _block(document)
    name = next(c for c in re.findall(r'column="([a-z]+)" precision', block))
    cell = re.search(rf"<{name}>([^<]*)</{name}>", block)
    moved = float(cell.group(1)) + 1e-6
    bad = document.replace(cell.group(0), f"<{name}>{moved!r}</{name}>", 1)
    with pytest.raises(PortmodelError):
        portmodel.load(bad).verify()


def test_one_hot_terms_are_categorical_predictors(document):
    assert '<CategoricalPredictor name="colour" value="red"' in document
    assert 'name="colour=red"' not in document
