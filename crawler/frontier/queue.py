"""A leased, JSON-encoded priority queue on top of scrapy-redis' queue base.

scrapy-redis' queues pop a request and forget it: a worker that dies between
the pop and the end of processing loses the request. This queue leases
instead (see :class:`crawler.frontier.core.Frontier`): a popped request stays in
the in-flight set, under a deadline, until the scheduler acknowledges it.
It also replaces scrapy-redis' pickle serializer with :mod:`.codec`.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING

from scrapy_redis.queue import Base

from crawler.base.urls import url_host
from crawler.frontier.codec import CorruptRequest, decode_request, encode_request
from crawler.frontier.core import QueueEntry
from crawler.base.counters import Stat

if TYPE_CHECKING:
    from collections.abc import Callable

    import redis
    from scrapy import Request, Spider

    from crawler.frontier.core import Frontier

logger = logging.getLogger(__name__)

__all__ = ["LeasedQueue"]

# How many all-corrupt leases one pop may skip before giving up for this call.
_MAX_SKIPS = 50
# Pushes waiting in the outbox that trigger a flush on their own.
_OUTBOX_LIMIT = 200
# Requests a worker remembers having pushed (a URL each, about 100 bytes).
_KNOWN_LIMIT = 200_000

# What a fingerprint is made of: the URL of a GET without a body, else method, URL and body.
_Key = str | tuple[str, str, bytes]


def _request_key(request: Request) -> _Key:
    """The method, URL and body of ``request``, as one hashable value (the URL alone for a plain GET)."""
    if request.method == "GET" and not request.body:
        return request.url
    return request.method, request.url, request.body


class _NoSerializer:
    """scrapy-redis' Base insists on a serializer; this queue encodes with :mod:`.codec`."""

    @staticmethod
    def dumps(obj):  # pragma: no cover - never called
        raise NotImplementedError

    loads = dumps


