"""Seed lines: parse, validate and queue them (``crawler seed``).

A line is a plain URL or a JSON object ``{"url": ..., "meta": {...}, "priority": N}``.
Blank lines and ``#`` comments are skipped. Every other line is either queued,
a duplicate (already queued or crawled), or rejected with a reason: a bad line
never stops the others. Seed files are written by other people, so a line is
checked before anything of it is stored:

* at most :data:`MAX_LINE_BYTES` bytes of UTF-8 (invalid UTF-8 is that line's error);
* JSON nested at most :data:`MAX_JSON_DEPTH` levels;
* an http or https URL with a host, of at most :data:`MAX_URL_LENGTH` characters,
  queued in the form Scrapy fetches it (:func:`crawler.base.urls.fetch_form`: the host in IDNA,
  so ``http://bücher.example/`` and its links share the host key
  ``xn--bcher-kva.example``, and ``exa\\u200bmple.com`` is ``example.com``);
* ``priority`` an integer from :data:`MIN_PRIORITY` to :data:`MAX_PRIORITY`;
* ``meta`` only the labels of :data:`SEED_META_KEYS`. Anything Scrapy or the service
  reads from meta (``proxy``, ``download_maxsize``, ``depth``, ``dont_obey_robotstxt``...)
  would let a seed file lift a limit or reach past the network guard.

Rejected values are echoed through :func:`printable`, so a line holding terminal
escape sequences cannot drive the terminal.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from crawler.frontier.codec import UnserializableRequest, seed_payload
from crawler.frontier.core import Frontier, QueueEntry
from crawler.frontier.hubs import HUB_PRIORITY, HubRegistry, hub_payload
from crawler.frontier.revisit import initial_interval
from crawler.base.urls import fetch_form, fingerprint_url, is_http_url, url_host

__all__ = [
    "MAX_JSON_DEPTH", "MAX_LINE_BYTES", "MAX_PRIORITY", "MAX_URL_LENGTH", "MIN_PRIORITY",
    "SEED_META_KEYS", "Seed", "SeedError", "SeedReport", "check_url", "is_home_url",
    "parse_seed_line", "printable", "read_seed_lines", "seed",
]

#: The longest seed line, in bytes of UTF-8 (its end of line not counted).
MAX_LINE_BYTES = 4096
#: The longest seed URL, in characters, as typed and as fetched.
MAX_URL_LENGTH = 2048
#: How deep a JSON seed may nest (the line's object is level 1, meta 2, tags 3).
MAX_JSON_DEPTH = 8
#: The range of a seed's priority (higher is fetched sooner; links of "More" blocks get 10).
MIN_PRIORITY, MAX_PRIORITY = -1000, 1000
#: The meta keys a seed may set: labels that neither Scrapy nor the service reads,
#: carried with the seed's request. Their limits: ``source`` a string of up to 200
#: characters; ``tags`` a list of up to 20 strings of up to 100 characters.
SEED_META_KEYS = ("source", "tags")
_MAX_SOURCE, _MAX_TAGS, _MAX_TAG = 200, 20, 100
#: How much of a rejected line is echoed.
_ECHO_CHARS = 200

_BAD_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")
# One JSON string (closed or not: an open one runs to the end) or one bracket.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


class SeedError(ValueError):
    """A seed line that cannot be queued; the message is the reason."""


@dataclass(frozen=True)
class Seed:
    """One valid seed line: its URL in the form Scrapy fetches, its meta and priority."""

    url: str
    meta: dict = field(default_factory=dict)
    priority: int = 0


@dataclass
class SeedReport:
    """What ``seed`` did: counts, and one ``(line number, reason, value)`` per rejected line,
    reason and value :func:`printable`."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    #: Home pages newly registered as hubs (not in :meth:`as_dict`).
    hubs: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "rejected": len(self.rejected)}


def printable(value: str | bytes, limit: int | None = None) -> str:
    """``value`` safe to print on a terminal: at most ``limit`` characters of it, each
    character that is not printable (controls such as ESC, format characters such as
    bidi overrides and zero-width spaces, separators, lone surrogates) written as a
    ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN`` escape, and bytes that are not UTF-8
    as ``\\xNN``. Never raises."""
    if isinstance(value, bytes):
        value = value[: 4 * limit if limit else None].decode("utf-8", "backslashreplace")
    if limit is not None:
        value = value[:limit]
    if value.isprintable():
        return value
    return "".join(char if char.isprintable() else _escape(ord(char)) for char in value)


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def check_url(url: object) -> str:
    """``url`` in the form Scrapy fetches it, when it may be queued (the checks of a seed
    URL, see the module); raises :class:`SeedError` with the reason otherwise."""
    return _check_url(url)


def is_home_url(url: str) -> bool:
    """Whether ``url`` is a site's home page: its path is "/" or empty (a query is allowed)."""
    try:
        return urlsplit(url).path in ("", "/")
    except ValueError:
        return False


def _check_url(url: object) -> str:
    if not isinstance(url, str):
        raise SeedError("url must be a string")
    if len(url) > MAX_URL_LENGTH:
        raise SeedError(f"url longer than {MAX_URL_LENGTH} characters")
    if _BAD_CHARS.search(url):
        raise SeedError("url contains whitespace or control characters")
    if not is_http_url(url):
        raise SeedError("scheme must be http or https")
    try:
        fetched = fetch_form(url)
    except ValueError as exc:
        raise SeedError(str(exc)) from None
    if not url_host(url):  # "http:///x": Scrapy would fetch http://x/, not what was meant
        raise SeedError("url has no host")
    if len(fetched) > MAX_URL_LENGTH:
        raise SeedError(f"url longer than {MAX_URL_LENGTH} characters once percent-encoded")
    return fetched


