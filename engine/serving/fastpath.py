"""The scoring requests' raw ASGI path, ahead of FastAPI.

A one-record request spends as much CPU in FastAPI's and Starlette's layers (routing, a dozen
middlewares, exception wrappers, dependency resolution) as in scoring. ``FastPath`` wraps the
FastAPI application and answers ``POST /models/{name}``, ``POST /models/{name}/versions/{v}``
and ``POST /endpoints/{name}`` itself: the same handlers (``app.score_request``,
``endpoints.score_endpoint``), the same checks (scoring token, body limit, content type), the
same error bodies as the application's exception handlers, and the same monitoring (the request
counters, latency, in-flight gauge, request id and access log of ``MonitorMiddleware``). Every
other request, and anything that is not HTTP (lifespan), goes to the application unchanged;
the documented routes stay in its OpenAPI document.
"""
from __future__ import annotations

import logging
import re
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from .app import MAX_VERSION, BodyLimit, _TooLarge, json_response, resolve_async, score_request
from .auth import require_scoring
from .store import Conflict, NotFound

log = logging.getLogger("portmodel.serving")

_MODEL = re.compile(r"^/models/([^/]+)(?:/versions/(\d+))?$")
_ENDPOINT = re.compile(r"^/endpoints/([^/]+)$")


class FastPath:
    """ASGI: the scoring routes answered directly, everything else by ``app``."""

    def __init__(self, app: Any):
        self.app = app
        inner: Any = BodyLimit(self._score, app.state.config.max_body)
        monitor = getattr(app.state, "monitor", None)
        if monitor is not None:
            from .monitoring import MonitorMiddleware
            inner = MonitorMiddleware(inner, monitor)
        self.scoring = inner
        self.state = app.state

    def __getattr__(self, name: str) -> Any:       # routes, openapi, ... of the application
        return getattr(self.app, name)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            if path.startswith("/models/"):
                m = _MODEL.match(path)
                if m is not None:
                    scope["path_params"] = {"name": m.group(1)} if m.group(2) is None else {
                        "name": m.group(1), "version": int(m.group(2))}
                    await self.scoring(scope, receive, send)
                    return
            elif path.startswith("/endpoints/"):
                m = _ENDPOINT.match(path)
                if m is not None:
                    scope["path_params"] = {"name": m.group(1), "endpoint": True}
                    await self.scoring(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _score(self, scope: dict, receive: Any, send: Any) -> None:
        scope["app"] = self.app
        request = Request(scope, receive)
        params = scope["path_params"]
        try:
            if self.state.config.token:
                await require_scoring(request)
            if params.get("endpoint"):
                from .endpoints import score_endpoint
                response = await score_endpoint(request, params["name"])
            else:
                version = params.get("version")
                if version is not None and not 1 <= version <= MAX_VERSION:
                    raise StarletteHTTPException(
                        400, f"version: must be between 1 and {MAX_VERSION}")
                response = await score_request(
                    request, await resolve_async(request, params["name"], version))
        except _TooLarge:
            raise                        # BodyLimit answers 413
        except StarletteHTTPException as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {"error": str(exc.detail)}
            response = json_response(exc.status_code, detail, getattr(exc, "headers", None))
        except NotFound as exc:
            response = json_response(404, {"error": str(exc)})
        except Conflict as exc:
            response = json_response(409, {"error": str(exc)})
        except Exception:   # noqa: BLE001 - as the application's server error handler does
            log.exception("scoring request failed")
            response = json_response(500, {"error": "internal server error"})
        await response(scope, receive, send)
