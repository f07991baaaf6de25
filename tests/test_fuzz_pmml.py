"""Property test: mutated real documents never make anything but portmodel's own errors escape.

Documents: samples/ and a selection of the shared conformance corpus (one small document per
model type, plus documents with transformations). A mutation changes attribute values (numbers
to junk, huge, negative, NaN or empty; words to bogus ones), or deletes or duplicates elements.
``portmodel.load`` and ``model.predict`` on the document's own sample inputs may raise only
``portmodel.errors`` exceptions (and warn); never ValueError, TypeError, IndexError,
MemoryError, RecursionError, ...
"""
from __future__ import annotations

import copy
import warnings
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from lxml import etree  # noqa: E402

import portmodel  # noqa: E402
from portmodel.errors import PortmodelError  # noqa: E402

from conformance_util import SHARED, cases, load_input  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SAMPLE_DOCS = {"iris_tree.pmml": "iris.csv", "iris_forest.pmml": "iris.csv",
               "diabetes_linear.pmml": "diabetes.csv"}
CORPUS_IDS = ["rattle/KMeansIris", "rattle/GeneralRegressionVersicolor", "knime/KMeansEnsembleIris",
              "rattle/NaiveBayesIris", "rattle/NeuralNetworkIris", "rattle/LogisticRegressionIris",
              "knime/RuleSetIris", "rattle/LibSVMIris", "rattle/DecisionTreeIris",
              "rattle/DecisionTreeXformIris", "rattle/RegressionXformAuto",
              "rattle/GeneralRegressionXformAuto", "knime/GeneralRegressionIris",
              "rattle/CoxRegressionLung", "knime/ModelEnsembleIris", "knime/NeuralNetworkIris",
              "rattle/HierarchicalClusteringIris", "knime/SupportVectorMachineIris"]
ROWS = 12

JUNK = ["", "abc", "-1", "0", "1.5", "-0.5", "1e308", "-1e308", "NaN", "INF", "-INF",
        "3000000000", "99999999999999999999", "2147483648", " ", "1,5", "true", "bogus", "x y"]


@lru_cache(maxsize=None)
def documents() -> list[tuple[str, bytes, object]]:
    """(name, document bytes, sample input) of each document the test mutates."""
    docs = []
    for name, csv in SAMPLE_DOCS.items():
        frame = pd.read_csv(SAMPLES / csv, dtype=str, keep_default_na=False,
                            na_values=["NA", "N/A", ""]).head(ROWS)
        docs.append((name, (SAMPLES / name).read_bytes(), frame))
    wanted = set(CORPUS_IDS)
    for case in cases():
        if case["id"] in wanted:
            data = load_input(case)
            data = data.head(ROWS) if isinstance(data, pd.DataFrame) else data[:ROWS]
            docs.append((case["id"], (SHARED / case["document"]).read_bytes(), data))
    return docs


@lru_cache(maxsize=None)
def parsed(index: int):
    """The document's tree (namespaces kept) and its elements, document order, root excluded."""
    root = etree.fromstring(documents()[index][1], etree.XMLParser(remove_comments=True))
    return root


def mutate(root, steps: list[tuple[int, int, int, int]]) -> bytes:
    """Apply mutations to a copy of root: (kind, element pick, attribute pick, value pick)."""
    root = copy.deepcopy(root)
    for kind, e_pick, a_pick, v_pick in steps:
        elements = [e for e in root.iter() if isinstance(e.tag, str) and e is not root]
        if not elements:
            break
        el = elements[e_pick % len(elements)]
        if kind == 0 or kind == 1:         # an attribute value becomes junk (or a bogus word)
            names = list(el.attrib)
            if not names:
                continue
            name = names[a_pick % len(names)]
            value = JUNK[v_pick % len(JUNK)] if kind == 0 else el.attrib[name] + "_bogus"
            el.set(name, value)
        elif kind == 2:                    # an attribute disappears
            names = list(el.attrib)
            if names:
                del el.attrib[names[a_pick % len(names)]]
        elif kind == 3:                    # an element disappears
            el.getparent().remove(el)
        elif kind == 4:                    # an element is duplicated
            el.addnext(copy.deepcopy(el))
        else:                              # element text becomes junk
            el.text = JUNK[v_pick % len(JUNK)]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


STEP = st.tuples(st.integers(0, 5), st.integers(0, 10 ** 6), st.integers(0, 50),
                 st.integers(0, len(JUNK) - 1))


def exercise(doc: bytes, data) -> None:
    """Load and score; only portmodel's errors may leave."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = portmodel.load(doc, timeout=30)
        except PortmodelError:
            return
        for errors in ("mark", "raise"):
            try:
                model.predict(data, errors=errors)
            except PortmodelError:
                pass
        rows = data.to_dict("records") if isinstance(data, pd.DataFrame) else data
        record = {k: (None if isinstance(v, float) and v != v else v) for k, v in rows[0].items()}
        try:
            model.predict(record)
        except PortmodelError:
            pass


@pytest.mark.skipif(not cases(), reason="../shared/conformance is absent: only samples/ are "
                                        "fuzzed by the other test")
@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(index=st.integers(0, 200), steps=st.lists(STEP, min_size=1, max_size=3))
def test_mutated_documents_raise_only_portmodel_errors(index, steps):
    docs = documents()
    index %= len(docs)
    exercise(mutate(parsed(index), steps), docs[index][2])


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(SAMPLE_DOCS) - 1), steps=st.lists(STEP, min_size=1, max_size=3))
def test_mutated_samples_raise_only_portmodel_errors(index, steps):
    exercise(mutate(parsed(index), steps), documents()[index][2])
