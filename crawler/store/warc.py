"""WARC 1.1 files (ISO 28500) of what the workers fetched: written with warcio, and read back.

:class:`WarcFiles` writes each HTTP exchange as a ``response`` record and its
``request`` record, each its own gzip member, into files named
``<crawl>-<worker>-<UTC time>-<serial>.warc.gz``. A file is written as
``<name>.open`` and renamed once closed, begins with a ``warcinfo`` record and
is rotated before it would pass ``max_bytes`` (a file holding one exchange
larger than that is the only one to pass it). The two records of an exchange
reach the operating system in one ``write``: a process killed at any moment
leaves its file readable up to its last complete record. A failed write (disk
full, a quota) is cut back off the file, which is closed, and the
:class:`OSError` raised.

:func:`read_responses` reads the ``response`` records of such files back, in
file order, with the offset of each record.
"""

from __future__ import annotations

import io
import logging
import os
import re
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "OPEN_SUFFIX",
    "SUFFIX",
    "ArchiveError",
    "ArchivedResponse",
    "Exchange",
    "WarcFiles",
    "archive_paths",
    "file_name",
    "read_responses",
]

WARC_VERSION = "1.1"
SUFFIX = ".warc.gz"
#: Added to a file's name while it is written: ship only names ending in :data:`SUFFIX`.
OPEN_SUFFIX = ".open"
#: zlib's default. On the fundus news pages (about 370 KB of HTML) level 9 took 1.7 times
#: the CPU (9.7 ms a page against 5.8) for 0.7% fewer bytes.
GZIP_LEVEL = 6
#: Files are rotated at about this size, as Common Crawl's news archive is (``WARC_MAX_BYTES``).
DEFAULT_MAX_BYTES = 1_000_000_000
# Headers kept out of the request record: a proxy's credentials are not part of the request to the site.
_UNRECORDED_REQUEST_HEADERS = frozenset({"proxy-authorization"})
# The body handed over is already de-chunked: a reader must not de-chunk it again.
_TRANSFER_ENCODING = "transfer-encoding"
_RENAMED_TRANSFER_ENCODING = "X-Archive-Orig-Transfer-Encoding"
_UNSAFE = re.compile(r"[^A-Za-z0-9._]+")


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and the response it got, as the crawler sent and received them.

    ``body`` is the response body as received (still content-encoded, not
    chunked); headers are ``(name, value)`` pairs in order; ``ip_address`` is
    the server's address when known.
    """

    url: str
    status: int
    response_headers: list[tuple[str, str]]
    body: bytes
    method: str = "GET"
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: bytes = b""
    protocol: str = "HTTP/1.1"
    ip_address: str | None = None


def file_name(crawl: str, worker: str, when: float, serial: int) -> str:
    """``<crawl>-<worker>-<UTC time>-<serial>.warc.gz``, with anything but letters,
    digits, ``.`` and ``_`` in ``crawl`` and ``worker`` replaced by ``_``."""
    stamp = datetime.fromtimestamp(when, timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{_UNSAFE.sub('_', crawl)}-{_UNSAFE.sub('_', worker)}-{stamp}-{serial:05d}{SUFFIX}"


def _warc_date(when: float) -> str:
    return datetime_to_iso_date(datetime.fromtimestamp(when, timezone.utc).replace(tzinfo=None),
                                use_micros=True)


class WarcFiles:
    """Rotated WARC files of one writer (one worker) in ``directory``.

    ``info`` fills each file's ``warcinfo`` record. Not thread-safe: one
    caller writes. ``clock`` (seconds since the epoch) names the files and
    dates the records.
    """

    def __init__(self, directory: str | os.PathLike[str], crawl: str, worker: str, *,
                 max_bytes: int = DEFAULT_MAX_BYTES, info: dict[str, str] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.directory = Path(directory)
        self.crawl = crawl
        self.worker = worker
        self.max_bytes = max_bytes
        self.info = dict(info or {})
        self.clock = clock
        self.closed_files: list[Path] = []
        #: Bytes written and files opened by this writer, every file together.
        self.bytes_written = 0
        self.files_opened = 0
        self._serial = 0
        self._fd: int | None = None
        self._path: Path | None = None
        self._size = 0
        self._info_size = 0
        self._info_id = ""
        # warcio builds and serializes each record into this buffer; it is then compressed
        # here at GZIP_LEVEL (warcio's own gzip uses level 9).
        self._buffer = io.BytesIO()
        self._warc = WARCWriter(self._buffer, gzip=False, warc_version=WARC_VERSION)

    @property
    def current(self) -> Path | None:
        """The file being written (its ``.open`` name), if any."""
        return self._path

    def write(self, exchange: Exchange) -> tuple[Path, int]:
        """Append ``exchange`` (a response record, then its request record).

        Returns the final path of the file it went into and the offset of its
        response record. Raises :class:`OSError` when the records could not
        be written: nothing of them is left in the file, which is closed.
        """
        now = self.clock()
        if self._fd is None:
            self._open(now)
        records = self._records(exchange, now)
        if self._size > self._info_size and self._size + len(records) > self.max_bytes:
            self.close()
            self._open(now)
            records = self._records(exchange, now)  # they name the new file's warcinfo record
        offset = self._size
        self._append(records)
        return self._final(self._path), offset

    def close(self) -> Path | None:
        """Close the current file and give it its final name; returns that path (None: no file)."""
        if self._fd is None:
            return None
        fd, path = self._fd, self._path
        self._fd = self._path = None
        try:
            os.close(fd)
        finally:
            final = self._final(path)
            os.replace(path, final)
            self.closed_files.append(final)
            logger.info("Closed WARC file %s (%d bytes)", final, self._size)
        return final

    # --- internals -----------------------------------------------------------------

    @staticmethod
    def _final(path: Path) -> Path:
        return path.with_name(path.name[: -len(OPEN_SUFFIX)])

    def _serialize(self, *records) -> bytes:
        """``records``, each its own gzip member."""
        members = []
        for record in records:
            self._buffer.seek(0)
            self._buffer.truncate()
            self._warc.write_record(record)
            gzip = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            members.append(gzip.compress(self._buffer.getvalue()) + gzip.flush())
        return b"".join(members)

    def _open(self, now: float) -> None:
        name = file_name(self.crawl, self.worker, now, self._serial)
        self._serial += 1
        path = self.directory / (name + OPEN_SUFFIX)
        info = self._warc.create_warcinfo_record(name, self.info)
        info.rec_headers.replace_header("WARC-Date", _warc_date(now))
        data = self._serialize(info)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            _write_all(fd, data)
        except OSError:
            os.close(fd)
            os.unlink(path)
            raise
        self._fd, self._path = fd, path
        self._size = self._info_size = len(data)
        self.bytes_written += len(data)
        self.files_opened += 1
        self._info_id = info.rec_headers.get_header("WARC-Record-ID")
        logger.info("Writing WARC file %s", path)

    def _append(self, data: bytes) -> None:
        try:
            _write_all(self._fd, data)
        except OSError:
            # Cut the partial records off, so the file ends with a complete record, and close it.
            try:
                os.ftruncate(self._fd, self._size)
            except OSError as exc:
                logger.error("Could not cut a partial record off %s (%s): its last record is incomplete",
                             self._path, exc.strerror)
            try:
                self.close()
            except OSError as exc:
                logger.error("Could not close %s (%s): it keeps its %s name", self._path, exc.strerror,
                             OPEN_SUFFIX)
            raise
        self._size += len(data)
        self.bytes_written += len(data)

    def _records(self, exchange: Exchange, now: float) -> bytes:
        common = {"WARC-Date": _warc_date(now), "WARC-Warcinfo-ID": self._info_id}
        response_headers = [(_RENAMED_TRANSFER_ENCODING, value) if name.lower() == _TRANSFER_ENCODING
                            else (name, value) for name, value in exchange.response_headers]
        try:
            reason = HTTPStatus(exchange.status).phrase
        except ValueError:
            reason = ""
        response = self._warc.create_warc_record(
            exchange.url, "response", payload=io.BytesIO(exchange.body), length=len(exchange.body),
            http_headers=StatusAndHeaders(f"{exchange.status} {reason}".rstrip(), response_headers,
                                          protocol=exchange.protocol),
            warc_headers_dict={**common, **({"WARC-IP-Address": exchange.ip_address}
                                            if exchange.ip_address else {})},
        )
        target = _request_target(exchange.url)
        request_headers = [(name, value) for name, value in exchange.request_headers
                           if name.lower() not in _UNRECORDED_REQUEST_HEADERS]
        request = self._warc.create_warc_record(
            exchange.url, "request", payload=io.BytesIO(exchange.request_body),
            length=len(exchange.request_body),
            http_headers=StatusAndHeaders(f"{exchange.method} {target} HTTP/1.1", request_headers,
                                          is_http_request=True),
            warc_headers_dict={**common, "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")},
        )
        return self._serialize(response, request)


def _request_target(url: str) -> str:
    """The request target of ``url``: its path and query (``/`` at least)."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` (in one call unless the system writes less)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchivedResponse:
    """A ``response`` record: where it is, and the HTTP response it holds.

    ``body`` is the payload as archived (still content-encoded, as received).
    """

    path: Path
    offset: int
    url: str
    date: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class ArchiveError(ValueError):
    """A WARC file cannot be read past some point: it ends inside a record (its writer was
    killed, or it was cut short), or is not WARC. The records before that point were read."""


