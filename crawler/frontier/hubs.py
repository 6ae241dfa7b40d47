"""Hubs in Redis: the pages every worker revisits on a shared schedule.

A hub (a home page, section front, feed, sitemap or news sitemap) has a state
(``Keys.hubs``: JSON), a due time (``Keys.hubs_due``, Redis time) and the
request JSON of its next visit (``Keys.hub_requests``, with the validators of
its last response). Every worker's scheduler heartbeat calls
:meth:`HubRegistry.release_due`: the HUBS_DUE script moves the due hubs into
the ordinary per-host queues, so a visit is leased, renewed, acknowledged and
polite like any request, and survives worker restarts; ``Keys.hubs_queued``
makes sure one due time is queued once, whatever the number of workers. The
spider reports each visit with :meth:`HubRegistry.record_visit`, which applies
the interval rule of :mod:`crawler.frontier.revisit` and schedules the next
visit (compare and set, HUB_SET: two records of one hub never interleave).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from crawler.base import lua
from crawler.base.connection import pipeline
from crawler.base.counters import HUB_KINDS, HUB_RESULTS, check_hub_kind
from crawler.base.urls import canonical_url_for, is_http_url, site_of
from crawler.frontier.codec import seed_payload
from crawler.frontier.config import FrontierConfig
from crawler.frontier.hubstats import HubCounts, hub_kinds, revisits_due
from crawler.frontier.revisit import initial_interval, plan_visit, requeue_after

if TYPE_CHECKING:
    import redis

    from crawler.base.keys import Keys
    from crawler.frontier.core import Frontier

logger = logging.getLogger(__name__)

__all__ = [
    "HUB_MAX_BYTES", "HUB_PRIORITY", "MAX_URL_LENGTH", "MAX_VALIDATOR_LENGTH", "SITEMAP_MAX_BYTES", "Hub",
    "HubRegistry", "hub_payload", "requeue_after",
]

#: Priority of a hub visit within its host's queue: after the new stories hubs listed
#: (``LINKS_HUB_PRIORITY``, 50), before every other page of the host ("More" links 10, links 0).
#: Fetching the stories found before visiting hubs again keeps a host's politeness budget for
#: news when hubs alone could fill it.
HUB_PRIORITY = 40
#: Bytes a hub response may have (``download_maxsize``): a feed or a page...
HUB_MAX_BYTES = 10 * 2**20
#: ...or a sitemap, which the sitemap protocol allows up to 50 MiB.
SITEMAP_MAX_BYTES = 50 * 2**20
#: The longest hub URL (a seed's limit too).
MAX_URL_LENGTH = 2048
#: An ETag or Last-Modified longer than this is not sent back (it comes from the web).
MAX_VALIDATOR_LENGTH = 512
# Due hubs one HUBS_DUE call queues.
RELEASE_LIMIT = 100
# Due times read at once while looking for the next one that is not a queued visit's.
_NEXT_DUE_BATCH = 100
# Times a record_visit re-reads a hub whose state changed under it before giving up.
_CAS_TRIES = 8


def _validator(value: str | None) -> str | None:
    """A validator fit to send back: latin-1 text without control characters (no header
    injection), at most MAX_VALIDATOR_LENGTH characters; else None (not sent)."""
    if not value or len(value) > MAX_VALIDATOR_LENGTH:
        return None
    if any(ord(char) < 0x20 or ord(char) == 0x7F or ord(char) > 0xFF for char in value):
        return None
    return value


def hub_payload(url: str, kind: str, *, etag: str | None = None, last_modified: str | None = None,
                max_bytes: int | None = None, content_hash: str | None = None) -> str:
    """The request JSON of a visit of hub ``url`` of ``kind`` (what HUBS_DUE queues).

    Like :func:`crawler.frontier.codec.seed_payload`: callback ``parse``, errback
    ``on_error``, priority :data:`HUB_PRIORITY`, ``dont_filter`` (hubs bypass the
    seen filter), ``If-None-Match`` / ``If-Modified-Since`` from the last
    response's validators (dropped when unfit to send, see :data:`MAX_VALIDATOR_LENGTH`),
    meta ``{"hub": kind, "handle_httpstatus_list": [304], "download_maxsize": max_bytes}``
    (default :data:`SITEMAP_MAX_BYTES` for sitemaps, :data:`HUB_MAX_BYTES` otherwise).
    Decodes with :func:`crawler.frontier.codec.decode_request` given the spider.
    Raises ValueError for an unknown kind.
    """
    check_hub_kind(kind)
    if max_bytes is None:
        max_bytes = SITEMAP_MAX_BYTES if kind in ("sitemap", "news-sitemap") else HUB_MAX_BYTES
    headers = {}
    if etag := _validator(etag):
        headers["If-None-Match"] = etag
    if last_modified := _validator(last_modified):
        headers["If-Modified-Since"] = last_modified
    meta = {"hub": kind, "handle_httpstatus_list": [304], "download_maxsize": int(max_bytes)}
    if content_hash and len(content_hash) <= MAX_VALIDATOR_LENGTH:
        # The hash of the last response's body: the same bytes again (a hub that sends no
        # validators) are recorded as unchanged without being parsed.
        meta["hub_hash"] = content_hash
    return seed_payload(url, meta=meta, priority=HUB_PRIORITY, callback="parse", errback="on_error",
                        headers=headers, dont_filter=True)


@dataclass(frozen=True)
class Hub:
    """One hub as stored (times are Redis' clock, unix seconds).

    ``next_due`` is when its next visit is due (None once retired); a hub whose
    visit is queued and not yet recorded has ``queued_at`` set, and its
    ``next_due`` is that time (it is due now). ``new_links`` are the new article
    links its last visit found, ``total_new_links`` those of all its visits.
    """

    url: str
    site: str
    kind: str
    interval: float
    added_at: float
    last_visit: float | None = None
    last_change: float | None = None
    last_result: str | None = None
    new_links: int = 0
    total_new_links: int = 0
    visits: int = 0
    failures: int = 0
    next_due: float | None = None
    retired_at: float | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    queued_at: float | None = None

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    def as_dict(self) -> dict:
        """Every field, as JSON-ready data."""
        return asdict(self)

    def _state(self) -> str:
        """The JSON stored in ``Keys.hubs`` (the schedule lives in the sorted sets)."""
        state = self.as_dict()
        for name in ("url", "next_due", "queued_at"):
            del state[name]
        return json.dumps(state, separators=(",", ":"), sort_keys=True)


_NUMBERS = ("interval", "added_at")
_OPTIONAL_NUMBERS = ("last_visit", "last_change", "retired_at")
_COUNTS = ("new_links", "total_new_links", "visits", "failures")
_OPTIONAL_TEXT = ("etag", "last_modified", "content_hash")


def _parse_state(url: str, raw: str, next_due: float | None, queued_at: float | None) -> Hub | None:
    """The hub stored as ``raw``, validated; None (logged) when it is not a hub's state."""
    try:
        state = json.loads(raw)
        if not isinstance(state, dict) or state.get("kind") not in HUB_KINDS:
            raise ValueError("no hub kind")
        if not isinstance(state.get("site"), str):
            raise ValueError("no site")
        values: dict[str, Any] = {"url": url, "site": state["site"], "kind": state["kind"]}
        for name in _NUMBERS:
            values[name] = _number(state.get(name), name)
        for name in _OPTIONAL_NUMBERS:
            values[name] = None if state.get(name) is None else _number(state[name], name)
        for name in _COUNTS:
            value = state.get(name, 0)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} is not a count")
            values[name] = value
        for name in _OPTIONAL_TEXT:
            value = state.get(name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} is not text")
            values[name] = value
        result = state.get("last_result")
        if result is not None and result not in HUB_RESULTS:
            raise ValueError("unknown last result")
        values["last_result"] = result
    except ValueError as exc:
        logger.error("Ignoring corrupt hub state of %.200s: %s", url, exc)
        return None
    if values["retired_at"] is not None:
        next_due = queued_at = None
    elif queued_at is not None:
        next_due = queued_at
    return Hub(**values, next_due=next_due, queued_at=queued_at)


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} is not a number")
    return float(value)


