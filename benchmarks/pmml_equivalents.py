"""PMML documents computing what the mixed-field PFA documents of pfa_docs.py compute, so the
PFA benchmark can put the PMML path beside the PFA column path (same inputs, same model).

- logistic regression: a RegressionModel (normalizationMethod logit) whose categorical
  predictors carry the one-hot and ordinal-code coefficients of the PFA feature vector;
- tree: a TreeModel whose nodes hold the PFA test and its complement;
- k-means: a ClusteringModel over derived fields (the same feature vector);
- softmax regression: a RegressionModel (normalizationMethod softmax), one RegressionTable per
  class with the same predictors as the logistic regression;
- neural network: a NeuralNetwork (tanh hidden layer, softmax output) over the derived fields;
- SVM (RBF): a SupportVectorMachineModel (one machine, radial basis kernel; "a" where the
  decision value is below 0), naive Bayes: a NaiveBayesModel with GaussianDistributions
  (threshold 0; priors as counts), k-NN: a NearestNeighborModel (Euclidean over absDiff,
  majority vote), each over the same derived fields.
"""
from __future__ import annotations

import math
from xml.sax.saxutils import quoteattr

from pfa_docs import (COLORS, N_NUM, SIZES, mixed_cluster_doc, mixed_knn_doc,
                      mixed_logistic_doc, mixed_naive_bayes_doc, mixed_neural_doc,
                      mixed_softmax_doc, mixed_svm_doc, mixed_tree_doc)

_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<PMML xmlns="http://www.dmg.org/PMML-4_4" ' \
        'version="4.4"><Header/>'


def _dictionary(target: str | None, target_type: str = "double") -> str:
    fields = [f'<DataField name="x{i}" optype="continuous" dataType="double"/>'
              for i in range(N_NUM)]
    fields.append('<DataField name="nx" optype="continuous" dataType="double"/>')
    fields.append('<DataField name="color" optype="categorical" dataType="string">'
                  + "".join(f"<Value value={quoteattr(c)}/>" for c in COLORS) + "</DataField>")
    fields.append('<DataField name="size" optype="categorical" dataType="string">'
                  + "".join(f"<Value value={quoteattr(s)}/>" for s in SIZES) + "</DataField>")
    fields.append('<DataField name="flag" optype="categorical" dataType="boolean"/>')
    fields.append('<DataField name="count" optype="continuous" dataType="integer"/>')
    if target:
        op = "continuous" if target_type == "double" else "categorical"
        fields.append(f'<DataField name="{target}" optype="{op}" dataType="{target_type}"/>')
    return f"<DataDictionary>{''.join(fields)}</DataDictionary>"


def _mining(target: str | None, names: list[str]) -> str:
    rows = [f'<MiningField name="{target}" usageType="target"/>'] if target else []
    for n in names:
        extra = ' missingValueReplacement="0"' if n == "nx" else ""
        rows.append(f'<MiningField name="{n}"{extra}/>')
    return f"<MiningSchema>{''.join(rows)}</MiningSchema>"


ALL = [f"x{i}" for i in range(N_NUM)] + ["nx", "color", "size", "flag", "count"]


def _predictors(c: list) -> list[str]:
    """The PFA feature vector's coefficients c as PMML predictors (see logistic_pmml)."""
    # feature order (pfa_docs.mixed_features): x0..x7, nx, one-hot colours but the last,
    # the colour's ordinal code, the size's index, flag as +1/-1, count
    k = N_NUM
    preds = [f'<NumericPredictor name="x{i}" coefficient="{c[i]!r}"/>' for i in range(k)]
    preds.append(f'<NumericPredictor name="nx" coefficient="{c[k]!r}"/>')
    for j, col in enumerate(COLORS):
        one_hot = c[k + 1 + j] if j < len(COLORS) - 1 else 0.0
        coeff = one_hot + c[k + len(COLORS)] * j
        preds.append(f'<CategoricalPredictor name="color" value="{col}" coefficient="{coeff!r}"/>')
    base = k + len(COLORS) + 1
    for j, s in enumerate(SIZES):
        preds.append(f'<CategoricalPredictor name="size" value="{s}" coefficient="{c[base] * j!r}"/>')
    preds.append(f'<CategoricalPredictor name="flag" value="true" coefficient="{c[base + 1]!r}"/>')
    preds.append(f'<CategoricalPredictor name="flag" value="false" '
                 f'coefficient="{-c[base + 1]!r}"/>')
    preds.append(f'<NumericPredictor name="count" coefficient="{c[base + 2]!r}"/>')
    return preds


