"""Errors raised by export; each is a ``portmodel.PortmodelError``."""
from __future__ import annotations

from portmodel.errors import PortmodelError


class ExportError(PortmodelError):
    """The estimator or its sample cannot be written as a document."""


class UnsupportedEstimatorError(ExportError):
    """An estimator or transformer (or one of its settings) the writer does not cover."""


class ExportMismatchError(ExportError):
    """The written document does not score like the estimator on the sample."""
