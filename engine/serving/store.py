"""The model repository: documents, versions, promotion, endpoints and the deployment history.

Documents are content-addressed by their sha256. Metadata lives in SQLite (the embedded default:
``<repo>/repository.sqlite3``, documents as files under ``<repo>/documents/``) or in PostgreSQL
when the repository is a ``postgresql://`` URL; then the documents' bytes are stored in the
database too, so that replicas on several machines share one repository with nothing else
mounted.

Every change bumps one counter (``generation()``) in the same transaction, so a worker learns
that something changed with one cheap query and only then re-reads what it caches.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator


class NotFound(LookupError):
    """No such model, version or endpoint (the service answers 404)."""


class Conflict(Exception):
    """The change would break what is serving (the service answers 409): deleting a promoted
    version or one an endpoint routes to."""


@dataclass(frozen=True)
class Version:
    """One deployed version of a model."""

    model: str
    version: int
    digest: str
    format: str                      # "pmml" or "pfa"
    created_at: str                  # ISO 8601, UTC
    actor: str
    schema: dict = field(default_factory=dict, compare=False)

    def describe(self, promoted: int | None = None) -> dict:
        return {"version": self.version, "digest": self.digest, "format": self.format,
                "created_at": self.created_at, "actor": self.actor,
                "promoted": self.version == promoted}


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS models (
    name TEXT PRIMARY KEY, promoted BIGINT, created_at TEXT NOT NULL,
    last_version BIGINT NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS versions (
    model TEXT NOT NULL, version BIGINT NOT NULL, digest TEXT NOT NULL, format TEXT NOT NULL,
    schema TEXT NOT NULL, created_at TEXT NOT NULL, actor TEXT NOT NULL,
    PRIMARY KEY (model, version));
CREATE TABLE IF NOT EXISTS endpoints (
    name TEXT PRIMARY KEY, spec TEXT NOT NULL, updated_at TEXT NOT NULL, actor TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history (
    id {serial} PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    model TEXT, version BIGINT, endpoint TEXT, detail TEXT);
CREATE TABLE IF NOT EXISTS blobs (
    key TEXT PRIMARY KEY, content {bytes} NOT NULL, updated_at TEXT NOT NULL, actor TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, state TEXT NOT NULL, spec TEXT NOT NULL, actor TEXT NOT NULL,
    created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, owner TEXT, heartbeat DOUBLE PRECISION,
    attempts BIGINT NOT NULL DEFAULT 0, model TEXT, version BIGINT,
    rows_read BIGINT NOT NULL DEFAULT 0, rows_scored BIGINT NOT NULL DEFAULT 0,
    rows_rejected BIGINT NOT NULL DEFAULT 0, seconds DOUBLE PRECISION, error TEXT);
{documents}
"""

#: a job's states; queued and running ones are "live"
JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")
_JOB_COLUMNS = ("id", "state", "spec", "actor", "created_at", "started_at", "finished_at", "owner",
                "heartbeat", "attempts", "model", "version", "rows_read", "rows_scored",
                "rows_rejected", "seconds", "error")


