"""Hostile-page benchmark (issue 10, item 7): no page stalls extraction or a worker.

Builds pages of up to 5 MiB that attack a step of the page-to-article path
(the "More <Section>" scan, lenient JSON-LD, the ``articleBody`` tag strip,
deep nesting, one huge table, 100,000 links, and more, see :data:`PAGES`),
runs :func:`crawler.article.extract.extract_article` then
:func:`crawler.article.normalize.normalize_article` on each, as a worker does,
and prints the seconds per page (median of ``--runs`` runs), each page in a
child process killed after ``--timeout`` seconds::

    .venv/bin/python -m benchmarks.hostile [--runs 3] [--timeout 60] [--only NAME ...]
    .venv/bin/python -m benchmarks.hostile --crawl [--lease 3] [--workers 2]

Goal: no page takes more than 1 s.

``--crawl`` measures workers instead (:func:`crawl`): the same pages served by
a local HTTP server on 127.0.0.1, crawled by ``--workers`` real ``crawler
worker`` processes against a private redis-server with short leases
(``--lease`` seconds, renewed every ``--lease``/3 s) until idle, while this
process polls each worker's heartbeat in Redis and its ``/healthz`` every
0.1 s. A worker that stalls past its lease has it taken back by another. It
prints the longest a live worker went without a heartbeat, the ``/healthz``
answers other than 200, and the expired and lost leases and dead letters of
the crawl. Goal: none of them, and no heartbeat older than the lease.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import multiprocessing
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.article.extract import extract_article
from crawler.article.normalize import normalize_article
from crawler.base.counters import Field
from crawler.base.keys import Keys

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["MAX_BYTES", "PAGES", "Measure", "build", "crawl", "main", "measure"]

#: The largest page built: 5 MiB.
MAX_BYTES = 5 * 1024 * 1024
GOAL_SECONDS = 1.0
URL = "http://127.0.0.1/news/hostile.html"

_WORDS = ("the council said on tuesday that the new plan would cost more than expected "
          "and that residents would be asked to comment before any decision").split()


def _prose(n: int, start: int = 0) -> str:
    """``n`` words of plausible text, different for each ``start``."""
    return " ".join(_WORDS[(start + i * 7) % len(_WORDS)] + ("" if i % 11 else f" {start + i}")
                    for i in range(n))


def _page(body: str, head: str = "", *, article: bool = True) -> str:
    meta = ('<meta property="og:type" content="article">'
            '<meta property="og:title" content="Hostile page">') if article else ""
    return (f"<!DOCTYPE html><html lang='en'><head><title>Hostile page | Loopback News</title>"
            f"{meta}{head}</head><body><h1>Hostile page</h1>{body}</body></html>")


_VOCABULARY = ("harbour council budget river school market bridge festival library station museum "
               "orchard ferry tram bakery clinic stadium garden theatre factory vineyard lighthouse "
               "quarry meadow canal workshop archive pier mayor tenants rent flood storm repair "
               "hospital nurses teachers pupils farmers harvest drought rail strike court judge "
               "election voters budget deficit tax hearing report inquiry police fire rescue").split()
# The story of the page being built: build() draws it from the page's name, so
# that no two pages are duplicates of each other when a worker stores them.
_story_seed = 0


def _article(extra: str = "", head: str = "") -> str:
    """An ordinary article page (so that extraction runs to the end) with ``extra`` after its text."""
    words = random.Random(_story_seed)
    paragraphs = "".join(f"<p>{' '.join(words.choice(_VOCABULARY) for _ in range(60))}.</p>" for _ in range(8))
    return _page(f"<article><p class='byline'>By Jane Doe</p>{paragraphs}</article>{extra}", head)


def _repeat(unit: Callable[[int], str], budget: int, fixed: int = 2048) -> str:
    """As many ``unit(i)`` as fit in ``budget`` bytes less ``fixed``."""
    parts, size, i = [], 0, 0
    while True:
        part = unit(i)
        if size + len(part.encode()) > budget - fixed:
            return "".join(parts)
        parts.append(part)
        size += len(part.encode())
        i += 1


def _jsonld(text: str) -> str:
    return f'<script type="application/ld+json">{text}</script>'


def _more_blocks(count: int) -> str:
    block = ('<div class="more"><h3>More Biz</h3><ul>'
             '<li><a href="/biz/{i}-a.html">Markets rally as rates hold {i}</a></li>'
             '<li><a href="/biz/{i}-b.html">Banks report strong quarter {i}</a></li></ul></div>')
    return _article("".join(block.format(i=i) for i in range(count)))


def _more_blocks_max() -> str:
    block = ('<div><h3>More Biz</h3><ul><li><a href="/b/{i}a">Rally {i}</a></li>'
             '<li><a href="/b/{i}b">Banks {i}</a></li></ul></div>')
    return _article(_repeat(lambda i: block.format(i=i), MAX_BYTES - 8192))


def _jsonld_newlines(newlines: int) -> str:
    broken = '{"@type": "NewsArticle", "headline": "Broken" ' + "\n" * newlines + ' "x": }'
    return _article(head=_jsonld(broken))


def _articlebody_lt(count: int) -> str:
    data = {"@type": "NewsArticle", "headline": "Hostile page", "articleBody": _prose(200) + " <" * count}
    return _article(head=_jsonld(json.dumps(data)))


def _deep_nesting() -> str:
    depth = (MAX_BYTES - 8192) // 11
    return _article("<div>" * depth + _prose(50) + "</div>" * depth)


def _deep_inline() -> str:
    depth = (MAX_BYTES - 8192) // 4
    return _article("<p>" + "<b>x" * depth + _prose(50) + "</p>")


def _huge_table() -> str:
    rows = _repeat(lambda i: f"<tr><td>{i}</td><td>cell {i}</td><td>{_prose(3, i)}</td></tr>",
                   MAX_BYTES - 8192)
    return _article(f"<table>{rows}</table>")


def _links(count: int) -> str:
    return _article("<div>" + "".join(f'<a href="/news/{i}.html">Story {i} here</a> '
                                     for i in range(count)) + "</div>")


def _more_block_links(count: int) -> str:
    items = "".join(f'<li><a href="/biz/{i}.html">Story {i}</a></li>' for i in range(count))
    return _article(f"<div><h3>More Biz</h3><ul>{items}</ul></div>")


def _more_headings_no_links() -> str:
    return _article(_repeat(lambda i: f"<div><h3>More Biz{i % 10}</h3><p>none</p></div>", MAX_BYTES - 8192))


def _nested_more_headings() -> str:
    depth = (MAX_BYTES - 8192) // 29
    return _article("<div><h3>More Tech</h3>" * depth + '<a href="/t/1">One</a><a href="/t/2">Two</a>'
                    + "</div>" * depth)


def _deep_teaser_card() -> str:
    depth = 100_000
    card = "<div class='teaser'>" * depth + '<a href="/biz/1.html">One</a>' + "</div>" * depth
    return _article(f"<div><h3>More Biz</h3><ul><li>{card}</li><li><a href='/biz/2.html'>Two</a></li>"
                    "</ul></div>")


def _standfirst_repeats() -> str:
    summary = "Residents of the valley were asked to comment on the new flood plan this week"
    spans = _repeat(lambda i: f"<span>{summary[:40]} {i}</span>", MAX_BYTES - 8192)
    return _article(f"<div>{spans}</div>", head=f'<meta name="description" content="{summary}">')


def _one_paragraph() -> str:
    return _page("<p>" + _repeat(lambda i: _prose(1, i) + " ", MAX_BYTES - 4096) + "</p>")


def _long_word() -> str:
    return _article("<p>" + "a" * (MAX_BYTES - 8192) + "</p>")


def _cjk_text() -> str:
    return _page("<p>" + "\u65b0\u805e\u8a18\u4e8b\u3067\u3059\u3002" * ((MAX_BYTES - 4096) // 21) + "</p>")


def _many_paragraphs() -> str:
    return _page(_repeat(lambda i: f"<p>{_prose(25, i % 50)}.</p>", MAX_BYTES - 4096))


def _many_jsonld() -> str:
    item = '{"@type": "NewsArticle", "headline": "H%d", "articleBody": "text %d"}'
    return _article(head=_repeat(lambda i: _jsonld(item % (i, i)), MAX_BYTES - 8192))


def _jsonld_deep() -> str:
    depth = (MAX_BYTES - 8192) // 2
    return _article(head=_jsonld("[" * depth + "]" * depth))


def _jsonld_deep_lenient() -> str:
    depth = (MAX_BYTES - 8192) // 2
    return _article(head=_jsonld("<!-- " + '{"a":' * (depth // 5) + "1" + "}" * (depth // 5) + ","))


def _jsonld_huge_body() -> str:
    body = _repeat(lambda i: _prose(30, i) + ".\n", MAX_BYTES - 131072)
    data = {"@type": "NewsArticle", "headline": "Hostile page", "articleBody": body}
    return _article(head=_jsonld(json.dumps(data)))


def _liveblog() -> str:
    updates = _repeat(lambda i: json.dumps({"headline": f"Update {i}", "articleBody": _prose(12, i)}) + ",",
                      MAX_BYTES - 16384)
    return _article(head=_jsonld('{"@type": "LiveBlogPosting", "headline": "Live", "liveBlogUpdate": ['
                                 + updates + '{"headline": "end"}]}'))


def _many_meta() -> str:
    return _article(head=_repeat(lambda i: f'<meta name="m{i}" content="v{i}">', MAX_BYTES - 8192))


def _many_bylines() -> str:
    return _article(_repeat(lambda i: f'<p class="byline">By Writer {i} and Other {i}</p>', MAX_BYTES - 8192))


def _many_times() -> str:
    return _page(_repeat(lambda i: f'<time datetime="2020-01-{i % 28 + 1:02d}">{i}</time>', MAX_BYTES - 4096),
                 article=False)


def _times_in_article() -> str:
    times = _repeat(lambda i: '<time datetime=" ">t</time>', MAX_BYTES - 16384)
    return _page(f"<main><article>{_prose(300)}{times}</article></main>", article=False)


def _itemprop_authors() -> str:
    name = "A name far too long to be the name of one person, as a page may write it a thousand times"
    return _article(_repeat(lambda i: f'<span itemprop="author">{name} {i}</span>', MAX_BYTES - 8192))


def _nested_bylines() -> str:
    return _article('<div class="author">' * 250 + _prose(300) * 20 + "</div>" * 250)


def _nested_teaser_spans() -> str:
    card = '<span class="dek">' * 250 + _prose(200) * 10 + "</span>" * 250
    return _article(f'<div><h3>More Biz</h3><ul><li><a href="/biz/1.html">One</a>{card}</li>'
                    f'<li><a href="/biz/2.html">Two</a>{card}</li></ul></div>')


def _title_huge() -> str:
    title = "Breaking | " * ((MAX_BYTES - 16384) // 22)
    return _article(head=f'<meta property="og:title" content="{title}"><title>{title}</title>')


def _entities() -> str:
    return _article("<p>" + "&amp;&lt;&#x41;" * ((MAX_BYTES - 8192) // 15) + "</p>")


def _comments() -> str:
    return _article(_repeat(lambda i: f"<!-- c{i} --><p>More news{i}</p>", MAX_BYTES - 8192))


def _whitespace() -> str:
    return _article("<p>" + " \n\t" * ((MAX_BYTES - 8192) // 3) + "x</p>")


def _unclosed_tags() -> str:
    return _article("<p><a href='/x'" * ((MAX_BYTES - 8192) // 15))


def _many_brs() -> str:
    return _article("<p>" + "word<br>" * ((MAX_BYTES - 8192) // 8) + "</p>")


def _canonical_many() -> str:
    return _article(head=_repeat(lambda i: f'<link rel="canonical" href="/c/{i}">', MAX_BYTES - 8192))


def _binary_as_html() -> bytes:
    chunk = bytes(range(256))
    return b"<html><body>" + chunk * ((MAX_BYTES - 64) // 256) + b"</body></html>"


def _invalid_utf8() -> bytes:
    return _article().encode() + b"\xff\xfe\xc3" * ((MAX_BYTES - 16384) // 3)


#: name -> builder of one hostile page (str or bytes, at most :data:`MAX_BYTES` encoded).
PAGES: dict[str, Callable[[], str | bytes]] = {
    # The three the audit measured (500 / 1,000 / 2,000 blocks: 7.5 / 29 / 124 s).
    "more_blocks_500": lambda: _more_blocks(500),
    "more_blocks_2000": lambda: _more_blocks(2000),
    "more_blocks_5mib": _more_blocks_max,
    "jsonld_40k_newlines": lambda: _jsonld_newlines(40_000),
    "jsonld_5mib_newlines": lambda: _jsonld_newlines(MAX_BYTES - 8192),
    "articlebody_40k_lt": lambda: _articlebody_lt(40_000),
    "articlebody_5mib_lt": lambda: _articlebody_lt((MAX_BYTES - 8192) // 2),
    # Structure.
    "deep_nesting": _deep_nesting,
    "deep_inline": _deep_inline,
    "huge_table": _huge_table,
    "links_100k": lambda: _links(100_000),
    "more_block_100k_links": lambda: _more_block_links(100_000),
    "more_headings_no_links": _more_headings_no_links,
    "nested_more_headings": _nested_more_headings,
    "deep_teaser_card": _deep_teaser_card,
    "standfirst_repeats": _standfirst_repeats,
    "unclosed_tags": _unclosed_tags,
    "many_brs": _many_brs,
    "comments": _comments,
    # Text.
    "one_paragraph": _one_paragraph,
    "long_word": _long_word,
    "cjk_text": _cjk_text,
    "many_paragraphs": _many_paragraphs,
    "whitespace": _whitespace,
    "entities": _entities,
    # Metadata.
    "many_jsonld": _many_jsonld,
    "jsonld_deep": _jsonld_deep,
    "jsonld_deep_lenient": _jsonld_deep_lenient,
    "jsonld_huge_body": _jsonld_huge_body,
    "liveblog_updates": _liveblog,
    "many_meta": _many_meta,
    "many_bylines": _many_bylines,
    "many_times": _many_times,
    "times_in_article": _times_in_article,
    "itemprop_authors": _itemprop_authors,
    "nested_bylines": _nested_bylines,
    "nested_teaser_spans": _nested_teaser_spans,
    "title_huge": _title_huge,
    "canonical_many": _canonical_many,
    # Bytes.
    "binary_as_html": _binary_as_html,
    "invalid_utf8": _invalid_utf8,
}


def build(name: str) -> bytes:
    """The page ``name`` of :data:`PAGES` as UTF-8 bytes (at most :data:`MAX_BYTES`)."""
    global _story_seed
    _story_seed = zlib.crc32(name.encode())
    page = PAGES[name]()
    data = page if isinstance(page, bytes) else page.encode("utf-8")
    assert len(data) <= MAX_BYTES, (name, len(data))
    return data


# --- Extraction -----------------------------------------------------------------


def _extract_once(data: bytes) -> tuple[float, float, bool]:
    """(wall seconds, CPU seconds, whether it is an article) of one page's extraction."""
    start, cpu = time.perf_counter(), time.thread_time()
    article = extract_article(data, URL, content_type="text/html; charset=utf-8")
    if article is not None:
        normalize_article(article, spider="news")
    return time.perf_counter() - start, time.thread_time() - cpu, article is not None


