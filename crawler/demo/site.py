"""Serving "The Daily Loopback", the demo news site.

:func:`serve` starts the site on a loopback address in a background thread
(standard library only) and returns a :class:`DemoSite`. Every page is rendered
by :mod:`crawler.demo.pages`, so a site always serves the same bytes, apart
from absolute URLs, which name its port; here each path gets its page, status
and headers. The ground truth of a crawl of it is :mod:`crawler.demo.truth`.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from crawler.demo.content import LAB_ARTICLES
from crawler.demo.live import LiveSite
from crawler.demo.pages import (
    NEWS_SECTIONS,
    article_page,
    article_pages,
    calendar_page,
    error_page,
    home_page,
    lab_index_page,
    listing_page,
    malformed_page,
    not_found_page,
    oversize_body,
    pdf_body,
    private_page,
)
from crawler.demo.response import Response
from crawler.demo.stories import Schedule

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Self

__all__ = ["DemoSite", "LiveDemoSite", "serve"]

logger = logging.getLogger(__name__)

def _not_found() -> Response:
    return Response(404, not_found_page().encode())


def _found(page: str | None) -> Response:
    """``page`` served with 200, or a 404 when there is no such page (None)."""
    return _not_found() if page is None else Response(200, page.encode())


# --- Routes ------------------------------------------------------------------------


class _Site:
    """Every page of one running site, by path; renders nothing per request
    except the few pages that depend on the query (listings, calendar)."""

    def __init__(self, base_url: str, include_bad: bool) -> None:
        self.base_url = base_url
        routes: dict[str, Callable[[dict[str, list[str]]], Response]] = {
            "/robots.txt": _static(Response(
                200, b"User-agent: *\nDisallow: /private/\n", "text/plain; charset=utf-8")),
            "/": _static(Response(200, home_page(include_bad).encode())),
            "/calendar/": lambda query: _found(calendar_page(query)),
            "/private/secret.html": _static(Response(200, private_page().encode())),
        }
        for key in NEWS_SECTIONS:
            routes[f"/{key}/"] = lambda query, key=key: _found(listing_page(key, query))
        for path, text in article_pages(base_url).items():
            routes[path] = _static(Response(200, text.encode()))
        if include_bad:
            routes.update(self._lab())
        self._routes = routes

    def respond(self, target: str, headers: Mapping[str, str] | None = None) -> Response:
        """The response to a GET of ``target`` (a path with an optional query);
        the static site has no conditional pages, so ``headers`` are not read."""
        parts = urlsplit(target)
        handler = self._routes.get(parts.path)
        return _not_found() if handler is None else handler(parse_qs(parts.query))

    def _lab(self) -> dict[str, Callable[[dict[str, list[str]]], Response]]:
        base = self.base_url
        lab = LAB_ARTICLES

        def article(kind: str, encoding: str, content_type: str, meta: str | None) -> Response:
            page = article_page(lab[kind], base + lab[kind].path, charset=meta)
            return Response(200, page.encode(encoding), content_type)

        responses = {
            "/lab/": Response(200, lab_index_page().encode()),
            "/lab/malformed.html": Response(
                200, malformed_page(lab["malformed"], base + lab["malformed"].path).encode()),
            "/lab/windows-1252.html": article(
                "windows-1252", "cp1252", "text/html; charset=windows-1252", None),
            "/lab/gb2312.html": article("gb2312", "gb2312", "text/html", "gb2312"),
            "/lab/undeclared.html": article("no-charset", "cp1252", "text/html", None),
            "/lab/report.pdf": Response(200, pdf_body(), "application/pdf"),
            "/lab/empty.html": Response(200, b""),
            "/lab/oversize.html": Response(200, oversize_body()),
            "/lab/loop-a": Response(302, b"", location=base + "/lab/loop-b"),
            "/lab/loop-b": Response(302, b"", location=base + "/lab/loop-a"),
            "/lab/error.html": Response(500, error_page().encode()),
        }
        return {path: _static(response) for path, response in responses.items()}


def _static(response: Response) -> Callable[[dict[str, list[str]]], Response]:
    return lambda _query: response


# --- Server ------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DailyLoopback/1.0"
    sys_version = ""
    # An idle keep-alive connection is dropped after this many seconds.
    timeout = 30
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._respond(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(send_body=False)

    def _respond(self, *, send_body: bool) -> None:
        self.server.record(self.path)
        response = self.server.site.respond(self.path, self.headers)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        if response.status != 304:  # a 304 has no body, and no length of its own
            self.send_header("Content-Length", str(len(response.body)))
        if response.location:
            self.send_header("Location", response.location)
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if not send_body or not response.body:
            return
        try:
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client stopped reading (a crawler refusing an oversize page).
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silent: the demo must not write a line to stderr per request."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int],
                 make_site: Callable[[str], _Site | LiveSite]) -> None:
        super().__init__(address, _Handler)
        self.base_url = f"http://{address[0]}:{self.server_address[1]}"
        self.site = make_site(self.base_url)
        self.hits: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()

    def record(self, path: str) -> None:
        with self._lock:
            self.hits.append((time.monotonic(), path))

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Wake handler threads blocked on idle keep-alive connections, so they end."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("demo site: error serving %s", client_address, exc_info=True)


class DemoSite:
    """A running demo site (see :func:`serve`).

    ``base_url`` is ``"http://127.0.0.1:PORT"`` (no trailing slash). ``hits``
    lists ``(time.monotonic(), path)`` for every request received, in arrival
    order, ``path`` as sent (query included); requests append to it under a
    lock, so take a copy (``list(site.hits)``) to read it while a crawl runs.
    """

    def __init__(self, server: _Server) -> None:
        self._server = server
        self.base_url = server.base_url
        self.hits = server.hits
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="demo-site", daemon=True)
        self._thread.start()
        self._closed = False

    def close(self) -> None:
        """Stop serving, close every connection and free the port. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.drop_connections()
        self._server.server_close()
        self._thread.join()
        logger.debug("demo site at %s closed", self.base_url)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<DemoSite {self.base_url}{' (closed)' if self._closed else ''}>"


