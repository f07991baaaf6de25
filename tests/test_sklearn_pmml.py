"""Differential tests: documents exported from fitted scikit-learn pipelines (sklearn2pmml) must
score like scikit-learn itself: probabilities and predictions within 1e-9."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

import portmodel

pytest.importorskip("sklearn")
pytest.importorskip("sklearn2pmml")
if shutil.which("java") is None:  # pragma: no cover - Java 17 is installed on every machine here
    pytest.skip("sklearn2pmml needs Java to export", allow_module_level=True)

from sklearn_models import specs  # noqa: E402

NAMES = [s[0] for s in specs()]


@pytest.mark.parametrize("name", NAMES)
def test_matches_sklearn(fitted, name):
    f = fitted[name]
    model = portmodel.load(f.path)
    out = model.predict(f.X)
    assert len(out) == len(f.X)
    assert list(out.index) == list(f.X.index)
    if f.kind == "classifier":
        expected = f.pipeline.predict_proba(f.X)
        classes = f.pipeline.classes_
        got = np.column_stack([out[f"probability({c})"].to_numpy(dtype=float) for c in classes])
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
        predicted = out[f.target].to_numpy()
        want = f.pipeline.predict(f.X)
        # a tie between classes may be broken either way; every other row must agree
        agree = predicted.astype(str) == want.astype(str)
        tie = np.sort(expected, axis=1)[:, -1] - np.sort(expected, axis=1)[:, -2] < 1e-12
        assert (agree | tie).all()
    else:
        expected = f.pipeline.predict(f.X)
        got = out[f.target].to_numpy(dtype=float)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


def test_single_record_equals_batch(fitted):
    f = fitted["forest_wine"]
    model = portmodel.load(f.path)
    batch = model.predict(f.X.head(5))
    for i, (_, row) in enumerate(f.X.head(5).iterrows()):
        one = model.predict(row.to_dict())
        for k, v in one.items():
            assert v == pytest.approx(batch[k].iloc[i], rel=1e-12) if isinstance(v, float) else \
                str(v) == str(batch[k].iloc[i])
