"""Export builds SVM, naive Bayes, clustering and k-NN bodies as object-model values: the
document the writer is given holds no fragment, and it is the object model that reading the
written document gives back (every attribute built with the type the reader gives it, so
write -> read is the identity on it)."""
from __future__ import annotations

import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import load_diabetes, load_iris
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.svm import SVC, SVR

import portmodel
from portmodel.export import pmml_writer
from portmodel.pmml import objects
from portmodel.pmml.objects import Fragment, Model
from portmodel.pmml.objects import clustering as oc
from portmodel.pmml.objects import naive_bayes as onb
from portmodel.pmml.objects import svm as osvm


def _iris():
    data = load_iris(as_frame=True)
    return data.data, data.target.map(dict(enumerate(data.target_names))).rename("species")


def _diabetes():
    data = load_diabetes(as_frame=True)
    return data.data.iloc[:200], data.target.iloc[:200].rename("progression")


CASES = {
    "svc_rbf": (lambda: SVC(kernel="rbf"), _iris, (osvm.RadialBasisKernelType,
                                                   osvm.VectorDictionary,
                                                   osvm.SupportVectorMachine)),
    "svc_poly": (lambda: SVC(kernel="poly"), _iris, (osvm.PolynomialKernelType,)),
    "svr_sigmoid": (lambda: SVR(kernel="sigmoid"), _diabetes, (osvm.SigmoidKernelType,)),
    "svr_linear": (lambda: SVR(kernel="linear"), _diabetes, (osvm.LinearKernelType,)),
    "gaussian_nb": (GaussianNB, _iris, (onb.BayesInputs, onb.BayesOutput)),
    "kmeans": (lambda: KMeans(3, n_init=2, random_state=0), _iris,
               (oc.ComparisonMeasure, oc.ClusteringField, oc.Cluster)),
    "knn_classifier": (lambda: KNeighborsClassifier(5, weights="distance"), _iris,
                       (oc.TrainingInstances, oc.ComparisonMeasure, oc.KNNInputs)),
    "knn_regressor_minkowski": (lambda: KNeighborsRegressor(3, p=3), _diabetes,
                                (oc.TrainingInstances, oc.KNNInputs)),
}


def _fragments(model: Model) -> list:
    """Every Fragment in the model's content (nested typed nodes included; Extensions are
    fragments by design and are not model content an exporter writes)."""
    found = []
    for m in model.models():
        for part in m.content:
            if isinstance(part, Fragment):
                found.append(part)
            elif not isinstance(part, Model):
                found += [v for n in part.walk() for c in n.XML.children
                          for v in _values(getattr(n, c.py), c.many) if isinstance(v, Fragment)]
    return found


def _values(value, many: bool) -> tuple:
    if value is None:
        return ()
    return value if many else (value,)


@pytest.mark.parametrize("name", list(CASES))
def test_export_builds_typed_bodies(name, monkeypatch):
    make, data, body_classes = CASES[name]
    X, y = data()
    est = make()
    est.fit(X) if name == "kmeans" else est.fit(X, y)
    built = []
    to_bytes = pmml_writer.to_bytes
    monkeypatch.setattr(pmml_writer, "to_bytes", lambda d: built.append(d) or to_bytes(d))
    text = portmodel.export(est, None, X)
    model = built[-1].model
    assert _fragments(model) == []
    for cls in body_classes:
        assert model.body(cls), cls.__name__
    # what was built is what the written document reads back as
    assert objects.read(text.encode() if isinstance(text, str) else text).model == model
