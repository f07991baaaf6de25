"""Mutable engine state shared by the compiled closures: cells, pools, RNG, limits, counters.

Safety limits (per begin/action/end invocation): a step budget (loop iterations plus user
function calls), a wall-clock deadline (the ``timeout`` options or the host's own), a user
function recursion depth, and a maximum size for arrays/maps/strings/bytes that library functions
create. Exceeding any of them raises PFALimitError/PFATimeoutError, which ``try`` does not catch.
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Callable

from .errors import PFALimitError, PFATimeoutError

log = logging.getLogger("portmodel.pfa")


@dataclass
class Limits:
    """Engine safety limits. ``timeout_ms`` None means: use the document's options (if any)."""

    max_steps: int = 10_000_000          # loop iterations + user-function calls per routine
    max_depth: int = 200                 # nested user-function calls
    max_size: int = 10_000_000           # elements of a created array/map, chars/bytes of a string
    timeout_ms: int | None = None        # host override of the document's timeout
    check_every: int = 1024              # steps between wall-clock checks
    regex_timeout_ms: int = 2000         # one regular-expression search (patterns may be hostile)


class Runtime:
    """State of one engine instance."""

    def __init__(self, limits: Limits | None = None, seed: int | None = None):
        self.limits = limits or Limits()
        self.cells: dict[str, list] = {}        # name -> one-element box
        self.pools: dict[str, dict] = {}
        self.rng = random.Random(seed)
        self.emit: Callable[[Any], None] = lambda v: None
        self.log_sink: Callable[[list, str | None], None] | None = None
        self.actions_started = 0
        self.actions_finished = 0
        self.steps = 0
        self.next_check = 1 << 62
        self.deadline: float | None = None
        self.timeout_ms: int | None = None
        self.depth = 0
        self.max_size = self.limits.max_size
        self.max_depth = self.limits.max_depth

    # -- per-routine bookkeeping
    def start(self, timeout_ms: int | None) -> None:
        """Reset the step budget and deadline at the start of a begin/action/end call."""
        self.steps = 0
        self.depth = 0
        self.timeout_ms = timeout_ms
        self.deadline = time.perf_counter() + timeout_ms / 1000.0 \
            if timeout_ms is not None and timeout_ms >= 0 else None
        self.next_check = min(self.limits.check_every, self.limits.max_steps)

    def check(self) -> None:
        """Called when ``steps`` passes ``next_check``: enforce the step budget and deadline."""
        if self.steps > self.limits.max_steps:
            raise PFALimitError(f"exceeded the limit of {self.limits.max_steps} loop iterations "
                                "and function calls per routine")
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise PFATimeoutError(f"exceeded timeout of {self.timeout_ms} milliseconds")
        self.next_check = min(self.steps + self.limits.check_every, self.limits.max_steps + 1)

    def regex_timeout(self) -> float:
        """Seconds one regex search may take: the routine's remaining time, capped."""
        cap = self.limits.regex_timeout_ms / 1000.0
        if self.deadline is not None:
            return max(0.001, min(cap, self.deadline - time.perf_counter()))
        return cap

    def too_big(self, n: int, what: str = "array") -> None:
        raise PFALimitError(f"{what} of size {n} exceeds the engine's limit of {self.max_size}")

    def check_size(self, n: int, what: str = "array") -> None:
        if n > self.max_size:
            self.too_big(n, what)

    def write_log(self, values: list, namespace: str | None) -> None:
        if self.log_sink is not None:
            self.log_sink(values, namespace)
        else:
            log.info("%s%s", f"[{namespace}] " if namespace else "", " ".join(map(repr, values)))
