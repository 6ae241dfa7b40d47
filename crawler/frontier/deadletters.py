"""The dead letters of a crawl: requests set aside after too many failed attempts.

A dead letter is one JSON object in the crawl's list (``Keys.deadletter``,
newest first): ``reason`` ("lease expired 3 times", "processing failed 3 times",
"corrupt: ..."), ``attempts`` (written since the dead letters can be requeued;
older entries carry it only in the reason) and ``request``, the request's JSON
as it was queued. :func:`read_dead_letters` parses them for people and scripts;
:meth:`Frontier.requeue_dead_letters` and :meth:`Frontier.drop_dead_letters`
act on all of them at once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crawler.frontier.core import Frontier

__all__ = ["DeadLetter", "parse_dead_letter", "read_dead_letters"]

_TIMES_RE = re.compile(r"^(.*) (\d+) times$")


@dataclass(frozen=True)
class DeadLetter:
    """One dead letter: why (without the count), how many attempts (None: unknown),
    the URL (None when the request cannot be read) and the request's JSON."""

    reason: str
    attempts: int | None
    url: str | None
    request: str

    def as_dict(self) -> dict[str, object]:
        return {"reason": self.reason, "attempts": self.attempts, "url": self.url,
                "request": self.request}


def parse_dead_letter(raw: str) -> DeadLetter:
    """The dead letter stored as ``raw``; never raises (an entry that is not one of
    ours becomes a dead letter with reason "unreadable" holding ``raw`` as its request)."""
    try:
        letter = json.loads(raw)
    except ValueError:
        letter = None
    if not isinstance(letter, dict):
        return DeadLetter("unreadable", None, None, raw)
    reason = str(letter.get("reason", ""))
    attempts = letter.get("attempts")
    counted = _TIMES_RE.match(reason)
    if counted:
        reason = counted[1]
        if not isinstance(attempts, int):
            attempts = int(counted[2])
    request = letter.get("request")
    request = request if isinstance(request, str) else json.dumps(request)
    try:
        url = json.loads(request).get("url")
    except (ValueError, AttributeError):
        url = None
    return DeadLetter(reason, attempts if isinstance(attempts, int) else None,
                      url if isinstance(url, str) else None, request)


def read_dead_letters(frontier: Frontier) -> list[DeadLetter]:
    """Every dead letter of the crawl, newest first."""
    return [parse_dead_letter(raw) for raw in frontier.client.lrange(frontier.keys.deadletter, 0, -1)]
