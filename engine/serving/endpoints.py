"""Routing endpoints: one URL in front of several model versions.

``PUT /endpoints/{name}`` stores a spec (see ``routing.py``) in the repository, so every worker
and replica routes the same way; each worker re-reads a spec when the repository's change counter
moves (checked at most every ``poll_interval`` seconds), so a change is served everywhere within
about a second, without a restart. A request in flight keeps the variant and the compiled model it
started with: nothing is dropped during a change.

``POST /endpoints/{name}`` scores through the spec (every body ``POST /models/{name}`` takes:
JSON record, JSON list, CSV): the chosen variant answers; the shadow (if
any) scores a copy of the request on a background thread after the answer is sent, and only the
agreement of its prediction with the answering variant's is recorded.
``GET /endpoints/{name}/stats`` reports, per variant, requests, errors, latency quantiles and the
prediction distribution, and per shadow its agreement rate, merged over every worker.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from .auth import require_admin, require_scoring
from .drift import prediction_field
from .routing import EndpointSpec, SpecError
from .store import NotFound

log = logging.getLogger("portmodel.serving")

router = APIRouter()

#: shadow copies waiting for the shadow thread beyond this many are skipped (counted as such)
MAX_SHADOW_BACKLOG = 1000

_SCORING_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {
        "oneOf": [{"type": "object", "additionalProperties": True},
                  {"type": "array", "items": {"type": "object", "additionalProperties": True}}]}},
    "text/csv": {"schema": {"type": "string"}}}}}
_SPEC_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["variants"], "properties": {
        "variants": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["model"], "properties": {
                "model": {"type": "string"}, "version": {"type": "integer", "minimum": 1},
                "weight": {"type": "number", "minimum": 0}}}},
        "shadow": {"type": "object", "required": ["model"], "properties": {
            "model": {"type": "string"}, "version": {"type": "integer", "minimum": 1}}}},
    "example": {"variants": [{"model": "iris", "version": 1, "weight": 90},
                             {"model": "iris", "version": 2, "weight": 10}],
                "shadow": {"model": "iris", "version": 3}}}}}}}


class Specs:
    """One worker's cache of parsed endpoint specs, dropped whenever the repository changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = -2
        self._specs: dict[str, EndpointSpec] = {}

    def get(self, app: Any, name: str) -> EndpointSpec:
        """The endpoint's spec (404 when there is none)."""
        generation = app.state.registry.refresh()
        if generation != self._generation:
            with self._lock:
                if generation != self._generation:
                    self._specs = {}
                    self._generation = generation
        spec = self._specs.get(name)
        if spec is None:
            raw = app.state.store.get_endpoint(name)
            if raw is None:
                raise HTTPException(404, f"endpoint {name!r} does not exist")
            spec = EndpointSpec.parse(name, raw)
            self._specs[name] = spec
        return spec

    def clear(self) -> None:
        with self._lock:
            self._specs = {}


def _specs(app: Any) -> Specs:
    specs = getattr(app.state, "endpoint_specs", None)
    if specs is None:
        specs = app.state.endpoint_specs = Specs()
    return specs


_SHADOW_POOL: ThreadPoolExecutor | None = None
_SHADOW_LOCK = threading.Lock()
_shadow_backlog = 0


def _shadow_pool() -> ThreadPoolExecutor:
    global _SHADOW_POOL
    if _SHADOW_POOL is None:
        with _SHADOW_LOCK:
            if _SHADOW_POOL is None:
                _SHADOW_POOL = ThreadPoolExecutor(max_workers=1,
                                                  thread_name_prefix="portmodel-shadow")
    return _SHADOW_POOL


def _json(status: int, body: Any, headers: dict | None = None) -> Response:
    from .scoring import dumps
    return Response(dumps(body), status_code=status, media_type="application/json",
                    headers=headers)


def _check_name(name: str) -> None:
    from .app import check_name
    check_name(name, "endpoint")


# ---------------------------------------------------------------------- admin

@router.put("/endpoints/{name}", tags=["endpoints"], status_code=201, openapi_extra=_SPEC_BODY,
            responses={200: {"description": "an existing endpoint's spec replaced"},
                       400: {}, 401: {}, 403: {}, 404: {}, 415: {}})
