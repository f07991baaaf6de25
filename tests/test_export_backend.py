"""backend="sklearn2pmml": the fallback writes a checked document, and its Java error is
surfaced (the converter's own exception line, not the generic RuntimeError)."""
from __future__ import annotations

import shutil

import pytest

from export_util import assert_scores, dataset, expected_outputs

import portmodel  # noqa: E402

pytest.importorskip("sklearn2pmml")
pytestmark = [pytest.mark.oracle,
              pytest.mark.skipif(shutil.which("java") is None, reason="needs Java")]


def test_fallback_writes_a_checked_document():
    from sklearn.linear_model import LogisticRegression
    X, y = dataset("iris")
    est = LogisticRegression(max_iter=1000).fit(X, y)
    text = portmodel.export(est, None, X, backend="sklearn2pmml", target_name="species")
    assert "SkLearn2PMML" in text or "sklearn2pmml" in text.lower()
    assert_scores(portmodel.load(text).predict(X), expected_outputs(est, X, "species"), 1e-9)


def test_java_error_is_surfaced():
    from sklearn.decomposition import FactorAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    X, y = dataset("iris")
    est = make_pipeline(FactorAnalysis(2), LogisticRegression()).fit(X, y)
    with pytest.raises(portmodel.export.ExportError,
                       match=r"sklearn2pmml failed: .*SkLearnException.*FactorAnalysis"):
        portmodel.export(est, None, X, backend="sklearn2pmml")
