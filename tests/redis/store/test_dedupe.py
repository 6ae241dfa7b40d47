"""crawler.store.dedupe: the atomic ArticleStore, reading the stream back.

The store is exercised with the corpus of ``tests/support/corpus.py``; the last
test repeats the near-duplicate measurement of
``tests/unit/article/test_fingerprints.py`` through Redis.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from crawler.store import dedupe
from crawler.store.dedupe import ArticleStore
from crawler.store.export import iter_articles
from crawler.article.fingerprints import (
    BANDS,
    NUM_PERM,
    estimated_jaccard,
    minhash,
    minhash_bands,
    minhash_hex,
)
from crawler.base.keys import Keys
from crawler.article.normalize import normalize_article
from tests.support.corpus import CORPUS, EDITS, MEASURED, one_word_changed

KEYS = Keys("news")
NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)


def article(body: str, url: str) -> dict:
    """A normalized article with ``body`` at ``url``."""
    return normalize_article(
        {"url": url, "title": "A story", "body": body}, spider="news", now=NOW
    )


@pytest.fixture
def store(r):
    return ArticleStore(r, KEYS)


# --- ArticleStore -------------------------------------------------------------


def test_store_outcomes(store, r):
    first = article(CORPUS[0], "https://example.com/a")
    assert store.store(first) == "stored"

    # Same canonical URL (tracking parameters dropped), different body.
    same_url = article(CORPUS[1], "https://EXAMPLE.com/a?utm_source=x")
    assert store.store(same_url) == "duplicate_url"

    # Same body modulo whitespace and punctuation, another URL.
    same_body = article(CORPUS[0].replace(",", "").replace("\n\n", "\n\n\n"), "https://example.com/b")
    assert store.store(same_body) == "duplicate_content"

    # One word changed.
    near = article(one_word_changed(CORPUS[0]), "https://example.com/c")
    assert estimated_jaccard(minhash(near["body"]), minhash(first["body"])) == 124 / 128
    assert store.store(near) == "near_duplicate"

    unrelated = article(CORPUS[1], "https://example.com/d")
    assert store.store(unrelated) == "stored"

    assert [a["url"] for a in iter_articles(r, KEYS)] == [
        "https://example.com/a",
        "https://example.com/d",
    ]
    assert r.hgetall(KEYS.stats) == {
        "articles_stored": "2",
        "duplicate_url": "1",
        "duplicate_content": "1",
        "near_duplicate": "1",
    }
    assert r.smembers(KEYS.dedupe_url) == {"https://example.com/a", "https://example.com/d"}
    assert r.smembers(KEYS.dedupe_content) == {first["content_hash"], unrelated["content_hash"]}
    assert r.hgetall(KEYS.minhash_signatures) == {
        stored["content_hash"]: minhash_hex(minhash(stored["body"]))
        for stored in (first, unrelated)
    }
    band_keys = {}
    for stored in (first, unrelated):
        for key in store.band_keys(minhash(stored["body"])):
            band_keys.setdefault(key, set()).add(stored["content_hash"])
    assert len(band_keys) == 2 * BANDS
    assert {key: r.smembers(key) for key in band_keys} == band_keys
    assert set(r.keys(KEYS.all_patterns())) == {
        KEYS.dedupe_url, KEYS.dedupe_content, KEYS.articles, KEYS.stats,
        KEYS.minhash_signatures, *band_keys,
    }


def test_band_keys(store):
    signature = minhash(CORPUS[3])
    assert store.band_keys(signature) == [
        f"crawler:{{news}}:minhash:{band}:{digest}"
        for band, digest in enumerate(minhash_bands(signature))
    ]


def test_store_round_trips_the_article_exactly(store, r):
    stored = article("Ünïcödé — text “quoted” 東京 " * 20, "https://example.com/u")
    assert store.store(stored) == "stored"
    assert list(iter_articles(r, KEYS)) == [stored]


@pytest.fixture
def signatures(monkeypatch):
    """Makes ArticleStore see ``signatures[body]`` as the MinHash of ``body``."""
    table: dict[str, tuple[int, ...]] = {}
    monkeypatch.setattr(dedupe, "minhash", table.__getitem__)
    return table


BASE = tuple(range(1000, 1000 + NUM_PERM))


def changed(signature: tuple[int, ...], positions) -> tuple[int, ...]:
    """``signature`` with the values at ``positions`` replaced by new ones."""
    values = list(signature)
    for i in positions:
        values[i] += 10_000
    return tuple(values)


def fake(name: str) -> dict:
    """An article whose body ``name`` has its signature in the ``signatures`` fixture."""
    return dict(article(CORPUS[0], f"https://example.com/{name}"), body=name,
                content_hash=f"hash-{name}")


def test_near_duplicate_threshold_is_exact(signatures, store, r):
    """0.8 means 103 of 128 equal values (102/128 = 0.797)."""
    signatures["base"] = BASE
    signatures["103 equal"] = changed(BASE, range(0, 100, 4))  # 25 bands differ
    signatures["102 equal"] = changed(BASE, range(1, 105, 4))  # 26 bands differ
    assert store.store(fake("base")) == "stored"
    assert store.store(fake("103 equal")) == "near_duplicate"
    assert store.store(fake("102 equal")) == "stored"
    strict = ArticleStore(r, KEYS, threshold=1.0)
    signatures["same signature"] = BASE
    signatures["one value differs"] = changed(BASE, [127])
    assert strict.store(fake("one value differs")) == "stored"
    assert strict.store(fake("same signature")) == "near_duplicate"


def test_near_duplicate_found_through_a_single_shared_band(signatures, r):
    """Above a threshold of 0.75 every match shares a band; at 0.75 a pair
    with one value changed in every band shares none and is missed."""
    loose = ArticleStore(r, KEYS, threshold=0.75)
    signatures["base"] = BASE
    signatures["band 0 shared"] = changed(BASE, range(4, NUM_PERM, 4))  # 97 equal
    signatures["no band shared"] = changed(BASE, range(0, NUM_PERM, 4))  # 96 equal
    assert loose.store(fake("base")) == "stored"
    assert loose.store(fake("band 0 shared")) == "near_duplicate"
    assert loose.store(fake("no band shared")) == "stored"


def test_most_similar_candidates_are_compared_first_and_the_cap_is_counted(signatures, r):
    capped = ArticleStore(r, KEYS, max_candidates=2)
    signatures["new"] = BASE
    # Three decoys sharing band 0 only with "new" (4 equal values each)...
    for i in range(3):
        signatures[f"decoy {i}"] = BASE[:4] + tuple(v + 50_000 * (i + 1) for v in BASE[4:])
        assert capped.store(fake(f"decoy {i}")) == "stored"
    # ...and the match (122 equal values), sharing bands 6-31 but not band 0,
    # so that band order alone would compare the decoys first.
    signatures["match"] = changed(BASE, range(0, 24, 4))
    assert capped.store(fake("match")) == "stored"
    assert r.hgetall(KEYS.stats) == {"articles_stored": "4"}
    assert capped.store(fake("new")) == "near_duplicate"
    assert r.hgetall(KEYS.stats) == {
        "articles_stored": "4",
        "near_duplicate": "1",
        "near_duplicate_candidates_capped": "1",
    }


def test_at_most_max_candidates_are_compared(signatures, r):
    capped = ArticleStore(r, KEYS, max_candidates=3)
    signatures["new"] = BASE
    band_keys = capped.band_keys(BASE)
    # Ids without a signature: each comparison counts as invalid.
    r.sadd(band_keys[5], "junk-1", "junk-2")
    r.sadd(band_keys[6], "junk-2", "junk-3", "junk-4")
    assert capped.store(fake("new")) == "stored"
    assert r.hgetall(KEYS.stats) == {
        "articles_stored": "1",
        "near_duplicate_candidates_capped": "1",
        "near_duplicate_candidates_invalid": "3",
    }


def test_a_crowded_band_is_sampled(signatures, store, r):
    signatures["new"] = BASE
    crowded = store.band_keys(BASE)[5]
    r.sadd(crowded, *[f"junk-{i}" for i in range(500)])  # ids without a signature
    assert store.store(fake("new")) == "stored"
    assert r.hgetall(KEYS.stats) == {
        "articles_stored": "1",
        "near_duplicate_candidates_capped": "1",
        "near_duplicate_candidates_invalid": "200",
    }
    assert r.scard(crowded) == 501


def test_a_corrupt_signature_is_skipped_and_counted(store, r):
    first = article(CORPUS[4], "https://example.com/a")
    assert store.store(first) == "stored"
    r.hset(KEYS.minhash_signatures, first["content_hash"], "not a signature")
    near = article(one_word_changed(CORPUS[4]), "https://example.com/b")
    assert store.store(near) == "stored"
    assert r.hgetall(KEYS.stats) == {
        "articles_stored": "2",
        "near_duplicate_candidates_invalid": "1",
    }


@pytest.mark.parametrize("threshold", [0, -0.5, 1.01, float("nan")])
def test_threshold_out_of_range(r, threshold):
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\]"):
        ArticleStore(r, KEYS, threshold=threshold)


def test_max_candidates_out_of_range(r):
    with pytest.raises(ValueError, match="max_candidates must be at least 1, got 0"):
        ArticleStore(r, KEYS, max_candidates=0)


def test_store_without_checks_stores_everything_and_still_indexes(r):
    unchecked = ArticleStore(r, KEYS, check_duplicates=False)
    item = article(CORPUS[4], "https://example.com/a")
    assert unchecked.store(item) == "stored"
    assert unchecked.store(item) == "stored"
    assert r.xlen(KEYS.articles) == 2
    assert ArticleStore(r, KEYS).store(item) == "duplicate_url"
    near = article(one_word_changed(CORPUS[4]), "https://example.com/b")
    assert ArticleStore(r, KEYS).store(near) == "near_duplicate"


def test_store_rejects_articles_without_fingerprints(store, r):
    good = article(CORPUS[5], "https://example.com/a")
    for field, value in [("canonical_url", None), ("content_hash", ""), ("simhash", "xyz"),
                         ("body", None)]:
        with pytest.raises(ValueError):
            store.store(dict(good, **{field: value}))
    assert r.xlen(KEYS.articles) == 0
    assert r.hgetall(KEYS.stats) == {}


def test_store_works_without_decode_responses(redis_url):
    client = redis.Redis.from_url(redis_url)
    try:
        raw_store = ArticleStore(client, KEYS)
        item = article(CORPUS[6], "https://example.com/a")
        assert raw_store.store(item) == "stored"
        assert raw_store.store(item) == "duplicate_url"
        assert list(iter_articles(client, KEYS)) == [item]
    finally:
        client.close()


def test_store_raises_when_redis_is_down():
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5,
                         retry=Retry(NoBackoff(), 0))
    with pytest.raises(redis.ConnectionError):
        ArticleStore(client, KEYS).store(article(CORPUS[7], "https://example.com/a"))


def test_a_failed_store_indexes_nothing(store, r):
    """If the article cannot be appended, it is not marked as seen either, so a
    retry stores it."""
    item = article(CORPUS[9], "https://example.com/a")
    r.set(KEYS.articles, "not a stream")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        store.store(item)
    assert r.keys(KEYS.all_patterns()) == [KEYS.articles]
    r.delete(KEYS.articles)
    assert store.store(item) == "stored"


@pytest.mark.parametrize(
    ("make", "duplicate"),
    [
        (lambda i: article(CORPUS[8], "https://example.com/same"), "duplicate_url"),
        (lambda i: article(CORPUS[8], f"https://example.com/{i}"), "duplicate_content"),
        (
            # CORPUS[0] and its one-word edit: estimated Jaccard similarity 124/128.
            lambda i: article(CORPUS[0] if i == 0 else one_word_changed(CORPUS[0]) + "!" * i,
                              f"https://example.com/{i}"),
            None,  # content or near duplicate, depending on which thread wins
        ),
    ],
)
def test_concurrent_stores_store_once(redis_url, make, duplicate):
    threads = 8
    items = [make(i) for i in range(threads)]
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        client = redis.Redis.from_url(redis_url, decode_responses=True)
        try:
            worker_store = ArticleStore(client, KEYS)
            barrier.wait()
            outcome = worker_store.store(items[i])
            with lock:
                outcomes.append(outcome)
        finally:
            client.close()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(30)
    assert len(outcomes) == threads
    assert outcomes.count("stored") == 1
    if duplicate is not None:
        assert outcomes.count(duplicate) == threads - 1
    else:
        assert set(outcomes) - {"stored"} <= {"duplicate_content", "near_duplicate"}
    check = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert check.xlen(KEYS.articles) == 1
        stats = check.hgetall(KEYS.stats)
        assert stats["articles_stored"] == "1"
        assert sum(int(v) for k, v in stats.items() if k != "articles_stored") == threads - 1
    finally:
        check.close()


# --- iter_articles ------------------------------------------------------------


def test_iter_articles_skips_corrupt_entries_and_reads_in_batches(store, r, caplog):
    stored = []
    for i in range(5):
        item = article(CORPUS[i], f"https://example.com/{i}")
        assert store.store(item) == "stored"
        stored.append(item)
        if i == 1:
            bad_json = r.xadd(KEYS.articles, {"article": "{not json"})
            not_object = r.xadd(KEYS.articles, {"article": "[1, 2]"})
            no_field = r.xadd(KEYS.articles, {"other": "{}"})
    skipped: list[str] = []
    with caplog.at_level("WARNING", logger="crawler.store.export"):
        result = list(iter_articles(r, KEYS, batch=2, skipped=skipped))
    assert result == stored
    assert skipped == [bad_json, not_object, no_field]
    assert len([rec for rec in caplog.records if "Skipping stream entry" in rec.message]) == 3


def test_iter_articles_of_an_empty_stream(r):
    assert list(iter_articles(r, KEYS)) == []


@pytest.mark.parametrize("batch", [1, 3, 500])
def test_iter_articles_batch_boundaries(store, r, batch):
    for i in range(6):
        assert store.store(article(CORPUS[i], f"https://example.com/{i}")) == "stored"
    assert [a["url"] for a in iter_articles(r, KEYS, batch=batch)] == [
        f"https://example.com/{i}" for i in range(6)
    ]


# --- near-duplicate precision and recall, through Redis ---------------------


def test_near_duplicate_store_end_to_end(store, r):
    """The same measurement through ArticleStore: originals first, then variants."""
    for story, body in enumerate(CORPUS):
        assert store.store(article(body, f"https://example.com/{story}")) == "stored"
    outcomes = {edit: [] for edit in EDITS}
    for story, body in enumerate(CORPUS):
        for edit, func in EDITS.items():
            outcomes[edit].append(store.store(article(func(body), f"https://example.com/{story}/{edit}")))
    # Stored variants are candidates for later ones too; on this corpus that
    # adds no match beyond the original-variant ones.
    assert {edit: results.count("near_duplicate") for edit, results in outcomes.items()} == (
        MEASURED[0.8][1]
    )
    assert all(set(results) <= {"stored", "near_duplicate"} for results in outcomes.values())
    assert r.hgetall(KEYS.stats) == {"articles_stored": "31", "near_duplicate": "49"}
    assert r.xlen(KEYS.articles) == 31
