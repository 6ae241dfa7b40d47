"""Delivery of the article stream: what is still waiting to be delivered.

The article stream (``Keys.articles``) is read by Redis consumer groups, one per
sink (``crawler deliver``). :func:`undelivered_backlog` is the number the
workers' backpressure (:mod:`crawler.frontier.backpressure`) compares with
``DELIVER_BACKLOG_MAX``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import redis

if TYPE_CHECKING:
    from crawler.base.keys import Keys

__all__ = ["undelivered_backlog"]


def undelivered_backlog(client: redis.Redis, keys: Keys) -> int:
    """How many stored articles some consumer group has not acknowledged yet.

    The largest, over the consumer groups of the article stream, of the entries
    the group has not read yet (XINFO GROUPS ``lag``) plus those it read but did
    not acknowledge (``pending``); the stream's length when no group exists
    (nothing is delivered), and in place of a lag Redis cannot tell (after
    entries were deleted from the middle of the stream: an upper bound). 0 for a
    crawl without a stream. Raises :class:`redis.RedisError`.
    """
    try:
        groups = client.xinfo_groups(keys.articles)
    except redis.ResponseError as exc:
        if "no such key" in str(exc).lower():
            return 0
        raise
    if not groups or any(group.get("lag") is None for group in groups):
        length = client.xlen(keys.articles)
        if not groups:
            return length
    return max((length if group.get("lag") is None else int(group["lag"]))
               + int(group.get("pending") or 0) for group in groups)
