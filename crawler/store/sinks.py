"""Where ``crawler deliver`` writes articles: the sink protocol, sink URIs, and the file sinks.

A sink is given batches of stream entries (``(stream id, article JSON)``) and
answers with the stream ids it now holds durably; only those are acknowledged
(:class:`crawler.store.delivery.Deliverer`). :func:`open_sink` parses a URI:

- ``file:///dir/``: :class:`FileSink`, gzip JSON Lines rotated by size and age;
- ``-``: :class:`StdoutSink`, JSON Lines on standard output;
- ``postgresql://...`` (or ``postgres://``): :class:`crawler.store.postgres.PostgresSink`.

Each line the file sinks write is the article's JSON object with one more key
first, ``_stream_id``, the id of its stream entry.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import re
import sys
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from crawler.base.urls import redact_url

if TYPE_CHECKING:
    from collections.abc import Sequence

logger = logging.getLogger(__name__)

try:  # ISA-L's gzip: the same format, about five times faster than zlib at level 1
    from isal.igzip import compress as _gzip_compress
except ImportError:  # a platform without its wheels
    _gzip_compress = gzip.compress

__all__ = [
    "Entry",
    "FileSink",
    "Sink",
    "SinkError",
    "StdoutSink",
    "default_group",
    "open_sink",
    "article_line",
]

#: One stream entry: its id and its ``article`` field (a JSON object, as stored).
Entry = tuple[str, str]

_GROUP_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class SinkError(ValueError):
    """A sink URI or setting that cannot work (one line, for the CLI)."""


class Sink:
    """What :class:`~crawler.store.delivery.Deliverer` drives. Each method that returns
    stream ids returns those now durably in the sink, to be acknowledged; after
    acknowledging them the deliverer calls :meth:`acknowledged`.
    """

    #: Shown in logs and used by :func:`default_group`: never holds a password.
    description = "sink"

    def open(self, group: str, consumer: str) -> None:
        """Start writing for consumer ``consumer`` of ``group``."""

    def recover(self) -> list[str]:
        """Ids of entries an interrupted delivery of this group left durably in the sink."""
        return []

    def write(self, entries: Sequence[Entry]) -> list[str]:
        raise NotImplementedError

    def poll(self) -> list[str]:
        """Called while no entry arrives: finish what is due (a file past its age)."""
        return []

    def flush(self) -> list[str]:
        """Make everything written so far durable."""
        return []

    def acknowledged(self) -> None:
        """The ids returned so far are acknowledged in Redis."""

    def close(self) -> None:
        """Release the sink; call :meth:`flush` first to keep what was written."""


def validate_group(group: str) -> str:
    """``group`` when it is a valid consumer group name (letters, digits, ``_.-``, at most
    64, starting with a letter or digit), else :class:`SinkError`: it names files."""
    if not _GROUP_RE.fullmatch(group):
        raise SinkError(f"invalid group name {group!r}: use at most 64 letters, digits, '_', '.' "
                        f"or '-', starting with a letter or a digit")
    return group


def default_group(uri: str) -> str:
    """The consumer group of a sink URI when ``--group`` is not given.

    ``file-<8 hex digits>`` of the directory's absolute path, ``stdout`` for
    ``-``, ``postgresql-<database>-<8 hex digits>`` of the server and database
    (never of the user or password): the same sink always resumes the same
    group, and two sinks never share one by accident.
    """
    if uri == "-":
        return "stdout"
    scheme = urlsplit(uri).scheme
    if scheme == "file":
        digest = hashlib.sha256(str(_file_dir(uri)).encode()).hexdigest()[:8]
        return f"file-{digest}"
    if scheme in ("postgresql", "postgres"):
        from crawler.store.postgres import database_identity

        name, identity = database_identity(uri)
        digest = hashlib.sha256(identity.encode()).hexdigest()[:8]
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:40] or "db"
        return f"postgresql-{safe}-{digest}"
    raise SinkError(f"unknown sink {redact_url(uri)!r}: give file:///dir/, postgresql://... or -")


def _file_dir(uri: str) -> Path:
    """The directory of ``file:///dir/`` (or ``file://localhost/dir/``): an absolute local path."""
    rest = uri[len("file://"):] if uri.startswith("file://") else ""
    if rest.startswith("localhost/"):
        rest = rest[len("localhost"):]
    if not rest.startswith("/") or "?" in rest or "#" in rest:
        raise SinkError(f"file sink {uri!r}: give an absolute local directory, file:///dir/")
    return Path(unquote(rest)).resolve()


