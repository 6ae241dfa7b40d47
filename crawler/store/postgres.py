"""The PostgreSQL sink of ``crawler deliver``: articles upserted by canonical URL.

The schema (version :data:`SCHEMA_VERSION`, recorded in ``crawler_schema``) is
created on first use, under an advisory lock so that several ``deliver``
processes starting together create it once; a table of an older version is
upgraded in place (version 2 added ``discovered_at`` and ``discovered_via``):

.. code-block:: sql

    CREATE TABLE articles (
        canonical_url text PRIMARY KEY,
        url text NOT NULL, title text, authors jsonb NOT NULL DEFAULT '[]',
        published timestamptz, modified timestamptz, section text, body text NOT NULL,
        description text, language text, site_name text, domain text,
        related jsonb NOT NULL DEFAULT '[]', word_count integer, content_hash text,
        simhash text, crawled_at timestamptz, discovered_at timestamptz,
        discovered_via text, spider text,
        stream_id text NOT NULL,                        -- the Redis stream entry it came from
        delivered_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX articles_published_idx ON articles (published);
    CREATE INDEX articles_domain_idx ON articles (domain);

Each batch is one transaction, run in a thread while the next batch is read
(its entries are acknowledged once it committed): COPY into a temporary staging table, then
``INSERT ... SELECT DISTINCT ON (canonical_url) ... ON CONFLICT (canonical_url)
DO UPDATE``, keeping the row of the newest stream entry. Delivering an entry
again (after a crash between COMMIT and XACK) rewrites the same row: an article
is never stored twice. Dates that do not parse as ISO 8601 are stored as NULL.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crawler.base.urls import redact_url
from crawler.store.sinks import Sink, SinkError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from crawler.store.sinks import Entry

logger = logging.getLogger(__name__)

__all__ = ["COLUMNS", "SCHEMA_VERSION", "TABLE", "PostgresSink", "database_identity"]

SCHEMA_VERSION = 2
TABLE = "articles"
_STAGING = "crawler_articles_staging"
# A constant key of pg_advisory_xact_lock: the schema is created by one process at a time.
_SCHEMA_LOCK = 0x6372_6177  # "craw"

#: Column -> type, in table order. The article's fields (crawler.article.normalize.ARTICLE_FIELDS)
#: and where each row came from.
COLUMNS: dict[str, str] = {
    "canonical_url": "text PRIMARY KEY",
    "url": "text NOT NULL",
    "title": "text",
    "authors": "jsonb NOT NULL DEFAULT '[]'",
    "published": "timestamptz",
    "modified": "timestamptz",
    "section": "text",
    "body": "text NOT NULL",
    "description": "text",
    "language": "text",
    "site_name": "text",
    "domain": "text",
    "related": "jsonb NOT NULL DEFAULT '[]'",
    "word_count": "integer",
    "content_hash": "text",
    "simhash": "text",
    "crawled_at": "timestamptz",
    "discovered_at": "timestamptz",
    "discovered_via": "text",
    "spider": "text",
    "stream_id": "text NOT NULL",
    "delivered_at": "timestamptz NOT NULL DEFAULT now()",
}
_COPIED = [name for name in COLUMNS if name != "delivered_at"]
_TEXT = ("canonical_url", "url", "title", "section", "body", "description", "language",
         "site_name", "domain", "content_hash", "simhash", "discovered_via", "spider")
_DATES = ("published", "modified", "crawled_at", "discovered_at")
_JSON = ("authors", "related")

_CREATE = [
    f"CREATE TABLE {TABLE} ({', '.join(f'{name} {kind}' for name, kind in COLUMNS.items())})",
    f"CREATE INDEX {TABLE}_published_idx ON {TABLE} (published)",
    f"CREATE INDEX {TABLE}_domain_idx ON {TABLE} (domain)",
]

# The statements that bring a table of an older schema version to the next one
# (version -> statements): run in the schema transaction, under its lock.
_UPGRADES = {
    1: [f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS discovered_at timestamptz",
        f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS discovered_via text"],
}


def _stream_order(table: str) -> str:
    return (f"(split_part({table}.stream_id, '-', 1)::bigint, "
            f"split_part({table}.stream_id, '-', 2)::bigint)")


_UPSERT = (
    f"INSERT INTO {TABLE} ({', '.join(_COPIED)}) "
    f"SELECT DISTINCT ON (canonical_url) {', '.join(_COPIED)} FROM {_STAGING} "
    f"ORDER BY canonical_url, {_stream_order(_STAGING)} DESC "
    f"ON CONFLICT (canonical_url) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in _COPIED[1:])
    + ", delivered_at = now() "
    f"WHERE {_stream_order(TABLE)} <= {_stream_order('EXCLUDED')}"
)


def database_identity(uri: str) -> tuple[str, str]:
    """(database name, ``host:port/database``) of a PostgreSQL URI, without user or password.

    Raises :class:`SinkError` for a URI that libpq cannot parse.
    """
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(uri)
    except Exception as exc:  # noqa: BLE001 - psycopg.ProgrammingError, with the URI in it
        raise SinkError(f"invalid PostgreSQL URI {redact_url(uri)!r}: "
                        f"{type(exc).__name__}") from None
    name = str(params.get("dbname") or params.get("user") or "")
    return name, f"{params.get('host') or ''}:{params.get('port') or ''}/{name}"


def _clean(value: Any) -> Any:
    """``value`` with every NUL character dropped: PostgreSQL text and jsonb refuse them."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {_clean(key): _clean(item) for key, item in value.items()}
    return value


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def article_row(entry_id: str, raw: str) -> tuple | None:
    """The row (:data:`COLUMNS` but ``delivered_at``) of one stream entry, or None for an
    entry that is not an article (no JSON object, no canonical_url, url or body)."""
    try:
        article = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(article, dict):
        return None
    if "\\u0000" in raw:  # JSON writes NUL so; most articles have none: not walked
        article = _clean(article)
    for name in ("canonical_url", "url", "body"):
        if not isinstance(article.get(name), str) or (name != "body" and not article[name]):
            return None
    row = []
    for name in _COPIED:
        value = article.get(name)
        if name == "stream_id":
            value = entry_id
        elif name in _TEXT:
            value = value if isinstance(value, str) else None
        elif name in _DATES:
            value = _date(value)
        elif name in _JSON:
            value = json.dumps(value if isinstance(value, list) else [], ensure_ascii=False)
        elif name == "word_count":
            value = value if isinstance(value, int) and not isinstance(value, bool) and \
                -2**31 <= value < 2**31 else None
        row.append(value)
    return tuple(row)