def archive_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """``paths`` with each folder replaced by the WARC files in it (closed and ``.open``),
    sorted by name; files are kept as given, in order."""
    found: list[Path] = []
    for item in map(Path, paths):
        if item.is_dir():
            found += sorted(p for p in item.iterdir()
                            if p.name.endswith((SUFFIX, SUFFIX + OPEN_SUFFIX)) and p.is_file())
        else:
            found.append(item)
    return found


def read_responses(path: str | os.PathLike[str]) -> Iterator[ArchivedResponse]:
    """Every ``response`` record of the WARC file ``path``, in file order.

    Raises :class:`OSError` when the file cannot be opened, and
    :class:`ArchiveError` where it stops being readable, after the complete
    records before that point.
    """
    path = Path(path)
    with open(path, "rb") as stream:
        records = ArchiveIterator(stream)
        end = 0
        while True:
            try:
                record = next(records, None)
                if record is None:
                    return
                # Read the block before asking for the offset: warcio reads to the record's end for it.
                block = record.raw_stream.read()
                offset = records.get_record_offset()
            except Exception as exc:  # noqa: BLE001 - warcio fails in many ways on a cut gzip member
                raise ArchiveError(f"{path}: unreadable from offset {end} "
                                   f"({type(exc).__name__}: {str(exc).strip()[:200]})") from None
            if record.format != "warc":  # warcio reads ARC too, and takes any text for it
                raise ArchiveError(f"{path}: unreadable from offset {end} (not a WARC record)")
            declared = int(record.rec_headers.get_header("Content-Length") or 0)
            http = record.http_headers
            if len(block) + (http.total_len if http is not None else 0) < declared:
                raise ArchiveError(f"{path}: the record at offset {offset} is incomplete "
                                   f"(the file ends inside it)")
            end = offset + records.get_record_length()
            status = http.get_statuscode() if http is not None else ""
            if record.rec_type != "response" or not status.isdigit():
                continue
            yield ArchivedResponse(
                path=path, offset=offset, url=record.rec_headers.get_header("WARC-Target-URI"),
                date=record.rec_headers.get_header("WARC-Date"),
                status=int(status), headers=list(http.headers), body=block,
            )
