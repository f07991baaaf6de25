"""Side-by-side PMML scoring speed: portmodel vs scikit-learn native vs pypmml vs jpmml_evaluator.

    python benchmarks/bench_pmml.py [--rows 100000] [--peer-rows 5000] [--models lr,rf,gbm,...]

Fits the models on synthetic rows (cached in benchmarks/.cache with their sklearn2pmml documents),
then prints rows/second for each engine and the ratios the targets are stated in:
portmodel / sklearn (target >= 0.5) and portmodel / fastest peer (target >= 10).
The reference engines are slow, so they score --peer-rows rows; rates are per second either way.
Also prints single-record predict(dict) median latency and document load time.
"""
from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
sys.path.insert(0, str(HERE.parent / "tests"))
warnings.filterwarnings("ignore")


def make_data(rows: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    from sklearn.datasets import make_classification
    X, y = make_classification(n_samples=rows, n_features=20, n_informative=12, n_redundant=4,
                               n_classes=2, random_state=seed)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    rng = np.random.default_rng(seed)
    df["color"] = rng.choice(["red", "green", "blue", "grey"], size=rows)
    df["size"] = np.where(df["x0"] > 0.5, "large", np.where(df["x0"] < -0.5, "small", "medium"))
    return df, y


def build(name: str):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.tree import DecisionTreeClassifier
    num = [f"x{i}" for i in range(20)]
    if name == "lr":
        return [("prep", ColumnTransformer([("num", StandardScaler(), num),
                                            ("cat", OneHotEncoder(), ["color", "size"])])),
                ("clf", LogisticRegression(max_iter=2000))], num + ["color", "size"]
    if name == "rf":
        return [("clf", RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0,
                                               n_jobs=1))], num
    if name == "gbm":
        return [("clf", GradientBoostingClassifier(n_estimators=100, max_depth=3,
                                                   random_state=0))], num
    if name == "dt":
        return [("clf", DecisionTreeClassifier(max_depth=10, random_state=0))], num
    from sklearn.cluster import KMeans
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC
    if name == "mlp":
        return [("clf", MLPClassifier(hidden_layer_sizes=(32, 16), max_iter=200, random_state=0))], num
    if name == "svc":
        return [("clf", SVC(kernel="rbf", gamma="scale"))], num
    if name == "nb":
        return [("clf", GaussianNB())], num
    if name == "kmeans":
        return [("clf", KMeans(n_clusters=8, n_init=3, random_state=0))], num
    if name == "knn":
        return [("clf", KNeighborsClassifier(n_neighbors=5))], num
    raise ValueError(name)


#: models fitted on fewer rows (their cost grows with the training set: support vectors, instances)
FIT_ROWS = {"svc": 5_000, "knn": 2_000}


LABELS = {"lr": "logistic regression + scaler + one-hot", "rf": "random forest 100 x depth 8",
          "gbm": "gradient boosting 100 x depth 3", "dt": "decision tree depth 10",
          "mlp": "MLP 32-16", "svc": "SVC rbf (5k training rows)", "nb": "Gaussian naive Bayes",
          "kmeans": "k-means 8 clusters", "knn": "k-neighbors k=5 (2k instances)"}


def native(name: str, pipe):
    """scikit-learn's own scoring call for the model (what the PMML document reproduces)."""
    if name in ("svc", "kmeans"):
        return pipe.predict
    return pipe.predict_proba


def fitted(name: str, X: pd.DataFrame, y: np.ndarray):
    """The fitted pipeline and its PMML path, from the cache when present."""
    from sklearn2pmml import sklearn2pmml
    from sklearn2pmml.pipeline import PMMLPipeline
    CACHE.mkdir(exist_ok=True)
    pkl, doc = CACHE / f"{name}_{len(X)}.pkl", CACHE / f"{name}_{len(X)}.pmml"
    steps, cols = build(name)
    if pkl.exists() and doc.exists():
        return pickle.loads(pkl.read_bytes()), doc, cols
    fit_rows = FIT_ROWS.get(name, len(X))
    pipe = PMMLPipeline(steps).fit(X[cols].head(fit_rows), y[:fit_rows])
    sklearn2pmml(pipe, str(doc))
    pkl.write_bytes(pickle.dumps(pipe))
    return pipe, doc, cols


