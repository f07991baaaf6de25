"""Single-record plans for MiningModel (see pmml/record.py for the contract).

Two shapes are planned: tree ensembles (pmml/record_tree.py's ``forest_scorer``) and model
chains of such models, the shape sklearn2pmml writes for gradient boosting: a regression sum
of trees with a rescaling Targets whose predicted value is an output field, read by a
RegressionModel with a logit or softmax normalization. A chain's answer carries the output
fields of its last segment (the MiningModel exposes them as its own outputs).

Every segment must be selected by ``True`` and score the MiningModel's target; a nested model
may not have LocalTransformations of its own, and its MiningFields must change nothing for a
present, valid value. Targets of a nested regression model are applied as the column plan
applies them (``record.with_targets``); anything else declines at compile time.
"""
from __future__ import annotations

from typing import Any, Callable

from .record import Decline, with_targets
from .record_row import RowScorer
from .record_tree import Scorer, _plain_mining, forest_scorer

_DOUBLE = "double"


def mining_scorer(mm, need: Callable[[str], str]) -> Scorer | None:
    """A MiningModel's one-record scorer, or None outside the subset."""
    seg = mm.spec.segmentation
    if getattr(mm, "float32", False) or seg is None or _segmentation_transforms(seg):
        return None
    if mm.method == "modelChain":
        try:
            return _chain(mm, need)
        except Decline:
            return None
    if mm.view_ids:
        return None
    return forest_scorer(mm, need)


def _segmentation_transforms(seg) -> bool:
    """Whether a typed Segmentation has LocalTransformations of its own (PMML 4.4; typed, or
    kept as a fragment)."""
    return getattr(seg, "local_transformations", None) is not None or any(
        f.tag == "LocalTransformations" for f in seg.extensions)


def _segment_scorer(model, need: Callable[[str], str]) -> Scorer:
    """A nested model's scorer in its own scope, its Targets applied."""
    if model.spec.local_transformations is not None or not _plain_mining(model):
        raise Decline(model.tag)
    names = {s.name for s in model.mining}

    def sub_need(name: str) -> str:
        if name not in names:
            raise Decline(name)          # (a field the nested model does not declare)
        return need(name)

    make = getattr(model, "record_scorer", None)
    scorer = make(sub_need) if make is not None else None
    if scorer is None:
        raise Decline(model.tag)
    return with_targets(model, scorer)


def _chain(mm, need: Callable[[str], str]) -> Scorer:
    """modelChain: each segment's output fields are fields of the later segments; the answer
    is the last segment's, with its output fields."""
    segs = mm.segments
    if not segs or not all(s.always for s in segs) or mm.view_ids or \
            mm.target_spec() is not None or not mm._same_target(segs[-1]):
        raise Decline("modelChain")
    made: set[str] = set()
    reads: list[set[str]] = []       # per segment: the fields it reads from the record

    def chain_need(name: str) -> str:
        if name in made:
            return _DOUBLE
        reads[-1].add(name)
        return need(name)

    steps: list[tuple[Scorer, list[tuple[str, Callable]]]] = []
    for i, seg in enumerate(segs):
        model = seg.model
        reads.append(set())
        scorer = _segment_scorer(model, chain_need)
        outs = _output_fns(model)
        if i < len(segs) - 1:
            if any(kind != _DOUBLE for _, _, kind in outs):
                raise Decline("chain output")
            made.update(name for name, _, _ in outs)
        steps.append((scorer, [(name, fn) for name, fn, _ in outs]))
    last_scorer, last_outs = steps[-1]
    head = steps[:-1]

    def chain(env: dict):
        for scorer, outs in head:
            a = scorer(env)
            if a is None:
                return None
            for name, fn in outs:
                env[name] = fn(a)
        a = last_scorer(env)
        if a is None:
            return None
        return a[0], a[1], {name: fn(a) for name, fn in last_outs}

    # the packed row: segments that read the record read it as the first segment's row (the
    # trees of a boosted classifier, one sum per class); the others read only earlier outputs
    fields: list[str] = []
    for (scorer, _), read in zip(steps, reads):
        if isinstance(scorer, RowScorer):
            fields += [f for f in scorer.fields if f not in fields]
    extra = max((s.width - len(s.fields) for s, _ in steps if isinstance(s, RowScorer)),
                default=0)

    def build(order: tuple[str, ...]) -> RowScorer | None:
        plan = []
        for (scorer, outs), read in zip(steps, reads):
            rebased = scorer.rebase(order) if isinstance(scorer, RowScorer) else None
            if rebased is not None:
                plan.append((rebased.row, True, outs))
            elif not read:
                plan.append((scorer, False, outs))
            else:
                return None
        *rest, (last_fn, last_is_row, _) = plan
        if len(rest) == 1 and rest[0][1] and len(rest[0][2]) == 1 and not last_is_row:
            # a boosted classifier (sklearn2pmml's): the trees' sum, then the link model on
            # that one field; the loop below without its loops
            head_row, _, ((head_name, head_out),) = rest[0]

            def boosted_row(buf):
                a = head_row(buf)
                if a is None:
                    return None
                a = last_fn({head_name: head_out(a)})
                if a is None:
                    return None
                return a[0], a[1], {name: fn(a) for name, fn in last_outs}
            return RowScorer(order, len(order) + extra, boosted_row, chain, build)

        def chain_row(buf):
            env: dict = {}
            for fn, is_row, outs in rest:
                a = fn(buf) if is_row else fn(env)
                if a is None:
                    return None
                for name, out in outs:
                    env[name] = out(a)
            a = last_fn(buf) if last_is_row else last_fn(env)
            if a is None:
                return None
            return a[0], a[1], {name: fn(a) for name, fn in last_outs}
        return RowScorer(order, len(order) + extra, chain_row, chain, build)

    return (build(tuple(fields)) if fields else None) or chain


def _output_fns(model) -> list[tuple[str, Callable[[Any], Any], str]]:
    """(name, answer -> value, kind) of a nested model's output fields: predicted values and
    probabilities only, as doubles (or as the target for a predicted value)."""
    if model.output is None:
        return []
    out = []
    classification = model.function == "classification"
    for s in model.output.specs:
        if s.segment_id is not None or s.expr is not None or s.rank != 1:
            raise Decline(s.name)
        if s.feature == "predictedValue" and not classification and \
                s.data_type in (None, "double") and model.target_type == "double":
            out.append((s.name, lambda a: a[0], _DOUBLE))
        elif s.feature == "probability" and classification and s.data_type in (None, "double"):
            if s.value is None:
                out.append((s.name, lambda a: a[1][a[0]], _DOUBLE))
            else:
                out.append((s.name, lambda a, v=s.value: a[1].get(v, 0.0), _DOUBLE))
        else:
            raise Decline(s.name)
    return out