async def put_endpoint(request: Request, name: str,
                       actor: str = Depends(require_admin)) -> Response:
    """Create or change an endpoint: weighted variants and an optional shadow. Every variant
    must name an existing model version (or the model, for its promoted version)."""
    from .scoring import BadRequest, parse_json
    _check_name(name)
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json":
        raise HTTPException(415, "send the endpoint spec as application/json")
    try:
        raw = parse_json(await request.body())
        spec = EndpointSpec.parse(name, raw)
    except (BadRequest, SpecError) as exc:
        raise HTTPException(400, str(exc)) from None
    registry = request.app.state.registry
    for v in list(spec.variants) + ([spec.shadow] if spec.shadow else []):
        try:
            registry.locate(v.model, v.version)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None
    store = request.app.state.store
    existed = store.get_endpoint(name) is not None
    store.put_endpoint(name, spec.as_dict(), actor)
    registry.refresh(force=True)
    _specs(request.app).clear()
    return _json(200 if existed else 201, {"endpoint": name, **spec.as_dict()})


@router.get("/endpoints", tags=["endpoints"])
def list_endpoints(request: Request) -> Response:
    """Every endpoint with its spec, last change and who made it."""
    return _json(200, {"endpoints": request.app.state.store.list_endpoints()})


@router.get("/endpoints/{name}", tags=["endpoints"], responses={404: {}})
def get_endpoint(request: Request, name: str) -> Response:
    """An endpoint's spec."""
    for row in request.app.state.store.list_endpoints():
        if row["name"] == name:
            return _json(200, {"endpoint": name, **row["spec"], "updated_at": row["updated_at"],
                               "actor": row["actor"]})
    raise HTTPException(404, f"endpoint {name!r} does not exist")


@router.delete("/endpoints/{name}", tags=["endpoints"], responses={401: {}, 403: {}, 404: {}})
def delete_endpoint(request: Request, name: str,
                    actor: str = Depends(require_admin)) -> Response:
    """Remove an endpoint (its versions stay deployed)."""
    request.app.state.store.delete_endpoint(name, actor)
    request.app.state.registry.refresh(force=True)
    _specs(request.app).clear()
    return _json(200, {"endpoint": name, "deleted": True})


@router.get("/endpoints/{name}/stats", tags=["endpoints"], responses={404: {}})
def endpoint_stats(request: Request, name: str) -> Response:
    """Per variant: requests, errors, latency quantiles (ms), prediction distribution; per
    shadow: how often its prediction agreed with the variant that answered. Merged over every
    worker since the service started."""
    spec = _specs(request.app).get(request.app, name)
    monitor = getattr(request.app.state, "monitor", None)
    report = monitor.endpoint_stats(name) if monitor is not None else {
        "endpoint": name, "variants": [], "shadow": []}
    seen = {row["variant"] for row in report["variants"]}
    for v in spec.variants:
        if v.key not in seen:
            report["variants"].append({"variant": v.key, "role": "answer", "requests": 0,
                                       "errors": 0})
    weights = {v.key: v.weight for v in spec.variants}
    for row in report["variants"]:
        row["weight"] = weights.get(row["variant"])     # None: no longer in the spec
    if spec.shadow is not None and not any(r["variant"] == spec.shadow.key
                                           for r in report["shadow"]):
        report["shadow"].append({"variant": spec.shadow.key, "role": "shadow", "requests": 0,
                                 "errors": 0, "compared": 0, "agreed": 0, "agreement": None})
    report["spec"] = spec.as_dict()
    return _json(200, report)


# ---------------------------------------------------------------------- scoring

@router.post("/endpoints/{name}", tags=["endpoints"], openapi_extra=_SCORING_BODY,
             dependencies=[Depends(require_scoring)],
             responses={400: {}, 404: {}, 413: {}, 415: {}, 422: {}})