def rate(fn, rows: int, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return rows / best


def peer_rates(doc: Path, X: pd.DataFrame) -> dict[str, float]:
    out = {}
    try:
        from pypmml import Model as PyPMML
        m = PyPMML.fromFile(str(doc))
        m.predict(X.head(10))
        out["pypmml"] = rate(lambda: m.predict(X), len(X), repeat=1)
    except Exception as exc:  # noqa: BLE001 - a peer that fails is reported, not fatal
        print(f"  pypmml unavailable: {type(exc).__name__}: {exc}", file=sys.stderr)
    try:
        from jpmml_evaluator import make_evaluator
        ev = make_evaluator(str(doc)).verify()
        ev.evaluateAll(X.head(10))
        out["jpmml_evaluator"] = rate(lambda: ev.evaluateAll(X), len(X), repeat=1)
    except Exception as exc:  # noqa: BLE001
        print(f"  jpmml_evaluator unavailable: {type(exc).__name__}: {exc}", file=sys.stderr)
    return out


def latency_us(model, record: dict, n: int = 300) -> float:
    for _ in range(20):
        model.predict(record)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        model.predict(record)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6


def main() -> None:
    import portmodel
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--peer-rows", type=int, default=5_000)
    ap.add_argument("--models", default="lr,rf,gbm,dt,mlp,svc,nb,kmeans,knn")
    ap.add_argument("--no-peers", action="store_true")
    args = ap.parse_args()
    X, y = make_data(args.rows)
    print(f"{args.rows} rows; peers score {args.peer_rows} rows; numba kernels "
          f"{'off' if os.environ.get('PORTMODEL_NO_NUMBA') else 'on'}")
    header = (f"{'model':42s} {'portmodel':>11s} {'sklearn':>11s} {'pypmml':>9s} {'jpmml':>9s}"
              f" {'pm/skl':>7s} {'pm/peer':>8s}")
    print(header)
    print("-" * len(header))
    extra = []
    for name in args.models.split(","):
        pipe, doc, cols = fitted(name, X, y)
        data = X[cols]
        t = time.perf_counter()
        model = portmodel.load(doc)
        cold_s = time.perf_counter() - t      # includes first-use imports and kernel compiles
        t = time.perf_counter()
        model = portmodel.load(doc)
        load_s = time.perf_counter() - t
        model.predict(data.head(100))  # warm caches (numba)
        pm = rate(lambda: model.predict(data), len(data))
        sk = rate(lambda: native(name, pipe)(data), len(data))
        peers = {} if args.no_peers else peer_rates(doc, data.head(args.peer_rows))
        best_peer = max(peers.values()) if peers else float("nan")
        print(f"{LABELS[name]:42s} {pm:11,.0f} {sk:11,.0f} {peers.get('pypmml', float('nan')):9,.0f}"
              f" {peers.get('jpmml_evaluator', float('nan')):9,.0f} {pm / sk:7.2f}"
              f" {pm / best_peer:8.1f}")
        record = data.iloc[0].to_dict()
        extra.append((name, cold_s, load_s, doc.stat().st_size, latency_us(model, record)))
    print()
    print(f"{'model':42s} {'doc size':>10s} {'1st load s':>11s} {'load s':>8s} "
          f"{'predict(dict) median us':>24s}")
    for name, cold_s, load_s, size, lat in extra:
        print(f"{LABELS[name]:42s} {size / 1e6:9.1f}M {cold_s:11.2f} {load_s:8.2f} {lat:24.0f}")
    print("\ntargets: pm/skl >= 0.5, pm/peer >= 10, latency lr <= 100 us, rf <= 300 us, "
          "rf load < 1.5 s")


if __name__ == "__main__":
    main()