def logistic_pmml() -> bytes:
    doc = mixed_logistic_doc()
    c = doc["cells"]["model"]["init"]["coeff"]
    const = doc["cells"]["model"]["init"]["const"]
    preds = _predictors(c)
    body = (f'<RegressionModel functionName="regression" normalizationMethod="logit">'
            f'{_mining("y", ALL)}<RegressionTable intercept="{const!r}">{"".join(preds)}'
            f"</RegressionTable></RegressionModel>")
    return (_HEAD + _dictionary("y") + body + "</PMML>").encode()


_COMPLEMENT = {"<": ("lessThan", "greaterOrEqual"), "<=": ("lessOrEqual", "greaterThan"),
               ">": ("greaterThan", "lessOrEqual"), ">=": ("greaterOrEqual", "lessThan"),
               "==": ("equal", "notEqual"), "!=": ("notEqual", "equal")}


def tree_pmml() -> bytes:
    doc = mixed_tree_doc()
    out: list[str] = []

    def node(nd: dict, predicate: str) -> None:
        value = next(iter(nd["value"].values()))
        yes, no = _COMPLEMENT[nd["operator"]]
        out.append(f"<Node>{predicate}")
        for op, branch in ((yes, nd["pass"]), (no, nd["fail"])):
            pred = f'<SimplePredicate field="{nd["field"]}" operator="{op}" ' \
                   f'value={quoteattr(str(value))}/>'
            (kind, inner), = branch.items()
            if kind == "string":
                out.append(f'<Node score={quoteattr(inner)}>{pred}</Node>')
            else:
                node(inner, pred)
        out.append("</Node>")

    node(doc["cells"]["tree"]["init"], "<True/>")
    names = [f"x{i}" for i in range(N_NUM)] + ["color"]
    body = (f'<TreeModel functionName="classification" noTrueChildStrategy="returnLastPrediction">'
            f'{_mining("y", names)}{"".join(out)}</TreeModel>')
    return (_HEAD + _dictionary("y", "string") + body + "</PMML>").encode()


def softmax_pmml() -> bytes:
    doc = mixed_softmax_doc()
    model = doc["cells"]["model"]["init"]
    labels = doc["cells"]["labels"]["init"]
    tables = "".join(
        f'<RegressionTable intercept="{b!r}" targetCategory="{lab}">'
        f'{"".join(_predictors(c))}</RegressionTable>'
        for lab, c, b in zip(labels, model["coeff"], model["const"]))
    body = (f'<RegressionModel functionName="classification" normalizationMethod="softmax">'
            f'{_mining("y", ALL)}{tables}</RegressionModel>')
    dictionary = _dictionary("y", "string").replace(
        '<DataField name="y" optype="categorical" dataType="string"/>',
        '<DataField name="y" optype="categorical" dataType="string">'
        + "".join(f'<Value value="{lab}"/>' for lab in labels) + "</DataField>")
    return (_HEAD + dictionary + body + "</PMML>").encode()


def _derived() -> tuple[list[str], list[str]]:
    """(DerivedFields, names of the feature vector) for the PFA feature vector."""
    k = N_NUM
    derived = [f'<DerivedField name="oh_{c}" optype="continuous" dataType="double">'
               f'<NormDiscrete field="color" value="{c}"/></DerivedField>'
               for c in COLORS[:-1]]
    derived.append('<DerivedField name="code" optype="continuous" dataType="double"><MapValues '
                   'outputColumn="v"><FieldColumnPair field="color" column="k"/><InlineTable>'
                   + "".join(f"<row><k>{c}</k><v>{i}</v></row>" for i, c in enumerate(COLORS))
                   + "</InlineTable></MapValues></DerivedField>")
    derived.append('<DerivedField name="size_ix" optype="continuous" dataType="double"><MapValues '
                   'outputColumn="v"><FieldColumnPair field="size" column="k"/><InlineTable>'
                   + "".join(f"<row><k>{s}</k><v>{i}</v></row>" for i, s in enumerate(SIZES))
                   + "</InlineTable></MapValues></DerivedField>")
    derived.append('<DerivedField name="flag_pm" optype="continuous" dataType="double"><MapValues '
                   'outputColumn="v"><FieldColumnPair field="flag" column="k"/><InlineTable>'
                   '<row><k>true</k><v>1</v></row><row><k>false</k><v>-1</v></row>'
                   '</InlineTable></MapValues></DerivedField>')
    feats = [f"x{i}" for i in range(k)] + ["nx"] + [f"oh_{c}" for c in COLORS[:-1]] + \
        ["code", "size_ix", "flag_pm", "count"]
    return derived, feats