class LiveDemoSite(DemoSite):
    """A running live demo site (see :func:`serve` with ``live=True``).

    Besides :class:`DemoSite`'s attributes: ``schedule`` (the
    :class:`~crawler.demo.stories.Schedule` of its stories) and ``live`` (the
    :class:`~crawler.demo.live.LiveSite` that answers and records), and the
    record itself: :meth:`truth` (also served as JSON at ``/_demo/truth.json``),
    :meth:`first_fetches` and :meth:`hub_fetches`.
    """

    def __init__(self, server: _Server) -> None:
        super().__init__(server)
        self.live: LiveSite = server.site  # type: ignore[assignment]
        self.schedule = self.live.schedule

    def truth(self, now: float | None = None) -> dict[str, Any]:
        """See :meth:`crawler.demo.live.LiveSite.truth`."""
        return self.live.truth(now)

    def first_fetches(self) -> dict[str, float]:
        return self.live.first_fetches()

    def hub_fetches(self) -> list[tuple[float, str, str, int]]:
        return self.live.hub_fetches()


def serve(host: str = "127.0.0.1", port: int = 0, *, include_bad: bool = False, live: bool = False,
          publish_every: float = 5.0, seed: int = 0, start: float | None = None,
          clock: Callable[[], float] | None = None) -> DemoSite:
    """Start "The Daily Loopback" on ``host``:``port`` in a daemon thread.

    ``host`` must be an IPv4 loopback address; ``port`` 0 picks a free port.
    ``include_bad`` adds the misbehaving pages of ``/lab/`` (:func:`bad_pages`)
    and a link to them from the home page.

    ``live=True`` serves the live site instead (:mod:`crawler.demo.live`,
    returning a :class:`LiveDemoSite`): a new story every ``publish_every``
    seconds (at least 1) from ``start`` (unix time, default now), in the order
    ``seed`` decides; two sites with the same ``seed``, ``start`` and
    ``publish_every`` publish the same stories at the same instants. ``clock``
    (default ``time.time``) is for tests that move time by hand.

    Returns the running site; use it as a context manager or call ``close()``.
    Raises :class:`ValueError` for a non-loopback ``host`` or a bad live
    setting and :class:`OSError` when the port cannot be bound.
    """
    try:
        loopback = ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the demo site only binds an IPv4 loopback address, not {host!r}")
    if not live:
        site = DemoSite(_Server((host, port), lambda base: _Site(base, include_bad)))
        logger.info("demo site serving at %s/", site.base_url)
        return site
    if include_bad:
        raise ValueError("the live demo site has no lab of bad pages (include_bad)")
    clock = clock or time.time
    schedule = Schedule(seed=seed, start=clock() if start is None else start,
                        publish_every=publish_every)
    live_site = LiveDemoSite(_Server((host, port), lambda base: LiveSite(base, schedule, clock)))
    logger.info("live demo site serving at %s/ (a story every %ss, seed %s)",
                live_site.base_url, publish_every, seed)
    return live_site
