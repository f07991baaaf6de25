"""GaussianProcessModel: posterior means and predictive standard errors against scikit-learn's
GaussianProcessRegressor where the kernels map exactly (ARD and isotropic squared exponential
plus white noise), the other kernels against the posterior worked out with numpy here, and a
two-instance example (the one published with the GaussianProcessModel proposal) by hand."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import portmodel
from portmodel.errors import DocumentError, UnsupportedError

RNG = np.random.default_rng(7)
X_TRAIN = RNG.uniform(-2, 2, (25, 2))
Y_TRAIN = np.sin(X_TRAIN[:, 0]) + 0.3 * X_TRAIN[:, 1] ** 2 + RNG.normal(0, 0.05, 25)
X_TEST = np.vstack([RNG.uniform(-3, 3, (15, 2)), X_TRAIN[:3]])


def doc(kernel: str, X=X_TRAIN, y=Y_TRAIN, function: str = "regression") -> str:
    rows = "".join(f"<row><a>{float(p)!r}</a><b>{float(q)!r}</b><t>{float(v)!r}</t></row>"
                   for (p, q), v in zip(X, y))
    return f"""<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary>
  <DataField name="x1" optype="continuous" dataType="double"/>
  <DataField name="x2" optype="continuous" dataType="double"/>
  <DataField name="y" optype="continuous" dataType="double"/>
</DataDictionary>
<GaussianProcessModel functionName="{function}" optimizer="Max-Likelihood">
  <MiningSchema><MiningField name="x1"/><MiningField name="x2"/>
    <MiningField name="y" usageType="target"/></MiningSchema>
  <Output><OutputField name="mean" optype="continuous" dataType="double" feature="predictedValue"/>
    <OutputField name="se" optype="continuous" dataType="double" feature="standardError"/></Output>
  {kernel}
  <TrainingInstances recordCount="{len(y)}" fieldCount="3" isTransformed="false">
    <InstanceFields><InstanceField field="x1" column="a"/><InstanceField field="x2" column="b"/>
      <InstanceField field="y" column="t"/></InstanceFields>
    <InlineTable>{rows}</InlineTable>
  </TrainingInstances>
