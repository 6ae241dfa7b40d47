"""``crawler status``: when and why the workers lease nothing (backpressure); durations as every command shows them."""

from __future__ import annotations

import io
import json
import time

import pytest

from crawler.cli.status import duration, render_status, status_dict
from crawler.frontier.core import FrontierCounts

COUNTS = FrontierCounts(queued=40, in_flight=0, seen=50, articles=120, dead_letters=0,
                        workers_alive=2, stats={}, top_hosts=[])


def test_a_running_crawl_is_not_paused():
    assert status_dict(COUNTS)["paused"] is None
    out = io.StringIO()
    render_status(COUNTS, file=out)
    assert "paused" not in out.getvalue()


def test_a_paused_crawl_says_why_and_since_when():
    since = time.time() - 300
    detail = "120 articles not yet delivered, above DELIVER_BACKLOG_MAX (100) [red]x[/]"
    counts = FrontierCounts(**{**COUNTS.__dict__, "paused": "backlog", "paused_since": since,
                               "paused_detail": detail})
    assert status_dict(counts)["paused"] == {"reason": "backlog", "since": since, "detail": detail}
    out = io.StringIO()
    render_status(counts, as_json=True, file=out)
    assert json.loads(out.getvalue())["paused"]["reason"] == "backlog"
    out = io.StringIO()
    render_status(counts, file=out)
    # Text from Redis is shown as it is, never as markup (the cell wraps: whitespace folded).
    assert (
        "paused backlog for 5 min: 120 articles not yet delivered, above DELIVER_BACKLOG_MAX (100) "
        "[red]x[/]; workers lease no new requests until it drains") in " ".join(out.getvalue().split())


@pytest.mark.parametrize(("seconds", "options", "shown"), [
    (-3, {}, "0 s"),  # a clock a little behind another reads as now
    (42.26, {}, "42 s"),
    (42.26, {"tenths": True}, "42.3 s"),  # a heartbeat's age
    (119.9, {"tenths": True}, "119.9 s"),
    (300, {"tenths": True}, "5 min"),
    (3 * 3600, {}, "3.0 h"),
    (3 * 86400, {}, "72.0 h"),
    (3 * 86400, {"days": True}, "3.0 d"),
])
def test_duration(seconds, options, shown):
    assert duration(seconds, **options) == shown
