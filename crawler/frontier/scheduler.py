"""The Scrapy scheduler of the shared frontier (``SCHEDULER = "crawler.frontier.Scheduler"``)."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from typing import TYPE_CHECKING

import redis
import scrapy
from scrapy import signals
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from twisted.internet import task

from crawler.frontier.backpressure import Backpressure
from crawler.frontier.codec import UnserializableRequest
from crawler.base.connection import is_out_of_memory, pipeline
from crawler.frontier.core import Frontier
from crawler.frontier.dupefilter import DupeFilter
from crawler.frontier.hubs import HubRegistry
from crawler.frontier.queue import LeasedQueue
from crawler.base.counters import Stat

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.core.engine import ExecutionEngine
    from scrapy.crawler import Crawler
    from typing_extensions import Self

    from crawler.frontier.config import FrontierConfig

logger = logging.getLogger(__name__)

__all__ = ["EngineIncompatible", "Scheduler", "engine_in_progress", "new_worker_id", "request_failed",
           "wake_engine"]

#: A Scrapy signal, sent with ``request=``: this request's work was not done although Scrapy
#: will finish it (a component could not keep its response, as the WARC archive does when a
#: write fails), so it must not be acknowledged. The scheduler retries it, as it retries a
#: request an article of which could not be stored (``item_error``).
request_failed = object()


class EngineIncompatible(RuntimeError):
    """Scrapy's engine does not expose the in-progress requests this scheduler acknowledges by."""


def engine_in_progress(engine: ExecutionEngine) -> set[Request]:
    """The requests Scrapy's ``engine`` has not finished with: the only source of acknowledgements.

    Scrapy sends no signal when a request leaves the engine. The engine keeps
    every request it took from the scheduler in its slot's ``inprogress`` set
    until its response (and every item that response produced) or its failure
    has been processed completely, then removes it. That set is private to
    Scrapy (``engine._slot.inprogress``, Scrapy 2.19, pinned in pyproject.toml):
    when it is missing this raises :class:`EngineIncompatible` naming the Scrapy
    version, and nothing is acknowledged; the scheduler calls it once at open so
    an incompatible Scrapy stops the worker at start-up.
    """
    slot = getattr(engine, "_slot", None)
    in_progress = getattr(slot, "inprogress", None)
    if not isinstance(in_progress, set):
        raise EngineIncompatible(
            f"Scrapy {scrapy.__version__}'s engine has no _slot.inprogress set, which "
            f"crawler.frontier.Scheduler reads to know when a request is finished; "
            f"use the Scrapy version pinned in pyproject.toml")
    return in_progress


def wake_engine(crawler: Crawler) -> None:
    """Have Scrapy's engine ask the scheduler for requests now, not at its next heartbeat
    (up to 5 s later): for requests queued in Redis behind the scheduler's back, as a hub's
    visit queues its new stories. Call it on the reactor's thread."""
    slot = getattr(getattr(crawler, "engine", None), "_slot", None)
    nextcall = getattr(slot, "nextcall", None)
    if nextcall is not None:
        nextcall.schedule()