def open_sink(uri: str, *, file_max_bytes: int, file_max_seconds: float, stale_seconds: float,
              stdout: IO[bytes] | None = None) -> Sink:
    """The sink of ``uri`` (see the module docstring); :class:`SinkError` for a URI that is
    not one, or a directory that cannot be written."""
    if uri == "-":
        return StdoutSink(stdout or sys.stdout.buffer)
    scheme = urlsplit(uri).scheme
    if scheme == "file":
        return FileSink(_file_dir(uri), max_bytes=file_max_bytes, max_seconds=file_max_seconds,
                        stale_seconds=stale_seconds)
    if scheme in ("postgresql", "postgres"):
        from crawler.store.postgres import PostgresSink

        return PostgresSink(uri)
    raise SinkError(f"unknown sink {redact_url(uri)!r}: give file:///dir/, postgresql://... or -")


def article_line(entry_id: str, raw: str) -> str | None:
    """The JSON Lines line of one entry: its article object with ``_stream_id`` first.

    The article JSON is written as stored (not parsed again: the store wrote it
    with ``json.dumps``); None for one that is not a one-line JSON object.
    """
    if len(raw) < 2 or raw[0] != "{" or raw[-1] != "}" or "\n" in raw or "\r" in raw:
        return None
    rest = raw[1:].lstrip()
    sep = "" if rest.startswith("}") else ","
    return f'{{"_stream_id":"{entry_id}"{sep}{rest}\n'


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StdoutSink(Sink):
    """JSON Lines on standard output, flushed after each batch (a pipe, a shell)."""

    description = "stdout"

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out

    def write(self, entries: Sequence[Entry]) -> list[str]:
        lines = []
        for entry_id, raw in entries:
            line = article_line(entry_id, raw)
            if line is None:
                logger.warning("Skipping stream entry %s: not a JSON object", entry_id)
            else:
                lines.append(line)
        self.out.write("".join(lines).encode("utf-8"))
        self.out.flush()
        return [entry_id for entry_id, _ in entries]