def _check_meta(meta: object) -> dict:
    if not isinstance(meta, dict):
        raise SeedError("meta must be an object")
    unknown = sorted(set(meta) - set(SEED_META_KEYS))
    if unknown:
        raise SeedError(f"meta keys not allowed: {', '.join(unknown)} "
                        f"(a seed may set only {', '.join(SEED_META_KEYS)})")
    source = meta.get("source")
    if source is not None and not (isinstance(source, str) and 0 < len(source) <= _MAX_SOURCE
                                   and source.isprintable()):
        raise SeedError(f"meta source must be a printable string of 1 to {_MAX_SOURCE} characters")
    tags = meta.get("tags")
    if tags is not None and not (isinstance(tags, list) and len(tags) <= _MAX_TAGS and all(
            isinstance(tag, str) and 0 < len(tag) <= _MAX_TAG and tag.isprintable() for tag in tags)):
        raise SeedError(f"meta tags must be a list of at most {_MAX_TAGS} printable strings "
                        f"of 1 to {_MAX_TAG} characters")
    return meta


def _json_depth(text: str) -> int:
    depth = deepest = 0
    for token in _JSON_TOKENS.findall(text):
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def _decode(line: str | bytes) -> str:
    """The text of one line, or SeedError when it is too long or not UTF-8."""
    if isinstance(line, bytes):
        if len(line) > MAX_LINE_BYTES:
            raise SeedError(f"line longer than {MAX_LINE_BYTES} bytes")
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SeedError(f"not valid UTF-8 (byte 0x{line[exc.start]:02x} at byte {exc.start + 1})") from None
    if len(line) > MAX_LINE_BYTES or (not line.isascii() and len(_encode(line)) > MAX_LINE_BYTES):
        raise SeedError(f"line longer than {MAX_LINE_BYTES} bytes")
    return line


def _encode(line: str) -> bytes:
    try:
        return line.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates: undecodable bytes of argv or a stream
        raise SeedError(f"not valid UTF-8 (character {exc.start + 1})") from None


def parse_seed_line(line: str | bytes) -> Seed | None:
    """The seed on one line (text, or bytes of UTF-8), None for a blank or comment line.

    Raises :class:`SeedError` with the reason when the line is invalid, and no
    other exception, whatever the line holds.
    """
    text = _decode(line).strip()
    if not text or text.startswith("#"):
        return None
    if not text.startswith("{"):
        return Seed(_check_url(text))
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise SeedError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SeedError(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:  # an integer of over 4,300 digits
        raise SeedError(f"invalid JSON ({str(exc)[:80]})") from None
    if not isinstance(data, dict):
        raise SeedError("JSON seed must be an object")
    unknown = set(data) - {"url", "meta", "priority"}
    if unknown:
        raise SeedError(f"unknown fields: {', '.join(sorted(unknown))}")
    priority = data.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise SeedError("priority must be an integer")
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise SeedError(f"priority must be from {MIN_PRIORITY} to {MAX_PRIORITY}")
    meta = _check_meta(data.get("meta", {}))
    return Seed(_check_url(data.get("url")), meta, priority)


def read_seed_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """The lines of a binary ``stream``, without their ends, for :func:`seed`.

    A line longer than :data:`MAX_LINE_BYTES` is cut just past that length (so it is
    rejected as too long) and the rest of it skipped unread into memory.
    """
    while True:
        line = stream.readline(MAX_LINE_BYTES + 2)
        if not line:
            return
        if len(line) == MAX_LINE_BYTES + 2 and not line.endswith(b"\n"):
            while (rest := stream.readline(1 << 16)) and not rest.endswith(b"\n"):
                pass
        yield line.rstrip(b"\r\n")


def seed(frontier: Frontier, lines: Iterable[str | bytes], *, strict: bool = False,
         recrawl: bool = False) -> SeedReport:
    """Validate ``lines`` (text, or bytes of UTF-8) and queue the valid ones, pipelined.

    With ``strict`` nothing is queued when any line is rejected. With
    ``recrawl`` URLs already seen are queued again. The seeds' hosts become
    hosts the spider may follow links on, and a seed that is a site's home page
    (path "/") is registered as a ``home`` hub, first due one interval later.
    """
    report = SeedReport()
    entries: list[QueueEntry] = []
    homes: list[tuple[str, str]] = []
    for number, line in enumerate(lines, start=1):
        try:
            parsed = parse_seed_line(line)
            if parsed is None:
                continue
            payload = seed_payload(parsed.url, meta=parsed.meta, priority=parsed.priority)
        except (SeedError, UnserializableRequest) as exc:
            report.rejected.append((number, printable(str(exc)), printable(line.strip(), _ECHO_CHARS)))
            continue
        if is_home_url(parsed.url):
            # The seed is the home hub's first visit: its links are queued as the home
            # page's (discovered_via "home"), and the fronts it links to are found.
            homes.append((parsed.url, "home"))
            payload, priority = hub_payload(parsed.url, "home"), HUB_PRIORITY
        else:
            priority = parsed.priority
        entries.append(QueueEntry(payload, fingerprint_url(parsed.url), priority, url_host(parsed.url)))
    if strict and report.rejected:
        return report
    frontier.add_hosts(entry.host for entry in entries)
    for queued in frontier.push_many(entries, check_seen=not recrawl):
        if queued:
            report.accepted += 1
        else:
            report.duplicates += 1
    # A site's home page is a hub too, revisited on the schedule. The seed is its first
    # visit, so its first revisit is due one interval from now.
    if homes:
        hubs = HubRegistry.for_frontier(frontier)
        report.hubs = hubs.add_many(homes, delay=initial_interval("home", hubs.config))
    return report
