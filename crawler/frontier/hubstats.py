"""How many hubs a crawl revisits, and how many visits are due or overdue: for the metrics.

Reads what the hub registry (:mod:`crawler.frontier.hubs`) writes, directly:
``Keys.hub_kinds`` (HASH kind -> hubs still scheduled, "retired" -> retired
hubs, kept by the registry's scripts), ``Keys.hubs`` (HASH hub URL -> its state
as JSON, with at least ``kind`` and ``retired_at``), ``Keys.hubs_due`` (ZSET hub
URL -> when its next visit is due, Redis time; retired hubs are not in it) and
``Keys.hubs_queued`` (ZSET hub URL -> when its due visit was queued). Nothing
here writes. The registry and the metrics both count through these functions.

Counting hubs by kind reads ``Keys.hub_kinds`` (one HGETALL), or, for a crawl
begun before it that no script has written to since, every entry of
``Keys.hubs`` (HSCAN, O(hubs)). Due and overdue are four ZCOUNTs (O(log hubs))
and a look at the lost visits. :class:`HubStats` reads the second on every
call and the first at most once per ``kinds_seconds``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crawler.base.counters import HUB_KINDS
from crawler.frontier import defaults
from crawler.frontier.config import FrontierConfig
from crawler.frontier.revisit import requeue_after

if TYPE_CHECKING:
    from collections.abc import Callable

    import redis

    from crawler.base.keys import Keys

logger = logging.getLogger(__name__)

__all__ = ["HubCounts", "HubStats", "hub_counts", "hub_kinds", "revisits_due"]

_SCAN_BATCH = 1000
_REQUEUE_AFTER = requeue_after(FrontierConfig())


@dataclass(frozen=True)
class HubCounts:
    """A crawl's hubs at one moment: ``by_kind`` those still scheduled (not retired), per
    kind (every kind of :data:`HUB_KINDS`, zeros included); ``retired`` those retired
    after too many failures; ``due`` the visits due and not yet recorded (queued or not);
    ``overdue`` those of them due longer ago than ``FRONTIER_REVISIT_OVERDUE`` (the
    workers are too few for the schedule).

    :meth:`crawler.frontier.hubs.HubRegistry.counts` also reads, at Redis time ``now``:
    ``queued``, the visits queued and not yet recorded, and ``next_due``, the earliest
    due time of a hub not yet due (None when there is none). The metrics leave them unread.
    """

    by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(HUB_KINDS, 0))
    retired: int = 0
    due: int = 0
    overdue: int = 0
    queued: int | None = None
    next_due: float | None = None
    now: float | None = None

    @property
    def active(self) -> int:
        return sum(self.by_kind.values())

    @property
    def total(self) -> int:
        return self.active + self.retired

    def as_dict(self) -> dict:
        """The counts as JSON (``crawler status --json``): ``by_kind``, ``active``, ``retired``,
        ``total``, ``due_now``, ``overdue``, ``queued``, ``next_due_in`` (seconds from ``now``)."""
        next_due_in = None
        if self.next_due is not None and self.now is not None:
            next_due_in = max(self.next_due - self.now, 0.0)
        return {"by_kind": dict(self.by_kind), "active": self.active, "retired": self.retired,
                "total": self.total, "due_now": self.due, "overdue": self.overdue,
                "queued": self.queued, "next_due_in": next_due_in}


def _redis_now(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return seconds + micros / 1e6


def revisits_due(client: redis.Redis, keys: Keys, *, overdue_seconds: float,
                 requeue_after: float = _REQUEUE_AFTER, now: float | None = None) -> tuple[int, int]:
    """``(due, overdue)``: hubs whose next visit is due at ``now`` (default: Redis' clock,
    the clock the due times are written in), and those due before ``now - overdue_seconds``.

    A visit is due until it is recorded, queued or not. A queued visit counts from when it
    was queued (``Keys.hubs_queued``): HUBS_DUE moves its ``Keys.hubs_due`` time
    ``requeue_after`` seconds ahead (:func:`crawler.frontier.revisit.requeue_after`, when
    it is queued again as lost), so the two sets are added up, less the lost visits that
    stand in both.
    """
    if now is None:
        now = _redis_now(client)
    pipe = client.pipeline(transaction=False)
    for key in (keys.hubs_due, keys.hubs_queued):
        pipe.zcount(key, "-inf", now)
        pipe.zcount(key, "-inf", f"({now - overdue_seconds}")
    # Only a visit queued requeue_after ago or more has its due time back in the past.
    pipe.zrangebyscore(keys.hubs_queued, "-inf", now - requeue_after)
    due, overdue, queued, queued_overdue, lost = pipe.execute()
    if lost:
        for score in client.zmscore(keys.hubs_due, lost):
            if score is not None and score <= now:
                due -= 1
                if score < now - overdue_seconds:
                    overdue -= 1
    return int(due + queued), int(overdue + queued_overdue)


def hub_kinds(client: redis.Redis, keys: Keys) -> tuple[dict[str, int], int]:
    """``(active hubs by kind, retired hubs)``: the counts the registry's scripts keep
    (``Keys.hub_kinds``), else (a crawl begun before them) one HSCAN of ``Keys.hubs``.

    In a scan, an entry that is not a JSON object naming one of :data:`HUB_KINDS` is
    counted nowhere (and logged once per call): the metrics never fail on what they read.
    """
    by_kind = dict.fromkeys(HUB_KINDS, 0)
    counted = client.hgetall(keys.hub_kinds)
    if counted:
        for kind, count in counted.items():
            if kind in by_kind:
                by_kind[kind] = int(count)
        return by_kind, int(counted.get("retired", 0))
    retired = unreadable = 0
    for _, raw in client.hscan_iter(keys.hubs, count=_SCAN_BATCH):
        try:
            state = json.loads(raw)
        except (TypeError, ValueError):
            state = None
        kind = state.get("kind") if isinstance(state, dict) else None
        if kind not in by_kind:
            unreadable += 1
        elif state.get("retired_at") is not None:
            retired += 1
        else:
            by_kind[kind] += 1
    if unreadable:
        logger.warning("%d entries of %s are not hub states, not counted", unreadable, keys.hubs)
    return by_kind, retired


def hub_counts(client: redis.Redis, keys: Keys, *,
               overdue_seconds: float = defaults.FRONTIER_REVISIT_OVERDUE,
               requeue_after: float = _REQUEUE_AFTER, now: float | None = None) -> HubCounts:
    """Every count at once (:func:`hub_kinds` and :func:`revisits_due`)."""
    by_kind, retired = hub_kinds(client, keys)
    due, overdue = revisits_due(client, keys, overdue_seconds=overdue_seconds,
                                requeue_after=requeue_after, now=now)
    return HubCounts(by_kind=by_kind, retired=retired, due=due, overdue=overdue)


class HubStats:
    """:func:`hub_counts` for a scrape every second: due and overdue read on each
    :meth:`read`, the kinds (a scan of every hub) at most once per ``kinds_seconds``.

    Thread-safe: scrapes run on the metrics server's threads. Redis errors propagate.
    """

    def __init__(self, client: redis.Redis, keys: Keys, *,
                 overdue_seconds: float = defaults.FRONTIER_REVISIT_OVERDUE,
                 requeue_after: float = _REQUEUE_AFTER,
                 kinds_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.keys = keys
        self.overdue_seconds = overdue_seconds
        self.requeue_after = requeue_after
        self.kinds_seconds = kinds_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._kinds: tuple[dict[str, int], int] | None = None
        self._kinds_at = float("-inf")

    def read(self) -> HubCounts:
        with self._lock:
            now = self.clock()
            if self._kinds is None or now - self._kinds_at >= self.kinds_seconds:
                self._kinds = hub_kinds(self.client, self.keys)
                self._kinds_at = now
            by_kind, retired = self._kinds
        due, overdue = revisits_due(self.client, self.keys, overdue_seconds=self.overdue_seconds,
                                    requeue_after=self.requeue_after)
        return HubCounts(by_kind=dict(by_kind), retired=retired, due=due, overdue=overdue)
