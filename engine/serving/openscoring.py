"""Openscoring-compatible paths, so Openscoring's clients switch to portmodel unchanged.

- ``PUT /model/{id}`` (PMML body; admin): deploys a new version of model ``id`` and promotes it
  (Openscoring replaces the model it serves); 201 when new, 200 when the same document is
  already a version.
- ``GET /model``, ``GET /model/{id}``: ``{"id", "miningFunction", "summary", "properties",
  "schema": {"inputFields", "targetFields", "outputFields"}}``.
- ``DELETE /model/{id}`` (admin): removes the model with every version (409 while routed).
- ``POST /model/{id}``: ``{"id", "arguments"}`` -> ``{"id", "results"}``;
  ``/model/{id}/batch``: ``{"id", "requests": [...]}`` -> ``{"id", "responses": [...]}``, a
  rejected record answering ``{"id", "message"}``; ``/model/{id}/csv``: CSV (``delimiterChar``,
  ``quoteChar`` query parameters; the ``id`` column carried through) -> CSV.

Every answer carries ``X-Application: Openscoring/2.2`` (the clients check it) and errors are
``{"message": ...}``, Openscoring's shape.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..errors import PortmodelError
from .auth import actor as actor_of, check
from .scoring import BadRequest, dumps, error_body, parse_json, score_csv, score_record, \
    score_records
from .store import Conflict, NotFound

router = APIRouter(prefix="/model", tags=["openscoring"])

APPLICATION = f"Openscoring/2.2 (portmodel {__version__})"
_HEADERS = {"X-Application": APPLICATION}


def _answer(status: int, body: Any, extra: dict | None = None) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json",
                    headers={**_HEADERS, **(extra or {})})


def _message(status: int, message: str, headers: dict | None = None) -> Response:
    return _answer(status, {"message": message}, headers)


def openscoring_errors(fn: Callable) -> Callable:
    """Turn the service's errors into Openscoring's ``{"message"}`` answers."""
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return await fn(*args, **kwargs)
        except HTTPException as exc:
            detail = exc.detail.get("error") if isinstance(exc.detail, dict) else exc.detail
            return _message(exc.status_code, str(detail), getattr(exc, "headers", None))
        except NotFound as exc:
            return _message(404, str(exc))
        except Conflict as exc:
            return _message(409, str(exc))
        except BadRequest as exc:
            return _message(400, str(exc))
    return wrapper


def _admin(request: Request) -> str:
    config = request.app.state.config
    check(request, config.admin_token)
    return actor_of(request)


def _scoring(request: Request) -> None:
    config = request.app.state.config
    if config.token:
        check(request, config.token, config.admin_token)


def _field(f: dict) -> dict:
    out = {"id": f["name"], "name": f["name"], "dataType": f.get("data_type"),
           "opType": f.get("op_type")}
    if "values" in f:
        out["values"] = f["values"]
    elif "intervals" in f:
        out["values"] = f["intervals"]
    return out


def model_response(name: str, schema: dict) -> dict:
    """Openscoring's ModelResponse for a deployed schema."""
    return {"id": name, "miningFunction": schema.get("function"),
            "summary": schema.get("model_type") or schema.get("format", "").upper(),
            "properties": {"format": schema.get("format")},
            "schema": {"inputFields": [_field(f) for f in schema.get("inputs", [])],
                       "targetFields": [_field(f) for f in schema.get("targets", [])],
                       "outputFields": [_field(f) for f in schema.get("outputs", [])]}}


def _schema(request: Request, name: str) -> dict:
    store = request.app.state.store
    promoted = store.promoted(name)
    version = store.version(name, promoted) if promoted is not None else None
    if version is None:
        raise NotFound(f"model {name!r} has no promoted version")
    return version.schema


@router.get("", summary="list models (Openscoring)")
@openscoring_errors
async def list_models(request: Request) -> Response:
    store = request.app.state.store
    models = []
    for name in store.model_names():
        try:
            models.append(model_response(name, _schema(request, name)))
        except NotFound:
            continue
    return _answer(200, {"models": models})


@router.put("/{id}", summary="deploy (Openscoring)", status_code=201, openapi_extra={
    "requestBody": {"required": True, "content": {
        "application/xml": {"schema": {"type": "string"}},
        "text/xml": {"schema": {"type": "string"}}}}},
    responses={200: {}, 400: {}, 401: {}, 403: {}, 415: {}})
@openscoring_errors
async def deploy_model(request: Request, id: str) -> Response:
    from .app import check_name, deploy, document_format
    actor = _admin(request)
    check_name(id)
    data = await request.body()
    fmt = document_format(request, data)
    version, created = await run_in_threadpool(deploy, request, id, data, fmt, actor, True)
    return _answer(201 if created else 200, model_response(id, version.schema),
                   {"X-Model-Version": str(version.version)})


