"""Tree splits on float32-typed fields in PFA: engines keep a ``float`` input as a double,
scikit-learn compares float32(x) <= t. The writer's double bound must make both agree for every
double, including the ones that lie within half a float32 step of a threshold."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from export_util import assert_scores, dataset, expected_outputs

from sklearn.ensemble import RandomForestClassifier  # noqa: E402

import portmodel  # noqa: E402
from portmodel.export.pfa_writer import avro_name, double_bound  # noqa: E402


def _float32_le(x: float, t: np.float32) -> bool:
    return bool(np.float32(x) <= t)


def test_double_bound_is_the_last_double_that_rounds_to_at_most_t():
    rng = np.random.default_rng(1)
    ts = np.concatenate([(rng.standard_normal(3000) * 10.0 ** rng.integers(-6, 6, 3000))
                         .astype(np.float32),
                         np.array([0.0, -0.0, 1.0, 2.0, 3.0, -1.0, 0.5, 1e-45, -1e-45, 16777216,
                                   np.finfo(np.float32).max, -np.finfo(np.float32).max],
                                  np.float32)])
    for t in ts:
        d = double_bound(float(t))
        with np.errstate(over="ignore"):
            assert _float32_le(d, t), t
            assert not _float32_le(float(np.nextafter(d, np.inf)), t), t


def test_double_bound_refuses_a_non_float32_threshold():
    with pytest.raises(ValueError):
        double_bound(0.1)


def _thresholds(est) -> dict[int, list[float]]:
    out: dict[int, list[float]] = {}
    for tree in est.estimators_:
        t = tree.tree_
        for f, v in zip(t.feature, t.threshold):
            if f >= 0:
                out.setdefault(int(f), []).append(float(v))
    return out


@pytest.fixture(scope="module")
def wine_forest():
    X, y = dataset("wine")
    est = RandomForestClassifier(n_estimators=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    # rows moved onto the doubles that bracket every split's float32 rounding boundary:
    # d (splits left in scikit-learn) and the next double (splits right)
    rows = []
    base = X.iloc[0].to_numpy(float)
    for f, ts in _thresholds(est).items():
        for t in ts[:40]:
            t32 = np.float32(t)
            if float(t32) > t:
                t32 = np.nextafter(t32, np.float32(-np.inf))
            d = double_bound(float(t32))
            for v in (d, float(np.nextafter(d, np.inf)), float(t32), (float(t32) + d) / 2):
                r = base.copy()
                r[f] = v
                rows.append(r)
    edge = pd.DataFrame(rows, columns=X.columns)
    text = portmodel.export(est, None, X, format="pfa", target_name=y.name)
    return est, X, y, edge, text


def test_wine_forest_exports_and_splits_boundary_doubles_like_scikit_learn(wine_forest):
    est, X, y, edge, text = wine_forest
    doc = json.loads(text)
    assert "model.tree.simpleWalk" in json.dumps(doc["action"])
    model = portmodel.load(text)
    for frame in (X, edge):
        got = model.predict(frame.rename(columns=avro_name)).rename(
            columns=lambda c: f"probability({c[12:]})" if c.startswith("probability_") else c)
        assert_scores(got, expected_outputs(est, frame, avro_name(y.name)), tol=1e-9)


def test_wine_forest_boundary_doubles_in_titus(wine_forest):
    from pfa_titus_util import titus_engine
    est, X, y, edge, text = wine_forest
    engine = titus_engine(text)
    for frame in (X, edge):
        rows = [engine.action({k: float(v) for k, v in rec.items()})
                for rec in frame.rename(columns=avro_name).to_dict("records")]
        got = pd.DataFrame(rows).rename(
            columns=lambda c: f"probability({c[12:]})" if c.startswith("probability_") else c)
        assert_scores(got, expected_outputs(est, frame, avro_name(y.name)), tol=1e-9)
    assert len(edge) > 100