def _child(name: str, runs: int, conn) -> None:
    logging.disable(logging.CRITICAL)  # a failure shows as a page that is no article
    data = build(name)
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu, is_article = _extract_once(data)
        walls.append(wall)
        cpus.append(cpu)
    conn.send(Measure(len(data), statistics.median(walls), statistics.median(cpus), is_article))
    conn.close()


@dataclass(frozen=True)
class Measure:
    """One page's figures: its size, median wall and CPU seconds (None past the timeout), article or not."""

    size: int
    wall: float | None
    cpu: float | None
    article: bool


def measure(name: str, runs: int = 3, timeout: float = 60.0) -> Measure:
    """The figures of page ``name``: ``runs`` runs in a child process, given up after ``timeout`` seconds."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(name, runs, child), daemon=True)
    proc.start()
    child.close()
    try:
        if parent.poll(timeout):
            return parent.recv()
        return Measure(len(build(name)), None, None, False)
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()


def _run_extraction(names: list[str], runs: int, timeout: float) -> int:
    print(f"{'page':<26} {'MiB':>6} {'wall s':>8} {'CPU s':>8}  article")
    worst = 0.0
    for name in names:
        result = measure(name, runs, timeout)
        wall, cpu = ((f"> {timeout:.0f}",) * 2 if result.wall is None
                     else (f"{result.wall:.3f}", f"{result.cpu:.3f}"))
        print(f"{name:<26} {result.size / 2**20:6.2f} {wall:>8} {cpu:>8}  {'yes' if result.article else 'no'}",
              flush=True)
        worst = max(worst, float("inf") if result.wall is None else result.wall)
    met = worst <= GOAL_SECONDS
    print(f"Median of {runs} runs of extract_article + normalize_article per page, each page in its own "
          f"process; CPU s is that thread's CPU time, which other load on the machine does not slow. "
          f"Goal: no page over {GOAL_SECONDS:.0f} s of wall time: slowest {worst:.3f} s "
          f"({'met' if met else 'NOT met'}).")
    return 0 if met else 1


# --- A worker crawling the pages ------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(pages: dict[str, bytes]) -> Iterator[str]:
    """A local HTTP site on 127.0.0.1 with ``/`` linking ``/<name>.html`` for each page; yields its URL."""
    index = _page("".join(f'<p><a href="/{name}.html">{name}</a></p>' for name in pages), article=False)
    files = {"/": index.encode(), **{f"/{name}.html": data for name, data in pages.items()}}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the base class' name
            data = files.get(self.path)
            if data is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def crawl(pages: dict[str, bytes], *, redis_url: str | None = None, workers: int = 2, lease: float = 3.0,
          until_idle: float = 3.0, settings: tuple[str, ...] = (), timeout: float = 600.0) -> dict:
    """Crawl ``pages`` from a local site with ``workers`` real workers; what their leases and health did.

    Serves ``pages`` (:func:`serve`), seeds the site's index in ``redis_url``
    (an emptied Redis; by default a private redis-server on a free loopback
    port), runs ``crawler worker --until-idle`` ``workers`` times with
    ``FRONTIER_LEASE_SECONDS=lease``, a heartbeat every ``lease``/3 s and
    ``DEPTH_LIMIT=1`` (the pages' own links are read, not fetched), plus
    ``settings`` (``NAME=VALUE``), and polls every worker's heartbeat in Redis
    and its ``/healthz`` every 0.1 s until all have exited. With two workers or
    more, one that stalls past its lease has it taken back by another, as in
    a real crawl. Returns ``{"base", "seconds", "exit_codes",
    "max_heartbeat_gap", "healthz_checks", "healthz_failures" (the answers other than 200),
    "leases_expired", "leases_lost", "dead_letters", "articles" (stored
    URLs), "pages", "logs"}``.
    """
    with contextlib.ExitStack() as stack:
        if redis_url is None:
            redis_url = stack.enter_context(_private_redis())
        return _crawl(pages, redis_url, workers, lease, until_idle, settings, timeout)


@contextlib.contextmanager
def _private_redis() -> Iterator[str]:
    workdir = tempfile.mkdtemp(prefix="bench-hostile-")
    port = _free_port()
    server = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port),
                               "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                               "--dir", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _crawl(pages: dict[str, bytes], redis_url: str, workers: int, lease: float, until_idle: float,
           settings: tuple[str, ...], timeout: float) -> dict:
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    keys = Keys("news")
    cli = [sys.executable, "-m", "crawler", "--redis-url", redis_url]
    env = {**os.environ, "CRAWLER_ALLOW_PRIVATE_NETWORKS": "1"}
    root = Path(__file__).resolve().parents[1]
    logs = [tempfile.TemporaryFile(mode="w+") for _ in range(workers)]
    try:
        _wait_for(client.ping)
        with serve(pages) as base:
            subprocess.run([*cli, "seed", base + "/"], check=True, capture_output=True, env=env, cwd=root)
            options = ["FRONTIER_HOST_DELAY=0", f"FRONTIER_LEASE_SECONDS={lease}",
                       f"FRONTIER_HEARTBEAT_SECONDS={lease / 3}", "FRONTIER_MAX_ATTEMPTS=3",
                       "DEPTH_LIMIT=1", "ROBOTSTXT_OBEY=False", "LOG_LEVEL=INFO", *settings]
            ports = [_free_port() for _ in range(workers)]
            procs = [subprocess.Popen(
                [*cli, "worker", "--until-idle", str(until_idle), "--metrics-port", str(port),
                 *(arg for option in options for arg in ("-s", option))],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root) for port, log in zip(ports, logs)]
            try:
                started = time.monotonic()
                gap, checks, failures = 0.0, 0, []
                answered = [False] * workers
                while any(p.poll() is None for p in procs) and time.monotonic() - started < timeout:
                    secs, micros = client.time()
                    now = secs + micros / 1e6
                    # A worker's score is its last heartbeat; it leaves the set as it closes.
                    beats = client.zrange(keys.workers, 0, -1, withscores=True)
                    gap = max([gap, *(now - beat for _, beat in beats)])
                    crawling = {int(worker.rsplit(":", 2)[1]) for worker, _ in beats}  # host:pid:random
                    for i, (proc, port) in enumerate(zip(procs, ports)):
                        if proc.pid not in crawling:
                            continue  # starting, or closing (its metrics server stops with it)
                        status = _health(port)
                        answered[i] = answered[i] or status == 200
                        if not answered[i]:
                            continue
                        if status != 200 and not any(f":{proc.pid}:" in worker for worker in client.zrange(
                                keys.workers, 0, -1)):
                            continue  # it closed meanwhile
                        checks += 1
                        if status != 200:
                            failures.append((round(time.monotonic() - started, 1), i, status))
                    time.sleep(0.1)
            finally:  # whatever happened (a timeout of the caller too): no worker is left behind
                for proc in procs:
                    if proc.poll() is None:
                        proc.kill()
                    proc.wait()
            seconds = time.monotonic() - started
        exported = subprocess.run([*cli, "export"], check=True, capture_output=True, text=True, env=env,
                                  cwd=root).stdout
        stats = client.hgetall(keys.stats)
        result = {
            "base": base, "seconds": seconds, "exit_codes": [proc.returncode for proc in procs],
            "max_heartbeat_gap": gap, "healthz_checks": checks, "healthz_failures": failures,
            "leases_expired": int(stats.get(Field.LEASES_EXPIRED, 0)),
            "leases_lost": int(stats.get(Field.LEASES_LOST, 0)),
            "dead_letters": client.llen(keys.deadletter),
            "articles": sorted(json.loads(line)["url"] for line in exported.splitlines()),
            "pages": int(stats.get(Field.PAGES, 0)), "logs": [],
        }
        for log in logs:
            log.seek(0)
            result["logs"].append(log.read())
        return result
    finally:
        for log in logs:
            log.close()
        client.close()


def _wait_for(check: Callable[[], object], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            check()
            return
        except Exception:  # noqa: BLE001 - not up yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _health(port: int) -> int | str:
    """The HTTP status of ``/healthz`` on ``port``; "refused" when nothing listens, "timeout" after 2 s."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except urllib.error.URLError as error:
        return "refused" if isinstance(error.reason, ConnectionRefusedError) else "timeout"
    except OSError:
        return "timeout"


def _run_crawl(names: list[str], lease: float, workers: int) -> int:
    pages = {name: build(name) for name in names}
    result = crawl(pages, lease=lease, workers=workers)
    print(f"{workers} workers crawled {len(pages)} hostile pages ({sum(map(len, pages.values())) / 2**20:.1f} MiB) "
          f"in {result['seconds']:.1f} s, FRONTIER_LEASE_SECONDS={lease:g} (heartbeat every {lease / 3:g} s):")
    for key in ("exit_codes", "pages", "max_heartbeat_gap", "healthz_checks",
                "healthz_failures", "leases_expired", "leases_lost", "dead_letters"):
        value = result[key]
        print(f"  {key:<18} {value:.2f}" if isinstance(value, float) else f"  {key:<18} {value}")
    print(f"  {'articles':<18} {len(result['articles'])}")
    met = (not any(result["exit_codes"]) and result["max_heartbeat_gap"] < lease
           and not result["healthz_failures"]
           and not (result["leases_expired"] or result["leases_lost"] or result["dead_letters"]))
    print(f"Goal: no lease of a live worker expires, /healthz always 200: {'met' if met else 'NOT met'}.")
    if not met:
        for log in result["logs"]:
            print(log[-3000:], file=sys.stderr)
    return 0 if met else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per page (the median is shown)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a page is given up")
    parser.add_argument("--only", nargs="+", choices=sorted(PAGES), metavar="NAME", help="these pages only")
    parser.add_argument("--crawl", action="store_true", help="crawl the pages with a real worker instead")
    parser.add_argument("--lease", type=float, default=3.0, help="FRONTIER_LEASE_SECONDS of --crawl")
    parser.add_argument("--workers", type=int, default=2, help="workers of --crawl")
    args = parser.parse_args(argv)
    names = args.only or list(PAGES)
    if args.crawl:
        return _run_crawl(names, args.lease, args.workers)
    return _run_extraction(names, args.runs, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
