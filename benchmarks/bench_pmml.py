"""Side-by-side PMML scoring speed: portmodel vs scikit-learn native vs ONNX Runtime vs pypmml vs
jpmml_evaluator.

    python benchmarks/bench_pmml.py [--rows 100000] [--peer-rows 5000] [--models lr,rf,gbm,...]
                                    [--repeat 5] [--rounds 3] [--peer-warm 5] [--threads N]
                                    [--no-peers] [--no-ort]

Fits the models on synthetic rows (cached in benchmarks/.cache with their sklearn2pmml documents),
then prints rows/second for each engine and the ratios the targets are stated in:
portmodel / sklearn and / ONNX Runtime (targets >= 1) and portmodel / fastest peer (target >= 10).

Every engine runs in its own fresh Python process (this script re-run in a worker mode, one
process per engine per model), and each process regenerates the same seeded rows. portmodel,
scikit-learn and ONNX Runtime take turns: each loads its model and makes one untimed call on the
full data, then, for --rounds rounds, each in turn (the others idle, with a pause between turns so
that threads left spinning by one engine do not slow the next) makes --repeat timed calls; its
rate is its best call over all rounds. A host whose speed drifts over minutes (shared cloud CPUs)
thus slows all three alike, and the ratio of each round is printed as well. The reference engines are
slow, so they score --peer-rows rows: their JVM is first warmed with untimed calls on those rows
(for --peer-warm seconds, or less once the rate stops improving), then the best of 3 calls is
kept; rates are per second either way. Also prints, from a separate fresh process per model,
the first document load time and the best of three later loads; and portmodel's single-record
predict(dict) latency, timed in each of its turns after the batch calls (median of 100 calls,
lowest of 5 such batches; the lowest over the rounds), as ORT's is in its turns.

ONNX Runtime is the engine Python users pick for framework-free scoring: the same fitted
pipeline is converted with skl2onnx (probabilities as a tensor, no ZipMap) and scored in its own
process, the full rows like portmodel (its batch time includes building the float32/string feed
from the DataFrame, as portmodel's includes reading the DataFrame). Its single-record latency is
``session.run`` on a feed built from the record dict each call (one call = what a service does
per request). ORT converts trees and networks to float32, so its largest absolute difference
from scikit-learn's own answers over the rows is printed too (portmodel stays within 1e-9).
jpmml_evaluator's single-record latency (``evaluate(dict)`` in the JVM through jpype, warmed
for --peer-warm seconds first) is the other single-record peer.

Threads: by default portmodel (numba), scikit-learn (BLAS/OpenMP) and ONNX Runtime use all
cores, as a user gets them; --threads N pins all of them to N (NUMBA_NUM_THREADS,
OMP/OPENBLAS/MKL_NUM_THREADS and threadpoolctl; ORT's intra- and inter-op thread pools through
SessionOptions) for an apples-to-apples comparison. The header says which settings were in force.
The JVM peers run with their default settings.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
sys.path.insert(0, str(HERE.parent / "tests"))
warnings.filterwarnings("ignore")

PEER_REPEAT = 3          # timed calls per reference engine (best kept)
TURN_PAUSE_S = 0.3       # between two engines' turns: spinning pool threads go to sleep
RESULT_TAG = "@@bench-result "
THREAD_ENV = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def make_data(rows: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    from sklearn.datasets import make_classification
    X, y = make_classification(n_samples=rows, n_features=20, n_informative=12, n_redundant=4,
                               n_classes=2, random_state=seed)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    rng = np.random.default_rng(seed)
    df["color"] = rng.choice(["red", "green", "blue", "grey"], size=rows)
    df["size"] = np.where(df["x0"] > 0.5, "large", np.where(df["x0"] < -0.5, "small", "medium"))
    return df, y


NUM = [f"x{i}" for i in range(20)]


def columns(name: str) -> list[str]:
    """The input columns of a model (without building it)."""
    return NUM + ["color", "size"] if name == "lr" else NUM


def build(name: str):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.tree import DecisionTreeClassifier
    cols = columns(name)
    if name == "lr":
        return [("prep", ColumnTransformer([("num", StandardScaler(), NUM),
                                            ("cat", OneHotEncoder(), ["color", "size"])])),
                ("clf", LogisticRegression(max_iter=2000))], cols
    if name == "rf":
        return [("clf", RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0,
                                               n_jobs=1))], cols
    if name == "gbm":
        return [("clf", GradientBoostingClassifier(n_estimators=100, max_depth=3,
                                                   random_state=0))], cols
    if name == "dt":
        return [("clf", DecisionTreeClassifier(max_depth=10, random_state=0))], cols
    from sklearn.cluster import KMeans
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC
    if name == "mlp":
        return [("clf", MLPClassifier(hidden_layer_sizes=(32, 16), max_iter=200, random_state=0))], cols
    if name == "svc":
        return [("clf", SVC(kernel="rbf", gamma="scale"))], cols
    if name == "nb":
        return [("clf", GaussianNB())], cols
    if name == "kmeans":
        return [("clf", KMeans(n_clusters=8, n_init=3, random_state=0))], cols
    if name == "knn":
        return [("clf", KNeighborsClassifier(n_neighbors=5))], cols
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


def cache_paths(name: str, rows: int) -> tuple[Path, Path]:
    """The pickled pipeline and its PMML document in the cache."""
    return CACHE / f"{name}_{rows}.pkl", CACHE / f"{name}_{rows}.pmml"


def fitted(name: str, X: pd.DataFrame, y: np.ndarray):
    """The fitted pipeline and its PMML path, from the cache when present."""
    from sklearn2pmml import sklearn2pmml
    from sklearn2pmml.pipeline import PMMLPipeline
    CACHE.mkdir(exist_ok=True)
    pkl, doc = cache_paths(name, len(X))
    steps, cols = build(name)
    if pkl.exists() and doc.exists():
        return pickle.loads(pkl.read_bytes()), doc, cols
    fit_rows = FIT_ROWS.get(name, len(X))
    pipe = PMMLPipeline(steps).fit(X[cols].head(fit_rows), y[:fit_rows])
    sklearn2pmml(pipe, str(doc))
    pkl.write_bytes(pickle.dumps(pipe))
    return pipe, doc, cols


# ---------------------------------------------------------------------------------------- timing

def best_rate(fn: Callable[[], object], rows: int, repeat: int) -> float:
    """rows / fastest of `repeat` timed calls (the caller has warmed up already)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return rows / best


