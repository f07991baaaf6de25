"""One module per PMML model type; each registers its compiler with ``base.register``."""
import importlib

_MODULES = ("regression", "tree", "general_regression", "mining", "neural_network", "naive_bayes",
            "support_vector_machine", "clustering", "rule_set", "association", "scorecard",
            "nearest_neighbor", "baseline", "time_series", "gaussian_process", "anomaly_detection",
            "text")
_loaded = False


def load_all() -> None:
    """Import every model module once (they register themselves)."""
    global _loaded
    if _loaded:
        return
    for name in _MODULES:
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:  # a model module not written yet
            if exc.name != f"{__name__}.{name}":
                raise
    _loaded = True
