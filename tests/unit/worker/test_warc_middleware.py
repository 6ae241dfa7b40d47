"""The WARC middleware alone: its settings, what it writes of a response, and a write that fails."""

from __future__ import annotations

import gzip
import shutil
from types import SimpleNamespace

import pytest
import scrapy
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler import settings as service_settings
from crawler.frontier.scheduler import request_failed
from crawler.store.warc import read_responses
from crawler.worker.warc import WarcWriteError, WarcWriterMiddleware

PAGE = b"<html><head><title>Harbour</title></head><body><p>Budget.</p></body></html>"


class _Spider(scrapy.Spider):
    name = "news"


def _middleware(tmp_path, **settings) -> WarcWriterMiddleware:
    crawler = get_crawler(_Spider, settings_dict={"WARC_DIR": str(tmp_path / "warc"), **settings})
    (tmp_path / "warc").mkdir(exist_ok=True)
    return WarcWriterMiddleware.from_crawler(crawler)


def test_it_is_left_out_without_warc_dir_and_refuses_a_bad_size(tmp_path):
    with pytest.raises(NotConfigured):
        WarcWriterMiddleware.from_crawler(get_crawler(_Spider, settings_dict={"WARC_DIR": " "}))
    with pytest.raises(ValueError, match="WARC_MAX_BYTES must be a positive number of bytes, got 0"):
        _middleware(tmp_path, WARC_MAX_BYTES=0)
    assert _middleware(tmp_path).max_bytes == 1_000_000_000


def test_it_runs_after_every_other_downloader_middleware():
    # process_response runs from the highest priority down: first here, so it sees each
    # response as downloaded (before decompression, redirects and retries).
    merged = Settings({"DOWNLOADER_MIDDLEWARES": service_settings.DOWNLOADER_MIDDLEWARES})
    priorities = {name: priority for name, priority
                  in merged.get_component_priority_dict_with_base("DOWNLOADER_MIDDLEWARES").items()
                  if priority is not None}
    ours = priorities.pop("crawler.worker.warc.WarcWriterMiddleware")
    assert ours > max(priorities.values())


def test_every_response_is_written_as_received_with_its_request(tmp_path):
    middleware = _middleware(tmp_path)
    encoded = gzip.compress(PAGE)
    exchanges = [
        (Request("http://127.0.0.1:8000/news/1.html", headers={"Accept-Encoding": "gzip"}),
         Response("http://127.0.0.1:8000/news/1.html", status=200, body=encoded, protocol="HTTP/1.1",
                  headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}, ip_address=None)),
        (Request("http://127.0.0.1:8000/robots.txt"),
         TextResponse("http://127.0.0.1:8000/robots.txt", status=200, body=b"User-agent: *\n",
                      headers={"Content-Type": "text/plain"})),
        (Request("http://127.0.0.1:8000/old"),
         Response("http://127.0.0.1:8000/old", status=301, headers={"Location": "/new"})),
        (Request("http://127.0.0.1:8000/missing"),
         HtmlResponse("http://127.0.0.1:8000/missing", status=404, body=b"<p>Not found</p>")),
    ]
    for request, response in exchanges:
        assert middleware.process_response(request, response) is response
    middleware.spider_closed(None, "finished")
    [path] = (tmp_path / "warc").iterdir()
    assert path.name.startswith("news-") and path.name.endswith(".warc.gz")
    archived = list(read_responses(path))
    assert [(a.url, a.status) for a in archived] == [(r.url, r.status) for _, r in exchanges]
    assert archived[0].body == encoded  # not decompressed
    assert ("Content-Encoding", "gzip") in archived[0].headers
    assert ("Location", "/new") in archived[2].headers
    stats = middleware.stats.get_stats()
    assert (stats["warc/records"], stats["warc/files"]) == (8, 1)
    assert stats["warc/bytes"] == path.stat().st_size


def test_a_failed_write_fails_the_response_signals_its_request_and_stops_archiving(tmp_path, caplog):
    middleware = _middleware(tmp_path)
    closed = []
    middleware.crawler.engine = SimpleNamespace(close_spider_async=lambda reason: closed.append(reason))
    failed = []
    middleware.crawler.signals.connect(lambda request: failed.append(request), signal=request_failed,
                                       weak=False)
    shutil.rmtree(tmp_path / "warc")  # the folder is gone: no file can be created
    request = Request("http://127.0.0.1:8000/news/1.html")
    with caplog.at_level("ERROR", logger="crawler.worker.warc"):
        with pytest.raises(WarcWriteError, match="news/1.html not archived"):
            middleware.process_response(request, HtmlResponse(request.url, body=PAGE))
    assert failed == [request] and closed == ["warc_error"]
    assert "Cannot write WARC files (No such file or directory in " in caplog.text
    (tmp_path / "warc").mkdir()  # writable again: archiving stays stopped all the same
    later = Request("http://127.0.0.1:8000/news/2.html")
    with pytest.raises(WarcWriteError):
        middleware.process_response(later, HtmlResponse(later.url, body=PAGE))
    assert failed == [request, later] and closed == ["warc_error"] and list((tmp_path / "warc").iterdir()) == []
    assert middleware.stats.get_value("warc/errors") == 1
