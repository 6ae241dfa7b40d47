"""``crawler reextract``: today's extraction over archived responses, without fetching anything.

Each ``response`` record of the WARC files, in archive order, goes the way a
fetched response goes in a worker: a status Scrapy's HttpErrorMiddleware
would pass (2xx, or ``HTTPERROR_ALLOWED_CODES``), the body decoded by Scrapy's
own HttpCompressionMiddleware, the spider's rule for what is an HTML page
(:func:`crawler.spiders.news.html_content_type`), the spider's extraction
call, then the item pipelines: normalized and validated always, and with
``store`` deduplicated and stored in the crawl's Redis stream as a crawl
stores them. Each valid article is written as JSON Lines with ``warc_file``
and ``warc_offset``, the file and offset of its response record.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import asdict, dataclass
from types import SimpleNamespace
from typing import IO, TYPE_CHECKING, Any

from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import DropItem, IgnoreRequest
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes
from scrapy.signalmanager import SignalManager

from crawler.article.extract import extract_article
from crawler.spiders.news import NewsSpider, html_content_type
from crawler.store.warc import ArchiveError, archive_paths, read_responses
from crawler.worker.pipelines import (
    DedupeStorePipeline,
    NormalizePipeline,
    ValidatePipeline,
    invalid_reason,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from scrapy.http import Response
    from scrapy.settings import Settings

    from crawler.store.warc import ArchivedResponse

logger = logging.getLogger(__name__)

__all__ = ["ReextractReport", "reextract"]

_ORIG_TRANSFER_ENCODING = "x-archive-orig-transfer-encoding"


@dataclass
class ReextractReport:
    """What a re-extraction read and wrote (``crawler reextract`` prints it as JSON on stderr)."""

    files: int = 0
    responses: int = 0  # response records read
    pages: int = 0  # of them, HTML pages the spider extracts from
    articles: int = 0  # valid articles written
    invalid: int = 0  # articles the pipelines drop as invalid
    stored: int = 0  # with store: new in the crawl's stream
    duplicates: int = 0  # with store: dropped as duplicates
    unreadable: int = 0  # files that could not be read to the end
    seconds: float = 0.0

    @property
    def pages_per_s(self) -> float:
        return self.responses / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seconds": round(self.seconds, 3), "pages_per_s": round(self.pages_per_s, 1)}


def _headers(pairs: list[tuple[str, str]]) -> Headers:
    """Archived ``(name, value)`` pairs as the Scrapy ``Headers`` the worker had."""
    grouped: dict[str, list[bytes]] = {}
    for name, value in pairs:
        if name.lower() == _ORIG_TRANSFER_ENCODING:
            name = "Transfer-Encoding"
        grouped.setdefault(name, []).append(value.encode("latin-1", "replace"))
    return Headers(grouped)


class _Worker:
    """The part of a worker between the download and the item pipelines' end."""

    def __init__(self, settings: Settings, spider: str, *, store: bool) -> None:
        from scrapy.crawler import Crawler
        from scrapy.statscollectors import MemoryStatsCollector

        spidercls = NewsSpider if spider == NewsSpider.name else type(
            "ReextractSpider", (NewsSpider,), {"name": spider})
        allowed = settings.getlist("HTTPERROR_ALLOWED_CODES")
        self.allowed_codes = {int(code) for code in allowed}
        self.allow_all = settings.getbool("HTTPERROR_ALLOW_ALL")
        # Scrapy's own decoder, configured as the worker's (DOWNLOAD_MAXSIZE, DOWNLOAD_WARNSIZE).
        self.decoder = HttpCompressionMiddleware(crawler=SimpleNamespace(
            settings=settings, stats=None, signals=SignalManager()))
        self.normalize = NormalizePipeline(spidercls.name)
        self.min_words = settings.getint("EXTRACT_MIN_WORDS", ValidatePipeline.default_min_words)
        if self.min_words < 0:
            raise ValueError(f"EXTRACT_MIN_WORDS must be 0 or more, got {self.min_words}")
        self.validate: ValidatePipeline | None = None
        self.store: DedupeStorePipeline | None = None
        if store:
            crawler = Crawler(spidercls, settings)
            crawler.stats = MemoryStatsCollector(crawler)
            self.validate = ValidatePipeline.from_crawler(crawler)
            self.store = DedupeStorePipeline.from_crawler(crawler)

    def response(self, archived: ArchivedResponse) -> Response | None:
        """The response as the spider would get it, or None when Scrapy would not pass it on."""
        if not (200 <= archived.status < 300 or self.allow_all or archived.status in self.allowed_codes):
            return None
        headers = _headers(archived.headers)
        request = Request(archived.url)
        respcls = responsetypes.from_args(headers=headers, url=archived.url, body=archived.body)
        response = respcls(url=archived.url, status=archived.status, headers=headers,
                           body=archived.body, request=request)
        try:
            return self.decoder.process_response(request, response)
        except IgnoreRequest:  # larger than DOWNLOAD_MAXSIZE once decoded
            return None

    def article(self, response: Response) -> dict[str, Any] | None:
        """The spider's extraction, then NormalizePipeline: the article, or None."""
        content_type = html_content_type(response)
        if content_type is None:
            return None
        article = extract_article(response.body, response.url, content_type=content_type)
        if article is None:
            return None
        try:
            return self.normalize.process_item(article)
        except DropItem:
            return None


