"""The FastAPI application: the model API (deploy, promote, list, delete, score).

``create_app(config)`` builds one worker's application: ``app.state.config`` (ServeConfig),
``app.state.store`` (the repository), ``app.state.registry`` (compiled models by digest). The
Openscoring-compatible paths (``openscoring``), the Open Inference Protocol (``v2``) and, when
present, the routing endpoints (``endpoints.router``) and monitoring (``monitoring.install``)
are added to it.

Hot paths read the raw body and answer with orjson bytes (no pydantic on the way); the
OpenAPI document still describes their bodies (``openapi_extra``) so /docs and API fuzzers know
them.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import re
import sys
import time
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from .. import __version__, load
from ..errors import DocumentError, PortmodelError
from .auth import require_admin, require_scoring
from .config import ServeConfig
from .registry import Loaded, Registry
from .scoring import BadRequest, CsvOptions, Scored, dumps, parse_json, score_payload
from .store import Conflict, NotFound, Store

log = logging.getLogger("portmodel.serving")

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
XML_TYPES = {"application/xml", "text/xml", "application/pmml+xml"}
JSON_TYPES = {"application/json"}
YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}
CSV_TYPES = {"text/csv"}

class JSONBytes(Response):
    """A response whose body is already JSON bytes (orjson)."""

    media_type = "application/json"


def json_response(status: int, body: Any, headers: dict | None = None) -> Response:
    return JSONBytes(dumps(body), status_code=status, headers=headers)


def media_type(request: Request) -> str:
    raw = request.headers.get("content-type", "")
    return raw.split(";", 1)[0].strip().lower()


# ---------------------------------------------------------------------- body size limit

class BodyLimit:
    """ASGI middleware: a body over ``limit`` bytes gets 413 before it is read — at once when
    Content-Length says so, else as soon as the chunks received pass the limit."""

    def __init__(self, app: Any, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = None
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = None
        if length is not None and length > self.limit:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def limited_receive() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        async def tracking_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        body = dumps({"error": f"the request body is larger than {self.limit} bytes"})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


# ---------------------------------------------------------------------- helpers

def check_name(name: str, what: str = "model") -> str:
    if not NAME.match(name):
        raise HTTPException(400, f"invalid {what} name {name!r}: letters, digits, '.', '_' and "
                                 "'-', starting with a letter or digit, at most 128 characters")
    return name


def document_format(request: Request, data: bytes) -> str:
    """'pmml' or 'pfa' from the content type (415 for any other), checked against the bytes."""
    kind = media_type(request)
    if kind in XML_TYPES:
        return "pmml"
    if kind in JSON_TYPES or kind in YAML_TYPES:
        return "pfa"
    if kind == "application/octet-stream":
        return "pmml" if data.lstrip()[:1] == b"<" else "pfa"
    raise HTTPException(415, f"a model document must be application/xml (PMML) or "
                             f"application/json or application/yaml (PFA), not {kind or 'none'}")


def compile_document(data: bytes, fmt: str) -> Any:
    """Load a deployed document, or 400 with the load error (element and line)."""
    if not data.strip():
        raise HTTPException(400, "the document is empty")
    try:
        model = load(data)
    except DocumentError as exc:
        raise HTTPException(400, {"error": " ".join(str(exc).split()),
                                  "element": exc.element, "line": exc.line}) from None
    except (PortmodelError, ValueError, TypeError, RecursionError) as exc:
        raise HTTPException(400, f"the document does not load: {' '.join(str(exc).split())}")
    if model.format != fmt:
        raise HTTPException(415, f"the body is a {model.format.upper()} document; send it as "
                                 + ("application/xml" if model.format == "pmml"
                                    else "application/json or application/yaml"))
    return model


def schema_of(model: Any) -> dict:
    """The schema a client needs: inputs with types and valid values, targets, outputs."""
    info = model.describe()
    return {k: info[k] for k in ("format", "model_type", "function", "inputs", "targets",
                                 "outputs") if k in info}


def deploy(request: Request, name: str, data: bytes, fmt: str, actor: str,
           promote: bool) -> tuple[Any, bool]:
    """Store a document as a version of ``name`` (compiled first: a bad one is a 400)."""
    start = time.perf_counter()
    model = compile_document(data, fmt)
    seconds = time.perf_counter() - start
    store: Store = request.app.state.store
    version, created = store.add_version(name, data, fmt, schema_of(model), actor, promote)
    # the compiled model goes straight into this worker's cache
    registry: Registry = request.app.state.registry
    if not registry.is_compiled(version.digest):
        registry.remember(version.digest, model)
        if registry.on_load is not None:
            registry.on_load(version.digest, seconds)
    registry.refresh(force=True)
    return version, created


def model_info(store: Store, name: str) -> dict:
    promoted = store.promoted(name)
    versions = store.versions(name)
    current = next((v for v in versions if v.version == promoted), versions[-1] if versions
                   else None)
    return {"name": name, "promoted": promoted,
            "versions": [v.describe(promoted) for v in versions],
            "schema": current.schema if current else None}


def resolve(request: Request, name: str, version: int | None) -> Loaded:
    try:
        return request.app.state.registry.resolve(name, version)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None


async def resolve_async(request: Request, name: str, version: int | None) -> Loaded:
    """``resolve``, compiling off the event loop when the model is not in this worker's cache
    yet (a large document must not stall the other requests of the worker)."""
    registry: Registry = request.app.state.registry
    try:
        _v, digest = registry.locate(name, version)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    if registry.is_compiled(digest):
        return resolve(request, name, version)
    return await run_in_threadpool(resolve, request, name, version)


#: bodies larger than this are scored on a worker thread, not on the event loop
INLINE_BODY = 16_384


async def read_scoring_body(request: Request) -> tuple[str, Any, CsvOptions | None, int]:
    """A scoring request's body: ("json", parsed JSON, None, size) or ("csv", bytes, its
    options, size).
    415 for another content type, 400 for malformed JSON."""
    kind = media_type(request)
    if kind not in JSON_TYPES and kind not in CSV_TYPES:
        raise HTTPException(415, f"send application/json (a record or a list of records) or "
                                 f"text/csv, not {kind or 'no content type'}")
    body = await request.body()
    if kind in JSON_TYPES:
        try:
            return "json", parse_json(body), None, len(body)
        except BadRequest as exc:
            raise HTTPException(400, str(exc)) from None
    params = request.query_params
    return "csv", body, CsvOptions(params.get("delimiter", ","), params.get("quote", '"'),
                                   tuple(c for c in params.getlist("id") if c)), len(body)


async def score_body(loaded: Loaded, kind: str, payload: Any, csv: CsvOptions | None,
                     size: int) -> Scored:
    """Score a read body with a resolved model (a large body or CSV on a worker thread);
    400 when it cannot be read."""
    try:
        if kind == "json" and size <= INLINE_BODY:
            return score_payload(loaded.model, kind, payload, loaded.name, loaded.version)
        return await run_in_threadpool(score_payload, loaded.model, kind, payload, loaded.name,
                                       loaded.version, csv)
    except BadRequest as exc:
        raise HTTPException(400, str(exc)) from None


def scored_response(scored: Scored, headers: dict) -> Response:
    body, kind = scored.content()
    return Response(body, status_code=scored.status, media_type=kind, headers=headers)


async def score_request(request: Request, loaded: Loaded) -> Response:
    """Score a request body (JSON record, JSON list or CSV) with a resolved model."""
    request.state.model = loaded.name
    request.state.version = loaded.version
    kind, payload, csv, size = await read_scoring_body(request)
    scored = await score_body(loaded, kind, payload, csv, size)
    return scored_response(scored, {"X-Model-Version": str(loaded.version),
                                    "X-Model-Name": loaded.name})


# ---------------------------------------------------------------------- OpenAPI bodies

_RECORD = {"type": "object", "additionalProperties": True,
           "example": {"sepal_length": 5.1, "petal_length": 1.4, "petal_width": 0.2}}
SCORING_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"oneOf": [_RECORD, {"type": "array", "items": _RECORD}]}},
    "text/csv": {"schema": {"type": "string"}}}}}
DOCUMENT_BODY = {"requestBody": {"required": True, "content": {
    "application/xml": {"schema": {"type": "string"}},
    "application/json": {"schema": {"type": "object"}},
    "application/yaml": {"schema": {"type": "string"}}}}}


#: version numbers are positive and fit a 64-bit database integer
MAX_VERSION = 2 ** 62
VersionPath = Path(ge=1, le=MAX_VERSION, description="version number (1, 2, ...)")


class Promotion(BaseModel):
    """Body of POST /models/{name}/promote."""

    version: int = Field(ge=1, le=MAX_VERSION)


# ---------------------------------------------------------------------- the application

def _optional(module: str) -> Any:
    """A sibling module that another part of the service provides, or None while it is absent
    (its own import errors still surface)."""
    full = f"{__package__}.{module}"
    if importlib.util.find_spec(full) is None:
        return None
    return importlib.import_module(full)


def create_app(config: ServeConfig) -> FastAPI:
    """One worker's application over the repository ``config.repo``."""
    # the event loop waits for the interpreter lock while the metrics flusher or a model
    # compile runs on another thread: hand it over after 0.5 ms, not Python's default 5 ms
    # (that default showed as 10-20 ms p99 latency under steady load)
    sys.setswitchinterval(0.0005)
    store = Store.open(config.repo)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        stop = app.state.registry.start_watching()
        stop_jobs = None
        if jobs is not None and config.jobs_workers > 0:
            monitor = getattr(app.state, "monitor", None)
            stop_jobs = jobs.JobRunner(Store.open(config.repo), config,
                                       monitor.metrics if monitor is not None else None).start()
        yield
        if stop_jobs is not None:
            stop_jobs.set()
        stop.set()
        store.close()

    app = FastAPI(title="portmodel", version=__version__, lifespan=lifespan,
                  description="Score PMML and PFA models over HTTP: the model API, "
                              "Openscoring-compatible paths and the Open Inference Protocol v2.")
    app.state.config = config
    app.state.store = store
    app.state.registry = Registry(store, config.poll_interval, config.model_cache)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, dict) else {"error": str(exc.detail)}
        return json_response(exc.status_code, detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
                    for e in exc.errors()]
        return json_response(400, {"error": "; ".join(problems) or "invalid request"})

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return json_response(404, {"error": str(exc)})

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> Response:
        return json_response(409, {"error": str(exc)})

    add_model_routes(app)
    add_fast_routes(app)
    # the body limit inside monitoring, so that 413 answers are counted and logged too
    app.add_middleware(BodyLimit, limit=config.max_body)
    for module in ("openscoring", "v2"):
        mod = _optional(module)
        if mod is not None:
            app.include_router(mod.router)
    endpoints = _optional("endpoints")
    if endpoints is not None:
        app.include_router(endpoints.router)
    jobs = _optional("jobs")
    if jobs is not None:
        jobs.install(app)
    monitoring = _optional("monitoring")
    if monitoring is not None:
        monitoring.install(app)
    return app


