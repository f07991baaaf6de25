"""Property-based differential tests: portmodel against the reference engine on random inputs.

For documents of every supported model type (the conformance corpus and sklearn2pmml exports),
hypothesis draws small frames from each model's DataDictionary (reference_engines.frames): valid
values mostly, and missing values, blank text, unknown categories, numbers outside the Intervals,
fractions for integer fields and unparsable numbers some of the time. portmodel and
JPMML-Evaluator score the same frame; every cell must agree by the conformance comparison rule
(relative tolerance 1e-9), and a row the reference rejects must carry portmodel's per-row error
(``predict(..., errors="mark")``). Known, explained differences are encoded below (KNOWN, and
reference_engines.lazy_rejection / blank_as_missing), each with the reason portmodel is right.

pypmml (PMML4S) is a second, independent opinion where it is reliable: complete, valid rows of
documents with an Output section (it answers missing and invalid input differently from the
specification in several model types, so it is no oracle for those).
"""
from __future__ import annotations

import math
import shutil
import warnings
from functools import lru_cache

import pandas as pd
import pytest

pytest.importorskip("hypothesis")
pytest.importorskip("jpmml_evaluator")
if shutil.which("java") is None:  # pragma: no cover - Java 17 is installed on every machine here
    pytest.skip("the reference engines need Java", allow_module_level=True)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import portmodel  # noqa: E402
import conformance_util as cu  # noqa: E402
import reference_engines as ref  # noqa: E402

pytestmark = pytest.mark.oracle

needs_corpus = pytest.mark.skipif(not cu.MANIFEST.exists(),
                                  reason="../shared/conformance is absent (conformance corpus)")

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])

# One or two documents per model type and per tree missingValueStrategy in the corpus.
QUICK = [
    "rattle/DecisionTreeIris",          # TreeModel, missingValueStrategy=defaultChild
    "knime/DecisionTreeAudit",          # TreeModel, lastPrediction, asIs, integer fields
    "knime/DecisionTreeAuto",           # TreeModel, missingValueStrategy=none
    "rattle/RandomForestIris",          # MiningModel majorityVote of trees
    "rattle/GBMAuto",                   # MiningModel sum of trees (GBM)
    "rattle/GeneralRegressionAudit",    # GeneralRegressionModel, categorical factors
    "rattle/NeuralNetworkIris",         # NeuralNetwork
    "rattle/NaiveBayesAudit",           # NaiveBayesModel
    "knime/SupportVectorMachineIris",   # SupportVectorMachineModel
    "rattle/KMeansIris",                # ClusteringModel
    "knime/RuleSetIris",                # RuleSetModel
    "rattle/RegressionXformAuto",       # RegressionModel with global transformations
    "rattle/LogisticRegressionAudit",   # RegressionModel with CategoricalPredictors
]
QUICK_EXAMPLES = 12
SLOW_EXAMPLES = 8


def _others() -> list[str]:
    return [c["id"] for c in cu.cases()
            if c["id"] not in QUICK and c.get("group_by") is None]   # baskets: no frames


# ------------------------------------------------------------------ known differences
def _all_missing(values) -> bool:
    return all(v is None or (isinstance(v, float) and math.isnan(v)) for v in values)


def _missing_result_instead_of(marker: str, why: str):
    """Excuse rows JPMML fails with ``marker`` where portmodel returns no error and a missing
    result in every column (anything else portmodel returns there is still a failure)."""
    def excuse(row, ref_row, ref_err, our_row, our_err):
        if ref_err and marker in ref_err and our_err is None and _all_missing(our_row.values()):
            return why
        return None
    return excuse


# RuleSetModel without RuleSet@defaultScore: when no rule fires, JPMML raises
# MissingAttributeException. PMML 4.4 RuleSet: defaultScore is optional ("the default predicted
# value when no rule in the RuleSet fires"); without it there is no prediction, so portmodel
# returns a missing result, which this excuse demands.
_RULESET = _missing_result_instead_of(
    "RuleSet@defaultScore", "no rule fires and the RuleSet has no defaultScore: missing result")

# CoxRegression with an Output transformedValue over the predictedValue: when the prediction is
# missing (an unknown baseline stratum, a missing covariate), JPMML fails the row with
# MissingFieldException for the OutputField. A FieldRef to a missing value is missing (PMML 4.4
# Transformations), so portmodel returns missing outputs, which this excuse demands.
_COX = _missing_result_instead_of(
    'MissingFieldException: Field "Predicted_hazard"',
    "missing prediction: the transformedValue over it is missing")