</GaussianProcessModel></PMML>"""


def predict(document: str, X=X_TEST) -> pd.DataFrame:
    return portmodel.load(document).predict(pd.DataFrame(X, columns=["x1", "x2"]))


def sklearn_gp(kernel):
    from sklearn.gaussian_process import GaussianProcessRegressor
    return GaussianProcessRegressor(kernel=kernel, optimizer=None, alpha=0.0).fit(X_TRAIN, Y_TRAIN)


def test_ard_squared_exponential_matches_sklearn():
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
    gamma, lam, noise = 1.7, [0.8, 1.9], 0.02
    gp = sklearn_gp(ConstantKernel(gamma, "fixed") * RBF(lam, "fixed") + WhiteKernel(noise, "fixed"))
    out = predict(doc(f'<ARDSquaredExponentialKernel gamma="{gamma}" noiseVariance="{noise}">'
                      f'<Lambda><Array n="2" type="real">{lam[0]} {lam[1]}</Array></Lambda>'
                      "</ARDSquaredExponentialKernel>"))
    mean, std = gp.predict(X_TEST, return_std=True)
    np.testing.assert_allclose(out["mean"], mean, rtol=0, atol=1e-9)
    np.testing.assert_allclose(out["se"], std, rtol=0, atol=1e-9)


def test_radial_basis_matches_sklearn():
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
    gp = sklearn_gp(ConstantKernel(0.9, "fixed") * RBF(1.3, "fixed") + WhiteKernel(0.1, "fixed"))
    out = predict(doc('<RadialBasisKernel gamma="0.9" noiseVariance="0.1" lambda="1.3"/>'))
    mean, std = gp.predict(X_TEST, return_std=True)
    np.testing.assert_allclose(out["mean"], mean, rtol=0, atol=1e-9)
    np.testing.assert_allclose(out["se"], std, rtol=0, atol=1e-9)


def posterior(k, noise: float, gamma: float):
    """Mean and predictive sd from a kernel function k(x, z) on single points, with numpy."""
    K = np.array([[k(p, q) for q in X_TRAIN] for p in X_TRAIN]) + noise * np.eye(len(X_TRAIN))
    Ks = np.array([[k(p, q) for q in X_TRAIN] for p in X_TEST])
    Kinv = np.linalg.inv(K)
    mean = Ks @ Kinv @ Y_TRAIN
    var = gamma + noise - np.einsum("ij,jk,ik->i", Ks, Kinv, Ks)
    return mean, np.sqrt(var)


@pytest.mark.parametrize("element, kfun", [
    ('<AbsoluteExponentialKernel gamma="1.4" noiseVariance="0.05"><Lambda><Array n="2" type="real">0.7 2.5</Array></Lambda></AbsoluteExponentialKernel>',
     lambda p, q: 1.4 * math.exp(-(abs(p[0] - q[0]) / 0.7 + abs(p[1] - q[1]) / 2.5))),
    ('<GeneralizedExponentialKernel gamma="1.4" noiseVariance="0.05" degree="1.5"><Lambda><Array n="2" type="real">0.7 2.5</Array></Lambda></GeneralizedExponentialKernel>',
     lambda p, q: 1.4 * math.exp(-((abs(p[0] - q[0]) / 0.7) ** 1.5 + (abs(p[1] - q[1]) / 2.5) ** 1.5))),
])
def test_exponential_kernels_by_formula(element, kfun):
    mean, sd = posterior(kfun, 0.05, 1.4)
    out = predict(doc(element))
    np.testing.assert_allclose(out["mean"], mean, rtol=0, atol=1e-9)
    np.testing.assert_allclose(out["se"], sd, rtol=0, atol=1e-9)


SPEC = ('<ARDSquaredExponentialKernel gamma="2.4890" noiseVariance="0.0110"><Lambda>'
        '<Array n="2" type="real">1.5164 59.3113</Array></Lambda></ARDSquaredExponentialKernel>')


def test_spec_two_instance_example():
    X, y = np.array([[1.0, 3.0], [2.0, 6.0]]), np.array([1.0, 2.0])
    g, s2, l1, l2 = 2.4890, 0.0110, 1.5164, 59.3113

    def k(p, q):
        return g * math.exp(-0.5 * ((p[0] - q[0]) ** 2 / l1 ** 2 + (p[1] - q[1]) ** 2 / l2 ** 2))
    # 2 x 2 inverse by hand: [[a, b], [b, a]]^-1 = [[a, -b], [-b, a]] / (a^2 - b^2)
    a, b = g + s2, k(X[0], X[1])
    new = (1.0, 4.0)
    k1, k2 = k(new, X[0]), k(new, X[1])
    det = a * a - b * b
    mean = (k1 * (a * y[0] - b * y[1]) + k2 * (a * y[1] - b * y[0])) / det
    var = a - (a * k1 * k1 - 2 * b * k1 * k2 + a * k2 * k2) / det
    out = predict(doc(SPEC, X, y), X=[new])
    assert out["mean"][0] == pytest.approx(mean, rel=1e-12)
    assert out["se"][0] == pytest.approx(math.sqrt(var), rel=1e-12)


def test_missing_input_gives_no_prediction():
    out = predict(doc(SPEC), X=[[0.5, None], [0.5, 0.5]])
    assert pd.isna(out["mean"][0]) and pd.isna(out["se"][0]) and pd.notna(out["mean"][1])


@pytest.mark.parametrize("kernel, function, error", [
    ('<ARDSquaredExponentialKernel><Lambda><Array n="3" type="real">1 2 3</Array></Lambda></ARDSquaredExponentialKernel>',
     "regression", DocumentError),
    ("", "regression", DocumentError),
    (SPEC + "<Surprise/>", "regression", UnsupportedError),
    (SPEC, "classification", UnsupportedError),
])
def test_load_errors(kernel, function, error):
    with pytest.raises(error):
        portmodel.load(doc(kernel, function=function))


def test_table_locator_is_unsupported():
    d = doc(SPEC)
    start, end = d.index("<InlineTable>"), d.index("</InlineTable>") + len("</InlineTable>")
    with pytest.raises(UnsupportedError, match="TableLocator"):
        portmodel.load(d[:start] + "<TableLocator/>" + d[end:])
