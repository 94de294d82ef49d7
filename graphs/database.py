"""Where durable records live: a SQLite file (the default, one machine) or a PostgreSQL database shared by many
(`CLAUSEFLOW_DATABASE_URL=postgresql://…`). Each store (decision log, review index, accounts) subclasses `Store` and
writes through `transaction()` and reads through `read()`; its queries are written once, in SQL both engines run
(`?` placeholders, `ON CONFLICT`), and only full-text search differs by `dialect`.

The guarantees are the same on both:
- a write is one transaction, and writers of one group take turns (SQLite: `BEGIN IMMEDIATE` on the file;
  PostgreSQL: a transaction-scoped advisory lock per group), so a read-check-write such as "refuse a decision made
  on a stale version" cannot interleave with another process's;
- a lock held longer than BUSY_TIMEOUT_S ends in DatabaseBusy, with nothing written;
- append-only tables are enforced by the database's own triggers.

The PostgreSQL schema is a numbered sequence of SQL files (graphs/migrations/postgres/NNN_name.sql), applied once
each, in order, at first open, under an advisory lock and recorded in `schema_migrations`.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from functools import lru_cache
from pathlib import Path

from document_io.file_locks import acquire_polling

BUSY_TIMEOUT_S = 5.0  # bounded lock waits: a locked database ends in a clear message, not a minute-long hang
MIGRATIONS_DIR = Path(__file__).parent / "migrations" / "postgres"
_MIGRATION_LOCK = 7_215_000_001  # advisory lock key: one process applies migrations at a time


class DatabaseBusy(RuntimeError):
    """Another process held the lock longer than BUSY_TIMEOUT_S; nothing was written."""


class DatabaseUnreachable(RuntimeError):
    """The configured database could not be reached or refused the connection."""


class SchemaNotReady(DatabaseUnreachable):
    """The database's schema is behind this build and the role we connect as may not change it (least privilege:
    migrations run as the owner, `app.py db migrate`)."""


OWNER_MUST_MIGRATE = "run `app.py db migrate` with CLAUSEFLOW_DATABASE_OWNER_URL set to the owner's URL"


def is_database_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def describe(location: str | Path) -> str:
    """A name for messages: the file's name, or the database's without its credentials."""
    if is_database_url(location):
        return "the database " + re.sub(r"^[a-z]+://([^@/]*@)?", "", str(location)).split("?")[0]
    return Path(location).name


class Store:
    """A set of tables in a SQLite file or a PostgreSQL database. Subclasses give the SQLite `schema` (idempotent,
    IF NOT EXISTS) and `migrations` (columns added to older files); on PostgreSQL the numbered files hold both."""

    schema = ""
    migrations: dict[str, dict[str, str]] = {}
    lock_group = "reviews"  # stores sharing one SQLite file share its writer lock; so they do on PostgreSQL

    def __init__(self, location: Path | str) -> None:
        self.location = location
        if is_database_url(location):
            self._engine: _Engine = _PostgresEngine(str(location), self.lock_group)
        else:
            self._engine = _SQLiteEngine(Path(location), self.schema, self.migrations)

    @property
    def dialect(self) -> str:
        return self._engine.dialect

    def transaction(self):
        """One write transaction: committed on success, rolled back on any error; writers of the group take turns."""
        return self._engine.transaction()

    def read(self):
        """A connection for reads (each statement sees what was committed before it)."""
        return self._engine.read()


class _Engine:
    dialect = ""

    def transaction(self): ...

    def read(self): ...


# --- SQLite ---------------------------------------------------------------------------------------------


class _SQLiteEngine(_Engine):
    """One short-lived connection per operation, so several processes (batch workers, the web server, the CLI)
    can share the file."""

    dialect = "sqlite"

    def __init__(self, path: Path, schema: str, migrations: dict[str, dict[str, str]]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        with closing(self._connect()) as db:
            db.executescript(schema)  # idempotent (IF NOT EXISTS); executescript manages its own transaction
        with self.transaction() as db:
            for table, columns in migrations.items():
                present = {row["name"] for row in db.execute(f"PRAGMA table_info({table})")}
                for column, kind in columns.items():
                    if column not in present:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    def _busy_or(self, error: sqlite3.OperationalError) -> Exception:
        if "locked" in str(error) or "busy" in str(error):
            return DatabaseBusy(f"{self._path.name} is locked by another process; nothing was saved, try again")
        return error

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes the write lock at the start, so read-check-write sequences are serialised
        with closing(self._connect()) as db:
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._busy_or(exc) from exc
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            try:
                db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                db.execute("ROLLBACK")
                raise self._busy_or(exc) from exc

    def read(self) -> closing[sqlite3.Connection]:
        return closing(self._connect())


# --- PostgreSQL -----------------------------------------------------------------------------------------


class Row(tuple):
    """A result row read by position or by column name, like sqlite3.Row (so `dict(row)` works too)."""

    def __new__(cls, values, names: dict[str, int]):
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key):
        return super().__getitem__(self._names[key] if isinstance(key, str) else key)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor):
    names = {column.name: i for i, column in enumerate(cursor.description or [])}
    return lambda values: Row(values, names)


@lru_cache(maxsize=512)
def postgres_sql(sql: str) -> str:
    """The stores' SQL for psycopg: `?` placeholders become `%s` (outside quoted text) and a literal `%` is doubled."""
    out, quote = [], None
    for char in sql:
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        out.append("%%" if char == "%" else char)
    return "".join(out)