class PostgresSink(Sink):
    """Upserts articles into :data:`TABLE` of the database of ``uri`` (psycopg 3, COPY).

    Connects lazily (on :meth:`open`) and again after a lost connection; the
    password is never logged (:func:`crawler.base.urls.redact_url`).
    """

    def __init__(self, uri: str) -> None:
        database_identity(uri)  # a URI that does not parse is a SinkError now
        self.uri = uri
        self.description = redact_url(uri)
        self._conn = None
        self._pool: ThreadPoolExecutor | None = None
        self._inflight: tuple[list[str], list[tuple], Future[None]] | None = None
        self._failed: tuple[list[str], list[tuple]] | None = None

    def _connect(self):
        import psycopg

        try:
            conn = psycopg.connect(self.uri, connect_timeout=10, application_name="crawler deliver")
        except psycopg.Error as exc:
            # libpq's message names host and user, never the password.
            raise SinkError(f"cannot connect to {self.description}: "
                            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
                            ) from None
        try:
            self._create_schema(conn)
            try:  # lz4 compresses bodies several times faster than pglz (PostgreSQL 14+, built with lz4)
                with conn.transaction():
                    conn.execute("SET default_toast_compression = lz4")
            except psycopg.Error:
                pass
            conn.execute(f"CREATE TEMP TABLE {_STAGING} (LIKE {TABLE} INCLUDING DEFAULTS) "
                         f"ON COMMIT DELETE ROWS")
            conn.commit()
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _create_schema(conn) -> None:
        import psycopg

        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS crawler_schema (component text PRIMARY KEY, "
                         "version integer NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())")
            row = conn.execute("SELECT version FROM crawler_schema WHERE component = %s",
                               (TABLE,)).fetchone()
            if row is None:
                try:
                    with conn.transaction():
                        for statement in _CREATE:
                            conn.execute(statement)
                except psycopg.errors.DuplicateTable:
                    raise SinkError(f"table {TABLE} exists but was not created by crawler deliver "
                                    f"(no row in crawler_schema): rename it or use another database"
                                    ) from None
                conn.execute("INSERT INTO crawler_schema (component, version) VALUES (%s, %s)",
                             (TABLE, SCHEMA_VERSION))
                logger.info("Created table %s (schema version %d)", TABLE, SCHEMA_VERSION)
            elif row[0] < SCHEMA_VERSION:
                for version in range(row[0], SCHEMA_VERSION):
                    for statement in _UPGRADES[version]:
                        conn.execute(statement)
                conn.execute("UPDATE crawler_schema SET version = %s, updated_at = now() "
                             "WHERE component = %s", (SCHEMA_VERSION, TABLE))
                logger.info("Upgraded table %s from schema version %d to %d", TABLE, row[0],
                            SCHEMA_VERSION)
            elif row[0] != SCHEMA_VERSION:
                raise SinkError(f"table {TABLE} is at schema version {row[0]}, this crawler "
                                f"writes version {SCHEMA_VERSION}: upgrade the crawler")

    def open(self, group: str, consumer: str) -> None:
        self._conn = self._connect()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="postgres")

    def _commit(self, rows: list[tuple]) -> None:
        """One transaction: COPY ``rows`` into the staging table, upsert, commit."""
        if not rows:
            return
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        conn = self._conn
        try:
            with conn.transaction(), conn.cursor() as cursor:
                with cursor.copy(f"COPY {_STAGING} ({', '.join(_COPIED)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cursor.execute(_UPSERT)
        except Exception:
            if conn.broken:
                conn.close()
            raise

    def _wait(self) -> list[str]:
        """Ids of the transaction in flight once committed; when it failed, it is kept to be
        sent again (with the next batch) and its error raised."""
        if self._inflight is None:
            return []
        ids, rows, future = self._inflight
        self._inflight = None
        try:
            future.result()
        except Exception:
            self._failed = (ids, rows)
            raise
        return ids

    def _submit(self, ids: list[str], rows: list[tuple]) -> None:
        if self._failed is not None:
            failed_ids, failed_rows = self._failed
            ids, rows, self._failed = failed_ids + ids, failed_rows + rows, None
        self._inflight = (ids, rows, self._pool.submit(self._commit, rows))

    def write(self, entries: Sequence[Entry]) -> list[str]:
        """Send a batch; return the ids of the previous one, committed meanwhile.

        The transaction of a batch runs in a thread while the next batch is read and
        parsed; its ids are returned (to be acknowledged) only once it committed.
        """
        rows = []
        for entry_id, raw in entries:
            row = article_row(entry_id, raw)
            if row is None:
                logger.warning("Skipping stream entry %s: not an article", entry_id)
            else:
                rows.append(row)
        done = self._wait()
        self._submit([entry_id for entry_id, _ in entries], rows)
        return done

    def poll(self) -> list[str]:
        if self._inflight is not None and self._inflight[2].done():
            return self._wait()
        return []

    def flush(self) -> list[str]:
        done = self._wait()
        if self._failed is not None:
            self._submit([], [])
            done += self._wait()
        return done

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._inflight = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
