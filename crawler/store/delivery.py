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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import redis

from crawler.base import lua

if TYPE_CHECKING:
    from crawler.base.keys import Keys

logger = logging.getLogger(__name__)

__all__ = [
    "DeliveryStatus",
    "GroupBacklog",
    "backlog",
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
