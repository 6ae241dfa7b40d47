"""Refuse to fetch anything but http(s), and private, loopback, link-local and metadata addresses.

Only http and https are fetched (:data:`crawler.base.urls.HTTP_SCHEMES`): Scrapy's
file, ftp, s3 and data handlers ignore the host, so a ``file://<seeded host>/``
link would read a worker-local file. That check is always on; the service also
disables those handlers (``DOWNLOAD_HANDLERS``), and the spider and ``crawler
seed`` refuse such URLs before they are queued.

The check runs on the resolved address of every request that reaches the
downloader, redirects included (a redirect is a new request), not on the
text of the URL: a public name that resolves to 10.0.0.5 is refused too.
``CRAWLER_ALLOW_PRIVATE_NETWORKS=1`` lifts the address check (the demo and the
tests do), never the scheme check. A request that names its own proxy
(``meta["proxy"]``, not one from the environment) has the proxy's address checked
too: the resolver never sees an IP literal.

Two layers: :class:`PrivateNetworkGuard`, a downloader middleware, refuses the
request with a clear log line and a count; :class:`GuardedResolver`, the
reactor's DNS resolver (``TWISTED_DNS_RESOLVER``), refuses to hand a forbidden address
to any connection. The second closes DNS rebinding, where a name answers the
middleware's lookup with a public address and the connection's own lookup,
moments later, with a private one. Behind an HTTP proxy the connection goes to
the proxy, so the resolver checks the proxy's name (an IP literal is never
looked up: the middleware checks it).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from collections import OrderedDict
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

from crawler.base.counters import Stat
from crawler.base.urls import is_http_url

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler, CrawlerProcess
    from scrapy.statscollectors import StatsCollector
    from collections.abc import Sequence

    from twisted.internet.base import ReactorBase
    from twisted.internet.defer import Deferred
    from typing_extensions import Self

logger = logging.getLogger(__name__)

__all__ = ["GuardedResolver", "PrivateNetworkGuard", "RefusedAddress", "RefusedScheme",
           "is_forbidden_address"]

# Ranges that `ipaddress` does not already call private, loopback, link-local,
# reserved, multicast or unspecified, but that still reach internal services.
_EXTRA_FORBIDDEN = tuple(ipaddress.ip_network(n) for n in (
    "100.64.0.0/10",      # carrier-grade NAT, used inside clouds
    "192.0.0.0/24",       # IETF protocol assignments
    "198.18.0.0/15",      # benchmarking
    "fd00:ec2::254/128",  # AWS metadata over IPv6
))
_CACHE_SECONDS = 60.0


class RefusedAddress(IgnoreRequest):
    """The request's host (or proxy) resolves to an address this crawler must not fetch."""


class RefusedScheme(IgnoreRequest):
    """The request's URL is not http or https."""


def is_forbidden_address(address: str) -> bool:
    """True for private, loopback, link-local (metadata), reserved and similar addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
            or ip.is_multicast or ip.is_unspecified
            or any(ip in network for network in _EXTRA_FORBIDDEN))


class PrivateNetworkGuard:
    """Downloader middleware refusing requests for other schemes than http and https
    (stats ``netguard/not_http``, always) and to forbidden addresses (``netguard/refused``,
    unless ``CRAWLER_ALLOW_PRIVATE_NETWORKS``)."""

    def __init__(self, stats: StatsCollector, *, refuse_private: bool = True,
                 cache_size: int = 10_000) -> None:
        self.stats = stats
        self.refuse_private = refuse_private
        # hostname -> (expiry, addresses), least recently used first; at most cache_size.
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[float, list[str]]] = OrderedDict()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        # The size of Scrapy's own DNS cache (DNSCACHE_SIZE, 10,000): one bound for both.
        return cls(crawler.stats, refuse_private=not crawler.settings.getbool("CRAWLER_ALLOW_PRIVATE_NETWORKS"),
                   cache_size=max(1, crawler.settings.getint("DNSCACHE_SIZE", 10_000)))

    async def process_request(self, request: Request) -> None:
        if not is_http_url(request.url):
            self.stats.inc_value(Stat.NETGUARD_NOT_HTTP)
            logger.warning("Refused %s: only http and https URLs are fetched", request.url[:200])
            raise RefusedScheme(f"only http and https are fetched, not {request.url.partition(':')[0][:20]!r}")
        if not self.refuse_private:
            return None
        hostname = urlsplit(request.url).hostname
        if hostname:
            await self._check(request, hostname, "")
        proxy = request.meta.get("proxy")
        # A proxy that HttpProxyMiddleware took from the environment is the
        # operator's (it marks it "_scheme_proxy"); any other came with the request.
        if proxy and not request.meta.get("_scheme_proxy"):
            proxy_host = _proxy_host(str(proxy))
            if proxy_host:
                await self._check(request, proxy_host, "proxy ")

    async def _check(self, request: Request, hostname: str, what: str) -> None:
        for address in await self._resolve(hostname):
            if is_forbidden_address(address):
                self.stats.inc_value(Stat.NETGUARD_REFUSED)
                logger.warning("Refused %s: %s%s resolves to %s, a private address",
                               request.url, what, hostname, address)
                raise RefusedAddress(f"private network address {address} for {what}{hostname}")

    async def _resolve(self, hostname: str) -> list[str]:
        try:
            ipaddress.ip_address(hostname)
            return [hostname]
        except ValueError:
            pass
        now = time.monotonic()
        cached = self._cache.get(hostname)
        if cached and cached[0] > now:
            self._cache.move_to_end(hostname)
            return cached[1]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(hostname, None, type=socket.SOCK_STREAM)
        except OSError:
            return []  # let the download fail with its own DNS error
        addresses = sorted({info[4][0] for info in infos})
        self._cache[hostname] = (now + _CACHE_SECONDS, addresses)
        self._cache.move_to_end(hostname)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return addresses


def _proxy_host(proxy: str) -> str:
    """The host of a proxy URL, which Scrapy accepts without a scheme too ("" if none)."""
    if "://" not in proxy:
        proxy = "http://" + proxy
    try:
        return urlsplit(proxy).hostname or ""
    except ValueError:
        return ""


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's default DNS resolver, never answering with a forbidden address.

    A name that resolves to one fails its lookup, with a warning in the log, so
    no connection can reach it, whatever the middleware saw; the request fails
    as a DNS lookup error. The resolver serves the whole process, not one
    crawler, so it has no stats to count in: the middleware's count is the one
    that shows, and this one only acts when a name changed its answer between
    the two lookups. ``CRAWLER_ALLOW_PRIVATE_NETWORKS`` turns the check off.
    """

    def __init__(self, reactor: ReactorBase, cache_size: int, timeout: float, *, refuse: bool = True) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.refuse = refuse

    @classmethod
    def from_crawler(cls, crawler: Crawler | CrawlerProcess, reactor: ReactorBase) -> Self:
        # Scrapy builds the resolver with its CrawlerProcess, which has settings but no stats.
        resolver = super().from_crawler(crawler, reactor)  # Scrapy's DNSCACHE_* and DNS_TIMEOUT
        resolver.refuse = not crawler.settings.getbool("CRAWLER_ALLOW_PRIVATE_NETWORKS")
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:  # noqa: N802 - Twisted's name
        resolved = super().getHostByName(name, timeout)
        if self.refuse:
            resolved.addCallback(self._check, name)
        return resolved

    def _check(self, address: str, name: str) -> str:
        if is_forbidden_address(address):
            logger.warning("Refused to connect to %s: it resolves to %s, a private address", name, address)
            raise DNSLookupError(f"{name} resolves to {address}, a private network address (refused)")
        return address
