"""Every response a worker receives, kept as WARC (``WARC_DIR``, ``crawler worker --warc DIR``).

:class:`WarcWriterMiddleware` is a downloader middleware placed after every
other one (``DOWNLOADER_MIDDLEWARES`` priority 950, above Scrapy's 900), so
its ``process_response`` runs first: it sees each response as the download
handler returned it, before HttpCompressionMiddleware decodes the body and
before RedirectMiddleware or RetryMiddleware act on it, and each request with
the headers every other middleware added. Pages, feeds, sitemaps, robots.txt,
redirects and error pages alike are written (:class:`crawler.store.warc.WarcFiles`)
before the response goes on, so the frontier, which acknowledges a request only
once Scrapy is done with it, never acknowledges one whose records are not
written: a crash loses no archived page.

When a write fails (disk full, a folder that is gone or read-only), the error
is logged once, the spider is closed with the reason ``warc_error`` (the
worker leases nothing more and exits 1), and each response that could not be
written fails (:class:`WarcWriteError`) and has its request retried instead of
acknowledged (:data:`crawler.frontier.scheduler.request_failed`). The file is
closed on ``spider_closed``.
"""

from __future__ import annotations

import logging
import os
import socket
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro

from crawler.base.counters import Stat
from crawler.base.urls import host_header
from crawler.frontier.scheduler import new_worker_id, request_failed
from crawler.store.warc import DEFAULT_MAX_BYTES, Exchange, WarcFiles

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector
    from typing_extensions import Self

logger = logging.getLogger(__name__)

__all__ = ["WarcWriteError", "WarcWriterMiddleware", "prepare_directory"]

#: ``finish_reason`` of a worker stopped because its archive could not be written.
CLOSE_REASON = "warc_error"


class WarcWriteError(Exception):
    """A response could not be archived: the request fails and is retried, not acknowledged."""


def prepare_directory(path: str | os.PathLike[str]) -> None:
    """Create ``path`` if needed and check that files can be created in it; raises OSError."""
    os.makedirs(path, exist_ok=True)
    probe = os.path.join(path, f".write-test-{os.getpid()}")
    with open(probe, "wb") as out:
        out.write(b"ok")
    os.unlink(probe)


def _software() -> str:
    names = []
    for package in ("news-crawler", "scrapy", "warcio"):
        try:
            names.append(f"{package}/{version(package)}")
        except PackageNotFoundError:
            continue
    return " ".join(names)


class WarcWriterMiddleware:
    """Writes each response and its request as WARC records into ``directory``.

    ``WARC_DIR``: the folder (empty: no archive, the middleware is left out);
    ``WARC_MAX_BYTES``: files are rotated before they would pass it.
    """

    #: ``WARC_MAX_BYTES`` when the settings do not name it (1 GB, as Common Crawl's news archive).
    default_max_bytes = DEFAULT_MAX_BYTES

    def __init__(self, directory: str, crawl: str, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 info: dict[str, str] | None = None, stats: StatsCollector | None = None,
                 crawler: Crawler | None = None) -> None:
        self.directory = directory
        self.crawl = crawl
        self.max_bytes = max_bytes
        self.info = info or {}
        self.stats = stats
        self.crawler = crawler
        self.worker: str | None = None
        self.files: WarcFiles | None = None
        self.failure: str | None = None  # why archiving stopped, once it has

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        directory = (settings.get("WARC_DIR") or "").strip()
        if not directory:
            raise NotConfigured("WARC_DIR is not set")
        max_bytes = settings.getint("WARC_MAX_BYTES", cls.default_max_bytes)
        if max_bytes < 1:
            # ValueError, not NotConfigured: that would leave the middleware out and archive nothing.
            raise ValueError(f"WARC_MAX_BYTES must be a positive number of bytes, got {max_bytes}")
        info = {
            "software": _software(),
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "isPartOf": crawler.spidercls.name,
            "hostname": socket.gethostname(),
            "http-header-user-agent": settings.get("USER_AGENT"),
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
        }
        middleware = cls(directory, crawler.spidercls.name, max_bytes=max_bytes, info=info,
                         stats=crawler.stats, crawler=crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Spider) -> None:
        # The scheduler's worker id names the files, so a file says which worker wrote it.
        scheduler = getattr(self.crawler.engine, "scheduler", None) if self.crawler else None
        self.worker = getattr(scheduler, "worker_id", None)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.files is not None:
            try:
                self.files.close()
            except OSError as exc:
                logger.error("Could not close the WARC file %s: %s", self.files.current, exc)

    def process_response(self, request: Request, response: Response) -> Response:
        if self.failure is None:
            try:
                self._write(request, response)
                return response
            except OSError as exc:
                self._stop(exc)
        logger.warning("Not archived, retried later: %s", response.url)
        self._unarchived(request)
        raise WarcWriteError(f"{response.url} not archived ({self.failure}); the request will be retried")

    # --- internals -----------------------------------------------------------------

    def _write(self, request: Request, response: Response) -> None:
        if self.files is None:
            worker = self.worker or new_worker_id()
            self.files = WarcFiles(self.directory, self.crawl, worker, max_bytes=self.max_bytes,
                                   info={**self.info, "worker": worker})
        before = self.files.bytes_written
        self.files.write(_exchange(request, response))
        if self.stats is not None:
            self.stats.inc_value(Stat.WARC_RECORDS, 2)
            self.stats.inc_value(Stat.WARC_BYTES, self.files.bytes_written - before)
            self.stats.set_value(Stat.WARC_FILES, self.files.files_opened)

    def _stop(self, exc: OSError) -> None:
        """Stop archiving and close the spider: nothing more is leased."""
        self.failure = f"{exc.strerror or exc} in {self.directory}"
        logger.error("Cannot write WARC files (%s): stopping this worker; the requests "
                     "whose responses are not archived will be retried", self.failure)
        if self.stats is not None:
            self.stats.inc_value(Stat.WARC_ERRORS)
        engine = getattr(self.crawler, "engine", None)
        if engine is not None:
            deferred_from_coro(engine.close_spider_async(reason=CLOSE_REASON))

    def _unarchived(self, request: Request) -> None:
        if self.crawler is not None:
            self.crawler.signals.send_catch_log(signal=request_failed, request=request)


def _headers(headers) -> list[tuple[str, str]]:
    """Scrapy ``Headers`` as ``(name, value)`` pairs, one per value, as bytes were received (latin-1)."""
    return [(name.decode("latin-1"), value.decode("latin-1"))
            for name, values in headers.items() for value in values]


def _exchange(request: Request, response: Response) -> Exchange:
    request_headers = _headers(request.headers)
    if not any(name.lower() == "host" for name, _ in request_headers):
        # The HTTP client adds Host from the URL; record it as sent.
        request_headers.insert(0, ("Host", host_header(request.url)))
    ip = getattr(response, "ip_address", None)
    return Exchange(
        url=response.url, status=response.status, response_headers=_headers(response.headers),
        body=response.body, method=request.method, request_headers=request_headers,
        request_body=request.body, protocol=getattr(response, "protocol", None) or "HTTP/1.1",
        ip_address=str(ip) if ip is not None else None,
    )
