"""Shared set-up of the export tests: scikit-learn's bundled data sets, a frame with categorical
and missing values, and an independent comparison of a document's scores with the estimator's."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn import datasets  # noqa: E402

TOL = 1e-9


def dataset(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """(X, y) of a bundled data set; "mixed" is wine with a text column and missing cells."""
    if name == "mixed":
        X, y = datasets.load_wine(return_X_y=True, as_frame=True)
        X = X.iloc[:, :6].copy()
        rng = np.random.default_rng(7)
        X["colour"] = np.where(X["alcohol"] > 13.5, "red",
                               np.where(X["alcohol"] > 12.5, "rose", "white")).astype(object)
        X.loc[rng.random(len(X)) < 0.1, "colour"] = None
        X.loc[rng.random(len(X)) < 0.1, "malic_acid"] = np.nan
        X.loc[rng.random(len(X)) < 0.1, "ash"] = np.nan
        return X, y.rename("cultivar")
    loader = {"iris": datasets.load_iris, "wine": datasets.load_wine,
              "breast_cancer": datasets.load_breast_cancer,
              "diabetes": datasets.load_diabetes}[name]
    X, y = loader(return_X_y=True, as_frame=True)
    return X, y


def expected_outputs(est, X: pd.DataFrame, target: str, proba: bool = True) -> dict:
    out = {target: np.asarray(est.predict(X))}
    if proba and hasattr(est, "predict_proba"):
        try:
            p = est.predict_proba(X)
        except AttributeError:
            return out
        for k, c in enumerate(est.classes_):
            out[f"probability({c})"] = p[:, k]
    return out


def assert_scores(got: pd.DataFrame, want: dict, tol: float = TOL, rename=None) -> None:
    """Every cell of ``want`` within tol (relative above 1) of ``got``; labels equal."""
    for col, values in want.items():
        gcol = rename(col) if rename else col
        assert gcol in got.columns, (gcol, list(got.columns))
        g = got[gcol].to_numpy()
        assert len(g) == len(values)
        for i, (a, b) in enumerate(zip(g, values)):
            if isinstance(b, str) or isinstance(a, str):
                assert str(a) == str(b), (col, i, a, b)
            else:
                a, b = float(a), float(b)
                assert not math.isnan(a), (col, i, a, b)
                assert abs(a - b) <= tol * max(1.0, abs(b)), (col, i, a, b)


_SCHEMA = []


def assert_schema_valid(path) -> None:
    """Validate against the PMML 4.4 XSD. Vendor ``x-`` attributes (x-mathContext), which PMML
    allows as extensions but the XSD does not list, are removed first, as
    ``portmodel validate`` does."""
    xmlschema = pytest.importorskip("xmlschema")
    from pathlib import Path

    from lxml import etree

    import portmodel
    if not _SCHEMA:
        xsd = Path(portmodel.__file__).parent.parent / "pmml" / "schema" / "pmml-4-4.xsd"
        _SCHEMA.append(xmlschema.XMLSchema(str(xsd)))
    tree = etree.parse(str(path))
    for el in tree.iter():
        for a in [a for a in el.attrib if a.startswith("x-")]:
            del el.attrib[a]
    _SCHEMA[0].validate(tree)


def pfa_dataset(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """``dataset(name)``; for "mixed", the text column's missing cells filled with "white"
    (the PFA export tests of numeric pipelines keep text inputs complete)."""
    X, y = dataset(name)
    if name == "mixed":
        X = X.assign(colour=X["colour"].fillna("white"))
    return X, y


def export_fixture(cases: dict, format: str = "pfa"):
    """A module-scoped pytest fixture ``exported``: ``exported(case)`` fits the case's estimator
    and exports it once per module, returning (estimator, X, y, document text).

    ``cases[case]`` starts with (data, make): data is a data set name (``pfa_dataset``) or a
    callable returning (X, y); make returns the unfitted estimator."""
    import warnings

    import portmodel

    @pytest.fixture(scope="module")
    def exported():
        cache: dict = {}

        def get(case):
            if case not in cache:
                data, make = cases[case][:2]
                X, y = data() if callable(data) else pfa_dataset(data)
                est = make()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")     # convergence warnings of small fits
                    est.fit(X, y)
                text = portmodel.export(est, None, X, format=format, target_name=y.name)
                cache[case] = est, X, y, text
            return cache[case]
        return get
    return exported


def pmml_name(c: str) -> str:
    """A PFA output name as the PMML one: probability_<class> -> probability(<class>)."""
    return f"probability({c[len('probability_'):]})" if c.startswith("probability_") else c
