"""Request fingerprints from canonical URLs.

Variants of one URL (tracking parameters, default ports, fragments, query order)
share a fingerprint, so they are fetched once, by every worker.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from crawler.normalize import canonical_url_for

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from typing_extensions import Self

__all__ = ["RequestFingerprinter", "fingerprint", "fingerprint_url"]


def fingerprint(request: Request) -> str:
    """The hex fingerprint of ``request``: method, canonical URL and body."""
    return _fingerprint(request.method, request.url, request.body)


def fingerprint_url(url: str, method: str = "GET", body: bytes = b"") -> str:
    """The fingerprint a plain GET request for ``url`` gets (used by ``crawler seed``)."""
    return _fingerprint(method, url, body)


def _fingerprint(method: str, url: str, body: bytes) -> str:
    # The JSON of {"body", "method", "url"} with sorted keys, written out by
    # hand: this runs once per link and per seed.
    data = (f'{{"body": "{body.hex()}", "method": {json.dumps(method.upper())}, '
            f'"url": {json.dumps(canonical_url_for(url))}}}')
    return hashlib.sha1(data.encode()).hexdigest()


class RequestFingerprinter:
    """Scrapy's REQUEST_FINGERPRINTER_CLASS, agreeing with the Redis dupefilter."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls()

    def fingerprint(self, request: Request) -> bytes:
        return bytes.fromhex(fingerprint(request))