async def score_endpoint(request: Request, name: str) -> Response:
    """Score with the variant the endpoint picks (by weight, or by the hash of ``X-Request-Id``
    when the request has one: same id, same variant). Takes every body ``POST /models/{name}``
    takes: a JSON record, a JSON list of records, or text/csv (``?id=``, ``?delimiter=``,
    ``?quote=``), and answers the same way."""
    from .app import read_scoring_body, score_body, scored_response
    app = request.app
    spec = _specs(app).get(app, name)
    variant = spec.choose(request.headers.get("x-request-id"))
    try:
        loaded = await _resolve(app.state.registry, variant.model, variant.version)
    except NotFound as exc:
        raise HTTPException(404, f"endpoint {name!r} routes to a missing model: {exc}") from None
    state = request.state
    state.endpoint, state.variant = name, variant.key
    state.model, state.version = loaded.name, loaded.version
    kind, payload, csv, size = await read_scoring_body(request)
    start = time.perf_counter()
    scored = await score_body(loaded, kind, payload, csv, size)
    seconds = time.perf_counter() - start
    monitor = getattr(app.state, "monitor", None)
    if monitor is not None:
        pf = prediction_field(loaded.model)
        preds = scored.predictions(pf.name if pf else None)
        categorical = pf is None or pf.kind == "categorical"
        monitor.record_variant(name, variant.key, "answer", scored.status == 200, seconds)
        for ok, p in preds:
            if ok:
                monitor.record_prediction(name, variant.key, p, categorical)
        if spec.shadow is not None and scored.status == 200:
            _submit_shadow(app, monitor, name, spec, variant.key, kind, payload, csv, preds)
    headers = {"X-Model-Name": loaded.name, "X-Model-Version": str(loaded.version),
               "X-Endpoint": name, "X-Variant": variant.key}
    return scored_response(scored, headers)


async def _resolve(registry: Any, model: str, version: int | None) -> Any:
    """The compiled variant; a version this worker has not compiled yet (just deployed, or
    routed to a moment ago) compiles on a thread, so the event loop keeps answering meanwhile."""
    _, digest = registry.locate(model, version)
    if digest in getattr(registry, "_compiled", {digest: None}):
        return registry.resolve(model, version)
    from starlette.concurrency import run_in_threadpool
    return await run_in_threadpool(registry.resolve, model, version)


def _submit_shadow(app: Any, monitor: Any, endpoint: str, spec: EndpointSpec, answered: str,
                   kind: str, payload: Any, csv: Any,
                   answer_preds: list[tuple[bool, Any]]) -> None:
    global _shadow_backlog
    shadow = spec.shadow
    assert shadow is not None
    with _SHADOW_LOCK:
        if _shadow_backlog >= MAX_SHADOW_BACKLOG:
            monitor.record_shadow(endpoint, shadow.key, answered, "skipped")
            return
        _shadow_backlog += 1

    def run() -> None:
        global _shadow_backlog
        try:
            _run_shadow(app, monitor, endpoint, shadow, answered, kind, payload, csv,
                        answer_preds)
        except Exception:   # noqa: BLE001 - the shadow never affects the service
            log.exception("shadow scoring failed")
        finally:
            with _SHADOW_LOCK:
                _shadow_backlog -= 1

    _shadow_pool().submit(run)


def _run_shadow(app: Any, monitor: Any, endpoint: str, shadow: Any, answered: str, kind: str,
                payload: Any, csv: Any, answer_preds: list[tuple[bool, Any]]) -> None:
    from .monitoring import agree
    from .observed import ROLE
    from .scoring import score_payload
    start = time.perf_counter()
    token = ROLE.set("shadow")      # its inputs are counted apart from the live answers
    try:
        loaded = app.state.registry.resolve(shadow.model, shadow.version)
        scored = score_payload(loaded.model, kind, payload, csv=csv)
    except Exception:   # noqa: BLE001 - a failing shadow is an error figure, nothing more
        monitor.record_variant(endpoint, shadow.key, "shadow", False, time.perf_counter() - start)
        for _ in answer_preds:
            monitor.record_shadow(endpoint, shadow.key, answered, "error")
        return
    finally:
        ROLE.reset(token)
    seconds = time.perf_counter() - start
    monitor.record_variant(endpoint, shadow.key, "shadow", scored.status == 200, seconds)
    pf = prediction_field(loaded.model)
    shadow_preds = scored.predictions(pf.name if pf else None) if scored.status == 200 else \
        [(False, None)] * len(answer_preds)
    for (a_ok, a), (s_ok, s) in zip(answer_preds, shadow_preds):
        if not a_ok:
            continue          # nothing to compare with: the answering variant rejected it
        if not s_ok:
            monitor.record_shadow(endpoint, shadow.key, answered, "error")
        else:
            monitor.record_shadow(endpoint, shadow.key, answered,
                                  "agree" if agree(a, s) else "disagree")