def new_worker_id() -> str:
    """A worker id unique across hosts and restarts: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Scheduler(RedisScheduler):
    """scrapy-redis' scheduler, made safe for many workers sharing one crawl.

    What it changes, and why:

    * Requests are leased, not popped (:class:`~crawler.frontier.queue.LeasedQueue`).
      A request is acknowledged once Scrapy's engine has finished with it: its
      response went through the spider and every item it produced went through
      the item pipelines (so its articles are stored), or its redirect or retry
      was queued. A worker that dies leaves its leases to expire; any live
      worker then puts them back in the queue.
    * Requests are JSON, not pickle (:mod:`~crawler.frontier.codec`).
    * The seen check and the push are one Lua call, and both pushes and
      leases are batched: about one round trip per page, not one per link.
    * A Redis outage does not crash the worker or lose requests: it waits,
      keeps what it has not pushed, and carries on when Redis answers again.
    * ``close()`` never flushes shared state: other workers are still crawling.
      It gives unfinished leases back at once instead.
    * Backpressure (:mod:`~crawler.frontier.backpressure`): while too many
      articles wait to be delivered, or Redis is nearly full, it leases
      nothing. A request whose articles Redis refused for lack of memory (OOM)
      is given back to the queue without counting an attempt, so a full Redis
      never makes a dead letter; the leases this worker holds meanwhile are
      still renewed (RENEW runs when Redis is full).
    """

    def __init__(self, frontier: Frontier, crawler: Crawler, config: FrontierConfig, worker_id: str) -> None:
        super().__init__(frontier.client, persist=True, dupefilter_cls="crawler.frontier.DupeFilter")
        self.crawler = crawler
        self.stats = crawler.stats
        self.config = config
        self.worker_id = worker_id
        self.frontier = frontier
        self.keys = frontier.keys
        self._maintenance: task.LoopingCall | None = None
        # Held requests an item of which failed in the pipelines (not stored).
        self._failed: set[Request] = set()
        # Held requests an item of which Redis refused for lack of memory: given back.
        self._refused: set[Request] = set()
        self._wakeup = None
        # The next release of due hubs, when one falls due before the next heartbeat.
        self._hub_timer = None
        self.hubs = HubRegistry.for_frontier(frontier)
        self.backpressure = Backpressure.from_config(frontier.client, frontier.keys, config)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        frontier = Frontier.for_crawler(crawler)
        scheduler = cls(frontier, crawler, frontier.config, new_worker_id())
        crawler.signals.connect(scheduler.item_error, signal=signals.item_error)
        crawler.signals.connect(scheduler.fail, signal=request_failed)
        return scheduler

    def fail(self, request: Request) -> None:
        """Retry ``request`` once Scrapy is done with it, instead of acknowledging it
        (the :data:`request_failed` signal)."""
        if request in self.queue.held:
            self._failed.add(request)

    def item_error(self, item, response, failure) -> None:
        """An item of this response could not be processed: do not acknowledge the request.

        Redis refusing it for lack of memory is no fault of the request: it is
        given back without an attempt, and leasing pauses."""
        if response is not None and response.request in self.queue.held:
            if is_out_of_memory(failure.value):
                self._refused.add(response.request)
                self.backpressure.note_oom()
            else:
                self._failed.add(response.request)

    def open(self, spider: Spider) -> None:
        engine_in_progress(self.crawler.engine)  # fails loudly now, not by acknowledging later
        self.spider = spider
        self.queue = LeasedQueue(
            self.server, spider, self.keys.queue_prefix, frontier=self.frontier,
            worker_id=self.worker_id, lease_seconds=self.config.lease_seconds,
            batch=self.config.lease_batch, stats=self.stats,
        )
        self.df = DupeFilter(self.frontier, debug=self.crawler.settings.getbool("DUPEFILTER_DEBUG"))
        self.frontier.heartbeat(self.worker_id)
        self._maintenance = task.LoopingCall(self.maintain)
        self._maintenance.start(self.config.heartbeat_seconds, now=False)
        logger.info("Worker %s joined crawl %r (%d requests queued)",
                    self.worker_id, spider.name, len(self.queue))

    def close(self, reason: str) -> None:
        if self._maintenance is not None and self._maintenance.running:
            self._maintenance.stop()
        for call in (self._wakeup, self._hub_timer):
            if call is not None and call.active():
                call.cancel()
        self._flush()  # the links of finished requests are stored before those are acknowledged
        self._ack_finished()
        released = self.queue.release_all()
        if released:
            logger.info("Gave %d unfinished requests back to the queue", released)
        self.frontier.retire(self.worker_id)

    def enqueue_request(self, request: Request) -> bool:
        """Queue ``request`` at the next flush (a few milliseconds at most).

        Returns True unless the request cannot be stored as JSON: whether it
        was a duplicate is only known at the flush, where it is counted
        (``frontier/duplicate``), so Scrapy's ``request_dropped`` signal is not
        sent for duplicates.
        """
        try:
            self.queue.push(request, None if request.dont_filter else self.df.request_fingerprint)
        except UnserializableRequest as exc:
            logger.error("Cannot queue request: %s", exc)
            self.stats.inc_value(Stat.FRONTIER_UNSERIALIZABLE)
            return False
        except redis.RedisError as exc:
            # The request is in the outbox, kept for the next flush.
            self._redis_error(exc)
        return True

    def next_request(self) -> Request | None:
        try:
            self._flush()
            self._ack_finished()
            if not self.queue.leased and self.backpressure.paused():
                self._wake_in(self.backpressure.check_seconds)
                return None
            request = self.queue.pop()
        except redis.RedisError as exc:
            # Nothing is lost: unpushed requests stay in the outbox, unacknowledged
            # leases stay held (and renewable) until Redis answers again.
            self._redis_error(exc)
            self._wake_in(1.0)
            return None
        if request is not None:
            self.stats.inc_value(Stat.SCHEDULER_DEQUEUED)
        elif self.queue.wait:
            self._wake_in(self.queue.wait)
        return request

    def _redis_error(self, exc: redis.RedisError) -> None:
        if is_out_of_memory(exc):
            logger.warning("Redis is out of memory, retrying in 1 s: %s", exc)
            self.backpressure.note_oom()
        else:
            logger.warning("Redis unavailable, retrying in 1 s: %s", exc)
        self.stats.inc_value(Stat.FRONTIER_REDIS_ERRORS)

    def _flush(self) -> None:
        queued, duplicates = self.queue.flush()
        duplicates += self.queue.skipped
        self.queue.skipped = 0
        if queued:
            self.stats.inc_value(Stat.SCHEDULER_ENQUEUED, queued)
        if duplicates:
            self.stats.inc_value(Stat.FRONTIER_DUPLICATE, duplicates)

    def _wake_in(self, seconds: float) -> None:
        """Ask the engine for requests again when the next host is ready.

        Without this an engine that found nothing ready would only ask again
        at its next 5 s heartbeat, however short the host delay.
        """
        if self._wakeup is not None and self._wakeup.active():
            return
        from twisted.internet import reactor  # the one Scrapy installed; never at import time

        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            self._wakeup = reactor.callLater(seconds + 0.005, slot.nextcall.schedule)

    def has_pending_requests(self) -> bool:
        if self.queue.pending:
            return True
        try:
            return len(self.queue) > 0
        except redis.RedisError:
            return True  # unknown: keep the engine asking

    def maintain(self) -> None:
        """Every heartbeat: push, acknowledge, renew this worker's leases, forget idle hosts,
        queue the visits of due hubs, take back expired leases."""
        try:
            self._maintain()
        except redis.RedisError as exc:
            logger.warning("Redis unavailable for the frontier heartbeat: %s", exc)
            self.stats.inc_value(Stat.FRONTIER_REDIS_ERRORS)

    def _maintain(self) -> None:
        try:
            self._flush()
            self._ack_finished()
        except redis.RedisError as exc:
            # A full Redis refuses the pushes, not the renewals below (allow-oom):
            # this worker's leases must not expire while it waits.
            self._redis_error(exc)
        leased = self.queue.leased_payloads()
        with pipeline(self.server) as pipe:
            self.frontier.heartbeat(self.worker_id, pipe=pipe)
            if leased:
                self.frontier.renew(self.worker_id, leased, self.config.lease_seconds, pipe=pipe)
            self.frontier.prune(pipe=pipe)
            self.hubs.release_due(pipe=pipe)  # before REAP: its reply is the last one
            self.frontier.reap(self.config.max_attempts, pipe=pipe)
            replies = pipe.execute()
        self._hubs_released(*self.hubs.released(replies[-2]))
        requeued, dead = replies[-1]
        if requeued or dead:
            logger.warning("Took back %d expired leases (%d set aside as dead letters)",
                           requeued + dead, dead)
            self.stats.inc_value(Stat.FRONTIER_LEASES_EXPIRED, requeued + dead)
        lost = replies[1][1:] if leased else []
        if lost:
            unstarted = self.queue.forget(lost)
            logger.warning("Lost %d leases that expired before this worker renewed them (a stall "
                           "longer than FRONTIER_LEASE_SECONDS); %d not started are dropped, the "
                           "others finish unacknowledged: another worker has them now",
                           len(lost), unstarted)
            self.stats.inc_value(Stat.FRONTIER_LEASES_LOST, len(lost))

    def _hubs_released(self, queued: int, wait: float | None) -> None:
        """After HUBS_DUE: ask the engine for the hub visits just queued, and when a hub falls
        due before the next heartbeat, release it then, so that a due hub is fetched
        within moments rather than up to a heartbeat later."""
        if queued:
            if self._wakeup is not None and self._wakeup.active():
                self._wakeup.cancel()  # a later wake-up, for a host cooling down
            self._wake_in(0.0)
        if (wait is not None and wait < self.config.heartbeat_seconds
                and not (self._hub_timer is not None and self._hub_timer.active())):
            from twisted.internet import reactor

            self._hub_timer = reactor.callLater(wait + 0.005, self._release_hubs)

    def _release_hubs(self) -> None:
        try:
            self._hubs_released(*self.hubs.release_due_with_wait())
        except redis.RedisError as exc:
            self._redis_error(exc)

    def _ack_finished(self) -> None:
        """Acknowledge the held requests that Scrapy's engine is done with.

        Scrapy sends no signal when a request leaves the engine: the engine
        removes it from its slot's in-progress set once its response (and the
        items it produced) or its failure has been processed completely. A held
        request that is no longer in that set is therefore finished.
        """
        if not self.queue.held:
            return
        in_progress = engine_in_progress(self.crawler.engine)
        finished = [request for request in self.queue.held if request not in in_progress]
        refused = {request for request in finished if request in self._refused}
        if refused:
            self.queue.give_back(list(refused))  # raises, and keeps them held, while Redis fails
            self._refused.difference_update(refused)
            self._failed.difference_update(refused)
            logger.warning("Gave %d requests back to the queue: Redis had no memory for their "
                           "articles (no attempt counted; they are fetched again once it has)",
                           len(refused))
            self.stats.inc_value(Stat.FRONTIER_GIVEN_BACK, len(refused))
            finished = [request for request in finished if request not in refused]
        failed = [request for request in finished if request in self._failed]
        if failed:
            self._failed.difference_update(failed)
            requeued, dead = self.queue.retry(failed, self.config.max_attempts)
            logger.warning("%d requests whose articles or responses could not be stored will be retried "
                           "(%d set aside after %d attempts)", requeued, dead, self.config.max_attempts)
            self.stats.inc_value(Stat.FRONTIER_RETRIED, requeued)
            finished = [request for request in finished if request not in failed]
        if finished:
            acked = self.queue.ack(finished)
            self.stats.inc_value(Stat.FRONTIER_ACKED, acked)
            if acked < len(finished):
                logger.warning("%d finished requests were no longer this worker's leases (they "
                               "expired first): left to the worker that holds them now",
                               len(finished) - acked)
                self.stats.inc_value(Stat.FRONTIER_LATE_ACKS, len(finished) - acked)
