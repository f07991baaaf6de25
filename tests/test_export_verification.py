"""The ModelVerification block of exported PMML: 5 to 20 rows (as many as fit in a quarter of
the rest of the document) whose numbers are rounded to 5 significant digits, with the
estimator's own outputs on those rounded rows written with the digits the tolerance needs; the
rows reach every text category first. It passes ``verify`` in portmodel, and a value moved
beyond the precision, or a coefficient changed in the document, fails it."""
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


def _rows(text: str) -> int:
    return int(re.search(r'<ModelVerification recordCount="(\d+)"', text).group(1))


def test_rows_are_rounded_and_verify(document):
    block = _block(document)
    n = _rows(document)
    assert 5 <= n <= 20
    inputs = re.findall(r"<b>([^<]*)</b>", block)          # column b: malic_acid
    assert len(inputs) >= n - 2       # missing cells are left out of a row
    for v in inputs:
        digits = re.sub(r"[-.]|e.*$", "", v).lstrip("0")
        assert len(digits) <= 5, v
    assert portmodel.load(document).verify() == n


def test_block_size_is_bounded_by_the_model():
    """A small model carries few rows (the block is at most a quarter of the rest of the
    document, or the 5-row minimum); a large one carries all 20."""
    from sklearn.ensemble import RandomForestClassifier
    X, y = dataset("wine")
    small = portmodel.export(make_pipeline(StandardScaler(), LogisticRegression(
        max_iter=3000)).fit(X, y), None, X)
    block = len(_block(small).encode())
    assert _rows(small) == 5 or block <= 0.25 * (len(small.encode()) - block)
    assert 5 <= _rows(small) < 20
    big = portmodel.export(RandomForestClassifier(n_estimators=30, random_state=0).fit(X, y),
                           None, X)
    assert _rows(big) == 20 and portmodel.load(big).verify() == 20


def test_rows_reach_every_category(document):
    block = _block(document)
    column = re.search(r'field="colour" column="([a-z]+)"', block).group(1)
    assert set(re.findall(rf"<{column}>([^<]*)</{column}>", block)) == {"red", "white", "rose"}


@pytest.mark.parametrize("predictor", ["NumericPredictor", "CategoricalPredictor"])
def test_a_changed_coefficient_fails_verify(document, predictor):
    """Every coefficient of the document, changed by one part in a million, is caught."""
    found = list(re.finditer(rf'<{predictor} [^>]*coefficient="([^"]+)"', document))
    assert found
    for m in found:
        coef = float(m.group(1))
        bad = document[:m.start(1)] + repr(coef * (1 + 1e-6)) + document[m.end(1):]
        with pytest.raises(PortmodelError):
            portmodel.load(bad).verify()


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


def test_rows_carry_only_the_fields_the_block_names():
    """A model that uses some inputs only (a shallow tree): the block names only those fields,
    and its rows carry no cells for the others (cells no VerificationField names are bytes
    that no engine reads)."""
    from sklearn.tree import DecisionTreeClassifier
    X, y = dataset("wine")
    text = portmodel.export(DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y),
                            None, X)
    block = _block(text)
    named = set(re.findall(r'<VerificationField field="[^"]+" column="([a-z]+)"', block))
    assert len(named) < X.shape[1] + 4          # some inputs are unused
    cells = set(re.findall(r"<([a-z]+)>[^<]*</\1>", block))
    assert cells == named
    assert portmodel.load(text).verify() == _rows(text)