class _PostgresConnection:
    """A psycopg connection that takes the stores' SQL as written for SQLite."""

    dialect = "postgres"

    def __init__(self, connection) -> None:
        self._connection = connection

    def execute(self, sql: str, params=()):
        return self._connection.execute(postgres_sql(sql), _storable(params))

    def executemany(self, sql: str, rows):
        """Like sqlite3's: the cursor, whose rowcount sums the rows every statement changed."""
        cursor = self._connection.cursor()
        cursor.executemany(postgres_sql(sql), [_storable(r) for r in rows])
        return cursor


def _storable(params) -> tuple:
    """PostgreSQL text cannot hold NUL, which hostile or broken files do contain (SQLite stores it). It becomes U+FFFD:
    one character for one, so every span's offsets still point at the same text."""
    return tuple(v.replace("\x00", "\ufffd") if isinstance(v, str) and "\x00" in v else v for v in params)


_pools: dict[tuple[int, str], object] = {}
_pools_lock = threading.Lock()


def connection_pool(url: str):
    """This process's pool for `url` (pools are not shared across fork); the schema is brought up to date on first use."""
    from psycopg_pool import ConnectionPool

    import psycopg

    key = (os.getpid(), url)
    with _pools_lock:
        if key not in _pools:
            # the pool's own reconnect warnings would print a line per attempt during an outage; outages are reported
            # once, by whoever waited them out or gave up (graphs/transient.py)
            logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
            try:  # one direct connection first: an unreachable server is a clear one-line reason, at once
                with psycopg.connect(url, autocommit=True, connect_timeout=10) as connection:
                    bring_schema_up_to_date(connection, url)
            except psycopg.OperationalError as exc:
                reason = " ".join(str(exc).split()) or type(exc).__name__
                raise DatabaseUnreachable(f"cannot use {describe(url)}: {reason}") from None
            # each connection is checked before it is handed out: one left broken by a server restart is replaced,
            # not given to a request that then fails
            _pools[key] = ConnectionPool(url, min_size=1, max_size=10, max_idle=60, timeout=BUSY_TIMEOUT_S * 2,
                                         open=True, check=ConnectionPool.check_connection,
                                         kwargs={"autocommit": True, "row_factory": _row_factory})
        return _pools[key]


