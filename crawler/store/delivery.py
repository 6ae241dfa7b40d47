"""Delivery of the article stream to sinks through Redis consumer groups (``crawler deliver``).

Every stored article is an entry of ``Keys.articles``. Each consumer group
(one per sink, see :func:`default_group`) gets every entry; the ``deliver``
processes of one group share its entries. An entry is acknowledged (XACK) only
once the group's sink holds it durably, and an entry that every group has
acknowledged is trimmed from the stream (``crawler/base/lua/delivered.lua``),
so the stream is a buffer between the crawl and the sinks, not a store.

The backlog of a group is the entries it has not acknowledged: never read by
any of its consumers, or read and still pending. :func:`undelivered_backlog`,
the largest backlog (or the stream's length while no group exists), is what
the workers' backpressure compares with ``DELIVER_BACKLOG_MAX``.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import redis

from crawler.base import lua

if TYPE_CHECKING:
    from crawler.base.keys import Keys
    from crawler.store.sinks import Entry, Sink

logger = logging.getLogger(__name__)

__all__ = [
    "Deliverer",
    "DeliveryConfig",
    "DeliveryReport",
    "DeliveryStatus",
    "GroupBacklog",
    "backlog",
    "consumer_name",
    "delivery_status",
    "ensure_group",
    "undelivered_backlog",
]


@dataclass(frozen=True)
class GroupBacklog:
    """One consumer group of the article stream, as :func:`delivery_status` read it.

    ``backlog``: entries it has not acknowledged (unread, or ``pending``: read by
    a consumer and not yet acknowledged); ``oldest_age_seconds``: age of the
    oldest of them from its stream id (0.0 when there is none); ``consumers``:
    its consumers (live or dead); ``delivered``: articles it acknowledged so far.
    """

    group: str
    backlog: int
    oldest_age_seconds: float
    pending: int
    consumers: int
    delivered: int


@dataclass(frozen=True)
class DeliveryStatus:
    """The article stream and its consumer groups, read in one step."""

    length: int
    groups: dict[str, GroupBacklog] = field(default_factory=dict)

    @property
    def undelivered(self) -> int:
        """The largest backlog of a group; without any group, every entry of the stream."""
        if not self.groups:
            return self.length
        return max(group.backlog for group in self.groups.values())


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def delivery_status(client: redis.Redis, keys: Keys) -> DeliveryStatus:
    """The stream's length and each group's backlog, in one atomic script (``BACKLOG``).

    Works with or without ``decode_responses``; raises :class:`redis.RedisError`
    as the call does.
    """
    reply = lua.register(client, "BACKLOG", keys)()
    now_ms, length, rest = int(reply[0]), int(reply[1]), reply[2:]
    groups = {}
    for i in range(0, len(rest), 6):
        name = _text(rest[i])
        backlog_count, oldest_ms, pending, consumers, delivered = (int(v) for v in rest[i + 1:i + 6])
        age = max(0.0, (now_ms - oldest_ms) / 1000) if oldest_ms else 0.0
        groups[name] = GroupBacklog(group=name, backlog=backlog_count, oldest_age_seconds=age,
                                    pending=pending, consumers=consumers, delivered=delivered)
    return DeliveryStatus(length=length, groups=groups)


def backlog(client: redis.Redis, keys: Keys) -> dict[str, tuple[int, float]]:
    """Per consumer group: (entries not acknowledged, age in seconds of the oldest of them)."""
    return {name: (group.backlog, group.oldest_age_seconds)
            for name, group in delivery_status(client, keys).groups.items()}


def undelivered_backlog(client: redis.Redis, keys: Keys) -> int:
    """Articles not yet delivered: the largest backlog of a consumer group, or, while no
    group exists (no ``crawler deliver`` ever ran), the length of the stream.

    One round trip (a script reading XINFO GROUPS); raises :class:`redis.RedisError`.
    """
    return delivery_status(client, keys).undelivered


def ensure_group(client: redis.Redis, keys: Keys, group: str) -> bool:
    """Create consumer group ``group`` on the article stream unless it exists; return
    whether it was created.

    A new group starts at the beginning (id 0): it gets every entry still in the
    stream. The stream is created empty when missing (MKSTREAM).
    """
    try:
        client.xgroup_create(keys.articles, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" in str(exc):
            return False
        raise
    logger.info("Created consumer group %s on %s", group, keys.articles)
    return True


# --- Settings ---------------------------------------------------------------------

#: Defaults of the settings ``crawler deliver`` reads (crawler/settings.py takes them from
#: the environment; ``-s NAME=VALUE`` overrides them).
DELIVER_BATCH = 1000
DELIVER_CLAIM_IDLE_SECONDS = 300.0
DELIVER_FILE_MAX_BYTES = 64 * 1024 * 1024
DELIVER_FILE_MAX_SECONDS = 60.0


@dataclass(frozen=True)
class DeliveryConfig:
    """The ``DELIVER_*`` settings, checked together.

    ``batch``: most entries read (and written to the sink) at once;
    ``claim_idle_seconds``: how long an entry stays pending with a consumer before
    another consumer of its group claims it (its ``deliver`` is presumed dead);
    ``file_max_bytes`` / ``file_max_seconds``: when the file sink starts a new file.
    A file sink keeps its entries pending until its file is complete, so
    ``claim_idle_seconds`` must exceed ``file_max_seconds``.
    """

    batch: int = DELIVER_BATCH
    claim_idle_seconds: float = DELIVER_CLAIM_IDLE_SECONDS
    file_max_bytes: int = DELIVER_FILE_MAX_BYTES
    file_max_seconds: float = DELIVER_FILE_MAX_SECONDS

    def __post_init__(self) -> None:
        if not 1 <= self.batch <= 100_000:
            raise ValueError(f"DELIVER_BATCH (--batch) must be between 1 and 100000, got {self.batch!r}")
        if not self.file_max_bytes >= 1:
            raise ValueError(f"DELIVER_FILE_MAX_BYTES must be at least 1, got {self.file_max_bytes!r}")
        if not 0 < self.file_max_seconds < float("inf"):
            raise ValueError(f"DELIVER_FILE_MAX_SECONDS must be a positive number, got {self.file_max_seconds!r}")
        if not self.file_max_seconds < self.claim_idle_seconds < float("inf"):
            raise ValueError(f"DELIVER_CLAIM_IDLE_SECONDS ({self.claim_idle_seconds!r}) must be more than "
                             f"DELIVER_FILE_MAX_SECONDS ({self.file_max_seconds!r}): a file's entries stay "
                             f"pending until it is complete")

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> DeliveryConfig:
        """From Scrapy-style settings (``getint``/``getfloat``); ``overrides`` (not None) win.

        Raises ValueError naming the setting for a value that is not a number or out of range.
        """
        values: dict[str, Any] = {}
        for name, attribute, kind in (("DELIVER_BATCH", "batch", int),
                                      ("DELIVER_CLAIM_IDLE_SECONDS", "claim_idle_seconds", float),
                                      ("DELIVER_FILE_MAX_BYTES", "file_max_bytes", int),
                                      ("DELIVER_FILE_MAX_SECONDS", "file_max_seconds", float)):
            default = globals()[name]
            try:
                values[attribute] = (settings.getint(name, default) if kind is int
                                     else settings.getfloat(name, default))
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a number, got {settings.get(name)!r}") from None
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)


# --- The consumer loop ------------------------------------------------------------------


def consumer_name() -> str:
    """A consumer name unique to this process: ``<host>:<pid>:<random>``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class DeliveryReport:
    """What one :meth:`Deliverer.run` did: entries acknowledged, entries claimed from other
    consumers, entries trimmed from the stream, and entries still held unacknowledged
    when it stopped (a sink that kept failing)."""

    acknowledged: int = 0
    claimed: int = 0
    trimmed: int = 0
    unacknowledged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"acknowledged": self.acknowledged, "claimed": self.claimed,
                "trimmed": self.trimmed, "unacknowledged": self.unacknowledged}


