"""The estimator outputs the export check compares with (``check.expected``): a forest's
predict_proba is computed once and its predict taken from it, as scikit-learn's own
ForestClassifier.predict does. Oracle: the estimator's own predict and predict_proba."""
from __future__ import annotations

import numpy as np
import pytest

from export_util import dataset

sklearn = pytest.importorskip("sklearn")
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from portmodel.export import build  # noqa: E402
from portmodel.export.check import expected  # noqa: E402


@pytest.mark.parametrize("cls", [RandomForestClassifier, ExtraTreesClassifier])
@pytest.mark.parametrize("labels", ["int", "text"])
def test_forest_outputs_are_its_predict_and_predict_proba(cls, labels):
    X, y = dataset("wine")
    if labels == "text":
        y = y.map({0: "barolo", 1: "grignolino", 2: "barbera"})
    est = make_pipeline(StandardScaler(), cls(n_estimators=7, max_depth=3, random_state=0))
    est.fit(X, y)
    doc = build(est, X, "cultivar")
    got = expected(est, X, doc)
    want = est.predict(X)
    assert got["cultivar"].dtype == want.dtype and np.array_equal(got["cultivar"], want)
    proba = est.predict_proba(X)
    for k, c in enumerate(est.classes_):
        assert np.array_equal(got[f"probability({c})"], proba[:, k])


class _OwnPredict(RandomForestClassifier):
    """A forest whose predict is not the class of its largest probability."""

    def predict(self, X):
        return self.classes_.take(np.argmin(self.predict_proba(X), axis=1), axis=0)


def test_a_forest_subclass_keeps_its_own_predict():
    X, y = dataset("iris")
    forest = RandomForestClassifier(n_estimators=5, max_depth=2, random_state=0).fit(X, y)
    doc = build(forest, X, "species")      # (the exporter itself takes the exact class only)
    est = _OwnPredict()
    est.__dict__.update(forest.__dict__)
    got = expected(est, X, doc)
    assert np.array_equal(got["species"], est.predict(X))
    assert not np.array_equal(got["species"],
                              RandomForestClassifier.predict(est, X))


def test_compare_finds_the_same_first_difference_as_cell_by_cell():
    """Numeric columns are compared by numpy first; whenever a cell differs, the message
    (column, row, both values) is the cell-by-cell comparison's. Oracle: ``_same`` per cell."""
    import pandas as pd

    from portmodel.export.check import _same, compare
    from portmodel.export.errors import ExportMismatchError
    rng = np.random.default_rng(5)
    base = rng.standard_normal(200) * 10.0 ** rng.integers(-3, 12, 200)
    base[::17] = np.nan
    cases = []
    for k in range(60):
        got = base.copy()
        i = int(rng.integers(0, 200))
        got[i] = [base[i] * (1 + 3e-9), base[i] + 2e-9, np.nan, np.inf, 0.0, base[i]][k % 6]
        cases.append(got)
    cases.append(np.where(np.isnan(base), 1.0, base))
    for got in cases:
        for skip in (None, np.isnan(base)):
            cell = next((i for i in range(200) if not (skip is not None and skip[i])
                         and not _same(float(got[i]), float(base[i]), 1e-9)), None)
            if cell is None:
                compare(pd.DataFrame({"v": got}), {"v": base}, 1e-9, "t", skip)
            else:
                with pytest.raises(ExportMismatchError, match=f"row {cell}:"):
                    compare(pd.DataFrame({"v": got}), {"v": base}, 1e-9, "t", skip)
    labels = np.array([0, 1, 1, 0])
    compare(pd.DataFrame({"y": labels}), {"y": labels}, 1e-9, "t")
    with pytest.raises(ExportMismatchError, match="row 2:"):
        compare(pd.DataFrame({"y": [0, 1, 0, 0]}), {"y": labels}, 1e-9, "t")
    with pytest.raises(ExportMismatchError, match="row 0:"):
        compare(pd.DataFrame({"y": ["0.0", "1", "1", "0"]}), {"y": labels}, 1e-9, "t")