def _disputed_svm(row, ref_row, ref_err, our_row, our_err):
    """rattle/KernlabSVMAudit and LibSVMAudit are `disputed` in the manifest: the documents omit
    classificationMethod yet give every machine an alternateTargetCategory (one-against-one), and
    portmodel scores them one-against-one as the corpus' expected outputs do
    (pmml/models/support_vector_machine.py); JPMML-Evaluator >= 1.6.2 takes the attribute's
    default, one-against-all, and then cannot produce the probability outputs (it fails every
    row of KernlabSVMAudit with TypeCheckException). Only the choice of rows to reject is
    compared for these two documents."""
    if ref_err and "HasProbability" in ref_err and our_err is None:
        return "disputed SVM document: JPMML gives no probabilities one-against-all"
    if ref_err is None and our_err is None:
        return "disputed SVM document: classes not compared"
    return None


def _naive_bayes_underflow(row, ref_row, ref_err, our_row, our_err):
    """NaiveBayesModel whose every class likelihood underflows to 0 (threshold="0", inputs far
    outside the training data): the probabilities are 0/0, missing in both engines; JPMML still
    names the first category as the prediction, portmodel reports no prediction (no class can be
    chosen from undefined probabilities). Excused only when both give missing probabilities."""
    if ref_err or our_err:
        return None
    probs = [k for k in ref_row if "probab" in k.lower()]
    if probs and _all_missing([ref_row[k] for k in probs]) and \
            _all_missing([our_row.get(k) for k in probs]) and \
            _all_missing([our_row.get(k) for k in ref_row if k not in probs]):
        return "every NaiveBayes likelihood underflows: no prediction"
    return None


def _softmax_overflow(row, ref_row, ref_err, our_row, our_err):
    """GeneralRegressionModel multinomialLogistic far from the training data: JPMML computes
    exp(eta) / sum exp(eta), which overflows to inf / inf = NaN for the dominant category;
    portmodel shifts by the largest eta first and gets the limit, 1 (same value wherever nothing
    overflows). Excused only when the predictions agree, every reference probability that is a
    number agrees, and portmodel's probabilities sum to 1."""
    if ref_err or our_err:
        return None
    probs = [k for k in ref_row if k.startswith(("P (", "Probability"))]
    ref_probs = [ref_row[k] for k in probs]
    if not probs or not any(isinstance(v, float) and math.isnan(v) for v in ref_probs):
        return None
    ours = [our_row.get(k) for k in probs]
    if any(v is None or math.isnan(v) for v in ours) or abs(sum(ours) - 1.0) > 1e-9:
        return None
    for k, r, o in zip(probs, ref_probs, ours):
        if not math.isnan(r) and not cu.agrees(r, o, 1e-9, 1e-12):
            return None
    labels = [k for k in ref_row if k not in probs]
    if all(str(ref_row[k]) == str(our_row.get(k)) for k in labels):
        return "exp(eta) overflows in the reference: NaN probability, portmodel's limit is 1"
    return None


# ClusteringModel, a row whose every clustering field is missing: the distance is undefined.
# PMML 4.4 leaves the case open; JPMML fails the row (UndefinedResultException), portmodel
# returns no cluster and missing affinities (tests/test_clustering.py,
# test_all_missing_has_no_cluster), which this excuse demands.
_CLUSTERING = _missing_result_instead_of(
    "UndefinedResultException", "every clustering field missing: no cluster")

# NearestNeighborModel, the same case: every KNN input missing leaves no distance, so no
# neighbours; portmodel answers missing outputs as for clustering, JPMML fails the row.
_NEAREST = _missing_result_instead_of(
    "UndefinedResultException", "every KNN input missing: no neighbours")

KNOWN = {
    "knime/RuleSetIris": _RULESET,
    "knime/RuleSetAudit": _RULESET,
    "rattle/CoxRegressionLung": _COX,
    "rattle/KernlabSVMAudit": _disputed_svm,
    "rattle/LibSVMAudit": _disputed_svm,
}
KNOWN_BY_TYPE = {"ClusteringModel": _CLUSTERING, "NearestNeighborModel": _NEAREST,
                 "NaiveBayesModel": _naive_bayes_underflow,
                 "GeneralRegressionModel": _softmax_overflow}