class LeasedQueue(Base):
    """Per-host priority queues whose pops are leases held by ``worker_id``.

    Round trips are batched both ways: pushes wait in an outbox until
    :meth:`flush` (at the latest on the next :meth:`pop`, so a request's links
    are stored before it can be acknowledged), and one lease takes up to
    ``batch`` requests, handed out one per :meth:`pop`.

    ``held`` maps each request handed out by :meth:`pop` to its JSON payload,
    until :meth:`ack`, :meth:`retry` or :meth:`release_all` lets go of it.
    """

    def __init__(self, server: redis.Redis, spider: Spider, key: str, *, frontier: Frontier,
                 worker_id: str, lease_seconds: float, batch: int = 8, stats=None) -> None:
        super().__init__(server, spider, key, serializer=_NoSerializer)
        self.frontier = frontier
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self.batch = batch
        self.stats = stats
        self.held: dict[Request, str] = {}
        self._leased: deque[tuple[Request, str]] = deque()
        # Entries to push, each with its request's key (None for one pushed unfiltered).
        self._outbox: list[tuple[QueueEntry, _Key | None]] = []
        # Requests this worker has pushed with a fingerprint: "seen" only ever
        # grows, so a link found again (menus, "More" blocks) needs no
        # fingerprint, no encoding and no round trip.
        self._known: set[_Key] = set()
        self.skipped = 0
        # Seconds until a host is ready, from the last empty pop (None: nothing queued).
        self.wait: float | None = None

    def _encode_request(self, request: Request) -> str:
        return encode_request(request, self.spider)

    def _decode_request(self, encoded_request: str) -> Request:
        return decode_request(encoded_request, self.spider)

    def __len__(self) -> int:
        """Requests queued in Redis, plus those this worker has leased or not yet pushed."""
        return int(self.server.get(self.frontier.keys.queued) or 0) + self.pending

    @property
    def leased(self) -> int:
        """Requests this worker has leased that the engine has not taken yet."""
        return len(self._leased)

    @property
    def pending(self) -> int:
        """Requests this worker holds that the engine has not taken yet, or has not pushed yet."""
        return len(self._leased) + len(self._outbox)

    def entry(self, request: Request, fingerprint: str) -> QueueEntry:
        """The queue entry for ``request`` (raises UnserializableRequest)."""
        return QueueEntry(self._encode_request(request), fingerprint, request.priority,
                          url_host(request.url))

    def push(self, request: Request, fingerprint: Callable[[Request], str] | None = None) -> None:
        """Queue ``request`` at the next flush; with ``fingerprint``, only if not seen before.

        ``fingerprint`` gives the request's fingerprint, which must depend on
        nothing but its method, URL and body (:func:`crawler.base.urls.fingerprint`):
        a request with the same three as one this worker pushed before is
        skipped without computing it. Raises UnserializableRequest at once.
        """
        key = None
        if fingerprint is not None:
            key = _request_key(request)
            if key in self._known:
                self.skipped += 1
                return
        self._outbox.append((self.entry(request, "" if key is None else fingerprint(request)), key))
        if len(self._outbox) >= _OUTBOX_LIMIT:
            self.flush()

    def flush(self) -> tuple[int, int]:
        """Push the outbox in one round trip; returns ``(queued, already seen)``."""
        if not self._outbox:
            return 0, 0
        outbox, self._outbox = self._outbox, []
        try:
            results = self.frontier.push_many([entry for entry, _ in outbox])
        except Exception:
            self._outbox = outbox + self._outbox  # keep them for the next flush
            raise
        if len(self._known) > _KNOWN_LIMIT:
            self._known.clear()  # a bounded cache: forgetting only costs round trips
        self._known.update(key for _, key in outbox if key is not None)
        queued = sum(results)
        return queued, len(results) - queued

    def pop(self, timeout: int = 0) -> Request | None:
        """The next leased request, or None when nothing is ready. Never blocks.

        Entries that do not decode are set aside as dead letters, logged and
        counted (``frontier/corrupt``), and never executed.
        """
        if not self._leased:
            self._lease()
        if not self._leased:
            return None
        request, payload = self._leased.popleft()
        self.held[request] = payload
        return request

    def _lease(self) -> None:
        for _ in range(_MAX_SKIPS):
            lease = self.frontier.lease(self.worker_id, self.lease_seconds, self.batch)
            self.wait = lease.wait
            for payload in lease.payloads:
                try:
                    self._leased.append((self._decode_request(payload), payload))
                except CorruptRequest as exc:
                    logger.error("Skipping corrupt frontier entry (%s): %.200r", exc, payload)
                    self.frontier.set_aside(payload, f"corrupt: {exc}")
                    if self.stats is not None:
                        self.stats.inc_value(Stat.FRONTIER_CORRUPT)
            if self._leased or not lease.payloads:
                return

    def leased_payloads(self) -> list[str]:
        """Every payload this worker holds a lease on (to renew them)."""
        return [*self.held.values(), *(payload for _, payload in self._leased)]

    def ack(self, requests: list[Request]) -> int:
        """Acknowledge finished requests: they leave the in-flight set. Returns how many
        were still this worker's leases (a lease that expired meanwhile is another's now)."""
        payloads = [self.held.pop(request) for request in requests]
        return self.frontier.ack(self.worker_id, payloads)

    def forget(self, payloads: list[str]) -> int:
        """Let go of leases this worker lost (they expired and were taken back).

        Requests not yet handed to the engine are dropped (another worker has
        them now); those the engine is processing finish, but are never
        acknowledged or renewed by this worker. Returns how many were dropped unstarted.
        """
        lost = set(payloads)
        for request in [request for request, payload in self.held.items() if payload in lost]:
            del self.held[request]
        unstarted = len(self._leased)
        self._leased = deque(item for item in self._leased if item[1] not in lost)
        return unstarted - len(self._leased)

    def retry(self, requests: list[Request], max_attempts: int) -> list[int]:
        """Put failed requests back in the queue (or aside): ``[requeued, dead]``."""
        payloads = [self.held.pop(request) for request in requests]
        return self.frontier.retry(self.worker_id, payloads, max_attempts)

    def give_back(self, requests: list[Request]) -> int:
        """Give held requests back to the queue at once, without counting an
        attempt (RELEASE). They stay held when Redis fails (raises
        :class:`redis.RedisError`), to be given back at the next call."""
        released = self.frontier.release(self.worker_id, [self.held[request] for request in requests])
        for request in requests:
            del self.held[request]
        return released

    def release_all(self) -> int:
        """Push the outbox, then give every request still leased back to the queue."""
        self.flush()
        payloads = self.leased_payloads()
        self.held.clear()
        self._leased.clear()
        return self.frontier.release(self.worker_id, payloads)

    def clear(self) -> None:
        """Never used: a worker must not delete the queue that all workers share."""
        raise NotImplementedError("the shared frontier is not flushed by a worker")
