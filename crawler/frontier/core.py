"""The shared frontier in Redis, without Scrapy: what workers and the CLI share.

:class:`Frontier` owns the atomic operations on a crawl's queues: push (with
the seen check), lease, renew, acknowledge, release, retry, reap and the
per-host politeness budget. The Scrapy scheduler
(:mod:`crawler.frontier.scheduler`) and the ``crawler`` commands both go
through it, so there is one implementation of each rule.

Requests wait in one queue per host. A host is *ready* once its delay since
its last lease (``FRONTIER_HOST_DELAY``, a robots.txt Crawl-delay, or a
Retry-After) has passed, whichever worker took that lease; a lease takes at
most one request per ready host, so one huge site cannot starve the others and
no worker fills its slots with requests for a host that is cooling down.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.base import lua
from crawler.base.connection import close, connect, pipeline
from crawler.base.keys import Keys
from crawler.frontier.config import FrontierConfig
from crawler.frontier.seen import SeenFilter
from crawler.base.counters import Field

if TYPE_CHECKING:
    import redis
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from typing_extensions import Self

__all__ = ["Frontier", "FrontierCounts", "Lease", "QueueEntry"]

# Requests per PUSH script call: large enough to amortise the call (a worker's
# full outbox, 200, is one call), small enough not to stall the server for
# long: with a Bloom filter (ten SETBITs per request) 200 take about 3 ms. At
# 500 many calls passed 10 ms, and Redis keeps each such call's arguments in
# its SLOWLOG (about 2 KB an entry, 128 entries: a quarter MB of used_memory).
_BATCH = 200

# The frontier's scripts (crawler/base/lua): all begin with the prelude _frontier.lua,
# so all take the same KEYS and ARGV prefix, delay.
_SCRIPTS = ("PUSH", "LEASE", "ACK", "RENEW", "RELEASE", "REAP", "RETRY", "COOL", "REQUEUE", "DROP",
            "PRUNE")
# A worker silent for this many FRONTIER_WORKER_TIMEOUTs is removed from the
# crawl's workers by the next heartbeat of any worker (it died without retiring).
WORKERS_FORGOTTEN_AFTER = 10
# Entries of each per-host hash that one PRUNE call looks at (random ones).
PRUNE_SAMPLE = 100

# The frontier of each running crawl (Frontier.for_crawler).
_by_crawler: weakref.WeakKeyDictionary[Crawler, Frontier] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class QueueEntry:
    """One request ready to be queued: its JSON, fingerprint (hex, "" for none), priority and host."""

    payload: str
    fingerprint: str
    priority: int
    host: str


@dataclass(frozen=True)
class Lease:
    """What one LEASE call gave: the request payloads, and how long until more are ready.

    ``wait`` is 0 when something was leased, the seconds until the next host is
    ready otherwise, or None when nothing is queued (or the budget is spent).
    """

    payloads: list[str]
    wait: float | None


@dataclass(frozen=True)
class FrontierCounts:
    """A snapshot of a crawl, read in one round trip."""

    queued: int
    in_flight: int
    seen: int
    #: Articles ever stored: those in the stream and those trimmed after delivery.
    articles: int
    dead_letters: int
    workers_alive: int
    stats: dict[str, int]
    top_hosts: list[tuple[str, int]]
    budget_spent: bool = False
    #: URLs the crawl's Bloom filter was sized for (0 for the exact set, which has no limit).
    seen_capacity: int = 0
    #: Why the workers lease nothing now (``backlog``, ``memory``), or "" while the crawl runs.
    paused: str = ""
    #: Since when (Redis time, unix seconds), and the figures behind it, while paused.
    paused_since: float | None = None
    paused_detail: str = ""

    @property
    def idle(self) -> bool:
        """Nothing queued (or nothing left of the budget) and nothing in flight."""
        return self.in_flight == 0 and (self.queued == 0 or self.budget_spent)


def _paused(record: dict[str, str]) -> dict:
    """The paused fields of :class:`FrontierCounts` from the ``Keys.paused`` hash,
    as workers write it (validated: a record that is not one reads as a pause
    for an unknown reason)."""
    if not record:
        return {}
    try:
        since = float(record.get("since", ""))
    except ValueError:
        since = None
    return {"paused": record.get("reason") or "unknown", "paused_since": since,
            "paused_detail": (record.get("detail") or "")[:300]}


class Frontier:
    """Atomic operations on one crawl's frontier.

    ``client`` must be a redis-py client created with ``decode_responses=True``.
    ``host_delay`` is the default minimum delay between two leases of one host
    and ``seen`` the crawl's seen filter; every worker of a crawl must agree on
    both (:meth:`SeenFilter.check` enforces the latter).
    """

    def __init__(self, client: redis.Redis, keys: Keys, *, host_delay: float = 0.0,
                 seen: SeenFilter | None = None, config: FrontierConfig | None = None) -> None:
        self.client = client
        #: The settings this frontier was built from (None when built by hand).
        self.config = config
        self.keys = keys
        self.host_delay = host_delay
        self.seen = seen or SeenFilter()
        self._argv = [keys.queue_prefix, host_delay]
        self._scripts = {name: lua.register(client, name, keys) for name in _SCRIPTS}
        self._heartbeat = lua.register(client, "HEARTBEAT", keys)

    @classmethod
    def from_settings(cls, settings: BaseSettings, spider: str, *, check: bool = False,
                      follow_crawl: bool = False, record_seen: bool = True) -> Self:
        """The frontier of crawl ``spider`` as the settings describe it
        (:meth:`from_config` of :meth:`FrontierConfig.from_settings`)."""
        return cls.from_config(FrontierConfig.from_settings(settings), spider, check=check,
                               follow_crawl=follow_crawl, record_seen=record_seen)

    @classmethod
    def from_config(cls, config: FrontierConfig, spider: str, *, check: bool = False,
                    follow_crawl: bool = False, record_seen: bool = True) -> Self:
        """The frontier of crawl ``spider`` as ``config`` describes it.

        The seen filter is the config's (``FRONTIER_SEEN``, ``FRONTIER_BLOOM_*``;
        RedisBloom's where the server has it and ``FRONTIER_BLOOM_MODULE`` is on),
        or with ``follow_crawl`` the one the crawl recorded, if it has one (what
        ``crawler seed`` and ``crawler status`` want: they should not need to know
        it). ``record_seen`` records the filter as the crawl's, or checks that it
        is the crawl's; read-only callers turn it off so that they record nothing.

        Raises ValueError when the seen filter is not the crawl's, and
        RedisUnavailable with ``check`` when Redis does not answer.
        """
        client = connect(config.redis_url, check=check)
        keys = Keys(spider)
        seen = (SeenFilter.recorded(client, keys) if follow_crawl else None) or SeenFilter.from_config(config)
        if config.bloom_module:
            seen = seen.on_server(client, keys)
        if record_seen:
            seen.check(client, keys)
        return cls(client, keys, host_delay=config.host_delay, seen=seen, config=config)

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> Self:
        """The one frontier of a Scrapy crawl, shared by all of its components.

        Built on first use from the crawler's settings (with a PING, so an
        unreachable Redis fails at start-up with one clear line) for the crawl
        named by the spider class; every later call returns the same object, so
        the scheduler, dupefilter, middlewares, extensions, pipelines and spider
        of a worker share one Redis client, one seen filter and one host delay.
        Its client is closed once the engine has stopped, after all of them.
        """
        from scrapy import signals  # the CLI uses this module without Scrapy loaded

        frontier = _by_crawler.get(crawler)
        if frontier is None:
            frontier = cls.from_config(FrontierConfig.from_settings(crawler.settings),
                                       crawler.spidercls.name, check=True)
            _by_crawler[crawler] = frontier
            crawler.signals.connect(frontier._engine_stopped, signal=signals.engine_stopped, weak=False)
        return frontier

    def _engine_stopped(self) -> None:
        close(self.client)

    def _run(self, name: str, *args, pipe: redis.client.Pipeline | None = None):
        return self._scripts[name]([*self._argv, *args], client=pipe or self.client)

    def push(self, entry: QueueEntry, *, check_seen: bool = True) -> bool:
        """Queue one request; False when its fingerprint was already seen."""
        return self.push_many([entry], check_seen=check_seen)[0]

    def push_many(self, entries: Sequence[QueueEntry], *, check_seen: bool = True) -> list[bool]:
        """Queue many requests, in batches of one script call; one bool per entry.

        False means the fingerprint had been seen already and the request was
        not queued. With ``check_seen=False`` fingerprints are still recorded
        as seen, but every request is queued (a re-crawl). An entry whose
        payload is "" only marks its fingerprint as seen.
        """
        flag = "1" if check_seen else "0"
        token = self.seen.token
        batches = []
        for start in range(0, len(entries), _BATCH):
            args: list[str | int] = [flag, self.seen.mode, self.seen.chunk_bits]
            for entry in entries[start:start + _BATCH]:
                args += (token(entry.fingerprint), entry.payload, -entry.priority, entry.host)
            batches.append(args)
        if len(batches) == 1:
            # redis-py checks SCRIPT EXISTS before every pipeline holding a script:
            # a lone call saves that round trip (the usual case for a worker).
            replies = [self._run("PUSH", *batches[0])]
        else:
            with pipeline(self.client) as pipe:
                for args in batches:
                    self._run("PUSH", *args, pipe=pipe)
                replies = pipe.execute()
        return [bool(flag) for reply in replies for flag in reply]

    def lease(self, worker_id: str, lease_seconds: float, count: int = 1) -> Lease:
        """Lease up to ``count`` requests of different ready hosts to ``worker_id``."""
        wait, *payloads = self._run("LEASE", lease_seconds, worker_id, count)
        wait = float(wait)
        return Lease(payloads, None if wait < 0 else wait)

    def ack(self, worker_id: str, payloads: Iterable[str],
            pipe: redis.client.Pipeline | None = None) -> int | None:
        """Forget finished requests whose leases ``worker_id`` still holds; returns how many
        (None when queued on ``pipe``). A lease another worker holds now is left alone."""
        payloads = list(payloads)
        return self._run("ACK", worker_id, *payloads, pipe=pipe) if payloads else 0

    def renew(self, worker_id: str, payloads: Iterable[str], lease_seconds: float,
              pipe: redis.client.Pipeline | None = None) -> list | None:
        """Push the deadlines of this worker's leases ``lease_seconds`` ahead.

        Returns ``[renewed, lost payload...]`` (None when queued on ``pipe``): a
        lost lease is no longer this worker's (it expired and was taken back);
        the crawl's ``leases_lost`` counter counts them.
        """
        payloads = list(payloads)
        return self._run("RENEW", lease_seconds, worker_id, *payloads, pipe=pipe) if payloads else [0]

    def release(self, worker_id: str, payloads: Iterable[str]) -> int:
        """Give unfinished leases back to the queue at once."""
        payloads = list(payloads)
        return self._run("RELEASE", worker_id, *payloads) if payloads else 0

    def reap(self, max_attempts: int, batch: int = 500,
             pipe: redis.client.Pipeline | None = None) -> list[int] | None:
        """Take back expired leases; returns ``[requeued, dead_lettered]``."""
        return self._run("REAP", max_attempts, batch, pipe=pipe)

    def retry(self, worker_id: str, payloads: Iterable[str], max_attempts: int) -> list[int]:
        """Queue failed requests again (or set them aside after ``max_attempts``): ``[requeued, dead]``."""
        payloads = list(payloads)
        return self._run("RETRY", worker_id, max_attempts, *payloads) if payloads else [0, 0]

    def cool(self, host: str, *, pause: float | None = None, delay: float | None = None) -> None:
        """Keep every worker off ``host`` for ``pause`` seconds, and/or set its delay."""
        self._run("COOL", host, "" if pause is None else pause, "" if delay is None else delay)

    def set_aside(self, payload: str, reason: str) -> None:
        """Move one leased request to the dead letters (it cannot be processed)."""
        k = self.keys
        with pipeline(self.client, transaction=True) as pipe:
            pipe.zrem(k.inflight, payload)
            pipe.hdel(k.lease_owner, payload)
            pipe.hdel(k.attempts, payload)
            pipe.lpush(k.deadletter, json.dumps({"reason": reason, "request": payload}))
            pipe.hincrby(k.stats, Field.DEAD_LETTERS, 1)
            pipe.execute()

    def requeue_dead_letters(self) -> tuple[int, int, int]:
        """Queue every dead letter again, attempts reset, in one atomic step.

        Returns ``(requeued, already queued or in flight, kept)``: kept are the
        entries that hold no request of this crawl (corrupt), left in the list.
        """
        requeued, already, kept = self._run("REQUEUE")
        return requeued, already, kept

    def drop_dead_letters(self) -> int:
        """Delete every dead letter, in one atomic step; returns how many."""
        return self._run("DROP")

    def add_hosts(self, hosts: Iterable[str]) -> None:
        """Allow the spider to follow links on these hosts."""
        hosts = sorted(set(hosts))
        if hosts:
            self.client.sadd(self.keys.hosts, *hosts)

    def hosts(self) -> set[str]:
        return set(self.client.smembers(self.keys.hosts))

    def heartbeat(self, worker_id: str, pipe: redis.client.Pipeline | None = None) -> None:
        """Say that ``worker_id`` is alive (Redis time, like the leases); forget the workers
        silent for ``WORKERS_FORGOTTEN_AFTER`` times ``FRONTIER_WORKER_TIMEOUT``."""
        forget = WORKERS_FORGOTTEN_AFTER * (self.config or FrontierConfig()).worker_timeout
        self._heartbeat([worker_id, forget], client=pipe or self.client)

    def prune(self, forget_seconds: float | None = None, sample: int = PRUNE_SAMPLE,
              pipe: redis.client.Pipeline | None = None) -> list[int] | None:
        """Forget the next-fetch time and delay of up to ``sample`` hosts with nothing queued
        whose next fetch was due more than ``forget_seconds`` ago (default:
        ``FRONTIER_HOST_FORGET_SECONDS``); returns ``[host_next removed, host_delay removed]``."""
        if forget_seconds is None:
            forget_seconds = (self.config or FrontierConfig()).host_forget_seconds
        return self._run("PRUNE", sample, forget_seconds, pipe=pipe)

    def retire(self, worker_id: str) -> None:
        self.client.zrem(self.keys.workers, worker_id)

    def counts(self, worker_timeout: float | None = None, top: int = 10) -> FrontierCounts:
        """Read the state of the crawl in one round trip.

        A worker counts as alive when its last heartbeat is at most ``worker_timeout``
        seconds old (default: this frontier's ``FRONTIER_WORKER_TIMEOUT``).
        """
        if worker_timeout is None:
            worker_timeout = (self.config or FrontierConfig()).worker_timeout
        k = self.keys
        with pipeline(self.client) as pipe:
            pipe.get(k.queued)
            pipe.zcard(k.inflight)
            pipe.get(k.seen_count)
            pipe.xlen(k.articles)
            pipe.llen(k.deadletter)
            pipe.time()
            pipe.zrange(k.workers, 0, -1, withscores=True)
            pipe.hgetall(k.stats)
            pipe.zrevrange(k.host_backlog, 0, top - 1, withscores=True)
            pipe.get(k.budget)
            pipe.get(k.leased_total)
            pipe.hget(k.seen_config, "capacity")
            pipe.hgetall(k.paused)
            (queued, in_flight, seen, articles, dead, (secs, micros), workers, stats, hosts,
             budget, leased, capacity, paused) = pipe.execute()
        now = secs + micros / 1e6
        spent = budget is not None and int(leased or 0) >= int(budget)
        stats = {name: int(value) for name, value in stats.items()}
        return FrontierCounts(
            queued=int(queued or 0), in_flight=in_flight, seen=int(seen or 0),
            articles=articles + stats.get(Field.ARTICLES_TRIMMED, 0),
            dead_letters=dead,
            workers_alive=sum(1 for _, beat in workers if beat >= now - worker_timeout),
            stats=stats,
            top_hosts=[(host, int(n)) for host, n in hosts if n > 0],
            budget_spent=spent,
            seen_capacity=int(capacity or 0),
            **_paused(paused),
        )