class Store:
    """The repository behind every worker. Thread-safe (one connection behind a lock).

    Open one with ``Store.open(repo)``: a folder path (SQLite) or a postgresql URL.
    """

    dialect = ""

    @staticmethod
    def open(repo: str) -> "Store":
        if repo.startswith(("postgresql://", "postgres://")):
            return PostgresStore(repo)
        return SQLiteStore(repo)

    def __init__(self) -> None:
        self._lock = threading.RLock()

    # ----------------------------------------------------------------- backend hooks
    def _execute(self, cur: Any, sql: str, params: tuple = ()) -> Any:
        raise NotImplementedError

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        """A write transaction (serialised against other writers, across processes)."""
        raise NotImplementedError
        yield

    @contextmanager
    def _read(self) -> Iterator[Any]:
        raise NotImplementedError
        yield

    def _store_document(self, cur: Any, digest: str, data: bytes) -> None:
        raise NotImplementedError

    def document(self, digest: str) -> bytes:
        """A document's bytes by its sha256 (NotFound if absent)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # ----------------------------------------------------------------- shared logic
    def _init_schema(self, cur: Any, serial: str, documents: str, blob: str) -> None:
        for stmt in _TABLES.format(serial=serial, documents=documents, bytes=blob).split(";"):
            if stmt.strip():
                self._execute(cur, stmt)
        self._execute(cur, "INSERT INTO meta (key, value) VALUES ('generation', 0) "
                           "ON CONFLICT (key) DO NOTHING")

    def _bump(self, cur: Any) -> None:
        self._execute(cur, "UPDATE meta SET value = value + 1 WHERE key = 'generation'")

    def _log(self, cur: Any, actor: str, action: str, model: str | None = None,
             version: int | None = None, endpoint: str | None = None,
             detail: Any = None) -> None:
        self._execute(cur, "INSERT INTO history (at, actor, action, model, version, endpoint, "
                           "detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (_now(), actor, action, model, version, endpoint,
                       None if detail is None else json.dumps(detail)))

    def generation(self) -> int:
        """A counter bumped by every change (models, versions, promotion, endpoints)."""
        with self._read() as cur:
            row = self._execute(cur, "SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    # models and versions ----------------------------------------------------------
    def add_version(self, name: str, data: bytes, fmt: str, schema: dict, actor: str,
                    promote: bool = False) -> tuple[Version, bool]:
        """Store a document as the next version of ``name`` -> (version, created).

        The same bytes as an existing version of the model give that version (created False).
        The first version of a model is promoted at once; a later one only with ``promote``.
        """
        digest = digest_of(data)
        with self._tx() as cur:
            self._execute(cur, "INSERT INTO models (name, promoted, created_at) VALUES (?, NULL, ?)"
                               " ON CONFLICT (name) DO NOTHING", (name, _now()))
            row = self._execute(cur, "SELECT promoted, last_version FROM models WHERE name = ?" +
                                self._for_update, (name,)).fetchone()
            promoted = row[0]
            same = self._execute(cur, "SELECT version FROM versions WHERE model = ? AND digest = ?"
                                      " ORDER BY version LIMIT 1", (name, digest)).fetchone()
            if same is not None:
                number, created = int(same[0]), False
            else:
                # numbers are never reused, even after a version is deleted
                number, created = int(row[1]) + 1, True
                self._execute(cur, "UPDATE models SET last_version = ? WHERE name = ?",
                              (number, name))
                self._store_document(cur, digest, data)
                self._execute(cur, "INSERT INTO versions (model, version, digest, format, schema,"
                                   " created_at, actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
                              (name, number, digest, fmt, json.dumps(schema), _now(), actor))
                self._log(cur, actor, "deploy", name, number, detail={"digest": digest})
            if promoted is None or (promote and promoted != number):
                self._execute(cur, "UPDATE models SET promoted = ? WHERE name = ?", (number, name))
                self._log(cur, actor, "promote", name, number, detail={"previous": promoted})
            if created or promoted != number:
                self._bump(cur)
        return self.version(name, number), created   # type: ignore[return-value]

    _for_update = ""

    def promote(self, name: str, version: int, actor: str) -> None:
        """Make ``version`` the one ``POST /models/{name}`` scores (rolling back is promoting an
        older one)."""
        with self._tx() as cur:
            row = self._execute(cur, "SELECT promoted FROM models WHERE name = ?" +
                                self._for_update, (name,)).fetchone()
            if row is None:
                raise NotFound(f"model {name!r} does not exist")
            exists = self._execute(cur, "SELECT 1 FROM versions WHERE model = ? AND version = ?",
                                   (name, version)).fetchone()
            if exists is None:
                raise NotFound(f"model {name!r} has no version {version}")
            if row[0] != version:
                self._execute(cur, "UPDATE models SET promoted = ? WHERE name = ?",
                              (version, name))
                self._log(cur, actor, "promote", name, version, detail={"previous": row[0]})
                self._bump(cur)

    def model_names(self) -> list[str]:
        with self._read() as cur:
            return [r[0] for r in self._execute(cur, "SELECT name FROM models ORDER BY name")]

    def promoted(self, name: str) -> int | None:
        """The promoted version of a model (NotFound if the model does not exist)."""
        with self._read() as cur:
            row = self._execute(cur, "SELECT promoted FROM models WHERE name = ?",
                                (name,)).fetchone()
        if row is None:
            raise NotFound(f"model {name!r} does not exist")
        return None if row[0] is None else int(row[0])

    def versions(self, name: str) -> list[Version]:
        with self._read() as cur:
            rows = self._execute(cur, "SELECT model, version, digest, format, created_at, actor,"
                                      " schema FROM versions WHERE model = ? ORDER BY version",
                                 (name,)).fetchall()
        return [_version(r) for r in rows]

    def version(self, name: str, version: int) -> Version | None:
        with self._read() as cur:
            row = self._execute(cur, "SELECT model, version, digest, format, created_at, actor, "
                                     "schema FROM versions WHERE model = ? AND version = ?",
                                (name, version)).fetchone()
        return None if row is None else _version(row)

    def snapshot(self) -> dict[str, dict]:
        """name -> {"promoted": v, "versions": {v: digest}}: what a worker caches per generation."""
        with self._read() as cur:
            models = self._execute(cur, "SELECT name, promoted FROM models").fetchall()
            rows = self._execute(cur, "SELECT model, version, digest FROM versions").fetchall()
        out = {name: {"promoted": None if p is None else int(p), "versions": {}}
               for name, p in models}
        for name, v, d in rows:
            if name in out:
                out[name]["versions"][int(v)] = d
        return out

    def delete_version(self, name: str, version: int, actor: str) -> None:
        """Remove one version (Conflict while it is promoted or an endpoint routes to it)."""
        with self._tx() as cur:
            row = self._execute(cur, "SELECT promoted FROM models WHERE name = ?" +
                                self._for_update, (name,)).fetchone()
            if row is None:
                raise NotFound(f"model {name!r} does not exist")
            if self._execute(cur, "SELECT 1 FROM versions WHERE model = ? AND version = ?",
                             (name, version)).fetchone() is None:
                raise NotFound(f"model {name!r} has no version {version}")
            if row[0] == version:
                raise Conflict(f"version {version} of {name!r} is promoted; promote another "
                               "version first")
            routed = self._routing(cur, name, version)
            if routed:
                raise Conflict(f"version {version} of {name!r} is routed to by endpoint(s) "
                               f"{', '.join(routed)}")
            self._execute(cur, "DELETE FROM versions WHERE model = ? AND version = ?",
                          (name, version))
            self._log(cur, actor, "delete", name, version)
            self._bump(cur)

    def delete_model(self, name: str, actor: str) -> None:
        """Remove a model with every version (Conflict while an endpoint routes to it)."""
        with self._tx() as cur:
            if self._execute(cur, "SELECT 1 FROM models WHERE name = ?" + self._for_update,
                             (name,)).fetchone() is None:
                raise NotFound(f"model {name!r} does not exist")
            routed = self._routing(cur, name, None)
            if routed:
                raise Conflict(f"model {name!r} is routed to by endpoint(s) {', '.join(routed)}")
            self._execute(cur, "DELETE FROM versions WHERE model = ?", (name,))
            self._execute(cur, "DELETE FROM models WHERE name = ?", (name,))
            self._log(cur, actor, "delete", name)
            self._bump(cur)

    def history(self, name: str | None = None, limit: int = 1000) -> list[dict]:
        """Deployment history, oldest first: time, actor, action, model, version, endpoint."""
        sql = "SELECT at, actor, action, model, version, endpoint, detail FROM history"
        params: tuple = ()
        if name is not None:
            sql += " WHERE model = ?"
            params = (name,)
        sql += " ORDER BY id DESC LIMIT ?"
        with self._read() as cur:
            rows = self._execute(cur, sql, params + (limit,)).fetchall()
        return [{"at": r[0], "actor": r[1], "action": r[2], "model": r[3],
                 "version": None if r[4] is None else int(r[4]), "endpoint": r[5],
                 "detail": None if r[6] is None else json.loads(r[6])} for r in reversed(rows)]

    # small shared blobs (e.g. drift references) -------------------------------------
    def put_blob(self, key: str, data: bytes, actor: str, only_if_absent: bool = False) -> bool:
        """Store bytes under a key shared by every worker and replica; returns whether this call
        wrote them (with only_if_absent, the first writer wins). No generation bump."""
        with self._tx() as cur:
            if only_if_absent:
                done = self._execute(cur, "INSERT INTO blobs (key, content, updated_at, actor) "
                                          "VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                                     (key, data, _now(), actor)).rowcount
                return bool(done)
            self._execute(cur, "INSERT INTO blobs (key, content, updated_at, actor) VALUES "
                               "(?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET content = "
                               "excluded.content, updated_at = excluded.updated_at, "
                               "actor = excluded.actor", (key, data, _now(), actor))
            return True

    def get_blob(self, key: str) -> bytes | None:
        with self._read() as cur:
            row = self._execute(cur, "SELECT content FROM blobs WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    # endpoints ------------------------------------------------------------------
    def put_endpoint(self, name: str, spec: dict, actor: str) -> None:
        """Create or replace an endpoint's routing spec (validated by the caller)."""
        with self._tx() as cur:
            self._execute(cur, "INSERT INTO endpoints (name, spec, updated_at, actor) "
                               "VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                               "spec = excluded.spec, updated_at = excluded.updated_at, "
                               "actor = excluded.actor", (name, json.dumps(spec), _now(), actor))
            self._log(cur, actor, "route", endpoint=name, detail=spec)
            self._bump(cur)

    def get_endpoint(self, name: str) -> dict | None:
        with self._read() as cur:
            row = self._execute(cur, "SELECT spec FROM endpoints WHERE name = ?",
                                (name,)).fetchone()
        return None if row is None else json.loads(row[0])

    def list_endpoints(self) -> list[dict]:
        """Every endpoint as {"name", "spec", "updated_at", "actor"}, by name."""
        with self._read() as cur:
            rows = self._execute(cur, "SELECT name, spec, updated_at, actor FROM endpoints "
                                      "ORDER BY name").fetchall()
        return [{"name": r[0], "spec": json.loads(r[1]), "updated_at": r[2], "actor": r[3]}
                for r in rows]

    def delete_endpoint(self, name: str, actor: str = "admin") -> None:
        with self._tx() as cur:
            gone = self._execute(cur, "DELETE FROM endpoints WHERE name = ?", (name,)).rowcount
            if not gone:
                raise NotFound(f"endpoint {name!r} does not exist")
            self._log(cur, actor, "unroute", endpoint=name)
            self._bump(cur)

    def routes_to(self, name: str, version: int | None = None) -> bool:
        """Does an endpoint route (or shadow) to this version of the model (any version when
        None)? An endpoint's variant names ``model`` and ``version``."""
        with self._read() as cur:
            return bool(self._routing(cur, name, version))

    def _routing(self, cur: Any, name: str, version: int | None) -> list[str]:
        rows = self._execute(cur, "SELECT name, spec FROM endpoints").fetchall()
        hits = []
        for ep, raw in rows:
            spec = json.loads(raw)
            targets = list(spec.get("variants") or [])
            if spec.get("shadow"):
                targets.append(spec["shadow"])
            for t in targets:
                if isinstance(t, dict) and t.get("model") == name and (
                        version is None or t.get("version") == version):
                    hits.append(ep)
                    break
        return hits


    # batch jobs ------------------------------------------------------------------
    # A job is queued by the API, claimed by exactly one runner (any worker of any replica),
    # which keeps its heartbeat fresh while it runs. A running job whose heartbeat is stale
    # (its runner died: a restart, a crash) is queued again, at most ``attempts`` times.
    def add_job(self, job_id: str, spec: dict, actor: str, model: str | None,
                version: int | None) -> None:
        with self._tx() as cur:
            self._execute(cur, "INSERT INTO jobs (id, state, spec, actor, created_at, model, "
                               "version) VALUES (?, 'queued', ?, ?, ?, ?, ?)",
                          (job_id, json.dumps(spec), actor, _now(), model, version))

    def job(self, job_id: str) -> dict | None:
        with self._read() as cur:
            row = self._execute(cur, f"SELECT {', '.join(_JOB_COLUMNS)} FROM jobs WHERE id = ?",
                                (job_id,)).fetchone()
        return None if row is None else _job(row)

    def jobs(self, limit: int = 1000) -> list[dict]:
        """The latest jobs, newest first."""
        with self._read() as cur:
            rows = self._execute(cur, f"SELECT {', '.join(_JOB_COLUMNS)} FROM jobs ORDER BY "
                                      "created_at DESC, id LIMIT ?", (limit,)).fetchall()
        return [_job(r) for r in rows]

    def job_counts(self) -> dict[str, int]:
        with self._read() as cur:
            rows = self._execute(cur, "SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        counts = dict.fromkeys(JOB_STATES, 0)
        counts.update({r[0]: int(r[1]) for r in rows})
        return counts

    _skip_locked = ""

    def claim_job(self, owner: str) -> dict | None:
        """Take the oldest queued job for ``owner`` (state running); None if there is none.
        Exactly one caller gets each job, across processes and replicas."""
        with self._tx() as cur:
            row = self._execute(cur, "SELECT id FROM jobs WHERE state = 'queued' ORDER BY "
                                     "created_at, id LIMIT 1" + self._skip_locked).fetchone()
            if row is None:
                return None
            taken = self._execute(cur, "UPDATE jobs SET state = 'running', owner = ?, "
                                       "heartbeat = ?, started_at = ?, attempts = attempts + 1 "
                                       "WHERE id = ? AND state = 'queued'",
                                  (owner, time.time(), _now(), row[0])).rowcount
        return self.job(row[0]) if taken else None

    def job_heartbeat(self, job_id: str, owner: str, **progress: Any) -> str | None:
        """Keep a running job claimed (and record its progress); returns its state (a cancel
        shows as "cancelled"), None if it is gone."""
        sets = ", ".join(f"{k} = ?" for k in progress)
        with self._tx() as cur:
            self._execute(cur, "UPDATE jobs SET heartbeat = ?" + (", " + sets if sets else "") +
                               " WHERE id = ? AND owner = ? AND state = 'running'",
                          (time.time(), *progress.values(), job_id, owner))
            row = self._execute(cur, "SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else row[0]

    def job_progress(self, job_id: str, rows_read: int, rows_scored: int,
                     rows_rejected: int) -> None:
        """Rows done so far by a running job (written by its process)."""
        with self._tx() as cur:
            self._execute(cur, "UPDATE jobs SET rows_read = ?, rows_scored = ?, rows_rejected = ?"
                               " WHERE id = ? AND state = 'running'",
                          (rows_read, rows_scored, rows_rejected, job_id))

    def finish_job(self, job_id: str, owner: str, state: str, **fields: Any) -> bool:
        """Record a job's end (succeeded or failed) unless it was cancelled meanwhile."""
        sets = "".join(f", {k} = ?" for k in fields)
        with self._tx() as cur:
            return bool(self._execute(cur, "UPDATE jobs SET state = ?, finished_at = ?" + sets +
                                           " WHERE id = ? AND owner = ? AND state = 'running'",
                                      (state, _now(), *fields.values(), job_id, owner)).rowcount)

    def cancel_job(self, job_id: str) -> str:
        """Cancel a queued or running job; returns its state afterwards (NotFound if none)."""
        with self._tx() as cur:
            self._execute(cur, "UPDATE jobs SET state = 'cancelled', finished_at = ? WHERE id = ? "
                               "AND state IN ('queued', 'running')", (_now(), job_id))
            row = self._execute(cur, "SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"job {job_id!r} does not exist")
        return row[0]

    def requeue_stale_jobs(self, older_than: float, max_attempts: int = 3) -> int:
        """Running jobs whose runner stopped beating are queued again from the start (or failed
        after ``max_attempts``); returns how many."""
        limit = time.time() - older_than
        with self._tx() as cur:
            failed = self._execute(cur, "UPDATE jobs SET state = 'failed', finished_at = ?, error = "
                                        "'its runner stopped (restart or crash) too many times' "
                                        "WHERE state = 'running' AND heartbeat < ? AND attempts >= ?",
                                   (_now(), limit, max_attempts)).rowcount
            again = self._execute(cur, "UPDATE jobs SET state = 'queued', owner = NULL, "
                                       "rows_read = 0, rows_scored = 0, rows_rejected = 0 "
                                       "WHERE state = 'running' AND heartbeat < ?",
                                  (limit,)).rowcount
        return int(failed or 0) + int(again or 0)


def _job(row: tuple) -> dict:
    job = dict(zip(_JOB_COLUMNS, row))
    job["spec"] = json.loads(job["spec"])
    for k in ("attempts", "version", "rows_read", "rows_scored", "rows_rejected"):
        if job[k] is not None:
            job[k] = int(job[k])
    return job


def _version(row: tuple) -> Version:
    return Version(model=row[0], version=int(row[1]), digest=row[2], format=row[3],
                   created_at=row[4], actor=row[5], schema=json.loads(row[6]))


class SQLiteStore(Store):
    """Metadata in ``<folder>/repository.sqlite3`` (WAL, shared by the workers of one machine);
    documents as files ``<folder>/documents/<sha256[:2]>/<sha256>``."""

    dialect = "sqlite"

    def __init__(self, folder: str):
        super().__init__()
        self.folder = os.path.abspath(os.path.expanduser(folder))
        self.documents = os.path.join(self.folder, "documents")
        os.makedirs(self.documents, exist_ok=True)
        self._conn = sqlite3.connect(os.path.join(self.folder, "repository.sqlite3"),
                                     timeout=30, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout = 30000")
        for attempt in range(50):   # several workers may create the schema at once
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                with self._tx() as cur:
                    self._init_schema(cur, "INTEGER", "", "BLOB")
                break
            except sqlite3.OperationalError:
                if attempt == 49:
                    raise
                time.sleep(0.1)

    def _execute(self, cur: Any, sql: str, params: tuple = ()) -> Any:
        return cur.execute(sql, params)

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[Any]:
        with self._lock:
            yield self._conn.cursor()

    def _path(self, digest: str) -> str:
        return os.path.join(self.documents, digest[:2], digest)

    def _store_document(self, cur: Any, digest: str, data: bytes) -> None:
        path = self._path(digest)
        if os.path.exists(path):
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def document(self, digest: str) -> bytes:
        try:
            with open(self._path(digest), "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            raise NotFound(f"document {digest} is not in the repository") from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class PostgresStore(Store):
    """Metadata and documents (bytea, by sha256) in PostgreSQL, through psycopg 3: replicas on
    several machines share the repository through the database alone."""

    dialect = "postgresql"
    _for_update = " FOR UPDATE"
    _skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str):
        super().__init__()
        try:
            import psycopg
        except ImportError:   # pragma: no cover - part of the serve extra
            raise RuntimeError("a postgresql repository needs psycopg: "
                               "pip install 'portmodel[serve]'") from None
        self._psycopg = psycopg
        self.url = url
        self._conn = self._connect()
        with self._tx() as cur:
            # several replicas may create the schema at once: serialise on an advisory lock
            cur.execute("SELECT pg_advisory_xact_lock(7411)")
            self._init_schema(cur, "BIGSERIAL", "CREATE TABLE IF NOT EXISTS documents ("
                                                "digest TEXT PRIMARY KEY, content BYTEA NOT NULL)",
                              "BYTEA")

    def _connect(self) -> Any:
        return self._psycopg.connect(self.url, autocommit=True)

    def _execute(self, cur: Any, sql: str, params: tuple = ()) -> Any:
        cur.execute(sql.replace("?", "%s"), params)
        return cur

    def _alive(self) -> None:
        if self._conn.closed or self._conn.broken:
            self._conn = self._connect()

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._lock:
            self._alive()
            with self._conn.transaction():
                with self._conn.cursor() as cur:
                    yield cur

    @contextmanager
    def _read(self) -> Iterator[Any]:
        with self._lock:
            self._alive()
            with self._conn.cursor() as cur:
                yield cur

    def _store_document(self, cur: Any, digest: str, data: bytes) -> None:
        self._execute(cur, "INSERT INTO documents (digest, content) VALUES (?, ?) "
                           "ON CONFLICT (digest) DO NOTHING", (digest, data))

    def document(self, digest: str) -> bytes:
        with self._read() as cur:
            row = self._execute(cur, "SELECT content FROM documents WHERE digest = ?",
                                (digest,)).fetchone()
        if row is None:
            raise NotFound(f"document {digest} is not in the repository")
        return bytes(row[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
