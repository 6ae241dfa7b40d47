"""A leased, JSON-encoded priority queue on top of scrapy-redis' queue base.

scrapy-redis' queues pop a request and forget it: a worker that dies between
the pop and the end of processing loses the request. This queue leases
instead (see :class:`crawler.frontier.core.Frontier`): a popped request stays in
the in-flight set, under a deadline, until the scheduler acknowledges it.
It also replaces scrapy-redis' pickle serializer with :mod:`.codec`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy_redis.queue import Base

from crawler.frontier.codec import CorruptRequest, decode_request, encode_request, request_host
from crawler.frontier.core import QueueEntry

if TYPE_CHECKING:
    import redis
    from scrapy import Request, Spider

    from crawler.frontier.core import Frontier

logger = logging.getLogger(__name__)

__all__ = ["LeasedQueue"]

# How many corrupt entries one pop may skip before giving up for this call.
_MAX_SKIPS = 50


class _NoSerializer:
    """scrapy-redis' Base insists on a serializer; this queue encodes with :mod:`.codec`."""

    @staticmethod
    def dumps(obj):  # pragma: no cover - never called
        raise NotImplementedError

    loads = dumps


class LeasedQueue(Base):
    """Per-host priority queues whose pops are leases held by ``worker_id``.

    ``held`` maps each request handed out by :meth:`pop` to its JSON payload,
    until :meth:`ack` or :meth:`release_all` lets go of it.
    """

    def __init__(self, server: redis.Redis, spider: Spider, key: str, *, frontier: Frontier,
                 worker_id: str, lease_seconds: float, stats=None) -> None:
        super().__init__(server, spider, key, serializer=_NoSerializer)
        self.frontier = frontier
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self.stats = stats
        self.held: dict[Request, str] = {}
        # Seconds until a host is ready, from the last empty pop (None: nothing queued).
        self.wait: float | None = None

    def _encode_request(self, request: Request) -> str:
        return encode_request(request, self.spider)

    def _decode_request(self, encoded_request: str) -> Request:
        return decode_request(encoded_request, self.spider)

    def __len__(self) -> int:
        return int(self.server.get(self.frontier.keys.queued) or 0)

    def entry(self, request: Request, fingerprint: str) -> QueueEntry:
        """The queue entry for ``request`` (raises UnserializableRequest)."""
        return QueueEntry(self._encode_request(request), fingerprint, request.priority,
                          request_host(request.url))

    def push(self, request: Request, fingerprint: str = "") -> bool:
        """Queue ``request``; with a fingerprint, only when it was not seen before."""
        return self.frontier.push(self.entry(request, fingerprint), check_seen=bool(fingerprint))

    def pop(self, timeout: int = 0) -> Request | None:
        """Lease the next request, or None when the queue is empty. Never blocks.

        Entries that do not decode are set aside as dead letters, logged and
        counted (``frontier/corrupt``), and never executed.
        """
        for _ in range(_MAX_SKIPS):
            lease = self.frontier.lease(self.worker_id, self.lease_seconds)
            self.wait = lease.wait
            if not lease.payloads:
                return None
            payload = lease.payloads[0]
            try:
                request = self._decode_request(payload)
            except CorruptRequest as exc:
                logger.error("Skipping corrupt frontier entry (%s): %.200r", exc, payload)
                self.frontier.set_aside(payload, f"corrupt: {exc}")
                if self.stats is not None:
                    self.stats.inc_value("frontier/corrupt")
                continue
            self.held[request] = payload
            return request
        return None

    def ack(self, requests: list[Request], pipe=None) -> None:
        """Acknowledge finished requests: they leave the in-flight set."""
        payloads = [self.held.pop(request) for request in requests]
        self.frontier.ack(payloads, pipe=pipe)

    def retry(self, requests: list[Request], max_attempts: int) -> list[int]:
        """Put failed requests back in the queue (or aside): ``[requeued, dead]``."""
        payloads = [self.held.pop(request) for request in requests]
        return self.frontier.retry(self.worker_id, payloads, max_attempts)

    def release_all(self) -> int:
        """Give every request still held back to the queue."""
        payloads = list(self.held.values())
        self.held.clear()
        return self.frontier.release(self.worker_id, payloads)

    def clear(self) -> None:
        """Never used: a worker must not delete the queue that all workers share."""
        raise NotImplementedError("the shared frontier is not flushed by a worker")