class HubRegistry:
    """The hubs of one crawl: register, remove, list, release when due, record visits.

    ``client`` is a redis-py client created with ``decode_responses=True``;
    ``config`` gives the interval rule's settings (``FRONTIER_REVISIT_*``,
    ``FRONTIER_HUB_MAX_FAILURES``), the host delay and the re-queue timeout.
    """

    def __init__(self, client: redis.Redis, keys: Keys, config: FrontierConfig | None = None) -> None:
        self.client = client
        self.keys = keys
        self.config = config or FrontierConfig()
        self._due = lua.register(client, "HUBS_DUE", keys)
        self._set = lua.register(client, "HUB_SET", keys)
        self._remove = lua.register(client, "HUB_REMOVE", keys)

    @classmethod
    def for_frontier(cls, frontier: Frontier) -> HubRegistry:
        """The registry of ``frontier``'s crawl, on its client and with its settings."""
        return cls(frontier.client, frontier.keys, frontier.config)

    def _now(self, pipe: Any) -> None:
        pipe.time()

    @staticmethod
    def _time(reply: tuple[int, int]) -> float:
        secs, micros = reply
        return secs + micros / 1e6

    def _state_and_time(self, url: str) -> tuple[str | None, float]:
        """Hub ``url``'s stored state (None when unknown) and Redis' clock, in one round trip:
        what a compare-and-set write (HUB_SET) starts from."""
        with pipeline(self.client) as pipe:
            pipe.hget(self.keys.hubs, url)
            self._now(pipe)
            raw, reply = pipe.execute()
        return raw, self._time(reply)

    def now(self) -> float:
        """Redis' clock (unix seconds): the clock of every due time."""
        return self._time(self.client.time())

    # --- registering --------------------------------------------------------

    def _new_state(self, url: str, kind: str, site: str | None, now: float) -> Hub:
        check_hub_kind(kind)
        if not is_http_url(url) or len(url) > MAX_URL_LENGTH:
            raise ValueError(f"a hub is an http or https URL of at most {MAX_URL_LENGTH} "
                             f"characters, not {url[:200]!r}")
        return Hub(url=url, site=site or site_of(url) or "", kind=kind,
                   interval=initial_interval(kind, self.config), added_at=now)

    def add(self, url: str, kind: str, *, site: str | None = None, due: float | None = None,
            delay: float | None = None, reactivate: bool = False) -> bool:
        """Register hub ``url`` of ``kind``, due at ``due`` (Redis time), or ``delay``
        seconds from now, or at once. True when it is new, or was retired and
        ``reactivate`` brings it back (failures reset, due as given); False when it
        exists (nothing changes). Raises ValueError for an unknown kind or a URL
        that is not http(s).
        """
        url = canonical_url_for(url)
        for _ in range(_CAS_TRIES):
            raw, now = self._state_and_time(url)
            when = due if due is not None else now + (delay or 0.0)
            if raw is None:
                hub = self._new_state(url, kind, site, now)
            else:
                current = _parse_state(url, raw, None, None)
                if not reactivate or (current is not None and not current.retired):
                    return False
                hub = (self._new_state(url, kind, site, now) if current is None else
                       _replace(current, failures=0, retired_at=None))
            if self._set([url, raw or "", hub._state(), self._payload(hub), when, ""]) == 1:
                return True
        raise RuntimeError(f"hub {url} kept changing while it was being added")

    def add_many(self, hubs: Iterable[tuple[str, str]], *, delay: float = 0.0) -> int:
        """Register each ``(url, kind)`` not registered yet, due at once (or ``delay``
        seconds from now); returns how many are new. Two round trips, whatever their
        number. A site gets at most ``FRONTIER_MAX_FRONTS_PER_SITE`` section fronts,
        counted in Redis as each is written (``Keys.hub_fronts``, retired ones
        included, kept by the HUB_SET script): the others are left out, however many
        workers register at once. A URL that is not http(s) or longer than
        MAX_URL_LENGTH is skipped; an unknown kind raises ValueError."""
        hubs = list({canonical_url_for(url): kind for url, kind in hubs}.items())
        if not hubs:
            return 0
        with pipeline(self.client) as pipe:
            self._now(pipe)
            for url, _ in hubs:
                pipe.hexists(self.keys.hubs, url)
            reply, *exists = pipe.execute()
        now = self._time(reply)
        new = []
        for (url, kind), known in zip(hubs, exists):
            check_hub_kind(kind)
            if not known:
                try:
                    new.append(self._new_state(url, kind, None, now))
                except ValueError as exc:  # a URL found on the web: skip it, register the others
                    logger.debug("Not registering hub: %s", exc)
        if not new:
            return 0
        with pipeline(self.client) as pipe:
            for hub in new:
                self._set([hub.url, "", hub._state(), self._payload(hub), now + delay,
                           self.config.max_fronts_per_site], client=pipe)
            return sum(written == 1 for written in pipe.execute())

    def remove(self, url: str) -> bool:
        """Forget hub ``url`` (state, schedule, request, and its place in the counts) in
        one script; True when it existed. A visit already queued is still fetched
        once, and not recorded."""
        return self._remove([canonical_url_for(url)]) == 1

    # --- reading ------------------------------------------------------------

    def get(self, url: str) -> Hub | None:
        """Hub ``url``, or None when it is not registered (or its state is corrupt)."""
        url = canonical_url_for(url)
        with pipeline(self.client) as pipe:
            pipe.hget(self.keys.hubs, url)
            pipe.zscore(self.keys.hubs_due, url)
            pipe.zscore(self.keys.hubs_queued, url)
            raw, due, queued = pipe.execute()
        return None if raw is None else _parse_state(url, raw, due, queued)

    def request(self, url: str) -> str | None:
        """The request JSON of hub ``url``'s next visit."""
        return self.client.hget(self.keys.hub_requests, canonical_url_for(url))

    def _read_all(self) -> tuple[float, list[Hub]]:
        with pipeline(self.client) as pipe:
            self._now(pipe)
            pipe.hgetall(self.keys.hubs)
            pipe.zrange(self.keys.hubs_due, 0, -1, withscores=True)
            pipe.zrange(self.keys.hubs_queued, 0, -1, withscores=True)
            reply, states, due, queued = pipe.execute()
        due, queued = dict(due), dict(queued)
        hubs = [hub for url, raw in states.items()
                if (hub := _parse_state(url, raw, due.get(url), queued.get(url))) is not None]
        return self._time(reply), hubs

    def all(self) -> list[Hub]:
        """Every hub, retired ones included, sorted by site, kind and URL (one round trip)."""
        return sorted(self._read_all()[1], key=lambda hub: (hub.site, hub.kind, hub.url))

    def counts(self) -> HubCounts:
        """The hubs by kind and retired (:func:`crawler.frontier.hubstats.hub_kinds`, the
        counts HUB_SET and HUB_REMOVE keep), due and overdue
        (:func:`~crawler.frontier.hubstats.revisits_due`), queued, and the next due time,
        at one Redis time: the counts the metrics read too."""
        now = self.now()
        by_kind, retired = hub_kinds(self.client, self.keys)
        due, overdue = revisits_due(self.client, self.keys, overdue_seconds=self.config.revisit_overdue,
                                    requeue_after=requeue_after(self.config), now=now)
        return HubCounts(by_kind=by_kind, retired=retired, due=due, overdue=overdue,
                         queued=self.client.zcard(self.keys.hubs_queued), next_due=self._next_due(now),
                         now=now)

    def _next_due(self, now: float) -> float | None:
        """The earliest due time after ``now`` of a hub whose visit is not queued (a queued
        one's ``hubs_due`` time is when it may be queued again, not a due time)."""
        start = 0
        while True:
            batch = self.client.zrangebyscore(self.keys.hubs_due, f"({now}", "+inf", start=start,
                                              num=_NEXT_DUE_BATCH, withscores=True)
            if not batch:
                return None
            queued = self.client.zmscore(self.keys.hubs_queued, [url for url, _ in batch])
            for (_, due), since in zip(batch, queued):
                if since is None:
                    return due
            start += len(batch)

    # --- the schedule -------------------------------------------------------

    def release_due(self, limit: int = RELEASE_LIMIT, pipe: Any = None) -> int | None:
        """Queue the visits of up to ``limit`` due hubs into their hosts' queues (HUBS_DUE,
        atomic: one due time is queued once whatever the number of workers). Returns how
        many were queued; on ``pipe``, None (read the reply with :meth:`released`)."""
        reply = self._release(limit, pipe)
        return None if pipe is not None else self.released(reply)[0]

    def release_due_with_wait(self, limit: int = RELEASE_LIMIT) -> tuple[int, float | None]:
        """:meth:`release_due`, returning :meth:`released`: also the seconds until the next
        hub falls due."""
        return self.released(self._release(limit, None))

    def _release(self, limit: int, pipe: Any) -> list | None:
        return self._due([self.keys.queue_prefix, self.config.host_delay, limit,
                          requeue_after(self.config)], client=pipe)

    @staticmethod
    def released(reply: list) -> tuple[int, float | None]:
        """``(queued, seconds until the next hub is due or None)`` from a HUBS_DUE reply."""
        queued, wait = reply
        wait = float(wait)
        return int(queued), None if wait < 0 else wait

    def record_visit(self, url: str, *, result: str, new_links: int = 0, etag: str | None = None,
                     last_modified: str | None = None, content_hash: str | None = None,
                     kind: str | None = None) -> Hub | None:
        """Record a visit of hub ``url`` and schedule the next by the interval rule
        (:func:`crawler.frontier.revisit.plan_visit`); returns the hub as now stored, or None
        when ``url`` is not a registered hub.

        ``result`` is one of HUB_RESULTS; ``new_links`` the article links never seen
        before that the visit found. The validators and content hash of a 200 replace
        the stored ones; a 304 ("not_modified") keeps those it does not name; an error
        keeps them all. The visit is no longer queued, and the request of the next one
        carries the validators. ``kind`` changes the hub's kind when the visit found it
        to be another (a sitemap that turned out to be a news sitemap). Raises
        ValueError for an unknown result or kind.
        """
        if result not in HUB_RESULTS:
            raise ValueError(f"not a hub visit result: {result!r} (one of {', '.join(HUB_RESULTS)})")
        if kind is not None:
            check_hub_kind(kind)
        new_links = max(int(new_links), 0)
        url = canonical_url_for(url)
        for _ in range(_CAS_TRIES):
            raw, now = self._state_and_time(url)
            if raw is None:
                return None
            hub = _parse_state(url, raw, None, None)
            if hub is None:
                return None
            plan = plan_visit(hub.interval, hub.failures, result, self.config)
            changes: dict[str, Any] = {
                "interval": plan.interval, "failures": plan.failures, "last_visit": now,
                "last_result": result, "new_links": new_links, "visits": hub.visits + 1,
                "total_new_links": hub.total_new_links + new_links,
            }
            if result == "changed":
                changes["last_change"] = now
            if kind is not None and kind != hub.kind:
                changes["kind"] = kind
            if result in ("changed", "unchanged"):
                changes.update(etag=etag, last_modified=last_modified, content_hash=content_hash)
            elif result == "not_modified":
                changes.update(etag=etag or hub.etag, last_modified=last_modified or hub.last_modified,
                               content_hash=content_hash or hub.content_hash)
            if plan.retired:
                changes["retired_at"] = now
                logger.warning("Retired hub %s after %d failed visits in a row", url, plan.failures)
            retired = plan.retired or hub.retired
            hub = _replace(hub, **changes)
            due = "" if retired else now + plan.delay
            if self._set([url, raw, hub._state(), self._payload(hub), due, ""]) == 1:
                return _replace(hub, next_due=None if retired else due)
        raise RuntimeError(f"hub {url} kept changing while its visit was being recorded")

    @staticmethod
    def _payload(hub: Hub) -> str:
        return hub_payload(hub.url, hub.kind, etag=hub.etag, last_modified=hub.last_modified,
                           content_hash=hub.content_hash)


def _replace(hub: Hub, **changes: Any) -> Hub:
    return Hub(**{**hub.as_dict(), **changes})