# ------------------------------------------------------------------ documents
@lru_cache(maxsize=None)
def _conformance(case_id: str):
    case = next(c for c in cu.cases() if c["id"] == case_id)
    path = str(cu.SHARED / case["document"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # vendor extensions the engine does not interpret
        model = portmodel.load(path)
    return model, path, ref.hints_from(cu.load_input(case))


def _check(key: str, model, path: str, frame: pd.DataFrame) -> None:
    excuse = KNOWN.get(key) or KNOWN_BY_TYPE.get(model.model_type)
    problems, _ = ref.differences(model, path, frame, excuse=excuse)
    assert not problems, f"{key}: {len(problems)} disagreements:\n" + "\n".join(problems[:8])


@needs_corpus
@pytest.mark.parametrize("case_id", QUICK)
@settings(max_examples=QUICK_EXAMPLES, **SETTINGS)
@given(data=st.data())
def test_conformance_document_agrees_with_jpmml(case_id, data):
    model, path, hints = _conformance(case_id)
    frame = data.draw(ref.frames(model.inputs, hints), label="frame")
    _check(case_id, model, path, frame)


@pytest.mark.slow
@needs_corpus
@pytest.mark.parametrize("case_id", _others())
@settings(max_examples=SLOW_EXAMPLES, **SETTINGS)
@given(data=st.data())
def test_every_conformance_document_agrees_with_jpmml(case_id, data):
    model, path, hints = _conformance(case_id)
    frame = data.draw(ref.frames(model.inputs, hints), label="frame")
    _check(case_id, model, path, frame)


# ------------------------------------------------------------------ sklearn2pmml exports
@pytest.fixture(scope="session")
def sklearn_documents(tmp_path_factory):
    pytest.importorskip("sklearn2pmml")
    return ref.export_sklearn(tmp_path_factory.mktemp("reference_sklearn"))


@lru_cache(maxsize=None)
def _sklearn(name: str, path: str):
    return portmodel.load(path)


@pytest.mark.slow
@pytest.mark.parametrize("name", ref.SKLEARN_NAMES)
@settings(max_examples=QUICK_EXAMPLES, **SETTINGS)
@given(data=st.data())
def test_sklearn_export_agrees_with_jpmml(sklearn_documents, name, data):
    path, X = sklearn_documents[name]
    model = _sklearn(name, str(path))
    frame = data.draw(ref.frames(model.inputs, ref.hints_from(X)), label="frame")
    _check(name, model, str(path), frame)


# ------------------------------------------------------------------ pypmml on complete rows
# Documents with an Output section where pypmml scores complete, valid rows as the
# specification does (checked on the corpus inputs); it leaves out the target itself.
PYPMML = ["rattle/DecisionTreeIris", "rattle/NeuralNetworkIris", "rattle/LogisticRegressionIris",
          "rattle/RegressionXformAuto", "rattle/KMeansIris", "rattle/NaiveBayesIris",
          "rattle/RandomForestAuto", "knime/GeneralRegressionIris", "knime/NeuralNetworkIris"]


def _numbers(frame: pd.DataFrame, model) -> pd.DataFrame:
    """Numeric inputs as float columns (pypmml does not parse numbers given as text)."""
    out = frame.copy()
    for f in model.inputs:
        if f.data_type in ref.NUMERIC:
            out[f.name] = pd.to_numeric(out[f.name])
    return out


@pytest.mark.slow
@needs_corpus
@pytest.mark.parametrize("case_id", PYPMML)
@settings(max_examples=SLOW_EXAMPLES, **SETTINGS)
@given(data=st.data())
def test_conformance_document_agrees_with_pypmml(case_id, data):
    pytest.importorskip("pypmml")
    model, path, hints = _conformance(case_id)
    frame = data.draw(ref.frames(model.inputs, hints, invalid=False, missing=False),
                      label="frame")
    frame = _numbers(frame, model)
    reference = ref.pypmml_score(path, frame)
    outputs = {f.name for f in model.outputs}
    reference = reference[[c for c in reference.columns if c in outputs]]
    assert len(reference.columns), "pypmml produced none of the document's output fields"
    ours = model.predict(frame, errors="mark")
    # pypmml loses digits in small probabilities (1 - p in double: 1.3474022422e-05 where
    # JPMML and portmodel give 1.34740224058202e-05), hence 1e-6 here, not 1e-9
    problems, _ = ref.compare_rows(frame, reference, [None] * len(frame), ours, model.inputs,
                                   precision=1e-6, zero=1e-9)
    assert not problems, "\n".join(problems[:8])


# ------------------------------------------------------------------ pinned examples
# The known differences above, one concrete row each, so a change on either side shows.
def _one(case_id: str, row: dict):
    model, path, _ = _conformance(case_id)
    frame = pd.DataFrame([row])
    reference, errors = ref.jpmml_score(path, frame)
    ours = model.predict(frame, errors="mark")
    return reference, errors[0], ours.iloc[0]


IRIS = {"Sepal_Length": 5.8, "Sepal_Width": 3.0, "Petal_Length": 4.5, "Petal_Width": 1.0}


@needs_corpus
def test_both_reject_an_invalid_value_on_the_scoring_path():
    """returnInvalid, a value outside the Interval of a field the tree reads: both reject."""
    _, err, ours = _one("rattle/DecisionTreeIris", dict(IRIS, Petal_Length=100.0))
    assert err is not None and "Petal_Length" in err
    assert "Petal_Length" in ours["error"]


@needs_corpus
def test_known_difference_lazy_reading():
    """Petal_Width is invalid, but the row goes left at the root (Petal_Length < 2.45), where
    JPMML never reads Petal_Width: it scores the row; portmodel, which checks the whole record
    against the MiningSchema, rejects it (reference_engines.lazy_rejection)."""
    model, _, _ = _conformance("rattle/DecisionTreeIris")
    row = dict(IRIS, Petal_Length=1.4, Petal_Width=99.0)
    reference, err, ours = _one("rattle/DecisionTreeIris", row)
    assert err is None and reference["Species"][0] == "setosa"
    assert "Petal_Width" in ours["error"]
    assert ref.lazy_rejection(model.inputs, row, ours["error"])
    assert not ref.lazy_rejection(model.inputs, dict(row, Petal_Width=1.0), ours["error"])


@needs_corpus
def test_known_difference_blank_number():
    """A blank cell of a numeric field: JPMML fails the row (NumberFormatException), portmodel
    reads it as missing and scores it as the reference scores a missing value."""
    _, err, ours = _one("knime/DecisionTreeIris", dict(IRIS, Petal_Length=""))
    assert err is not None and "NumberFormatException" in err
    reference, err, _ = _one("knime/DecisionTreeIris", dict(IRIS, Petal_Length=None))
    assert err is None and ours["error"] is None
    assert ours["Species"] == reference["Species"][0]


@needs_corpus
def test_integer_field_rejects_a_fraction_even_as_is():
    """knime documents declare integer fields with invalidValueTreatment="asIs": 7.5 cannot be
    kept as an integer, so both engines reject the row (JPMML: TypeCheckException)."""
    row = {"cylinders": 7.5, "displacement": 200.0, "horsepower": 100, "weight": 3000,
           "acceleration": 15.0, "model_year": 75, "origin": 1}
    _, err, ours = _one("knime/PolynomialRegressionAuto", row)
    assert err is not None
    assert "cylinders" in ours["error"] and "not an integer" in ours["error"]
    _, err, ours = _one("knime/PolynomialRegressionAuto", dict(row, cylinders=99))
    assert err is None and ours["error"] is None      # asIs keeps an out-of-range integer


@needs_corpus
def test_missing_categorical_predictor_is_ignored():
    """RegressionModel: a missing CategoricalPredictor input adds nothing to the table (PMML
    Regression; JPMML agrees), a missing NumericPredictor input makes the result missing."""
    row = {"Age": 73.0, "Employment": "Consultant", "Education": "Associate",
           "Marital": "Married", "Occupation": "Transport", "Income": 18173.6,
           "Gender": None, "Deductions": 1848.0, "Hours": 23.0}
    reference, err, ours = _one("rattle/LogisticRegressionAudit", row)
    assert err is None and ours["error"] is None
    assert ours["Probability_1"] == pytest.approx(reference["Probability_1"][0], rel=1e-12)
    reference, err, ours = _one("rattle/LogisticRegressionAudit", dict(row, Age=None))
    assert pd.isna(reference["Probability_1"][0]) and pd.isna(ours["Probability_1"])


@needs_corpus
def test_known_difference_ruleset_without_default_score():
    """No rule fires and the RuleSet has no defaultScore: JPMML raises, portmodel returns a
    missing prediction (defaultScore is optional in PMML 4.4)."""
    _, err, ours = _one("knime/RuleSetIris", dict(IRIS, Petal_Length=None, Petal_Width=None))
    assert err is not None and "defaultScore" in err
    assert ours["error"] is None and pd.isna(ours["Species"])