def reextract(paths: Iterable[str | Path], out: IO[str] | None, settings: Settings, *,
              spider: str = NewsSpider.name, store: bool = False,
              on_error: Callable[[str], None] = lambda message: None) -> ReextractReport:
    """Re-extract the articles of the WARC files (or folders of them) ``paths`` in order.

    Writes each valid article to ``out`` (None: nowhere) as a JSON line with
    ``warc_file`` and ``warc_offset``; with ``store``, also through the
    pipelines into the Redis store of crawl ``spider``. A file that cannot be
    read, or not to its end, is reported to ``on_error`` (one line) after its
    readable records are used; the others are read all the same. Raises
    :class:`crawler.base.connection.RedisUnavailable` (``store``) and
    ValueError for a bad setting.
    """
    worker = _Worker(settings, spider, store=store)
    report = ReextractReport()
    started = time.perf_counter()
    files = archive_paths(paths)
    asyncio.run(_run(worker, files, out, report, on_error))
    report.files = len(files)
    report.seconds = time.perf_counter() - started
    return report


async def _run(worker: _Worker, files: list[Path], out: IO[str] | None, report: ReextractReport,
               on_error: Callable[[str], None]) -> None:
    for path in files:
        try:
            for archived in read_responses(path):
                report.responses += 1
                await _one(worker, archived, out, report)
        except (OSError, ArchiveError) as exc:
            report.unreadable += 1
            on_error(f"{path}: {exc.strerror}" if isinstance(exc, OSError) and exc.strerror else str(exc))


async def _one(worker: _Worker, archived: ArchivedResponse, out: IO[str] | None,
               report: ReextractReport) -> None:
    response = worker.response(archived)
    if response is None or html_content_type(response) is None:
        return
    report.pages += 1
    article = worker.article(response)
    if article is None:
        return
    if worker.validate is not None:
        try:  # counted in the crawl's stats as a worker counts it
            article = await worker.validate.process_item(article)
        except DropItem:
            report.invalid += 1
            return
    elif invalid_reason(article, worker.min_words) is not None:
        report.invalid += 1
        return
    report.articles += 1
    if out is not None:
        out.write(json.dumps({**article, "warc_file": str(archived.path), "warc_offset": archived.offset},
                             ensure_ascii=False) + "\n")
    if worker.store is not None:
        try:
            await worker.store.process_item(dict(article))
        except DropItem:
            report.duplicates += 1
        else:
            report.stored += 1
