"""One HTTP response of the demo site, as the route that made it hands it to the server."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HTML", "Response"]

HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Response:
    """``status``, ``body`` and headers: ``content_type``, ``location`` (a redirect)
    and any ``headers`` more (ETag, Last-Modified...), as (name, value) pairs."""

    status: int
    body: bytes
    content_type: str = HTML
    location: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
