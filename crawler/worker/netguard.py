"""Refuse to fetch private, loopback, link-local and metadata addresses.

The check runs on the resolved address of every request that reaches the
downloader, redirects included (a redirect is a new request), not on the
text of the URL: a public name that resolves to 10.0.0.5 is refused too.
``CRAWLER_ALLOW_PRIVATE_NETWORKS=1`` lifts it (the demo and the tests do).

Two layers: :class:`PrivateNetworkGuard`, a downloader middleware, refuses the
request with a clear log line and a count; :class:`GuardedResolver`, the
reactor's DNS resolver (``TWISTED_DNS_RESOLVER``), refuses to hand a forbidden address
to any connection. The second closes DNS rebinding, where a name answers the
middleware's lookup with a public address and the connection's own lookup,
moments later, with a private one. Behind an HTTP proxy the connection goes to
the proxy, so the resolver checks the proxy's address.
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

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

from crawler.base.counters import Stat

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler, CrawlerProcess
    from scrapy.statscollectors import StatsCollector
    from collections.abc import Sequence

    from twisted.internet.base import ReactorBase
    from twisted.internet.defer import Deferred
    from typing_extensions import Self

logger = logging.getLogger(__name__)

__all__ = ["GuardedResolver", "PrivateNetworkGuard", "RefusedAddress", "is_forbidden_address"]

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
    """The request's host resolves to an address this crawler must not fetch."""


def is_forbidden_address(address: str) -> bool:
    """True for private, loopback, link-local (metadata), reserved and similar addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
            or ip.is_multicast or ip.is_unspecified
            or any(ip in network for network in _EXTRA_FORBIDDEN))


class PrivateNetworkGuard:
    """Downloader middleware refusing requests to forbidden addresses (stats ``netguard/refused``)."""

    def __init__(self, stats: StatsCollector, cache_size: int = 10_000) -> None:
        self.stats = stats
        # hostname -> (expiry, addresses), least recently used first; at most cache_size.
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[float, list[str]]] = OrderedDict()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if crawler.settings.getbool("CRAWLER_ALLOW_PRIVATE_NETWORKS"):
            raise NotConfigured("CRAWLER_ALLOW_PRIVATE_NETWORKS is set")
        # The size of Scrapy's own DNS cache (DNSCACHE_SIZE, 10,000): one bound for both.
        return cls(crawler.stats, max(1, crawler.settings.getint("DNSCACHE_SIZE", 10_000)))

    async def process_request(self, request: Request) -> None:
        hostname = urlsplit(request.url).hostname
        if not hostname:
            return None
        for address in await self._resolve(hostname):
            if is_forbidden_address(address):
                self.stats.inc_value(Stat.NETGUARD_REFUSED)
                logger.warning("Refused %s: %s resolves to %s, a private address",
                               request.url, hostname, address)
                raise RefusedAddress(f"private network address {address} for {hostname}")
        return None

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
