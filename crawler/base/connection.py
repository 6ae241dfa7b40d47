"""One Redis connection pool per process, from ``REDIS_URL``.

A URL that points at a node of a Redis Cluster gives a cluster client: every
key of a crawl shares one hash tag, so the frontier's scripts run on one slot.
"""

from __future__ import annotations

import redis
from redis.cluster import RedisCluster

from crawler.base.urls import redact_url

__all__ = ["RedisUnavailable", "close", "connect", "is_out_of_memory", "pipeline"]

_clients: dict[str, redis.Redis] = {}
_OPTIONS = {"decode_responses": True, "socket_connect_timeout": 5, "socket_timeout": 10,
            "health_check_interval": 30, "retry_on_timeout": True}


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
            client = redis.Redis.from_url(url, **_OPTIONS)
        except ValueError as exc:
            raise RedisUnavailable(f"invalid REDIS_URL {redact_url(url)!r}: {exc}") from None
        if _is_cluster(client):
            client.close()
            client = RedisCluster.from_url(url, **_OPTIONS)
        _clients[url] = client
    if check:
        try:
            client.ping()
        except redis.RedisError as exc:
            raise RedisUnavailable(f"cannot reach Redis at {redact_url(url)}: {exc}") from None
    return client


def is_out_of_memory(exc: BaseException | None) -> bool:
    """Whether ``exc`` is Redis refusing a write for lack of memory (``-OOM``: used
    memory above ``maxmemory`` with ``noeviction``), directly or from a script."""
    return isinstance(exc, redis.exceptions.OutOfMemoryError) or (
        isinstance(exc, redis.ResponseError) and str(exc).startswith("OOM"))


def _is_cluster(client: redis.Redis) -> bool:
    try:
        return bool(client.info("cluster").get("cluster_enabled"))
    except redis.RedisError:
        return False  # unreachable for now: the caller's own check reports it


class _Immediate:
    """Stands in for a pipeline on Redis Cluster: runs each command at once.

    redis-py's cluster pipelines refuse EVALSHA, which the frontier's scripts
    need; there each command costs its own round trip instead.
    """

    def __init__(self, client: RedisCluster) -> None:
        self._client = client
        self._results: list = []

    def __enter__(self) -> _Immediate:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._results = []

    def __getattr__(self, name: str):
        command = getattr(self._client, name)
        # A script called on this stand-in loads itself on a NoScriptError
        # (redis-py's Script does): that is no command of the caller's.
        record = name != "script_load"

        def run(*args, **kwargs):
            result = command(*args, **kwargs)
            if record:
                self._results.append(result)
            return result

        return run

    def execute(self) -> list:
        results, self._results = self._results, []
        return results


def pipeline(client: redis.Redis, *, transaction: bool = False):
    """``client.pipeline()``, or on Redis Cluster an object that runs commands one by one.

    On a cluster, ``transaction=True`` is not atomic: use a script where it must be.
    """
    if isinstance(client, RedisCluster):
        return _Immediate(client)
    return client.pipeline(transaction=transaction)


def close(client: redis.Redis) -> None:
    """Close ``client`` and forget it, so that the next :func:`connect` makes a new one.

    For the end of a process's work with Redis (a worker's engine has stopped):
    every component of the process shares the client, so only its owner closes it.
    """
    for url, cached in list(_clients.items()):
        if cached is client:
            del _clients[url]
    client.close()