class Deliverer:
    """Delivers the article stream of one crawl to ``sink`` as a consumer of ``group``.

    Entries are read with XREADGROUP, written to the sink, and acknowledged only
    once the sink returns their ids (durable); then what every group has
    acknowledged is trimmed (``DELIVERED`` script). Entries pending for longer
    than ``config.claim_idle_seconds`` with another consumer (a ``deliver`` that
    died) are claimed (XAUTOCLAIM) when the deliverer starts and every
    ``claim_idle_seconds / 4`` after. A batch the sink fails to take is
    retried, with a growing pause, until it succeeds or the deliverer stops.
    """

    def __init__(self, client: redis.Redis, keys: Keys, sink: Sink, *, group: str,
                 config: DeliveryConfig | None = None, consumer: str | None = None,
                 block_seconds: float = 1.0) -> None:
        self.client = client
        self.keys = keys
        self.sink = sink
        self.group = group
        self.config = config or DeliveryConfig()
        self.consumer = consumer or consumer_name()
        self.block_ms = max(1, int(block_seconds * 1000))
        self.report = DeliveryReport()
        self._delivered = lua.register(client, "DELIVERED", keys)
        self._held: set[str] = set()  # written to the sink, not yet acknowledged
        self._prefetch: Future[list[Entry]] | None = None
        self._to_ack: list[str] = []  # in the sink, not yet acknowledged in Redis

    # --- Redis ------------------------------------------------------------------

    @staticmethod
    def _entries(raw_entries: list) -> list[Entry]:
        entries = []
        for raw_id, fields in raw_entries:
            entry_id = _text(raw_id)
            value = (fields or {}).get("article", (fields or {}).get(b"article"))
            entries.append((entry_id, _text(value) if value is not None else ""))
        return entries

    def _read(self) -> list[Entry]:
        reply = self.client.xreadgroup(self.group, self.consumer, {self.keys.articles: ">"},
                                       count=self.config.batch, block=self.block_ms)
        return self._entries(reply[0][1]) if reply else []

    def _next_read(self, reader: ThreadPoolExecutor) -> list[Entry]:
        """The next batch: read ahead while the last one was being written, when entries
        keep coming (a thread of its own waits on Redis meanwhile)."""
        if self._prefetch is not None:
            future, self._prefetch = self._prefetch, None
            entries = future.result()
        else:
            entries = self._read()
        if entries:
            self._prefetch = reader.submit(self._read)
        return entries

    def _claim(self, start: str) -> tuple[str, list[Entry]]:
        """One page of XAUTOCLAIM from ``start``: (next start, entries not already held)."""
        reply = self.client.xautoclaim(self.keys.articles, self.group, self.consumer,
                                       int(self.config.claim_idle_seconds * 1000), start_id=start,
                                       count=self.config.batch)
        entries = [entry for entry in self._entries(reply[1]) if entry[0] not in self._held]
        if entries:
            logger.warning("Claimed %d articles pending with a consumer that stopped", len(entries))
            self.report.claimed += len(entries)
        return _text(reply[0]), entries

    def _acknowledge(self, ids: list[str]) -> None:
        """Acknowledge ``ids`` (and any left from a failed attempt), then trim. The ids are
        kept until Redis has them: a lost connection leaves them for the next attempt."""
        self._to_ack.extend(ids)
        ids = self._to_ack
        acked, trimmed = self._delivered([self.group, *ids])
        self._to_ack = []
        self.report.acknowledged += int(acked)
        self.report.trimmed += int(trimmed)
        self._held.difference_update(ids)
        self.sink.acknowledged()

    def _recover(self) -> None:
        # With no ids this still trims what the other groups acknowledged meanwhile.
        self._acknowledge(self.sink.recover())

    # --- The loop ------------------------------------------------------------------

    def _step(self, reader: ThreadPoolExecutor, stop: threading.Event, until_idle: float | None) -> str | None:
        """One turn of :meth:`run`: claim or read a batch, write it, acknowledge what is due.
        Returns "stopped" when stopped in the middle of a write, "idle" past ``until_idle``."""
        if self._to_ack:  # left by a lost connection
            self._acknowledge([])
        entries: list[Entry] = []
        if time.monotonic() >= self._next_claim:
            if self._claim_from == "0-0":
                self._recover()  # a dead consumer's finished files before its entries
            self._claim_from, entries = self._claim(self._claim_from)
            if self._claim_from == "0-0":
                self._next_claim = time.monotonic() + self._claim_every
        if not entries and self._claim_from == "0-0":
            entries = self._next_read(reader)
        if entries:
            self._last_entry = time.monotonic()
            if not self._write(entries, stop):
                return "stopped"
        ids = self.sink.poll()  # a file past its age, even while entries keep coming
        if ids:
            self._acknowledge(ids)
        if not entries and until_idle is not None and time.monotonic() - self._last_entry >= until_idle:
            return "idle"
        return None

    def _write(self, entries: list[Entry], stop: threading.Event) -> bool:
        """Write ``entries`` to the sink, retrying while it fails; False if stopped first."""
        self._held.update(entry_id for entry_id, _ in entries)
        pause = 0.5
        while True:
            try:
                ids = self.sink.write(entries)
            except Exception as exc:  # noqa: BLE001 - the sink's own errors: retried
                logger.error("Sink %s failed, retrying in %.1f s: %s", self.sink.description, pause, exc)
                if stop.wait(pause):
                    return False
                pause = min(pause * 2, 30.0)
                continue
            if ids:
                self._acknowledge(ids)
            return True

    def run(self, stop: threading.Event | None = None, *, until_idle: float | None = None) -> DeliveryReport:
        """Deliver until ``stop`` is set (then finish the batch at hand, complete the sink's
        current file, acknowledge, and return) or, with ``until_idle``, until no entry
        arrived for that many seconds.

        Raises :class:`redis.RedisError` when Redis fails (entries not acknowledged stay
        pending and are claimed by the next ``deliver``), and what the sink raises on open.
        """
        stop = stop or threading.Event()
        while True:
            try:
                ensure_group(self.client, self.keys, self.group)
                break
            except redis.exceptions.OutOfMemoryError:
                # XGROUP CREATE is refused on a full Redis (XREADGROUP, XACK and XTRIM are not).
                logger.error("Redis is out of memory: cannot create consumer group %s yet "
                             "(free memory, or raise maxmemory); retrying", self.group)
                if stop.wait(5):
                    return self.report
        try:  # listed at once (XREADGROUP creates it only once an entry arrives)
            self.client.xgroup_createconsumer(self.keys.articles, self.group, self.consumer)
        except redis.exceptions.OutOfMemoryError:
            pass
        self.sink.open(self.group, self.consumer)
        logger.info("Delivering %s to %s as %s of group %s", self.keys.articles, self.sink.description,
                    self.consumer, self.group)
        self._claim_every = self.config.claim_idle_seconds / 4
        self._next_claim, self._claim_from = 0.0, "0-0"
        self._last_entry = time.monotonic()
        reader = ThreadPoolExecutor(1, thread_name_prefix="deliver-read")
        stopped, pause = False, 0.5
        try:
            while not stop.is_set():
                try:
                    outcome = self._step(reader, stop, until_idle)
                except (redis.ConnectionError, redis.TimeoutError) as exc:
                    # Entries held stay pending with this consumer: acknowledged once Redis is back.
                    logger.error("Redis failed, retrying in %.1f s: %s", pause, exc)
                    stop.wait(pause)
                    pause = min(pause * 2, 30.0)
                    continue
                pause = 0.5
                if outcome is not None:
                    stopped = outcome == "stopped"
                    break
            if self._prefetch is not None:  # a batch read ahead is finished too
                entries = self._prefetch.result()
                self._prefetch = None
                if entries and not stopped:
                    stopped = not self._write(entries, stop)
            if not stopped:
                self._acknowledge(self.sink.flush())
        finally:
            reader.shutdown(wait=True)
            if self._prefetch is not None and self._prefetch.exception() is None:
                self._held.update(entry_id for entry_id, _ in self._prefetch.result())
            self.report.unacknowledged = len(self._held)
            self.sink.close()
        self._forget_consumer()
        return self.report

    def _forget_consumer(self) -> None:
        """Delete this process's consumer from the group when it holds nothing: a deleted
        consumer's pending entries would never be delivered again."""
        try:
            pending = self.client.xpending_range(self.keys.articles, self.group, min="-", max="+",
                                                 count=1, consumername=self.consumer)
            if not pending:
                self.client.xgroup_delconsumer(self.keys.articles, self.group, self.consumer)
        except redis.RedisError as exc:
            logger.warning("Could not remove consumer %s: %s", self.consumer, exc)
