"""One Redis connection pool per process, from ``REDIS_URL``."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import redis

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

__all__ = ["RedisUnavailable", "connect", "redis_from_settings"]

_clients: dict[str, redis.Redis] = {}


class RedisUnavailable(RuntimeError):
    """Redis cannot be reached at the configured URL."""


def connect(url: str, *, check: bool = False) -> redis.Redis:
    """The process-wide client for ``url`` (``decode_responses=True``).

    With ``check`` the server is pinged, and :class:`RedisUnavailable` raised
    with a one-line reason when it does not answer.
    """
    client = _clients.get(url)
    if client is None:
        try:
            client = redis.Redis.from_url(
                url, decode_responses=True, socket_connect_timeout=5,
                socket_timeout=30, health_check_interval=30, retry_on_timeout=True,
            )
        except ValueError as exc:
            raise RedisUnavailable(f"invalid REDIS_URL {url!r}: {exc}") from None
        _clients[url] = client
    if check:
        try:
            client.ping()
        except redis.RedisError as exc:
            raise RedisUnavailable(f"cannot reach Redis at {_redact(url)}: {exc}") from None
    return client


def redis_from_settings(settings: BaseSettings, *, check: bool = False) -> redis.Redis:
    return connect(settings.get("REDIS_URL"), check=check)


def _redact(url: str) -> str:
    """``url`` without its password, for error messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url
