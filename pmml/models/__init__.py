"""One module per PMML model type; each registers its compiler with ``base.register``.

Modules are imported on first use of their model type, so loading a tree does not pay for
importing the neural network or naive Bayes code (and their dependencies).
"""
import importlib

#: model element -> module that compiles it
MODULE_OF = {
    "RegressionModel": "regression",
    "TreeModel": "tree",
    "GeneralRegressionModel": "general_regression",
    "MiningModel": "mining",
    "NeuralNetwork": "neural_network",
    "NaiveBayesModel": "naive_bayes",
    "SupportVectorMachineModel": "support_vector_machine",
    "ClusteringModel": "clustering",
    "RuleSetModel": "rule_set",
    "AssociationModel": "association",
    "Scorecard": "scorecard",
    "NearestNeighborModel": "nearest_neighbor",
    "BaselineModel": "baseline",
    "TimeSeriesModel": "time_series",
    "GaussianProcessModel": "gaussian_process",
    "AnomalyDetectionModel": "anomaly_detection",
    "TextModel": "text",
}


def load_for(tag: str) -> None:
    """Import the module that registers a compiler for this model element, if there is one."""
    name = MODULE_OF.get(tag)
    if name is not None:
        importlib.import_module(f"{__name__}.{name}")


def load_all() -> None:
    """Import every model module (for tools that list what is supported)."""
    for tag in MODULE_OF:
        load_for(tag)