@router.get("/{id}", summary="model schema (Openscoring)", responses={404: {}})
@openscoring_errors
async def get_model(request: Request, id: str) -> Response:
    return _answer(200, model_response(id, _schema(request, id)))


@router.delete("/{id}", summary="undeploy (Openscoring)",
               responses={401: {}, 403: {}, 404: {}, 409: {}})
@openscoring_errors
async def undeploy(request: Request, id: str) -> Response:
    actor = _admin(request)
    request.app.state.store.delete_model(id, actor)
    request.app.state.registry.refresh(force=True)
    return _answer(200, {})


async def _loaded(request: Request, name: str):
    from .app import resolve_async
    loaded = await resolve_async(request, name, None)
    request.state.model = loaded.name
    request.state.version = loaded.version
    return loaded


def _json_body(request: Request, body: bytes) -> Any:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json":
        raise HTTPException(415, f"send application/json, not {kind or 'no content type'}")
    return parse_json(body)


@router.post("/{id}", summary="evaluate one record (Openscoring)", openapi_extra={
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["arguments"], "properties": {
            "id": {"type": ["string", "null"]}, "arguments": {"type": "object"}}}}}}},
    responses={400: {}, 404: {}, 415: {}, 422: {}})
@openscoring_errors
async def evaluate(request: Request, id: str) -> Response:
    _scoring(request)
    loaded = await _loaded(request, id)
    payload = _json_body(request, await request.body())
    if not isinstance(payload, dict) or not isinstance(payload.get("arguments", {}), dict):
        raise BadRequest('the body must be {"id": ..., "arguments": {...}}')
    headers = {"X-Model-Version": str(loaded.version)}
    try:
        results = score_record(loaded.model, payload.get("arguments") or {})
    except (PortmodelError, TypeError, ValueError) as exc:
        return _answer(422, {"id": payload.get("id"), **_message_of(exc)}, headers)
    return _answer(200, {"id": payload.get("id"), "results": results}, headers)


def _message_of(exc: BaseException) -> dict:
    """Openscoring's error shape: the message alone (its clients take no other keys)."""
    return {"message": error_body(exc)["error"]}


@router.post("/{id}/batch", summary="evaluate records (Openscoring)", openapi_extra={
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["requests"], "properties": {
            "id": {"type": ["string", "null"]},
            "requests": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": ["string", "null"]}, "arguments": {"type": "object"}}}}}}}}}},
    responses={400: {}, 404: {}, 415: {}})
@openscoring_errors
async def evaluate_batch(request: Request, id: str) -> Response:
    _scoring(request)
    loaded = await _loaded(request, id)
    payload = _json_body(request, await request.body())
    requests = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(requests, list) or not all(isinstance(r, dict) for r in requests):
        raise BadRequest('the body must be {"id": ..., "requests": [{"id", "arguments"}, ...]}')
    records = [r.get("arguments") if r.get("arguments") is not None else {} for r in requests]
    responses = []
    scored = await run_in_threadpool(score_records, loaded.model, records)
    for req, result in zip(requests, scored):
        if isinstance(result, BaseException):
            responses.append({"id": req.get("id"), **_message_of(result)})
        else:
            responses.append({"id": req.get("id"), "results": result})
    return _answer(200, {"id": payload.get("id"), "responses": responses},
                   {"X-Model-Version": str(loaded.version)})


@router.post("/{id}/csv", summary="evaluate CSV (Openscoring)", openapi_extra={
    "requestBody": {"required": True, "content": {
        "text/plain": {"schema": {"type": "string"}},
        "text/csv": {"schema": {"type": "string"}}}}},
    responses={400: {}, 404: {}, 415: {}, 422: {}})
@openscoring_errors
async def evaluate_csv(request: Request, id: str, delimiterChar: str = ",",
                       quoteChar: str = '"') -> Response:
    _scoring(request)
    loaded = await _loaded(request, id)
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind not in ("text/plain", "text/csv"):
        raise HTTPException(415, f"send text/plain or text/csv, not {kind or 'no content type'}")
    body = await request.body()
    status, out = await run_in_threadpool(score_csv, loaded.model, body,
                                          delimiter=delimiterChar, quotechar=quoteChar)
    if status != 200:
        return _answer(status, _message_of_body(out))
    return Response(out, media_type="text/plain",
                    headers={**_HEADERS, "X-Model-Version": str(loaded.version)})


def _message_of_body(body: dict) -> dict:
    return {"message": body.get("error")}
