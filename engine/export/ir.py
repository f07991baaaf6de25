"""The format-neutral intermediate form both writers consume.

A fitted pipeline becomes:

- ``InputField``s (name, data type, categories) read from the sample frame;
- ``Derived`` fields, each an expression over earlier fields (the transformers' work);
- one model spec (``LinearSpec``, ``TreeSpec``, ``EnsembleSpec``, ...) over field names;
- the outputs: the target and, for classifiers, one probability per class.

Expressions are small frozen dataclasses whose vocabulary is PMML's built-in functions
(``+``, ``*``, ``if``, ``isMissing``, ...) plus the few shapes both formats have a direct
form for (one-hot indicator, lookup table, binning, float32 cast).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence


# ---------------------------------------------------------------- expressions
@dataclass(frozen=True)
class Ref:
    """The value of a field; ``missing_to`` replaces a missing value (an imputer)."""
    name: str
    missing_to: Any = None


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Call:
    """A built-in function by its PMML name: +, -, *, /, min, max, exp, ..."""
    fn: str
    args: tuple


@dataclass(frozen=True)
class Indicator:
    """1 when the field's value is one of ``values`` (``negate``: is none of them), else 0;
    ``missing`` for a missing field (None: the result is missing)."""
    name: str
    values: tuple
    missing: float | None = None
    negate: bool = False


@dataclass(frozen=True)
class Lookup:
    """``table[value]``; ``default`` for any other value, ``missing`` for a missing one
    (None: the result is missing)."""
    name: str
    table: tuple                  # ((key, value), ...)
    default: Any = None
    missing: Any = None


@dataclass(frozen=True)
class Bins:
    """The index i of the bin with edges[i-1] <= x < edges[i] (first and last bins open)."""
    name: str
    edges: tuple                  # inner edges, increasing


@dataclass(frozen=True)
class ToFloat:
    """The value rounded to float32: what scikit-learn's trees and the boosters compare."""
    name: str


Expr = Ref | Const | Call | Indicator | Lookup | Bins | ToFloat


# ---------------------------------------------------------------- fields
@dataclass(frozen=True)
class InputField:
    name: str
    data_type: str                # double | integer | string | float
    categories: tuple = ()        # valid values of a categorical field (empty: any)
    #: what a value outside ``categories`` does: "error" (invalid) or "asIs" (passed on)
    unknown: str = "asIs"
    #: text with missing values in the sample (PFA declares such an input ["null", "string"])
    nullable: bool = False


@dataclass(frozen=True)
class Derived:
    name: str
    expr: Expr
    data_type: str = "double"     # double | float | integer | string
    optype: str = "continuous"


# ---------------------------------------------------------------- model specs
@dataclass
class LinearSpec:
    """A regression (one table) or classification (one table per class) of linear terms.

    normalization: none | logit | softmax | exp (PMML's normalizationMethod names).
    tables: (category or None, intercept, ((field, coefficient), ...)).
    """
    function: str
    normalization: str
    tables: list


@dataclass(slots=True)
class TreeNode:
    """A binary split ``field <= threshold`` (or, with ``categories``, ``field`` is one of
    them) to the left, or a leaf (``field`` is None)."""
    field: str | None = None
    threshold: Any = None
    left: "TreeNode | None" = None
    right: "TreeNode | None" = None
    missing_left: bool = True
    value: Any = None             # leaf: a number (regression) or the predicted class
    probabilities: tuple | None = None   # leaf of a classifier: one per class
    counts: tuple | None = None
    categories: tuple | None = None


@dataclass
class TreeSpec:
    function: str                 # regression | classification
    root: TreeNode
    classes: tuple = ()
    #: missing values follow each split's ``missing_left`` (False: a missing split value makes
    #: the prediction missing, for libraries that refuse missing values)
    missing_routing: bool = True
    #: the fields the tree splits on, when its converter knows them without walking the nodes
    #: (None: found by walking them); ``context._rename_splits`` keeps it in step
    split_fields: frozenset | None = None



def tree_split_fields(spec: TreeSpec) -> frozenset:
    """The fields the tree of spec splits on: as its converter recorded them, else found by
    walking its nodes."""
    if spec.split_fields is not None:
        return spec.split_fields
    found = set()
    stack = [spec.root]
    while stack:
        n = stack.pop()
        if n.field is not None:
            found.add(n.field)
            stack += (n.left, n.right)
    return frozenset(found)

@dataclass
class EnsembleSpec:
    """Segments combined by ``method`` (average | sum | weightedAverage); for boosting, an
    ``intercept`` added to the sum and a ``link`` (none | logit | softmax) over it; a multiclass
    booster has one list of members per class."""
    function: str
    method: str
    members: list                 # specs, or (for multiclass boosting) lists of specs
    classes: tuple = ()
    intercept: Any = 0.0
    link: str = "none"
    float_sum: bool = False       # the library adds the members in float32


@dataclass
class Export:
    """Everything a writer needs: fields, derived fields, the model, targets and outputs."""
    inputs: list[InputField]
    derived: list[Derived]
    model: Any
    target: str
    target_type: str              # double | integer | string
    classes: tuple = ()           # classifier classes in the estimator's order
    probabilities: bool = False   # classifier with predict_proba outputs
    description: str = ""
    notes: list[str] = field(default_factory=list)

    def output_names(self) -> list[str]:
        return [self.target] + [f"probability({c})" for c in self.classes] \
            if self.probabilities else [self.target]
