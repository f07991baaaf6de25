"""Traffic routing for endpoints: which variant answers a request.

An endpoint spec is the JSON body of ``PUT /endpoints/{name}``::

    {"variants": [{"model": "churn", "version": 3, "weight": 90},
                  {"model": "churn", "version": 4, "weight": 10}],
     "shadow": {"model": "churn", "version": 5}}

A request without an ``X-Request-Id`` draws a variant at random in proportion to the weights.
A request with one is *sticky*: the id is hashed with sha256 (never Python's ``hash()``, which is
salted per process), so the same id picks the same variant in every worker, every replica and
after every restart, as long as the weights stay the same. When weights change, only the ids
whose point on [0, 1) falls into a moved stretch change variant.
"""
from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any, Mapping

#: most variants one endpoint may split between (keeps a spec, its labels and stats bounded)
MAX_VARIANTS = 16


class SpecError(ValueError):
    """An endpoint spec that cannot be used; the message names the offending part."""


@dataclass(frozen=True)
class Variant:
    """One model version behind an endpoint. ``version`` None means the promoted version."""

    model: str
    version: int | None
    weight: float = 0.0

    @property
    def key(self) -> str:
        """Stable label of the variant: ``model:version`` (``model:promoted`` when unpinned)."""
        return f"{self.model}:{'promoted' if self.version is None else self.version}"

    def as_dict(self) -> dict:
        return {"model": self.model, "version": self.version, "weight": self.weight}


@dataclass(frozen=True)
class EndpointSpec:
    """A parsed endpoint: its variants, their cumulative weight bounds and the optional shadow."""

    name: str
    variants: tuple[Variant, ...]
    shadow: Variant | None
    _bounds: tuple[float, ...]   # cumulative weights divided by the total, last one == 1.0

    @classmethod
    def parse(cls, name: str, spec: Mapping[str, Any]) -> "EndpointSpec":
        """Validate a spec dict; raise ``SpecError`` naming what is wrong."""
        if not isinstance(spec, Mapping):
            raise SpecError("an endpoint spec is a JSON object with a 'variants' list")
        unknown = set(spec) - {"variants", "shadow"}
        if unknown:
            raise SpecError(f"unknown key(s) in endpoint spec: {', '.join(sorted(unknown))}")
        raw = spec.get("variants")
        if not isinstance(raw, list) or not raw:
            raise SpecError("'variants' must be a non-empty list")
        if len(raw) > MAX_VARIANTS:
            raise SpecError(f"'variants' has {len(raw)} entries; at most {MAX_VARIANTS} are allowed")
        variants = tuple(_variant(v, f"variants[{i}]", need_weight=True) for i, v in enumerate(raw))
        keys = [v.key for v in variants]
        if len(set(keys)) != len(keys):
            raise SpecError("the same model version appears twice in 'variants'")
        total = sum(v.weight for v in variants)
        if not total > 0:
            raise SpecError("the variants' weights must add up to more than 0")
        if total == float("inf"):
            raise SpecError("the variants' weights add up to more than a float can hold")
        shadow = None
        if spec.get("shadow") is not None:
            shadow = _variant(spec["shadow"], "shadow", need_weight=False)
        acc, bounds = 0.0, []
        for v in variants:
            acc += v.weight
            bounds.append(acc / total)
        bounds[-1] = 1.0
        return cls(name, variants, shadow, tuple(bounds))

    def as_dict(self) -> dict:
        """The normalised spec (what GET /endpoints/{name} shows)."""
        out: dict[str, Any] = {"variants": [v.as_dict() for v in self.variants]}
        out["shadow"] = None if self.shadow is None else {"model": self.shadow.model,
                                                          "version": self.shadow.version}
        return out

    def choose(self, request_id: str | None = None, rng: random.Random | None = None) -> Variant:
        """The variant that answers: sticky by ``request_id`` when given, else weighted random."""
        if request_id:
            u = sticky_point(self.name, request_id)
        else:
            u = (rng or random).random()
        i = bisect_right(self._bounds, u)
        # u < 1.0 always, so i < len(bounds); skip zero-weight variants whose bound repeats
        return self.variants[min(i, len(self.variants) - 1)]


def sticky_point(endpoint: str, request_id: str) -> float:
    """The request id's fixed point on [0, 1): the first 8 bytes of sha256(endpoint, id)."""
    digest = hashlib.sha256(f"{endpoint}\x00{request_id}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64


def _variant(raw: Any, where: str, need_weight: bool) -> Variant:
    if not isinstance(raw, Mapping):
        raise SpecError(f"{where} must be an object with 'model' and 'version'")
    allowed = {"model", "version", "weight"} if need_weight else {"model", "version"}
    unknown = set(raw) - allowed
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    model = raw.get("model")
    if not isinstance(model, str) or not model:
        raise SpecError(f"{where}.model must be a model name")
    version = raw.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)
                                or version < 1):
        raise SpecError(f"{where}.version must be a version number (1, 2, ...) or omitted")
    weight = 0.0
    if need_weight:
        w = raw.get("weight", 1)
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not (0 <= w < float("inf")):
            raise SpecError(f"{where}.weight must be a number >= 0")
        weight = float(w)
    return Variant(model, version, weight)
