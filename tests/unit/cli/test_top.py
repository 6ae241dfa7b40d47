"""``crawler top``'s frame, rendered from snapshots: rates from two frames, messages as text."""

from __future__ import annotations

import os

from rich.console import Console

from crawler.cli.top import RecentError, Snapshot, render
from crawler.frontier.core import FrontierCounts
from tests.support.frames import frame_lines


def _snapshot(taken: float, pages: int, articles: int) -> Snapshot:
    counts = FrontierCounts(queued=0, in_flight=0, seen=0, articles=articles, dead_letters=0,
                            workers_alive=0, stats={"pages": pages}, top_hosts=[])
    return Snapshot(taken=taken, now=1000.0, counts=counts, workers=[], unreadable_errors=0,
                    errors=[RecentError(990.0, "w1", "[bold]not markup[/bold]")])


def test_rates_come_from_two_frames():
    console = Console(width=100, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(render(_snapshot(12.0, 30, 8), _snapshot(10.0, 10, 4)))
    lines = frame_lines(console.export_text())
    assert lines[1:3] == ["pages/s 10.0/s", "articles/s 2.0/s"]
    assert "10.0 s ago w1 [bold]not markup[/bold]" in lines  # messages are text, never markup
    console.print(render(_snapshot(12.0, 30, 8)))
    assert frame_lines(console.export_text())[1:3] == ["pages/s -", "articles/s -"]


def test_a_paused_crawl_says_so():
    console = Console(width=100, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    running = _snapshot(12.0, 30, 8)
    console.print(render(running))
    assert "state running" in frame_lines(console.export_text())
    counts = FrontierCounts(**{**running.counts.__dict__, "paused": "backlog", "paused_since": 880.0})
    paused = Snapshot(**{**running.__dict__, "counts": counts})
    console.print(render(paused))
    assert "state paused (backlog, 2 min)" in frame_lines(console.export_text())
