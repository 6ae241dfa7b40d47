"""The shared frontier in Redis, without Scrapy: what workers and the CLI share.

:class:`Frontier` owns the atomic operations on a crawl's queue: push (with the
seen check), lease, renew, acknowledge, release and reap. The Scrapy scheduler
(:mod:`crawler.frontier.scheduler`) and the ``crawler`` commands both go
through it, so there is one implementation of each rule.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.frontier import scripts

if TYPE_CHECKING:
    import redis

    from crawler.keys import Keys

__all__ = ["Frontier", "FrontierCounts", "QueueEntry"]

# Requests per PUSH script call: large enough to amortise the call, small
# enough not to stall the server for long.
_BATCH = 500


@dataclass(frozen=True)
class QueueEntry:
    """One request ready to be queued: its JSON, fingerprint, priority and host."""

    payload: str
    fingerprint: str
    priority: int
    host: str


@dataclass(frozen=True)
class FrontierCounts:
    """A snapshot of a crawl, read in one round trip."""

    queued: int
    in_flight: int
    seen: int
    articles: int
    dead_letters: int
    workers_alive: int
    stats: dict[str, int]
    top_hosts: list[tuple[str, int]]
    budget_spent: bool = False

    @property
    def idle(self) -> bool:
        """Nothing queued (or nothing left of the budget) and nothing in flight."""
        return self.in_flight == 0 and (self.queued == 0 or self.budget_spent)


class Frontier:
    """Atomic operations on one crawl's frontier.

    ``client`` must be a redis-py client created with ``decode_responses=True``.
    """

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys
        self._push = client.register_script(scripts.PUSH)
        self._lease = client.register_script(scripts.LEASE)
        self._ack = client.register_script(scripts.ACK)
        self._renew = client.register_script(scripts.RENEW)
        self._release = client.register_script(scripts.RELEASE)
        self._reap = client.register_script(scripts.REAP)
        self._retry = client.register_script(scripts.RETRY)

    def push(self, entry: QueueEntry, *, check_seen: bool = True) -> bool:
        """Queue one request; False when its fingerprint was already seen."""
        return self.push_many([entry], check_seen=check_seen)[0]

    def push_many(self, entries: Sequence[QueueEntry], *, check_seen: bool = True) -> list[bool]:
        """Queue many requests, in batches of one script call; one bool per entry.

        False means the fingerprint had been seen already and the request was
        not queued. With ``check_seen=False`` fingerprints are still recorded
        as seen, but every request is queued (a re-crawl).
        """
        k = self.keys
        flag = "1" if check_seen else "0"
        with self.client.pipeline(transaction=False) as pipe:
            for start in range(0, len(entries), _BATCH):
                args: list[str | int] = [flag]
                for entry in entries[start:start + _BATCH]:
                    args += (entry.fingerprint, entry.payload, -entry.priority, entry.host)
                self._push(keys=[k.seen, k.queue, k.host_backlog], args=args, client=pipe)
            replies = pipe.execute()
        return [bool(flag) for reply in replies for flag in reply]

    def lease(self, worker_id: str, lease_seconds: float, count: int = 1) -> list[str]:
        """Take up to ``count`` requests, highest priority first, leased to ``worker_id``."""
        k = self.keys
        deadline = time.time() + lease_seconds
        return self._lease(
            keys=[k.queue, k.inflight, k.lease_owner, k.host_backlog, k.budget, k.leased_total],
            args=[deadline, worker_id, count],
        )

    def ack(self, payloads: Iterable[str], pipe: redis.client.Pipeline | None = None) -> int | None:
        """Forget finished requests (queued on ``pipe`` when one is given)."""
        payloads = list(payloads)
        if not payloads:
            return 0
        k = self.keys
        return self._ack(keys=[k.inflight, k.lease_owner, k.attempts], args=payloads,
                         client=pipe or self.client)

    def renew(self, worker_id: str, payloads: Iterable[str], lease_seconds: float,
              pipe: redis.client.Pipeline | None = None) -> int | None:
        """Push the deadlines of this worker's leases ``lease_seconds`` ahead."""
        payloads = list(payloads)
        if not payloads:
            return 0
        k = self.keys
        return self._renew(keys=[k.inflight, k.lease_owner],
                           args=[time.time() + lease_seconds, worker_id, *payloads],
                           client=pipe or self.client)

    def release(self, worker_id: str, payloads: Iterable[str]) -> int:
        """Give unfinished leases back to the queue at once."""
        payloads = list(payloads)
        if not payloads:
            return 0
        k = self.keys
        return self._release(keys=[k.inflight, k.lease_owner, k.queue, k.host_backlog],
                             args=[worker_id, *payloads])

    def reap(self, max_attempts: int, batch: int = 500,
             pipe: redis.client.Pipeline | None = None) -> list[int] | None:
        """Take back expired leases; returns ``[requeued, dead_lettered]``."""
        k = self.keys
        return self._reap(
            keys=[k.inflight, k.lease_owner, k.attempts, k.queue, k.host_backlog, k.deadletter, k.stats],
            args=[time.time(), max_attempts, batch],
            client=pipe or self.client,
        )

    def retry(self, worker_id: str, payloads: Iterable[str], max_attempts: int) -> list[int]:
        """Queue failed requests again (or set them aside after ``max_attempts``): ``[requeued, dead]``."""
        payloads = list(payloads)
        if not payloads:
            return [0, 0]
        k = self.keys
        return self._retry(
            keys=[k.inflight, k.lease_owner, k.attempts, k.queue, k.host_backlog, k.deadletter, k.stats],
            args=[worker_id, max_attempts, *payloads],
        )

    def set_aside(self, payload: str, reason: str) -> None:
        """Move one leased request to the dead letters (it cannot be processed)."""
        k = self.keys
        with self.client.pipeline(transaction=True) as pipe:
            pipe.zrem(k.inflight, payload)
            pipe.hdel(k.lease_owner, payload)
            pipe.hdel(k.attempts, payload)
            pipe.lpush(k.deadletter, json.dumps({"reason": reason, "request": payload}))
            pipe.hincrby(k.stats, "dead_letters", 1)
            pipe.execute()

    def add_hosts(self, hosts: Iterable[str]) -> None:
        """Allow the spider to follow links on these hosts."""
        hosts = sorted(set(hosts))
        if hosts:
            self.client.sadd(self.keys.hosts, *hosts)

    def hosts(self) -> set[str]:
        return set(self.client.smembers(self.keys.hosts))

    def heartbeat(self, worker_id: str, pipe: redis.client.Pipeline | None = None) -> None:
        (pipe or self.client).zadd(self.keys.workers, {worker_id: time.time()})

    def retire(self, worker_id: str) -> None:
        self.client.zrem(self.keys.workers, worker_id)

    def counts(self, worker_timeout: float = 30.0, top: int = 10) -> FrontierCounts:
        """Read the state of the crawl in one round trip."""
        k = self.keys
        with self.client.pipeline(transaction=False) as pipe:
            pipe.zcard(k.queue)
            pipe.zcard(k.inflight)
            pipe.scard(k.seen)
            pipe.xlen(k.articles)
            pipe.llen(k.deadletter)
            pipe.zcount(k.workers, time.time() - worker_timeout, "+inf")
            pipe.hgetall(k.stats)
            pipe.zrevrange(k.host_backlog, 0, top - 1, withscores=True)
            pipe.get(k.budget)
            pipe.get(k.leased_total)
            (queued, in_flight, seen, articles, dead, alive, stats, hosts,
             budget, leased) = pipe.execute()
        spent = budget is not None and int(leased or 0) >= int(budget)
        return FrontierCounts(
            queued=queued, in_flight=in_flight, seen=seen, articles=articles,
            dead_letters=dead, workers_alive=alive,
            stats={name: int(value) for name, value in stats.items()},
            top_hosts=[(host, int(n)) for host, n in hosts if n > 0],
            budget_spent=spent,
        )
