"""The capture delay rule (crawler/store/freshness.py): only a published time, not a bare date."""

from __future__ import annotations

from crawler.store.freshness import capture_delay, names_a_time


def test_a_bare_date_names_no_time():
    assert names_a_time("2026-05-05T09:30:00-04:00")
    assert names_a_time("2026-05-05T00:00:00-04:00")  # midnight in a named zone is a time
    assert names_a_time("2026-05-05T00:00:01+00:00")
    assert not names_a_time("2026-05-05T00:00:00+00:00")  # what normalization makes of a date
    assert not names_a_time("2026-05-05")
    assert not names_a_time(None) and not names_a_time("soon")


def test_capture_delay():
    article = {"published": "2026-05-05T09:30:00-04:00", "crawled_at": "2026-05-05T13:45:00+00:00"}
    assert capture_delay(article) == 900.0
    assert capture_delay({**article, "published": "2026-05-05T00:00:00+00:00"}) is None
    assert capture_delay({**article, "crawled_at": None}) is None
    assert capture_delay({"crawled_at": "2026-05-05T13:45:00+00:00"}) is None
