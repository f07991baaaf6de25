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


#: the wall-clock limit of one begin/action/end call when the host sets none (a document's own
#: ``timeout`` options may only lower it): a loop within the step budget but with costly steps
#: would otherwise run for days
DEFAULT_TIMEOUT_MS = 30_000


@dataclass
class Limits:
    """Engine safety limits. ``timeout_ms``: the host's wall-clock limit per call (None: no
    limit but the document's own ``timeout`` options)."""

    max_steps: int = 10_000_000          # loop iterations + user-function calls per routine
    max_depth: int = 200                 # nested user-function calls
    max_size: int = 10_000_000           # elements of a created array/map, chars/bytes of a string
    max_total: int = 100_000_000         # the sum of those sizes over one begin/action/end call
    timeout_ms: int | None = DEFAULT_TIMEOUT_MS   # wall time of one call; the document may lower it
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
        self.checked_at: tuple[float, int] = (0.0, 0)
        self.timeout_ms: int | None = None
        self.depth = 0
        self.max_size = self.limits.max_size
        self.max_total = self.limits.max_total
        self.allocated = 0
        self.max_depth = self.limits.max_depth

    # -- per-routine bookkeeping
    def start(self, timeout_ms: int | None) -> None:
        """Reset the step budget and deadline at the start of a begin/action/end call."""
        self.steps = 0
        self.depth = 0
        self.allocated = 0
        self.timeout_ms = timeout_ms
        now = time.perf_counter()
        self.deadline = now + timeout_ms / 1000.0 \
            if timeout_ms is not None and timeout_ms >= 0 else None
        self.checked_at = (now, 0)
        # with a deadline, the first checks come early and the interval then adapts to the cost
        # of a step (see check)
        first = self.limits.check_every if self.deadline is None else 1
        self.next_check = min(first, self.limits.check_every, self.limits.max_steps)

    def check(self) -> None:
        """Called when ``steps`` passes ``next_check``: enforce the step budget and deadline."""
        if self.steps > self.limits.max_steps:
            raise PFALimitError(f"exceeded the limit of {self.limits.max_steps} loop iterations "
                                "and function calls per routine")
        every = self.limits.check_every
        if self.deadline is not None:
            now = time.perf_counter()
            if now > self.deadline:
                raise PFATimeoutError(f"exceeded timeout of {self.timeout_ms} milliseconds")
            # costly steps (big library calls in a loop) are checked more often, so that the
            # deadline is overrun by about 10 ms of steps, not by check_every of them
            then, steps = self.checked_at
            per_step = (now - then) / max(1, self.steps - steps)
            if per_step > 0:
                every = max(1, min(every, int(0.01 / per_step)))
            else:
                every = min(every, 2 * max(1, self.steps - steps))
            self.checked_at = (now, self.steps)
        self.next_check = min(self.steps + every, self.limits.max_steps + 1)

    def regex_timeout(self) -> float:
        """Seconds one regex search may take: the routine's remaining time, capped."""
        cap = self.limits.regex_timeout_ms / 1000.0
        if self.deadline is not None:
            return max(0.001, min(cap, self.deadline - time.perf_counter()))
        return cap

    def too_big(self, n: int, what: str = "array") -> None:
        raise PFALimitError(f"{what} of size {n} exceeds the engine's limit of {self.max_size}")

    def check_size(self, n: int, what: str = "array") -> None:
        """A value of size n is about to be created: check it alone and, with all the values
        created since the call started, against the per-call budget (``max_total``)."""
        if n > self.max_size:
            self.too_big(n, what)
        self.allocated += n
        if self.allocated > self.max_total:
            raise PFALimitError(f"values created by this call total {self.allocated} elements and "
                                f"characters, over the engine's budget of {self.max_total}")

    def write_log(self, values: list, namespace: str | None) -> None:
        if self.log_sink is not None:
            self.log_sink(values, namespace)
        else:
            log.info("%s%s", f"[{namespace}] " if namespace else "", " ".join(map(repr, values)))