def add_model_routes(app: FastAPI) -> None:
    """The model API under /models."""

    @app.get("/models", tags=["models"])
    def list_models(request: Request) -> Response:
        """Every model with its promoted version and version count."""
        store: Store = request.app.state.store
        table = store.snapshot()
        return json_response(200, {"models": [
            {"name": n, "promoted": t["promoted"], "versions": sorted(t["versions"])}
            for n, t in sorted(table.items())]})

    @app.put("/models/{name}", tags=["models"], status_code=201, openapi_extra=DOCUMENT_BODY,
             responses={200: {"description": "the same document is already a version"},
                        400: {"description": "the document does not load"},
                        401: {}, 403: {}, 413: {}, 415: {}})
    async def put_model(request: Request, name: str, promote: bool = Query(False),
                        actor: str = Depends(require_admin)) -> Response:
        """Deploy a PMML (application/xml) or PFA (application/json, application/yaml) document
        as the next version of a model; the first version is promoted at once."""
        check_name(name)
        data = await request.body()
        fmt = document_format(request, data)
        version, created = await run_in_threadpool(deploy, request, name, data, fmt, actor,
                                                   promote)
        promoted = request.app.state.store.promoted(name)
        return json_response(201 if created else 200, {
            "model": name, "version": version.version, "digest": version.digest,
            "created": created, "promoted": promoted == version.version,
            "schema": version.schema})

    @app.get("/models/{name}", tags=["models"], responses={404: {}})
    def get_model(request: Request, name: str) -> Response:
        """A model's versions, promoted version and schema (inputs, targets, outputs)."""
        return json_response(200, model_info(request.app.state.store, name))

    @app.get("/models/{name}/history", tags=["models"], responses={404: {}})
    def get_history(request: Request, name: str) -> Response:
        """The model's deployment history: time, actor, action, version."""
        store: Store = request.app.state.store
        store.promoted(name)   # 404 for an unknown model
        return json_response(200, {"model": name, "history": store.history(name)})

    @app.post("/models/{name}/promote", tags=["models"],
              responses={401: {}, 403: {}, 404: {}})
    def promote(request: Request, name: str, body: Promotion,
                actor: str = Depends(require_admin)) -> Response:
        """Make a version the one ``POST /models/{name}`` scores (roll back: an older one)."""
        store: Store = request.app.state.store
        store.promote(name, body.version, actor)
        request.app.state.registry.refresh(force=True)
        return json_response(200, {"model": name, "promoted": body.version})

    @app.get("/models/{name}/versions/{version}", tags=["models"], responses={404: {}})
    def get_version(request: Request, name: str, version: int = VersionPath) -> Response:
        """One version: digest, format, time and actor of its deployment, schema."""
        store: Store = request.app.state.store
        v = store.version(name, version)
        if v is None:
            raise NotFound(f"model {name!r} has no version {version}")
        return json_response(200, {"model": name, **v.describe(store.promoted(name)),
                                   "schema": v.schema})

    @app.get("/models/{name}/versions/{version}/document", tags=["models"],
             responses={401: {}, 403: {}, 404: {}})
    def get_document(request: Request, name: str, version: int = VersionPath,
                     actor: str = Depends(require_admin)) -> Response:
        """The deployed document's bytes, as they were deployed (admin only)."""
        store: Store = request.app.state.store
        v = store.version(name, version)
        if v is None:
            raise NotFound(f"model {name!r} has no version {version}")
        kind = "application/xml" if v.format == "pmml" else "application/json"
        data = store.document(v.digest)
        if v.format == "pfa" and data.lstrip()[:1] not in (b"{", b"["):
            kind = "application/yaml"
        return Response(data, media_type=kind, headers={"X-Model-Version": str(version),
                                                        "ETag": f'"{v.digest}"'})

    @app.delete("/models/{name}/versions/{version}", tags=["models"],
                responses={401: {}, 403: {}, 404: {}, 409: {}})
    def delete_version(request: Request, name: str, version: int = VersionPath,
                       actor: str = Depends(require_admin)) -> Response:
        """Remove a version (409 while it is promoted or an endpoint routes to it)."""
        request.app.state.store.delete_version(name, version, actor)
        request.app.state.registry.refresh(force=True)
        return json_response(200, {"model": name, "deleted": version})

    @app.delete("/models/{name}", tags=["models"], responses={401: {}, 403: {}, 404: {}, 409: {}})
    def delete_model(request: Request, name: str,
                     actor: str = Depends(require_admin)) -> Response:
        """Remove a model and all its versions (409 while an endpoint routes to it)."""
        request.app.state.store.delete_model(name, actor)
        request.app.state.registry.refresh(force=True)
        return json_response(200, {"model": name, "deleted": True})

    @app.post("/models/{name}", tags=["scoring"], openapi_extra=SCORING_BODY,
              dependencies=[Depends(require_scoring)],
              responses={400: {}, 404: {}, 413: {}, 415: {}, 422: {}})
    async def score_promoted(request: Request, name: str) -> Response:
        """Score with the promoted version: a JSON record, a JSON list of records, or CSV."""
        return await score_request(request, await resolve_async(request, name, None))

    @app.post("/models/{name}/versions/{version}", tags=["scoring"], openapi_extra=SCORING_BODY,
              dependencies=[Depends(require_scoring)],
              responses={400: {}, 404: {}, 413: {}, 415: {}, 422: {}})
    async def score_version(request: Request, name: str, version: int = VersionPath) -> Response:
        """Score with one given version (promoted or not)."""
        return await score_request(request, await resolve_async(request, name, version))


async def _fast_score(request: Request) -> Response:
    """POST /models/{name}[/versions/{v}] without FastAPI's per-request parameter and
    dependency machinery (a third of the time of a one-record request): the same checks, done
    here. The documented routes stay in the OpenAPI document; these are matched first."""
    config: ServeConfig = request.app.state.config
    if config.token:
        await require_scoring(request)
    version = request.path_params.get("version")
    if version is not None and not 1 <= version <= MAX_VERSION:
        raise HTTPException(400, f"version: must be between 1 and {MAX_VERSION}")
    return await score_request(request, await resolve_async(request, request.path_params["name"],
                                                            version))


def add_fast_routes(app: FastAPI) -> None:
    """Put the raw scoring routes in front of the documented ones."""
    app.router.routes[0:0] = [
        Route("/models/{name}", _fast_score, methods=["POST"], include_in_schema=False),
        Route("/models/{name}/versions/{version:int}", _fast_score, methods=["POST"],
              include_in_schema=False)]


def app_from_env() -> Any:
    """uvicorn's factory in every worker: the configuration the ``serve`` command exported,
    with the scoring requests' raw ASGI path (``fastpath``) in front of the application."""
    from .fastpath import FastPath
    return FastPath(create_app(ServeConfig.from_env()))
