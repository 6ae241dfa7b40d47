"""A tiny web on 127.0.0.1 for the system tests: pages by host and path, as a server or a proxy.

Serves ``pages[(host, path)]`` (``host`` as the request names it: the Host
header, or the host of an absolute request target, which is what a worker
sends through an HTTP proxy). So one loopback listener can stand for sites
with any name (``xn--bcher-kva.example``) when the worker's ``http_proxy``
points at it, without anything leaving the machine. Every request is
recorded in ``requests`` as ``(host, path)``.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

__all__ = ["FakeWeb", "article_html"]


_WORDS = ("harbour council budget river school market bridge festival library station museum "
          "orchard ferry tram bakery clinic stadium garden theatre factory vineyard lighthouse "
          "quarry meadow canal workshop archive pier").split()


def article_html(title: str, body: str, links: list[str] = (), *, published: str | None = None) -> str:
    """A page the extractor takes for an article: a title, a byline, paragraphs, ``links``,
    and its ``article:published_time`` when ``published`` is given (as written).

    The paragraphs are drawn from ``title``, so pages of different titles are not
    near-duplicates of each other."""
    seed = sum(map(ord, title))
    paragraphs = "".join(
        "<p>" + body + " " + " ".join(_WORDS[(seed * (n + 3) + k * 7) % len(_WORDS)] for k in range(30))
        + f" ({title}, part {n}).</p>" for n in range(8))
    anchors = "".join(f'<li><a href="{href}">link {n}</a></li>' for n, href in enumerate(links))
    return (f"<!DOCTYPE html><html><head><title>{title}</title>"
            f'<meta property="og:type" content="article">'
            + (f'<meta property="article:published_time" content="{published}">' if published else "")
            + "</head><body><article>"
            f"<h1>{title}</h1><p class=\"byline\">By Ann Author</p>{paragraphs}</article>"
            f"<ul>{anchors}</ul></body></html>")


class FakeWeb:
    """``pages``: ``{(host, path): (status, headers, body)}``; anything else is a 404."""

    def __init__(self, pages: dict[tuple[str, str], tuple[int, dict[str, str], str]]) -> None:
        self.pages = pages
        self.requests: list[tuple[str, str]] = []
        web = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                target = urlsplit(self.path)
                host = (target.hostname or self.headers.get("Host", "").rsplit(":", 1)[0]).lower()
                path = target.path or "/"
                if self.path.startswith("/"):
                    path = self.path.split("?", 1)[0]
                web.requests.append((host, path))
                status, headers, body = web.pages.get((host, path), (404, {}, "not found"))
                data = body.encode()
                self.send_response(status)
                headers = {"Content-Type": "text/html; charset=utf-8", **headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeWeb:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
