"""Fixtures shared by several test files. Keep this small: topic helpers live in their own files."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


def build_pmml(fields: str, model: str, version: str = "4.4", transformations: str = "") -> str:
    """A small PMML document: DataField elements, one model element, optional global
    DerivedFields. The namespace follows the version (PMML 3.0 - 4.4)."""
    ns = f"http://www.dmg.org/PMML-{version.replace('.', '_')}"
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<PMML xmlns="{ns}" version="{version}">',
             '<Header copyright="portmodel tests"/>',
             "<DataDictionary>", fields.strip(), "</DataDictionary>"]
    if transformations:
        parts += ["<TransformationDictionary>", transformations.strip(),
                  "</TransformationDictionary>"]
    parts += [model.strip(), "</PMML>"]
    return "\n".join(parts) + "\n"


@pytest.fixture(params=["numba", "numpy"])
def backend(request, monkeypatch) -> str:
    """Each kernel test twice: with the numba kernels, and with their numpy twins
    (PORTMODEL_NO_NUMBA=1), which must give the same numbers."""
    if request.param == "numba":
        pytest.importorskip("numba")
        monkeypatch.delenv("PORTMODEL_NO_NUMBA", raising=False)
    else:
        monkeypatch.setenv("PORTMODEL_NO_NUMBA", "1")
    return request.param


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The project's samples/ folder (small sklearn2pmml documents and their CSV data)."""
    return SAMPLES


@pytest.fixture(scope="session")
def pmml_doc():
    """build_pmml(fields, model, version="4.4", transformations="") -> document text."""
    return build_pmml


@pytest.fixture(scope="session")
def fitted(tmp_path_factory):
    """scikit-learn pipelines fitted on its bundled data sets and exported with sklearn2pmml
    (see sklearn_models.py); skipped where scikit-learn, sklearn2pmml or Java is missing."""
    pytest.importorskip("sklearn")
    from sklearn_models import fit_and_export, require_exporter
    require_exporter()
    return fit_and_export(tmp_path_factory.mktemp("sklearn_pmml"))