def warm_jvm(fn: Callable[[], object], budget_s: float) -> int:
    """Untimed calls until the JIT has settled; returns the number of calls made.

    The rate of these engines climbs over their first ~15-20 calls of a few thousand rows, and
    every few calls one is slowed by garbage collection, so a plateau is only declared on a wide
    window: stop once the last 10 of at least 20 calls found nothing 3% faster than the calls
    before them, or when `budget_s` is spent (at least one call)."""
    start, times = time.perf_counter(), []
    while True:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if time.perf_counter() - start >= budget_s:
            return len(times)
        if len(times) >= 20 and min(times[-10:]) > 0.97 * min(times[:-10]):
            return len(times)


def latency_us(fn: Callable[[], object], batches: int = 5, n: int = 100) -> float:
    """Median time of a one-record call in microseconds: the lowest median of `batches` batches
    of `n` calls (after 20 untimed ones), so a burst of load from other processes does not
    decide it."""
    for _ in range(20):
        fn()
    medians = []
    for _ in range(batches):
        times = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        medians.append(statistics.median(times))
    return min(medians) * 1e6


# --------------------------------------------------------------------------------------- workers
# Each runs in its own fresh process and returns a JSON-able dict.

def pin_threads(args) -> None:
    """Apply --threads to every BLAS/OpenMP pool loaded so far (numba reads its env var)."""
    if args.threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=args.threads)


def worker_data(args, name: str) -> pd.DataFrame:
    X, _ = make_data(args.rows)
    return X[columns(name)]


def work_info(args, name: str) -> dict:
    """The thread settings a worker gets (numba's pool is started to learn its layer)."""
    import numba
    from threadpoolctl import threadpool_info
    make_data(10)                       # loads the same libraries as the timing workers
    info: dict = {"cpus": len(os.sched_getaffinity(0)),
                  "numba_threads": numba.config.NUMBA_NUM_THREADS}
    try:
        @numba.njit(parallel=True, cache=False)
        def _touch(a):
            s = 0.0
            for i in numba.prange(a.shape[0]):
                s += a[i]
            return s
        _touch(np.ones(64))
        info["numba_layer"] = numba.threading_layer()
    except Exception as exc:  # noqa: BLE001 - reported, not fatal
        info["numba_layer"] = f"? ({type(exc).__name__})"
    pin_threads(args)
    pools: dict[str, set] = {}
    for lib in threadpool_info():
        pools.setdefault(lib["internal_api"], set()).add(lib["num_threads"])
    info["pools"] = {k: sorted(v) for k, v in pools.items()}
    return info


