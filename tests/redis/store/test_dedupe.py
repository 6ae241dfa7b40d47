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
from crawler.store.dedupe import MAX_BAND_IDS, ArticleStore, band_fields
from crawler.store.export import iter_articles
from crawler.article.fingerprints import (
    BANDS,
    NUM_PERM,
    bbit_signature,
    estimated_jaccard,
    minhash,
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


@pytest.fixture
def raw(redis_url):
    """A client that returns bytes: the dedupe hash's fields and values are binary."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def _id(text: str) -> bytes:
    return dedupe._id(text)


# --- ArticleStore -------------------------------------------------------------


def test_store_outcomes(store, r, raw):
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
    # One hash for today, holding per stored article its URL, its id with its b-bit
    # signature, and its id under each of its band fields; expiring 30 days after today.
    today = store.day_keys()[0]
    assert today == f"crawler:{{news}}:dedupe:{dedupe.day_of(store.clock())}"
    expected = {}
    for stored in (first, unrelated):
        signature = minhash(stored["body"])
        expected[b"u" + _id(stored["canonical_url"])] = b""
        expected[b"c" + _id(stored["content_hash"])] = bbit_signature(signature)
        for field in band_fields(signature):
            expected[field] = expected.get(field, b"") + _id(stored["content_hash"])
    assert len(expected) == 2 * (2 + BANDS)
    assert raw.hgetall(today) == expected
    assert raw.expiretime(today) == store.expires_at()
    assert set(r.keys(KEYS.all_patterns())) == {KEYS.articles, KEYS.stats, today}


def test_band_fields():
    signature = minhash(CORPUS[3])
    fields = band_fields(signature)
    assert [field[0] for field in fields] == list(range(BANDS))
    assert all(len(field) == 5 for field in fields)


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
    """``signature`` with the values at ``positions`` replaced by new ones (whose
    low 4 bits differ too)."""
    values = list(signature)
    for i in positions:
        values[i] += 10_001
    return tuple(values)


def fake(name: str) -> dict:
    """An article whose body ``name`` has its signature in the ``signatures`` fixture."""
    return dict(article(CORPUS[0], f"https://example.com/{name}"), body=name,
                content_hash=f"hash-{name}")


def test_near_duplicate_threshold_is_exact(signatures, store, r):
    """0.65 means 86 of 128 equal 4-bit values: (86/128 - 1/16) / (15/16) = 0.65."""
    signatures["base"] = BASE
    signatures["86 equal"] = changed(BASE, range(16, 58))  # no band differs
    signatures["85 equal"] = changed(BASE, range(16, 59))
    assert store.store(fake("base")) == "stored"
    assert store.store(fake("86 equal")) == "near_duplicate"
    assert store.store(fake("85 equal")) == "stored"
    strict = ArticleStore(r, KEYS, threshold=1.0)
    signatures["same signature"] = BASE
    signatures["one value differs"] = changed(BASE, [127])
    assert strict.store(fake("one value differs")) == "stored"
    assert strict.store(fake("same signature")) == "near_duplicate"


def test_near_duplicate_found_through_a_single_shared_band(signatures, store):
    """Candidates come from the bands (8 of 2 values, the first 16 values): a pair
    sharing one band is compared, a pair sharing none is missed however close."""
    signatures["base"] = BASE
    signatures["band 0 shared"] = changed(BASE, range(3, 16, 2))  # 121 equal
    signatures["no band shared"] = changed(BASE, range(1, 16, 2))  # 120 equal
    assert store.store(fake("base")) == "stored"
    assert store.store(fake("band 0 shared")) == "near_duplicate"
    assert store.store(fake("no band shared")) == "stored"


def test_most_similar_candidates_are_compared_first_and_the_cap_is_counted(signatures, r):
    capped = ArticleStore(r, KEYS, max_candidates=2)
    signatures["new"] = BASE
    # Three decoys sharing band 0 only with "new" (2 equal values each)...
    for i in range(3):
        signatures[f"decoy {i}"] = BASE[:2] + tuple(v + 50_001 * (i + 1) for v in BASE[2:])
        assert capped.store(fake(f"decoy {i}")) == "stored"
    # ...and the match (122 equal values), sharing bands 6 and 7 but not band 0,
    # so that band order alone would compare the decoys first.
    signatures["match"] = changed(BASE, range(0, 12, 2))
    assert capped.store(fake("match")) == "stored"
    assert r.hgetall(KEYS.stats) == {"articles_stored": "4"}
    assert capped.store(fake("new")) == "near_duplicate"
    assert r.hgetall(KEYS.stats) == {
        "articles_stored": "4",
        "near_duplicate": "1",
        "near_duplicate_candidates_capped": "1",
    }


def test_at_most_max_candidates_are_compared(signatures, r, raw):
    capped = ArticleStore(r, KEYS, max_candidates=3)
    signatures["new"] = BASE
    today, fields = capped.day_keys()[0], band_fields(BASE)
    # Ids without a signature: each comparison counts as invalid.
    raw.hset(today, fields[5], b"junk-001junk-002")
    raw.hset(today, fields[6], b"junk-002junk-003junk-004")
    assert capped.store(fake("new")) == "stored"
    assert r.hgetall(KEYS.stats) == {
        "articles_stored": "1",
        "near_duplicate_candidates_capped": "1",
        "near_duplicate_candidates_invalid": "3",
    }


def test_a_crowded_band_keeps_its_newest_ids(signatures, store, r, raw):
    signatures["new"] = BASE
    today, crowded = store.day_keys()[0], band_fields(BASE)[5]
    junk = [b"junk%04d" % i for i in range(500)]  # ids without a signature
    raw.hset(today, crowded, b"".join(junk))
    assert store.store(fake("new")) == "stored"
    assert r.hgetall(KEYS.stats) == {
        "articles_stored": "1",
        "near_duplicate_candidates_capped": "1",
        "near_duplicate_candidates_invalid": "200",
    }
    # The band field keeps the newest MAX_BAND_IDS ids, the new article's last.
    assert raw.hget(today, crowded) == b"".join(junk[-(MAX_BAND_IDS - 1):]) + _id("hash-new")


def test_a_corrupt_signature_is_skipped_and_counted(store, r, raw):
    first = article(CORPUS[4], "https://example.com/a")
    assert store.store(first) == "stored"
    raw.hset(store.day_keys()[0], b"c" + _id(first["content_hash"]), b"not a signature")
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
        MEASURED[0.65][1]
    )
    assert all(set(results) <= {"stored", "near_duplicate"} for results in outcomes.values())
    assert r.hgetall(KEYS.stats) == {"articles_stored": "20", "near_duplicate": "60"}
    assert r.xlen(KEYS.articles) == 20
