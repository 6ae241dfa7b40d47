"""Bounded dedupe state (issue 12): at most 1 KiB of Redis per stored article, kept for the
dedupe window and then expiring by itself, and near-duplicate recall of at least 0.85 at
the default setting with precision 1.0, all measured through the real ArticleStore.
"""

from __future__ import annotations

import functools
import itertools
import random
from datetime import datetime, timezone

import pytest

from crawler.article.fingerprints import content_hash
from crawler.article.normalize import normalize_article
from crawler.base.keys import Keys
from crawler.store import dedupe
from crawler.store.dedupe import ArticleStore
from tests.support.corpus import CORPUS, EDITS, one_word_changed

KEYS = Keys("news")
NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
DAY = 86_400


def article(body: str, url: str) -> dict:
    return normalize_article({"url": url, "title": "A story", "body": body}, spider="news", now=NOW)


def synthetic(count: int, words: int, seed: int = 12) -> list[dict]:
    """``count`` different articles of ``words`` words drawn from a 20,000-word vocabulary,
    with what the store needs (the state it keeps does not depend on the body's length)."""
    rng = random.Random(seed)
    vocabulary = [f"word{i}" for i in range(20_000)]
    bodies = (" ".join(rng.choices(vocabulary, k=words)) for _ in range(count))
    return [{"canonical_url": f"https://example.com/{i:06d}", "content_hash": content_hash(body),
             "simhash": "0" * 16, "body": body} for i, body in enumerate(bodies)]


def test_dedupe_state_is_at_most_1_kib_per_stored_article(r):
    """Redis memory of 1,000 stored articles once the stream is trimmed (as delivery
    does): everything left is the dedupe state."""
    store = ArticleStore(r, KEYS)
    articles = synthetic(1_000, words=200)
    r.xadd(KEYS.articles, {"article": "{}"})  # the stream exists before and after
    r.xtrim(KEYS.articles, maxlen=0)
    before = r.info("memory")["used_memory"]
    outcomes = [store.store(item) for item in articles]
    assert outcomes == ["stored"] * len(articles)
    r.xtrim(KEYS.articles, maxlen=0)
    per_article = (r.info("memory")["used_memory"] - before) / len(articles)
    assert per_article <= 1024, f"{per_article:.0f} bytes of dedupe state per article"
    print(f"dedupe state: {per_article:.0f} bytes per article")


def test_every_dedupe_key_expires_within_the_window(r):
    store = ArticleStore(r, KEYS, window_days=30)
    for i, body in enumerate(CORPUS[:5]):
        assert store.store(article(body, f"https://example.com/{i}")) == "stored"
    now = r.time()[0]
    for key in r.scan_iter(KEYS.all_patterns()):
        if key in (KEYS.articles, KEYS.stats):
            continue  # the stream is drained by delivery; stats are a handful of counters
        ttl = r.ttl(key)
        # At least 30 days from now, at most 31 (until 30 days after today ends).
        assert 30 * DAY <= ttl <= 31 * DAY, (key, ttl)
        assert r.expiretime(key) % DAY == 0 and r.expiretime(key) > now


def test_an_article_is_remembered_for_the_window_then_forgotten(r):
    """Stored 29 days ago: still a duplicate. Stored 31 days ago: its day's state has
    expired (Redis deleted it by itself), so the same article is new again."""
    now = float(r.time()[0])
    recent = ArticleStore(r, KEYS, window_days=30, clock=lambda: now - 29 * DAY)
    old = ArticleStore(r, KEYS, window_days=30, clock=lambda: now - 31 * DAY)
    today = ArticleStore(r, KEYS, window_days=30, clock=lambda: now)
    kept, forgotten = article(CORPUS[0], "https://example.com/kept"), article(CORPUS[1], "https://example.com/gone")
    assert recent.store(kept) == "stored"
    assert old.store(forgotten) == "stored"
    assert r.exists(old.day_keys()[0]) == 0  # expired the moment it was written
    assert r.exists(recent.day_keys()[0]) == 1
    assert today.store(kept) == "duplicate_url"
    assert today.store(dict(kept, canonical_url="https://example.com/other")) == "duplicate_content"
    near = article(one_word_changed(CORPUS[0]), "https://example.com/near")
    assert today.store(near) == "near_duplicate"
    assert today.store(forgotten) == "stored"


def test_near_duplicate_precision_and_recall_at_the_default_setting(r, monkeypatch):
    """Every pair of the 80 corpus texts (120 of the same story, 3,040 of different ones)
    through the store of a crawl of its own: is the second a duplicate of the first?"""
    monkeypatch.setattr(dedupe, "minhash", functools.lru_cache(maxsize=None)(dedupe.minhash))
    texts = []
    for story, body in enumerate(CORPUS):
        texts.append((story, article(body, "https://example.com/")))
        texts += [(story, article(edit(body), "https://example.com/")) for edit in EDITS.values()]
    tp = fp = fn = tn = 0
    for n, ((s1, a1), (s2, a2)) in enumerate(itertools.combinations(texts, 2)):
        store = ArticleStore(r, Keys(f"pair{n}"))
        assert store.store(dict(a1, canonical_url=f"https://example.com/{n}/a")) == "stored"
        duplicate = store.store(dict(a2, canonical_url=f"https://example.com/{n}/b")) != "stored"
        if s1 == s2:
            tp, fn = tp + duplicate, fn + (not duplicate)
        else:
            fp, tn = fp + duplicate, tn + (not duplicate)
        if n % 500 == 499:
            r.flushall()
    assert tp + fn == 120 and fp + tn == 3040
    assert fp == 0  # precision 1.0
    assert tp / 120 >= 0.85, f"recall {tp / 120:.2f}"


@pytest.mark.parametrize("days", [0, -1])
def test_window_must_be_at_least_a_day(r, days):
    with pytest.raises(ValueError, match="window_days must be at least 1"):
        ArticleStore(r, KEYS, window_days=days)