class FileSink(Sink):
    """Gzip JSON Lines files in one directory, each complete before any reader sees it.

    A file is written as ``.<name>.tmp``, and once it reaches ``max_bytes``
    (compressed) or ``max_seconds`` of age it is closed, fsynced and renamed to
    ``.<name>.<group>.done``; its entries are then acknowledged, and it is
    renamed to its final name ``articles-<UTC time opened>-<consumer>-<serial>.jsonl.gz``
    (so names sort by time). A reader lists ``*.jsonl.gz`` and never sees half a
    file. Files are one gzip member per batch, so that an interrupted write costs
    no more than the batch.

    Nothing is stored twice on a crash: until its entries are acknowledged a
    file is hidden, and :meth:`recover` (run by every ``deliver`` of the group
    when it starts and before it claims a dead consumer's entries) acknowledges
    the entries of each ``.done`` file of its group and publishes it, so they
    are not claimed again. A ``.tmp`` file left by a crash holds entries never
    acknowledged: they are claimed and written again, and the stale file is
    removed once ``stale_seconds`` old. The one case that writes an entry twice
    is a ``deliver`` stalled (not dead) for longer than ``DELIVER_CLAIM_IDLE_SECONDS``
    while holding it: its entries are claimed by another consumer. Readers who
    must never see a duplicate skip repeated ``_stream_id`` values.
    """

    def __init__(self, directory: Path, *, max_bytes: int, max_seconds: float,
                 stale_seconds: float, compresslevel: int = 2) -> None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkError(f"cannot create {directory}: {exc.strerror}") from None
        if not os.access(directory, os.W_OK | os.X_OK):
            raise SinkError(f"cannot write to {directory}")
        self.directory = directory
        self.description = f"file://{directory}/"
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self.stale_seconds = stale_seconds
        self.compresslevel = compresslevel
        self.group = ""
        self.consumer = ""
        self._serial = 0
        self._raw: IO[bytes] | None = None
        self._gzip: gzip.GzipFile | None = None
        self._name = ""
        self._opened = 0.0
        self._ids: list[str] = []
        self._to_publish: list[tuple[Path, Path]] = []
        self._threads = max(1, min(4, os.cpu_count() or 1))
        self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="gzip")
        self._members: deque[tuple[int, Future[bytes]]] = deque()  # (input size, member)
        self._ratio = 1.0  # of the last member compressed

    def _compress(self, data: bytes) -> bytes:
        return _gzip_compress(data, self.compresslevel, mtime=0)

    def open(self, group: str, consumer: str) -> None:
        self.group = validate_group(group)
        self.consumer = re.sub(r"[^A-Za-z0-9_.-]", "-", consumer)

    # --- Writing -------------------------------------------------------------------

    def _start_file(self) -> None:
        self._serial += 1
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        self._name = f"articles-{stamp}-{self.consumer}-{self._serial:06d}.jsonl.gz"
        self._raw = open(self.directory / f".{self._name}.tmp", "xb")
        self._opened = time.monotonic()
        self._ids = []

    def write(self, entries: Sequence[Entry]) -> list[str]:
        lines = []
        for entry_id, raw in entries:
            line = article_line(entry_id, raw)
            if line is None:
                logger.warning("Skipping stream entry %s: not a JSON object", entry_id)
                continue
            lines.append(line)
        if self._raw is None:
            self._start_file()
        assert self._raw is not None
        if lines:
            # Concatenated gzip members are one valid gzip file: the batch is cut in one
            # member per core, compressed in threads (zlib lets go of the GIL).
            step = -(-len(lines) // self._threads)
            for i in range(0, len(lines), step):
                data = "".join(lines[i:i + step]).encode("utf-8")
                self._members.append((len(data), self._pool.submit(self._compress, data)))
            # Compression goes on while the next batch is read; at most two batches wait.
            self._write_members(keep=2 * self._threads)
        self._ids.extend(entry_id for entry_id, _ in entries)
        # The members still compressing count at the ratio seen so far (1 before any).
        waiting = sum(size for size, _ in self._members) * self._ratio
        if self._raw.tell() + waiting >= self.max_bytes:
            return self._finish()
        return []

    def _write_members(self, keep: int = 0) -> None:
        """Write the compressed members, in order, until at most ``keep`` are still waiting."""
        assert self._raw is not None
        while len(self._members) > keep:
            size, member = self._members.popleft()
            compressed = member.result()
            self._raw.write(compressed)
            self._ratio = len(compressed) / size

    def poll(self) -> list[str]:
        if self._raw is not None and time.monotonic() - self._opened >= self.max_seconds:
            return self._finish()
        return []

    def flush(self) -> list[str]:
        return self._finish() if self._raw is not None else []

    def _finish(self) -> list[str]:
        """Close, fsync and hide-rename the current file; its ids, for acknowledging."""
        self._write_members()
        raw, self._raw = self._raw, None
        assert raw is not None
        tmp = Path(raw.name)
        if raw.tell() == 0:  # only entries that were skipped
            raw.close()
            tmp.unlink()
            return self._ids
        raw.flush()
        os.fsync(raw.fileno())
        raw.close()
        done = self.directory / f".{self._name}.{self.group}.done"
        os.rename(tmp, done)
        _fsync_dir(self.directory)
        self._to_publish.append((done, self.directory / self._name))
        return self._ids

    def acknowledged(self) -> None:
        published = False
        for done, final in self._to_publish:
            try:
                os.rename(done, final)
                published = True
            except FileNotFoundError:  # another deliver of the group recovered it
                pass
        self._to_publish = []
        if published:
            _fsync_dir(self.directory)

    def close(self) -> None:
        self._members.clear()
        self._pool.shutdown(cancel_futures=True)
        if self._raw is not None:  # entries not acknowledged: they are delivered again
            tmp = Path(self._raw.name)
            self._raw.close()
            self._raw = None
            tmp.unlink(missing_ok=True)

    # --- Recovery ----------------------------------------------------------------

    def recover(self) -> list[str]:
        """Acknowledge-and-publish the ``.done`` files of this group; remove stale ``.tmp`` files."""
        ids: list[str] = []
        suffix = f".{self.group}.done"
        now = time.time()
        for path in sorted(self.directory.iterdir()):
            name = path.name
            if name.startswith(".") and name.endswith(suffix):
                try:
                    found = _stream_ids(path)
                except (OSError, EOFError, ValueError) as exc:  # gzip.BadGzipFile is an OSError
                    logger.error("Cannot read %s to recover it, left alone: %s", path, exc)
                    continue
                ids.extend(found)
                self._to_publish.append((path, self.directory / name[1:-len(suffix)]))
                logger.warning("Recovering %s: %d articles of an interrupted delivery", path, len(found))
            elif name.startswith(".articles-") and name.endswith(".tmp"):
                try:
                    if now - path.stat().st_mtime > self.stale_seconds:
                        path.unlink()
                        logger.warning("Removed %s, left by an interrupted delivery", path)
                except FileNotFoundError:
                    pass
        return ids


def _stream_ids(path: Path) -> list[str]:
    """The ``_stream_id`` of every line of a file this sink wrote."""
    ids = []
    prefix = '{"_stream_id":"'
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if not line.startswith(prefix):
                raise ValueError(f"a line without _stream_id: {line[:80]!r}")
            ids.append(line[len(prefix):line.index('"', len(prefix))])
    return ids
