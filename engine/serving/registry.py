"""Registry: model name (and version) -> the compiled model a worker scores with.

Each worker keeps the repository's table of models, promoted versions and digests, and re-reads
it only when the repository's change counter moved (checked at most every ``poll_interval``
seconds, on the request path: one cheap query). Compiled models are cached per worker by digest,
so two versions (or two models) with the same document share one compiled model, and a
promotion only swaps a reference: no request fails during a change.
"""
from __future__ import annotations

import gc
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from .. import load
from ..model import Model
from .store import NotFound, Store


class ModelNotFound(NotFound):
    """No such model, or no such version of it (the service answers 404)."""


@dataclass(frozen=True)
class Loaded:
    """A compiled model with where it came from."""

    name: str
    version: int
    digest: str
    model: Model
    load_seconds: float = 0.0        # how long compiling took (0 when it came from the cache)


class Registry:
    """Resolves names to compiled models for one worker process. Thread-safe."""

    def __init__(self, store: Store, poll_interval: float = 0.25, cache_size: int = 32):
        self.store = store
        self.poll_interval = poll_interval
        self.cache_size = cache_size
        self._lock = threading.Lock()
        self._compile_locks: dict[str, threading.Lock] = {}
        self._compiled: OrderedDict[str, Model] = OrderedDict()
        self._table: dict[str, dict] = {}
        self._generation = -1
        self._checked = 0.0
        #: called with (digest, seconds) after a document is compiled (monitoring hooks in here)
        self.on_load = None
        #: observer_for(name, version, digest, model) -> an observer of what that version scores
        #: (monitoring sets it); every model resolve() hands out then reports through it
        self.observer_for = None
        self._loaded: dict[tuple[str, int, str], Loaded] = {}

    # ----------------------------------------------------------------- change tracking
    def refresh(self, force: bool = False) -> int:
        """Re-read the repository's table if it changed; returns the current generation."""
        now = time.monotonic()
        if not force and now - self._checked < self.poll_interval:
            return self._generation
        with self._lock:
            if not force and now - self._checked < self.poll_interval:
                return self._generation
            generation = self.store.generation()
            if generation != self._generation or force:
                self._table = self.store.snapshot()
                self._generation = generation
            self._checked = time.monotonic()
            return self._generation

    @property
    def generation(self) -> int:
        return self.refresh()

    def names(self) -> list[str]:
        self.refresh()
        return sorted(self._table)

    def table(self) -> dict[str, dict]:
        """name -> {"promoted": v, "versions": {v: digest}} as of the last refresh."""
        self.refresh()
        return self._table

    def watch(self, stop: threading.Event) -> None:
        """Poll the repository in the background (a daemon thread per worker) and compile
        newly promoted versions before the first request asks for them."""
        while not stop.wait(self.poll_interval):
            try:
                self.refresh()
                for entry in list(self._table.values()):
                    digest = entry["versions"].get(entry["promoted"])
                    if digest is not None and digest not in self._compiled:
                        self.compiled(digest)
            except Exception:   # noqa: BLE001 - a broken document or a lost database connection:
                continue        # requests report it; the watcher keeps watching

    def start_watching(self) -> threading.Event:
        """Start ``watch`` in a daemon thread; set the returned event to stop it."""
        stop = threading.Event()
        threading.Thread(target=self.watch, args=(stop,), name="portmodel-registry-watch",
                         daemon=True).start()
        return stop

    # ----------------------------------------------------------------- resolving
    def locate(self, name: str, version: int | None = None) -> tuple[int, str]:
        """(version, digest) of ``name`` (its promoted version when None); ModelNotFound."""
        self.refresh()
        entry = self._table.get(name)
        if entry is None:
            # the table may be up to poll_interval old: a model deployed through another worker
            # a moment ago must not be a 404 here
            self.refresh(force=True)
            entry = self._table.get(name)
            if entry is None:
                raise ModelNotFound(f"model {name!r} does not exist")
        v = entry["promoted"] if version is None else version
        digest = entry["versions"].get(v)
        if digest is None:
            self.refresh(force=True)
            entry = self._table.get(name) or {"versions": {}, "promoted": None}
            v = entry["promoted"] if version is None else version
            digest = entry["versions"].get(v)
            if digest is None:
                raise ModelNotFound(f"model {name!r} has no version {version}" if version
                                    is not None else f"model {name!r} has no promoted version")
        return int(v), digest

    def resolve(self, name: str, version: int | None = None) -> Loaded:
        """The compiled model for ``name`` at ``version`` (the promoted one when None).

        Raises ModelNotFound (a NotFound, i.e. a LookupError) for an unknown model or version.
        """
        v, digest = self.locate(name, version)
        key = (name, v, digest)
        loaded = self._loaded.get(key)
        if loaded is not None:
            return loaded
        model, seconds = self.compiled(digest)
        if self.observer_for is not None:
            from .drift import input_fields, prediction_field
            from .observed import ObservedModel
            pf = prediction_field(model)
            model = ObservedModel(model, self.observer_for(name, v, digest, model),
                                  pf.name if pf else None, [f.name for f in input_fields(model)])
        loaded = Loaded(name=name, version=v, digest=digest, model=model)
        with self._lock:
            if len(self._loaded) >= 4 * self.cache_size:
                self._loaded.clear()
            loaded = self._loaded.setdefault(key, loaded)
        if seconds:
            return Loaded(name=name, version=v, digest=digest, model=loaded.model,
                          load_seconds=seconds)
        return loaded

    def is_compiled(self, digest: str) -> bool:
        return digest in self._compiled

    def remember(self, digest: str, model: Model) -> None:
        """Cache a model compiled elsewhere in this worker (at deploy time)."""
        with self._lock:
            self._compiled.setdefault(digest, model)
        _settle()

    def compiled(self, digest: str) -> tuple[Model, float]:
        """The compiled model of a document (compiled once per worker) and its compile time."""
        model = self._compiled.get(digest)
        if model is not None:
            try:
                self._compiled.move_to_end(digest)
            except KeyError:    # evicted by another thread meanwhile: still a valid model
                pass
            return model, 0.0
        with self._lock:
            lock = self._compile_locks.setdefault(digest, threading.Lock())
        with lock:
            model = self._compiled.get(digest)
            if model is not None:
                return model, 0.0
            data = self.store.document(digest)
            start = time.perf_counter()
            model = load(data)
            seconds = time.perf_counter() - start
            with self._lock:
                self._compiled[digest] = model
                while len(self._compiled) > self.cache_size:
                    self._compiled.popitem(last=False)
                self._compile_locks.pop(digest, None)
            _settle()
            if self.on_load is not None:
                self.on_load(digest, seconds)
            return model, seconds


def _settle() -> None:
    """Move what a compiled model allocated out of the cyclic collector's reach: a large
    model (a forest's node objects) would otherwise be traversed by every full collection,
    a pause of tens of milliseconds in the middle of requests. Frozen objects are still freed
    by reference counting when a model leaves the cache."""
    gc.collect()
    gc.freeze()
