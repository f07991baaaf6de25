"""Bearer-token checks as FastAPI dependencies.

Deploying, promoting, deleting, routing and reading documents need the admin token; scoring is
open unless the service was started with a scoring token (then either token is accepted).
No token: 401; a wrong one: 403. Tokens are compared in constant time (hmac.compare_digest).
"""
from __future__ import annotations

import hmac

from fastapi import HTTPException, Request


def _presented(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return ""
    return value.strip()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def check(request: Request, *expected: str | None) -> str:
    """Raise 401/403 unless the request bears one of the expected tokens; returns the actor."""
    given = _presented(request)
    if given is None:
        raise HTTPException(401, "a bearer token is required (Authorization: Bearer ...)",
                            headers={"WWW-Authenticate": "Bearer"})
    ok = False
    for token in expected:
        if token is not None:
            ok |= _same(given, token)    # no early exit: every comparison takes its time
    if not ok:
        raise HTTPException(403, "the bearer token is not valid for this operation")
    return "admin"


async def require_admin(request: Request) -> str:
    """Dependency for mutations and document reads; returns the actor name for the history."""
    config = request.app.state.config
    check(request, config.admin_token)
    return actor(request)


def actor(request: Request) -> str:
    """Who the history names: the request's X-Actor header (at most 128 characters), else
    "admin"."""
    return (request.headers.get("x-actor") or "").strip()[:128] or "admin"


async def require_scoring(request: Request) -> None:
    """Dependency for scoring paths: open unless a scoring token is configured."""
    config = request.app.state.config
    if config.token:
        check(request, config.token, config.admin_token)