def close_pools(url: str | None = None) -> None:
    """Close this process's pools (to `url`, or all): tests, before a database is copied or dropped."""
    with _pools_lock:
        for key in [k for k in _pools if k[0] == os.getpid() and url in (None, k[1])]:
            _pools.pop(key).close()


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, SQL) of every numbered migration, in order."""
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        number, _, name = path.stem.partition("_")
        found.append((int(number), name, path.read_text(encoding="utf-8")))
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


def pending_migrations(connection) -> list[int]:
    """The migrations this database has not had yet (a read: any role that may connect can ask)."""
    if connection.execute("SELECT to_regclass('schema_migrations')").fetchone()[0] is None:
        done: set[int] = set()
    else:
        done = {row[0] for row in connection.execute("SELECT version FROM schema_migrations")}
    return [version for version, _, _ in migration_files() if version not in done]


def bring_schema_up_to_date(connection, url: str) -> None:
    """Apply what is pending when the role may (the owner; a development database); the application's own role may
    not, and is told who must."""
    import psycopg

    pending = pending_migrations(connection)
    if not pending:
        return
    try:
        apply_migrations(connection)
    except psycopg.errors.InsufficientPrivilege:
        role = connection.info.user
        raise SchemaNotReady(f"{describe(url)} needs migrations {pending[0]}-{pending[-1]} and the role {role} may not "
                             f"change its schema: {OWNER_MUST_MIGRATE}") from None


def apply_migrations(connection) -> list[int]:
    """Apply the migrations this database has not had yet, in order, in one transaction under an advisory lock so
    that processes opening a new database together apply each one once. Returns the versions applied now."""
    applied_now = []
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        connection.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                           " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        done = {row[0] for row in connection.execute("SELECT version FROM schema_migrations")}
        for version, name, sql in migration_files():
            if version in done:
                continue
            # DDL is transactional here: a failing file rolls the whole opening back, leaving the database as it was
            connection.execute(sql)  # no parameters: the simple protocol runs the file's statements in turn
            connection.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))
            applied_now.append(version)
    return applied_now


def _lock_key(group: str) -> int:
    return zlib.crc32(f"clauseflow:{group}".encode()) - 2**31  # an int4, for the two-key form too


@contextmanager
def advisory_lock(url: str, name: str, *, wait_s: float, busy: str) -> Iterator[None]:
    """An exclusive lock named `name` held by the database for every process that shares it, on any machine: a
    session-level advisory lock on a connection of its own, polled (never waited for inside a statement, which can
    deadlock with CREATE INDEX CONCURRENTLY) until `wait_s` has passed, then LockBusy. The server drops it when its
    holder's connection ends, kill -9 included."""
    import psycopg

    key = (_lock_key("named"), zlib.crc32(name.encode()) - 2**31)  # two int4 keys; a collision only makes two wait
    with psycopg.connect(url, autocommit=True) as connection:
        acquire_polling(lambda: connection.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()[0],
                        wait_s=wait_s, busy=busy)
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s, %s)", key)


_unreachable_at: dict[str, float] = {}  # url -> when it was last found unreachable (monotonic seconds)


class _PostgresEngine(_Engine):
    dialect = "postgres"

    def __init__(self, url: str, lock_group: str) -> None:
        self._url = url
        self._key = _lock_key(lock_group)
        connection_pool(url)  # connects and migrates now: a bad URL is reported when the store is opened

    @contextmanager
    def _connection(self):
        import psycopg
        from psycopg_pool import PoolTimeout

        if time.monotonic() - _unreachable_at.get(self._url, -60.0) < 30:
            self._raise_if_unreachable()  # it was down a moment ago: say so at once instead of waiting on the pool
        try:
            with connection_pool(self._url).connection() as connection:
                yield connection
        except PoolTimeout as exc:
            self._raise_if_unreachable()  # busy, or gone? a direct connection tells them apart
            raise DatabaseBusy(f"no connection to {describe(self._url)} came free; nothing was saved, try again") from exc
        except psycopg.OperationalError as exc:  # the server went away mid-request: nothing was committed
            raise DatabaseUnreachable(f"{describe(self._url)} cannot be reached; nothing was saved "
                                      f"({' '.join(str(exc).split())[:160]})") from exc

    def _raise_if_unreachable(self) -> None:
        import psycopg

        try:
            psycopg.connect(self._url, connect_timeout=3).close()
        except psycopg.OperationalError as down:
            _unreachable_at[self._url] = time.monotonic()
            raise DatabaseUnreachable(f"{describe(self._url)} cannot be reached; nothing was saved "
                                      f"({' '.join(str(down).split())[:160]})") from None
        _unreachable_at.pop(self._url, None)

    @contextmanager
    def transaction(self) -> Iterator[_PostgresConnection]:
        from psycopg import errors

        with self._connection() as connection:
            try:
                with connection.transaction():
                    connection.execute("SELECT set_config('lock_timeout', %s, true)", (f"{int(BUSY_TIMEOUT_S * 1000)}ms",))
                    connection.execute("SELECT pg_advisory_xact_lock(%s)", (self._key,))
                    yield _PostgresConnection(connection)
            except errors.LockNotAvailable as exc:
                raise DatabaseBusy(f"{describe(self._url)} is locked by another process; nothing was saved, "
                                   "try again") from exc

    @contextmanager
    def read(self) -> Iterator[_PostgresConnection]:
        with self._connection() as connection:
            yield _PostgresConnection(connection)