def neural_pmml() -> bytes:
    doc = mixed_neural_doc()
    hidden, out = doc["cells"]["nn"]["init"]
    derived, feats = _derived()
    by_name = {d.split('"')[1]: d for d in derived}
    inputs = []
    for i, f in enumerate(feats):
        inner = by_name.get(f, f'<DerivedField name="in_{f}" optype="continuous" '
                               f'dataType="double"><FieldRef field="{f}"/></DerivedField>')
        inputs.append(f'<NeuralInput id="i{i}">{inner}</NeuralInput>')

    def layer(params: dict, prefix: str, src: str, n_in: int, extra: str = "") -> str:
        neurons = "".join(
            f'<Neuron id="{prefix}{j}" bias="{b!r}">'
            + "".join(f'<Con from="{src}{i}" weight="{w!r}"/>' for i, w in enumerate(row))
            + "</Neuron>" for j, (row, b) in enumerate(zip(params["weights"], params["bias"])))
        return f"<NeuralLayer{extra}>{neurons}</NeuralLayer>"

    outputs = "".join(
        f'<NeuralOutput outputNeuron="o{j}"><DerivedField optype="categorical" '
        f'dataType="string"><NormDiscrete field="y" value="{j}"/></DerivedField></NeuralOutput>'
        for j in range(len(out["bias"])))
    body = (f'<NeuralNetwork functionName="classification" activationFunction="tanh">'
            f'{_mining("y", ALL)}<NeuralInputs>{"".join(inputs)}</NeuralInputs>'
            f'{layer(hidden, "h", "i", len(feats))}'
            f'{layer(out, "o", "h", len(hidden["bias"]), chr(32) + "activationFunction=" + chr(34) + "identity" + chr(34) + " normalizationMethod=" + chr(34) + "softmax" + chr(34))}'
            f"<NeuralOutputs>{outputs}</NeuralOutputs></NeuralNetwork>")
    dictionary = _dictionary("y", "string").replace(
        '<DataField name="y" optype="categorical" dataType="string"/>',
        '<DataField name="y" optype="categorical" dataType="string">'
        + "".join(f'<Value value="{j}"/>' for j in range(len(out["bias"]))) + "</DataField>")
    return (_HEAD + dictionary + body + "</PMML>").encode()


def cluster_pmml() -> bytes:
    doc = mixed_cluster_doc()
    clusters = doc["cells"]["clusters"]["init"]
    derived, feats = _derived()
    fields = "".join(f'<ClusteringField field="{f}"/>' for f in feats)
    cl = "".join(f'<Cluster id="{c["id"]}" name="{c["id"]}"><Array n="{len(c["center"])}" '
                 f'type="real">{" ".join(repr(v) for v in c["center"])}</Array></Cluster>'
                 for c in clusters)
    body = (f'<ClusteringModel functionName="clustering" modelClass="centerBased" '
            f'numberOfClusters="{len(clusters)}">{_mining(None, ALL)}'
            f'<LocalTransformations>{"".join(derived)}</LocalTransformations>'
            f'<ComparisonMeasure kind="distance"><squaredEuclidean/></ComparisonMeasure>'
            f'{fields}{cl}</ClusteringModel>')
    return (_HEAD + _dictionary(None) + body + "</PMML>").encode()


def _categorical_target(labels: list[str]) -> str:
    return _dictionary("y", "string").replace(
        '<DataField name="y" optype="categorical" dataType="string"/>',
        '<DataField name="y" optype="categorical" dataType="string">'
        + "".join(f"<Value value={quoteattr(v)}/>" for v in labels) + "</DataField>")


def _local() -> tuple[str, list[str]]:
    derived, feats = _derived()
    return f"<LocalTransformations>{''.join(derived)}</LocalTransformations>", feats


