"""``crawler status`` says when, and why, the workers lease nothing (backpressure)."""

from __future__ import annotations

import io
import json
import time

from crawler.cli.status import render_status, status_dict
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
