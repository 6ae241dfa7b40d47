"""``crawler top``: a live view of one crawl in the terminal, read from Redis every second.

Each frame is two round trips (a few more on Redis Cluster): :meth:`Frontier.counts`
and one pipeline for the workers' heartbeats, the recent errors and the Redis clock.
Rates are the difference between two frames, so ``--once`` reads twice, ``interval``
apart.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis
from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from crawler.base.connection import pipeline
from crawler.base.counters import ERROR_FIELDS, Field
from crawler.cli.status import duration
from crawler.frontier import defaults

if TYPE_CHECKING:
    from rich.console import RenderableType

    from crawler.frontier.core import Frontier, FrontierCounts

__all__ = ["Snapshot", "render", "run_top", "take_snapshot"]

_WORKERS_SHOWN = 20
_HOSTS_SHOWN = 10
_ERRORS_SHOWN = 10
_BOXED = {"box": box.SIMPLE_HEAD, "title_justify": "left", "pad_edge": False}


@dataclass(frozen=True)
class RecentError:
    """One entry of the crawl's recent errors (``Keys.errors``), as workers write them."""

    time: float
    worker: str
    message: str


@dataclass(frozen=True)
class Snapshot:
    """What one frame shows. ``now`` is Redis' clock (heartbeats use it too)."""

    taken: float  # time.monotonic(), for rates
    now: float
    counts: FrontierCounts
    workers: list[tuple[str, float]]  # worker id, last heartbeat; most recent first
    errors: list[RecentError]  # newest first
    unreadable_errors: int


def _parse_error(raw: str) -> RecentError | None:
    """An entry written by a worker, or None when it is not one (never trusted blindly)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    when, worker, message = data.get("time"), data.get("worker", ""), data.get("message")
    if (not isinstance(when, (int, float)) or isinstance(when, bool)
            or not isinstance(worker, str) or not isinstance(message, str)):
        return None
    return RecentError(float(when), worker, message)


def take_snapshot(frontier: Frontier, *, worker_timeout: float = defaults.FRONTIER_WORKER_TIMEOUT) -> Snapshot:
    """Read one frame's data. Raises redis.RedisError when Redis does not answer."""
    counts = frontier.counts(worker_timeout=worker_timeout, top=_HOSTS_SHOWN)
    keys = frontier.keys
    with pipeline(frontier.client) as pipe:
        pipe.zrevrange(keys.workers, 0, _WORKERS_SHOWN - 1, withscores=True)
        pipe.lrange(keys.errors, 0, _ERRORS_SHOWN - 1)
        pipe.time()
        workers, raw_errors, (secs, micros) = pipe.execute()
    errors = [_parse_error(raw) for raw in raw_errors]
    return Snapshot(
        taken=time.monotonic(), now=secs + micros / 1e6, counts=counts,
        workers=[(worker, float(beat)) for worker, beat in workers],
        errors=[error for error in errors if error is not None],
        unreadable_errors=sum(error is None for error in errors),
    )


def _rate(current: float, previous: float | None, seconds: float) -> str:
    if previous is None or seconds <= 0:
        return "-"
    return f"{max(current - previous, 0) / seconds:.1f}/s"


def _ago(seconds: float) -> str:
    return f"{duration(seconds, tenths=True)} ago"


def render(current: Snapshot, previous: Snapshot | None = None, *, spider: str = "news",
           worker_timeout: float = defaults.FRONTIER_WORKER_TIMEOUT) -> RenderableType:
    """One frame: totals and rates, workers, busiest hosts, recent errors."""
    counts, stats = current.counts, current.counts.stats
    seconds = current.taken - previous.taken if previous else 0.0
    before = previous.counts if previous else None
    summary = Table(show_header=False, box=None, pad_edge=False, title=f"crawl {spider}",
                    title_justify="left")
    summary.add_column()
    summary.add_column(justify="right")
    for label, value in (
        ("pages/s", _rate(stats.get(Field.PAGES, 0), before and before.stats.get(Field.PAGES, 0), seconds)),
        ("articles/s", _rate(counts.articles, before and before.articles, seconds)),
        ("pages", stats.get(Field.PAGES, 0)),
        ("articles stored", counts.articles),
        ("queued", counts.queued),
        ("in flight", counts.in_flight),
        ("seen", counts.seen),
        ("dead letters", counts.dead_letters),
        ("workers alive", counts.workers_alive),
        *((name.replace("_", " "), stats.get(name, 0)) for name in ERROR_FIELDS),
    ):
        summary.add_row(label, str(value))
    state = Text("running")
    if counts.paused:
        state = Text(f"paused ({counts.paused}", style="bold red")
        if counts.paused_since is not None:
            state.append(f", {duration(current.now - counts.paused_since)}")
        state.append(")")
    summary.add_row("state", state)

    workers = Table("worker", "last heartbeat", "state", title="workers", **_BOXED)
    for worker, beat in current.workers:
        age = current.now - beat
        workers.add_row(Text(worker), _ago(age), "alive" if age <= worker_timeout else "gone")
    if not current.workers:
        workers.add_row("(none)", "", "")

    hosts = Table("host", "queued", title="busiest hosts", **_BOXED)
    for host, queued in counts.top_hosts:
        hosts.add_row(Text(host), str(queued))
    if not counts.top_hosts:
        hosts.add_row("(nothing queued)", "")

    errors = Table("when", "worker", "error", title="recent errors", **_BOXED)
    for error in current.errors:  # text from Redis is shown as is, never as markup
        errors.add_row(_ago(current.now - error.time), Text(error.worker), Text(error.message))
    if current.unreadable_errors:
        errors.add_row("", "", f"({current.unreadable_errors} unreadable entries)")
    if not current.errors and not current.unreadable_errors:
        errors.add_row("", "", "(none)")
    return Group(summary, Text(""), workers, hosts, errors)


def run_top(frontier: Frontier, *, interval: float = 1.0, once: bool = False,
            worker_timeout: float = defaults.FRONTIER_WORKER_TIMEOUT, console: Console | None = None) -> int:
    """Show the crawl until Ctrl-C (exit 0), or print one frame with ``once``.

    ``once`` still reads twice, ``interval`` apart, to show rates; it raises
    redis.RedisError when Redis does not answer. The live view keeps its last
    frame and says so while Redis is away.
    """
    console = console or Console()
    spider = frontier.keys.spider

    def frame(current: Snapshot, previous: Snapshot | None, problem: str = "") -> RenderableType:
        shown = render(current, previous, spider=spider, worker_timeout=worker_timeout)
        return Group(Text(problem), shown) if problem else shown

    previous = take_snapshot(frontier, worker_timeout=worker_timeout)
    if once:
        time.sleep(interval)
        console.print(frame(take_snapshot(frontier, worker_timeout=worker_timeout), previous))
        return 0
    try:
        with Live(frame(previous, None), console=console, auto_refresh=False, screen=True) as live:
            while True:
                time.sleep(interval)
                try:
                    current = take_snapshot(frontier, worker_timeout=worker_timeout)
                except redis.RedisError as exc:
                    live.update(frame(previous, None, f"Redis unreachable: {exc}"), refresh=True)
                    continue
                live.update(frame(current, previous), refresh=True)
                previous = current
    except KeyboardInterrupt:
        return 0