def svm_pmml() -> bytes:
    doc = mixed_svm_doc()
    machine = doc["cells"]["machines"]["init"][0]
    svs = machine["posClass"]
    gamma = doc["action"][1]["let"]["scores"]["a.map"][1]["do"]["model.svm.score"][2]["do"][
        "m.kernel.rbf"][2]["double"]
    local, feats = _local()
    fields = "".join(f'<FieldRef field="{f}"/>' for f in feats)
    vectors = "".join(f'<VectorInstance id="v{i}"><Array n="{len(sv["supVec"])}" type="real">'
                      f'{" ".join(repr(v) for v in sv["supVec"])}</Array></VectorInstance>'
                      for i, sv in enumerate(svs))
    machine_xml = (
        '<SupportVectorMachine targetCategory="a" alternateTargetCategory="b">'
        f'<SupportVectors numberOfSupportVectors="{len(svs)}" numberOfAttributes="{len(feats)}">'
        + "".join(f'<SupportVector vectorId="v{i}"/>' for i in range(len(svs)))
        + f'</SupportVectors><Coefficients numberOfCoefficients="{len(svs)}" '
        f'absoluteValue="{machine["const"]!r}">'
        + "".join(f'<Coefficient value="{sv["coeff"]!r}"/>' for sv in svs)
        + "</Coefficients></SupportVectorMachine>")
    body = (f'<SupportVectorMachineModel functionName="classification" '
            f'classificationMethod="OneAgainstOne">{_mining("y", ALL)}{local}'
            f'<RadialBasisKernelType gamma="{gamma!r}"/>'
            f'<VectorDictionary numberOfVectors="{len(svs)}"><VectorFields '
            f'numberOfFields="{len(feats)}">{fields}</VectorFields>{vectors}</VectorDictionary>'
            f"{machine_xml}</SupportVectorMachineModel>")
    return (_HEAD + _categorical_target(["a", "b"]) + body + "</PMML>").encode()


def naive_bayes_pmml() -> bytes:
    doc = mixed_naive_bayes_doc()
    labels = doc["cells"]["labels"]["init"]
    classes = doc["cells"]["classes"]["init"]
    priors = [math.exp(t["+"][0]["double"]) for t in doc["action"][1]["let"]["jll"]["new"]]
    local, feats = _local()
    inputs = "".join(
        f'<BayesInput fieldName="{f}"><TargetValueStats>'
        + "".join(f'<TargetValueStat value="{lab}"><GaussianDistribution '
                  f'mean="{cls[j]["mean"]!r}" variance="{cls[j]["variance"]!r}"/>'
                  f"</TargetValueStat>" for lab, cls in zip(labels, classes))
        + "</TargetValueStats></BayesInput>" for j, f in enumerate(feats))
    counts = "".join(f'<TargetValueCount value="{lab}" count="{p * 1e6!r}"/>'
                     for lab, p in zip(labels, priors))
    body = (f'<NaiveBayesModel functionName="classification" threshold="0">'
            f'{_mining("y", ALL)}{local}<BayesInputs>{inputs}</BayesInputs>'
            f'<BayesOutput fieldName="y"><TargetValueCounts>{counts}</TargetValueCounts>'
            f"</BayesOutput></NaiveBayesModel>")
    return (_HEAD + _categorical_target(labels) + body + "</PMML>").encode()


def knn_pmml() -> bytes:
    doc = mixed_knn_doc()
    labels = doc["cells"]["labels"]["init"]
    rows = doc["cells"]["codebook"]["init"]
    k = doc["action"][0]["let"]["near"]["model.neighbor.nearestK"][0]
    local, feats = _local()
    cols = [f"c{j}" for j in range(len(feats))]
    instance_fields = "".join(f'<InstanceField field="{f}" column="{c}"/>'
                              for f, c in zip(feats, cols)) + \
        '<InstanceField field="y" column="label"/>'
    table = "".join("<row>" + "".join(f"<{c}>{v!r}</{c}>" for c, v in zip(cols, r[:-1]))
                    + f"<label>{labels[int(r[-1])]}</label></row>" for r in rows)
    inputs = "".join(f'<KNNInput field="{f}" compareFunction="absDiff"/>' for f in feats)
    body = (f'<NearestNeighborModel functionName="classification" numberOfNeighbors="{k}" '
            f'categoricalScoringMethod="majorityVote">{_mining("y", ALL)}{local}'
            f'<TrainingInstances><InstanceFields>{instance_fields}</InstanceFields>'
            f"<InlineTable>{table}</InlineTable></TrainingInstances>"
            f'<ComparisonMeasure kind="distance"><euclidean/></ComparisonMeasure>'
            f"<KNNInputs>{inputs}</KNNInputs></NearestNeighborModel>")
    return (_HEAD + _categorical_target(labels) + body + "</PMML>").encode()


PMML_EQUIVALENTS = {"logistic regression": logistic_pmml, "tree depth 10": tree_pmml,
                    "k-means": cluster_pmml, "softmax regression": softmax_pmml,
                    "neural network": neural_pmml, "SVM (RBF)": svm_pmml,
                    "naive Bayes": naive_bayes_pmml, "k-NN": knn_pmml}
