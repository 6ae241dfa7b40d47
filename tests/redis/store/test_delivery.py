"""crawler.store.delivery's Deliverer against the session's Redis, with the file sink: every
article delivered once per group, acknowledged only when durable, trimmed once every group has
it, dead consumers' entries claimed, interrupted files recovered."""

from __future__ import annotations

import gzip
import json
import threading
import time

import pytest

from crawler.base.keys import Keys
from crawler.frontier.core import Frontier
from crawler.store.delivery import Deliverer, DeliveryConfig, delivery_status, ensure_group
from crawler.store.export import iter_articles
from crawler.store.sinks import FileSink, Sink
from tests.support.articles import store_articles, synthetic_article

KEYS = Keys("news")
FAST = DeliveryConfig(batch=50, claim_idle_seconds=0.3, file_max_seconds=0.2, file_max_bytes=1 << 20)


def _sink(path, **kwargs) -> FileSink:
    options = {"max_bytes": 1 << 20, "max_seconds": 60, "stale_seconds": 120, **kwargs}
    return FileSink(path, **options)


def _lines(directory) -> list[dict]:
    rows = []
    for path in sorted(directory.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            rows += [json.loads(line) for line in lines]
    return rows


def _deliver(r, directory, group="files", config=FAST, **kwargs):
    deliverer = Deliverer(r, KEYS, _sink(directory, **kwargs), group=group, config=config,
                          block_seconds=0.05)
    return deliverer.run(until_idle=0.3)


def _urls(rows) -> list[str]:
    return sorted(row["canonical_url"] for row in rows)


def test_every_article_is_delivered_once_then_trimmed(r, tmp_path):
    articles = store_articles(r, KEYS, range(120))
    report = _deliver(r, tmp_path, max_bytes=20_000)
    assert (report.acknowledged, report.trimmed, report.claimed, report.unacknowledged) == (120, 120, 0, 0)
    rows = _lines(tmp_path)
    assert [{k: v for k, v in row.items() if k != "_stream_id"} for row in rows] == articles
    assert len({row["_stream_id"] for row in rows}) == 120
    assert len(list(tmp_path.glob("*.jsonl.gz"))) > 1  # rotated by size
    assert r.xlen(KEYS.articles) == 0
    assert Frontier(r, KEYS).counts().articles == 120  # trimmed ones still count as stored
    status = delivery_status(r, KEYS)
    assert (status.groups["files"].delivered, status.groups["files"].backlog, status.undelivered) == (120, 0, 0)
    # What arrives later is delivered by the next run, into new files.
    store_articles(r, KEYS, range(120, 125))
    assert _deliver(r, tmp_path).acknowledged == 5
    assert _urls(_lines(tmp_path)) == sorted(a["canonical_url"] for a in articles
                                             + [synthetic_article(n) for n in range(120, 125)])


def test_two_groups_each_get_everything_and_trimming_waits_for_both(r, tmp_path):
    store_articles(r, KEYS, range(30))
    ensure_group(r, KEYS, "b")  # b exists, has read nothing yet
    assert _deliver(r, tmp_path / "a", group="a").trimmed == 0
    assert r.xlen(KEYS.articles) == 30
    assert list(iter_articles(r, KEYS))  # crawler export still sees them all
    report = _deliver(r, tmp_path / "b", group="b")
    assert (report.acknowledged, report.trimmed) == (30, 30)
    assert _urls(_lines(tmp_path / "a")) == _urls(_lines(tmp_path / "b")) == sorted(
        synthetic_article(n)["canonical_url"] for n in range(30))
    assert r.xlen(KEYS.articles) == 0


def test_trimming_stops_at_the_oldest_entry_a_group_still_has_pending(r, tmp_path):
    store_articles(r, KEYS, range(10))
    ensure_group(r, KEYS, "files")
    # A consumer of "files" read the first 3 and is still writing them.
    held = r.xreadgroup("files", "busy", {KEYS.articles: ">"}, count=3)[0][1]
    slow = DeliveryConfig(batch=50, claim_idle_seconds=60, file_max_seconds=0.2)
    report = _deliver(r, tmp_path, config=slow)
    assert (report.acknowledged, report.trimmed) == (7, 0)
    assert r.xlen(KEYS.articles) == 10
    r.xack(KEYS.articles, "files", *[entry_id for entry_id, _ in held])
    assert _deliver(r, tmp_path, config=slow).trimmed == 10


def test_without_any_group_nothing_is_trimmed(r):
    store_articles(r, KEYS, range(4))
    from crawler.base import lua

    assert lua.register(r, "DELIVERED", KEYS)(["nobody"]) == [0, 0]
    assert r.xlen(KEYS.articles) == 4


def test_a_dead_consumers_entries_are_claimed_and_delivered_once(r, tmp_path):
    store_articles(r, KEYS, range(20))
    ensure_group(r, KEYS, "files")
    r.xreadgroup("files", "dead", {KEYS.articles: ">"}, count=5)  # then it died
    time.sleep(0.35)  # past claim_idle_seconds
    report = _deliver(r, tmp_path)
    assert (report.acknowledged, report.claimed) == (20, 5)
    assert _urls(_lines(tmp_path)) == sorted(synthetic_article(n)["canonical_url"] for n in range(20))
    assert r.xpending(KEYS.articles, "files")["pending"] == 0


def test_a_file_finished_before_a_crash_is_published_and_not_written_again(r, tmp_path):
    store_articles(r, KEYS, range(12))
    ensure_group(r, KEYS, "files")
    entries = r.xreadgroup("files", "dead", {KEYS.articles: ">"}, count=4)[0][1]
    crashed = _sink(tmp_path, max_bytes=1)
    crashed.open("files", "dead")
    crashed.write([(entry_id, fields["article"]) for entry_id, fields in entries])  # complete, hidden
    # ... and the process died before acknowledging: its entries are pending, its file hidden.
    assert list(tmp_path.glob("*.jsonl.gz")) == []
    time.sleep(0.35)
    report = _deliver(r, tmp_path)
    assert (report.acknowledged, report.claimed) == (12, 0)  # 4 recovered, 8 read
    rows = _lines(tmp_path)
    assert len(rows) == 12 and _urls(rows) == sorted(synthetic_article(n)["canonical_url"] for n in range(12))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_stop_finishes_the_file_and_acknowledges_it(r, tmp_path):
    store_articles(r, KEYS, range(10))
    stop = threading.Event()
    deliverer = Deliverer(r, KEYS, _sink(tmp_path), group="files",
                          config=DeliveryConfig(batch=5), block_seconds=0.05)
    thread = threading.Thread(target=deliverer.run, args=(stop,))
    thread.start()
    deadline = time.monotonic() + 10
    while r.xpending(KEYS.articles, "files")["pending"] < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(tmp_path.glob("*.jsonl.gz")) == []  # file still open, entries pending
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    assert len(_lines(tmp_path)) == 10
    assert deliverer.report.acknowledged == 10 and r.xlen(KEYS.articles) == 0
    # Its consumer is gone from the group, holding nothing.
    assert r.xinfo_consumers(KEYS.articles, "files") == []


class _Flaky(Sink):
    """Fails its first two writes, then keeps what it is given."""

    description = "flaky"

    def __init__(self):
        self.failures = 2
        self.kept: list[str] = []

    def write(self, entries):
        if self.failures:
            self.failures -= 1
            raise OSError("disk full")
        self.kept += [entry_id for entry_id, _ in entries]
        return [entry_id for entry_id, _ in entries]


def test_a_failing_sink_is_retried_and_nothing_is_acknowledged_before_it_holds_it(r, caplog):
    store_articles(r, KEYS, range(3))
    sink = _Flaky()
    report = Deliverer(r, KEYS, sink, group="flaky", block_seconds=0.05).run(until_idle=0.2)
    assert report.acknowledged == 3 and len(sink.kept) == 3
    assert caplog.text.count("Sink flaky failed, retrying") == 2


def test_entries_that_are_no_article_are_skipped_and_acknowledged(r, tmp_path, caplog):
    store_articles(r, KEYS, range(2))
    r.xadd(KEYS.articles, {"article": "{not json"})
    r.xadd(KEYS.articles, {"other": "x"})
    report = _deliver(r, tmp_path)
    assert report.acknowledged == 4 and r.xlen(KEYS.articles) == 0
    assert len(_lines(tmp_path)) == 2
    assert caplog.text.count("not a JSON object") == 2


@pytest.mark.parametrize("group", ["files"])
def test_undelivered_counts_what_a_file_holds_open(r, tmp_path, group):
    """Entries in a file not yet complete are pending: they still count as undelivered."""
    store_articles(r, KEYS, range(6))
    stop = threading.Event()
    deliverer = Deliverer(r, KEYS, _sink(tmp_path), group=group, config=DeliveryConfig(batch=6),
                          block_seconds=0.05)
    thread = threading.Thread(target=deliverer.run, args=(stop,))
    thread.start()
    deadline = time.monotonic() + 10
    while r.xpending(KEYS.articles, group)["pending"] < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert delivery_status(r, KEYS).undelivered == 6
    stop.set()
    thread.join(10)
    assert delivery_status(r, KEYS).undelivered == 0