#: what a rate worker's setup gives: the batch call, its rows, results known at setup, and the
#: one-record call whose latency is timed in every turn too (None: not timed)
Setup = tuple[Callable[[], object], int, dict, "Callable[[], object] | None"]


def setup_portmodel(args, name: str) -> Setup:
    import portmodel
    data = worker_data(args, name)
    model = portmodel.load(cache_paths(name, args.rows)[1])
    model.predict(data)                 # warm-up: kernel compiles/cache loads, lazy lowering
    pin_threads(args)
    record = data.iloc[0].to_dict()
    return (lambda: model.predict(data)), len(data), {}, (lambda: model.predict(record))


def setup_sklearn(args, name: str) -> Setup:
    data = worker_data(args, name)
    pipe = pickle.loads(cache_paths(name, args.rows)[0].read_bytes())
    fn = native(name, pipe)
    fn(data)                            # warm-up
    pin_threads(args)
    return (lambda: fn(data)), len(data), {}, None


def take_turns(args, name: str) -> None:
    """The worker side of the rounds: set up (the ready line carries the setup's extra
    results), then for every "go" line on stdin, until end of input, time --repeat batch calls
    and the one-record call's latency."""
    try:
        fn, rows, extra, one = RATE_SETUPS[args.worker](args, name)
    except Exception as exc:  # noqa: BLE001 - a peer that fails is reported, not fatal
        print(RESULT_TAG + json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return
    print(RESULT_TAG + json.dumps(extra), flush=True)
    for line in sys.stdin:
        if line.strip() != "go":
            return
        turn = {"rate": best_rate(fn, rows, args.repeat)}
        if one is not None:
            turn["lat_us"] = latency_us(one)
        print(RESULT_TAG + json.dumps(turn), flush=True)


def _peer(args, name: str, make_fn) -> dict:
    data = worker_data(args, name).head(args.peer_rows)
    try:
        fn = make_fn(str(cache_paths(name, args.rows)[1]), data)
        t = time.perf_counter()
        calls = warm_jvm(fn, args.peer_warm)
        warm_s = time.perf_counter() - t
        return {"rate": best_rate(fn, len(data), PEER_REPEAT), "warm_calls": calls,
                "warm_s": warm_s}
    except Exception as exc:  # noqa: BLE001 - a peer that fails is reported, not fatal
        return {"error": f"{type(exc).__name__}: {exc}"}


def work_pypmml(args, name: str) -> dict:
    def make(doc, data):
        from pypmml import Model as PyPMML
        m = PyPMML.fromFile(doc)
        return lambda: m.predict(data)
    return _peer(args, name, make)


def work_jpmml(args, name: str) -> dict:
    def make(doc, data):
        from jpmml_evaluator import make_evaluator
        ev = make_evaluator(doc).verify()
        return lambda: ev.evaluateAll(data)
    return _peer(args, name, make)


def onnx_session(name: str, pipe, threads: int | None):
    """The pipeline converted by skl2onnx (scikit-learn's own steps, not the PMML wrapper), and
    an ORT session on it. A pipeline with a column transformer takes one input per column (text
    columns are fed as text); the others one float32 matrix "X"."""
    import onnxruntime as ort
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    from sklearn.pipeline import Pipeline
    cols = columns(name)
    plain = Pipeline(list(pipe.steps))
    if per_column(name):
        types = [(c, StringTensorType([None, 1]) if c in ("color", "size") else
                  FloatTensorType([None, 1])) for c in cols]
    else:
        types = [("X", FloatTensorType([None, len(cols)]))]
    options = None if name in ("svc", "kmeans") else {id(plain.steps[-1][1]): {"zipmap": False}}
    onx = convert_sklearn(plain, initial_types=types, options=options, target_opset=17)
    so = ort.SessionOptions()
    if threads:
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = threads
    sess = ort.InferenceSession(onx.SerializeToString(), so, providers=["CPUExecutionProvider"])
    out = [o.name for o in sess.get_outputs()]
    want = out[0] if name in ("svc", "kmeans") else out[-1]     # labels / probabilities
    return sess, want


def per_column(name: str) -> bool:
    """Whether the ONNX graph takes one input per column (else one matrix "X")."""
    return name == "lr"


def _ort_feed(name: str, data: pd.DataFrame) -> dict:
    if not per_column(name):
        return {"X": data.to_numpy(np.float32)}
    return {c: (data[c].to_numpy(np.float32) if data[c].dtype.kind == "f"
                else data[c].to_numpy(object)).reshape(-1, 1) for c in data.columns}


def setup_ort(args, name: str) -> Setup:
    """ORT's batch call, its agreement with scikit-learn, and its one-record call."""
    data = worker_data(args, name)
    pipe = pickle.loads(cache_paths(name, args.rows)[0].read_bytes())
    sess, want = onnx_session(name, pipe, args.threads)
    pin_threads(args)
    run = lambda: sess.run([want], _ort_feed(name, data))[0]   # noqa: E731
    got = run()                                           # warm-up
    ref = np.asarray(native(name, pipe)(data))
    diff = float(np.max(np.abs(got.astype(np.float64).reshape(ref.shape) - ref)))
    record = data.iloc[0].to_dict()
    cols = list(data.columns)
    text = {"color", "size"}

    def one(rec=record):
        # what a service does per request: the record dict becomes ORT's feed
        if per_column(name):
            feed = {c: np.array([[rec[c]]], dtype=object if c in text else np.float32)
                    for c in cols}
        else:
            feed = {"X": np.array([[rec[c] for c in cols]], dtype=np.float32)}
        return sess.run([want], feed)

    return run, len(data), {"diff": diff}, one


def work_jpmml_record(args, name: str) -> dict:
    """jpmml_evaluator's evaluate(dict) latency after its JIT has warmed up on single records."""
    try:
        from jpmml_evaluator import make_evaluator
        data = worker_data(args, name)
        record = data.iloc[0].to_dict()
        ev = make_evaluator(str(cache_paths(name, args.rows)[1])).verify()
        recs = data.head(2000).to_dict("records")
        t = time.perf_counter()
        while time.perf_counter() - t < args.peer_warm:
            for r in recs[:500]:
                ev.evaluate(r)
        return {"lat_us": latency_us(lambda: ev.evaluate(record))}
    except Exception as exc:  # noqa: BLE001
        return {"error": f"{type(exc).__name__}: {exc}"}


def work_load(args, name: str) -> dict:
    """The first load of the document in a fresh process, and the best of three later loads."""
    import portmodel
    doc = cache_paths(name, args.rows)[1]
    t = time.perf_counter()
    model = portmodel.load(doc)
    cold_s = time.perf_counter() - t    # includes first-use imports of the model modules
    load_s = float("inf")
    for _ in range(3):                  # the best of three later loads, as the rates are best-of
        del model                       # freeing a model is not part of loading the next
        gc.collect()
        t = time.perf_counter()
        model = portmodel.load(doc)
        load_s = min(load_s, time.perf_counter() - t)
    return {"cold_s": cold_s, "load_s": load_s}


WORKERS = {"info": work_info, "pypmml": work_pypmml, "jpmml": work_jpmml,
           "load": work_load, "jpmml_record": work_jpmml_record}
#: the engines timed in rounds, taking turns (``take_turns``, ``rates_in_rounds``)
RATE_SETUPS = {"portmodel": setup_portmodel, "sklearn": setup_sklearn, "ort": setup_ort}


def worker_command(kind: str, name: str, args) -> tuple[list[str], dict]:
    """The command line and environment of a worker process."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--models", name,
           "--rows", str(args.rows), "--peer-rows", str(args.peer_rows),
           "--repeat", str(args.repeat), "--peer-warm", str(args.peer_warm)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    env = dict(os.environ)
    if args.threads:
        env.update({k: str(args.threads) for k in THREAD_ENV})
    return cmd, env


def rates_in_rounds(kinds: list[str], name: str, args) -> dict[str, dict]:
    """Each engine's result dict: its setup's extras, "rate" (its best over the rounds),
    "rounds" (its rate per round), and for an engine with a one-record call "lat_us" (its
    lowest over the rounds) and "lat_rounds"; {'error': ...} for an engine that failed. The
    engines' processes start one after another; then, round by round, each in turn times its
    calls while the others wait on their input."""
    procs, res = {}, {}
    try:
        for kind in kinds:
            cmd, env = worker_command(kind, name, args)
            err = tempfile.TemporaryFile(mode="w+")
            proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=err, text=True)
            procs[kind] = (proc, err)
            res[kind] = _tagged_line(proc, err)
        live = [k for k in kinds if "error" not in res[k]]
        for k in live:
            res[k]["rounds"] = []
        for _ in range(args.rounds):
            for kind in list(live):
                time.sleep(TURN_PAUSE_S)
                proc, err = procs[kind]
                proc.stdin.write("go\n")
                proc.stdin.flush()
                got = _tagged_line(proc, err)
                if "error" in got:
                    res[kind] = got
                    live.remove(kind)
                    continue
                res[kind]["rounds"].append(got["rate"])
                if "lat_us" in got:
                    res[kind].setdefault("lat_rounds", []).append(got["lat_us"])
        for k in live:
            res[k]["rate"] = max(res[k]["rounds"])
            if "lat_rounds" in res[k]:
                res[k]["lat_us"] = min(res[k]["lat_rounds"])
    finally:
        for proc, err in procs.values():
            if proc.poll() is None:
                proc.stdin.close()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            err.close()
    return res


def _tagged_line(proc: subprocess.Popen, err) -> dict:
    """The worker's next result line, or {'error': ...} when it exits first."""
    for line in proc.stdout:
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    proc.wait()
    err.seek(0)
    tail = "\n".join(err.read().strip().splitlines()[-5:])
    return {"error": f"worker exited with {proc.returncode}: {tail}"}


def run_worker(kind: str, name: str, args) -> dict:
    """Run one worker in a fresh interpreter; its result dict ({'error': ...} on failure)."""
    cmd, env = worker_command(kind, name, args)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
    return {"error": f"worker exited with {proc.returncode}: {tail}"}


# ------------------------------------------------------------------------------------------ main

def ensure_fitted(names: list[str], rows: int) -> None:
    """Fit and export the models missing from the cache (in this process, before any timing)."""
    missing = [n for n in names if not all(p.exists() for p in cache_paths(n, rows))]
    if missing:
        print(f"fitting and exporting {', '.join(missing)} (cached for next time) ...", flush=True)
        X, y = make_data(rows)
        for name in missing:
            fitted(name, X, y)


def thread_line(info: dict, threads: int | None) -> str:
    pools = ", ".join(f"{api} {'/'.join(map(str, n))}" for api, n in info.get("pools", {}).items())
    mode = f"pinned to {threads} (--threads)" if threads else "all cores (default)"
    numba_threads = info.get("numba_threads", "?")
    return (f"threads: {mode} on {info.get('cpus', '?')} CPUs: numba {numba_threads} "
            f"({info.get('numba_layer', '?')} layer); {pools or 'no BLAS/OpenMP pools found'}; "
            f"ORT intra/inter-op threads {threads or 'default (all cores)'}; "
            "JVM peers: default settings")


def fmt(result: dict, key: str = "rate") -> float:
    return result.get(key, float("nan"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000,
                    help="rows scored by portmodel and sklearn")
    ap.add_argument("--peer-rows", type=int, default=5_000, help="rows scored by pypmml/jpmml")
    ap.add_argument("--models", default="lr,rf,gbm,dt,mlp,svc,nb,kmeans,knn")
    ap.add_argument("--no-peers", action="store_true", help="skip pypmml and jpmml_evaluator")
    ap.add_argument("--no-ort", action="store_true", help="skip ONNX Runtime")
    ap.add_argument("--repeat", type=int, default=5,
                    help="timed calls per round for portmodel, sklearn and ORT")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds in which portmodel, sklearn and ORT take turns")
    ap.add_argument("--peer-warm", type=float, default=5.0, metavar="SECONDS",
                    help="JVM warm-up budget per reference engine and model")
    ap.add_argument("--threads", type=int, default=None,
                    help="pin numba and BLAS/OpenMP to N threads (default: all cores)")
    ap.add_argument("--worker", choices=sorted(WORKERS) + sorted(RATE_SETUPS),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    names = args.models.split(",")
    unknown = [n for n in names if n not in LABELS]
    if unknown:
        ap.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(LABELS)}")

    if args.worker in RATE_SETUPS:
        take_turns(args, names[0])
        return
    if args.worker:
        result = WORKERS[args.worker](args, names[0])
        print(RESULT_TAG + json.dumps(result), flush=True)
        return

    started = time.perf_counter()
    ensure_fitted(names, args.rows)
    info = run_worker("info", names[0], args)
    print(f"timing: portmodel, sklearn and ORT on {args.rows} rows, 1 warm-up call, then "
          f"{args.rounds} rounds of {args.repeat} calls each in turn, best kept; pypmml and "
          f"jpmml on {args.peer_rows} rows, JVM warm-up <= {args.peer_warm:g} s + best of "
          f"{PEER_REPEAT}")
    print(f"        each engine and model in its own fresh process; numba kernels "
          f"{'off' if os.environ.get('PORTMODEL_NO_NUMBA', '') not in ('', '0') else 'on'}; "
          f"load average at start {os.getloadavg()[0]:.1f}")
    print(thread_line(info, args.threads))
    header = (f"{'model':42s} {'portmodel':>11s} {'sklearn':>11s} {'ORT':>11s} {'pypmml':>9s}"
              f" {'jpmml':>9s} {'pm/skl':>7s} {'pm/ORT':>7s} {'pm/peer':>8s}")
    print(header)
    print("-" * len(header), flush=True)
    extra, spread = [], []
    for name in names:
        kinds = ["portmodel", "sklearn"] + ([] if args.no_ort else ["ort"])
        res = rates_in_rounds(kinds, name, args)
        if not args.no_peers:
            res.update({kind: run_worker(kind, name, args) for kind in ("pypmml", "jpmml")})
        for kind, r in res.items():
            if "error" in r:
                print(f"  {name}: {kind} unavailable: {r['error']}", file=sys.stderr)
        pm, sk, ort = fmt(res["portmodel"]), fmt(res["sklearn"]), fmt(res.get("ort", {}))
        peers = [fmt(res[k]) for k in ("pypmml", "jpmml") if k in res and "rate" in res[k]]
        best_peer = max(peers) if peers else float("nan")
        print(f"{LABELS[name]:42s} {pm:11,.0f} {sk:11,.0f} {ort:11,.0f}"
              f" {fmt(res.get('pypmml', {})):9,.0f} {fmt(res.get('jpmml', {})):9,.0f}"
              f" {pm / sk:7.2f} {pm / ort:7.2f} {pm / best_peer:8.1f}", flush=True)
        lat = run_worker("load", name, args)
        if "error" in lat:
            print(f"  {name}: load worker failed: {lat['error']}", file=sys.stderr)
        lat["lat_us"] = res["portmodel"].get("lat_us", float("nan"))
        jrec = {} if args.no_peers else run_worker("jpmml_record", name, args)
        if "error" in jrec:
            print(f"  {name}: jpmml record worker failed: {jrec['error']}", file=sys.stderr)
        extra.append((name, lat, jrec, res.get("ort", {})))
        spread.append((name, res))
    print("\nper round (each engine's best call of the round), portmodel / sklearn and / ORT:")
    for name, res in spread:
        pm = res["portmodel"].get("rounds", [])
        line = [f"{LABELS[name]:42s}"]
        for kind, label in (("sklearn", "pm/skl"), ("ort", "pm/ORT")):
            other = res.get(kind, {}).get("rounds", [])
            if pm and other:
                line.append(f"{label} " + " ".join(f"{a / b:.2f}" for a, b in zip(pm, other)))
        print("  ".join(line))
    print()
    print(f"{'model':42s} {'doc size':>9s} {'1st load s':>10s} {'load s':>7s} "
          f"{'one record us: portmodel':>24s} {'jpmml':>6s} {'ORT':>6s} {'pm/best':>7s} "
          f"{'ORT-skl max diff':>16s}")
    for name, lat, jrec, ort in extra:
        size = cache_paths(name, args.rows)[1].stat().st_size
        pm, jp, on = fmt(lat, "lat_us"), fmt(jrec, "lat_us"), fmt(ort, "lat_us")
        best = min((x for x in (jp, on) if x == x), default=float("nan"))
        print(f"{LABELS[name]:42s} {size / 1e6:8.1f}M {fmt(lat, 'cold_s'):10.2f} "
              f"{fmt(lat, 'load_s'):7.2f} {pm:24.1f} {jp:6.1f} {on:6.1f} {pm / best:7.2f} "
              f"{fmt(ort, 'diff'):16.2e}")
    print("(loads from a fresh process, 1st load including the import of the model modules; "
          "one record: the lowest over the rounds of the median of 100 calls, portmodel and ORT "
          "timed in their turns; ORT's includes building its feed from the record dict)")
    print("\ntargets: pm/skl >= 1, pm/ORT >= 1, pm/peer >= 10, one record pm/best <= 1, "
          f"rf load < 1.5 s\n(run took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
