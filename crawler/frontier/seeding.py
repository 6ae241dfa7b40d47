"""Seed lines: parse, validate and queue them (``crawler seed``).

A line is a plain URL or a JSON object ``{"url": ..., "meta": {...}, "priority": N}``.
Blank lines and ``#`` comments are skipped. Every other line is either queued,
a duplicate (already queued or crawled), or rejected with a reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from crawler.frontier.codec import UnserializableRequest, seed_payload
from crawler.frontier.core import Frontier, QueueEntry
from crawler.base.urls import fingerprint_url, url_host

__all__ = ["MAX_URL_LENGTH", "Seed", "SeedError", "SeedReport", "parse_seed_line", "seed"]

MAX_URL_LENGTH = 2048
_BAD_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")


class SeedError(ValueError):
    """A seed line that cannot be queued; the message is the reason."""


@dataclass(frozen=True)
class Seed:
    """One valid seed line."""

    url: str
    meta: dict = field(default_factory=dict)
    priority: int = 0


@dataclass
class SeedReport:
    """What ``seed`` did: counts, and one ``(line number, reason, value)`` per rejected line."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "rejected": len(self.rejected)}


def _check_url(url: object) -> str:
    if not isinstance(url, str):
        raise SeedError("url must be a string")
    if len(url) > MAX_URL_LENGTH:
        raise SeedError(f"url longer than {MAX_URL_LENGTH} characters")
    if _BAD_CHARS.search(url):
        raise SeedError("url contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise SeedError(f"malformed url ({exc})") from None
    if parts.scheme.lower() not in {"http", "https"}:
        raise SeedError("scheme must be http or https")
    if not url_host(url):
        raise SeedError("url has no host")
    return url


def parse_seed_line(line: str) -> Seed | None:
    """The seed on one line, None for a blank or comment line.

    Raises :class:`SeedError` with the reason when the line is invalid.
    """
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if not text.startswith("{"):
        return Seed(_check_url(text))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SeedError(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise SeedError("JSON seed must be an object")
    unknown = set(data) - {"url", "meta", "priority"}
    if unknown:
        raise SeedError(f"unknown fields: {', '.join(sorted(unknown))}")
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        raise SeedError("meta must be an object")
    priority = data.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise SeedError("priority must be an integer")
    return Seed(_check_url(data.get("url")), meta, priority)


def seed(frontier: Frontier, lines: Iterable[str], *, strict: bool = False,
         recrawl: bool = False) -> SeedReport:
    """Validate ``lines`` and queue the valid ones, pipelined.

    With ``strict`` nothing is queued when any line is rejected. With
    ``recrawl`` URLs already seen are queued again. The seeds' hosts become
    hosts the spider may follow links on.
    """
    report = SeedReport()
    entries: list[QueueEntry] = []
    for number, line in enumerate(lines, start=1):
        try:
            parsed = parse_seed_line(line)
            if parsed is None:
                continue
            payload = seed_payload(parsed.url, meta=parsed.meta, priority=parsed.priority)
        except (SeedError, UnserializableRequest) as exc:
            report.rejected.append((number, str(exc), line.strip()[:200]))
            continue
        entries.append(QueueEntry(payload, fingerprint_url(parsed.url), parsed.priority,
                                  url_host(parsed.url)))
    if strict and report.rejected:
        return report
    frontier.add_hosts(entry.host for entry in entries)
    for queued in frontier.push_many(entries, check_seen=not recrawl):
        if queued:
            report.accepted += 1
        else:
            report.duplicates += 1
    return report
