"""portmodel.pmml: PMML 3.0 - 4.4 documents compiled into vectorized column plans."""
from .document import PMMLModel, load_pmml

__all__ = ["PMMLModel", "load_pmml"]
