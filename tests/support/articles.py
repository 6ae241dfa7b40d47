"""Synthetic stored articles for the delivery tests and benchmarks: normalized articles with
distinct bodies, stored through the real :class:`~crawler.store.dedupe.ArticleStore`."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from crawler.article.normalize import normalize_article
from crawler.store.dedupe import ArticleStore

NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
_WORDS = ("council budget storm harbor library election court river market school museum bridge "
          "festival hospital station airport factory village orchestra stadium senator report "
          "weather railway vaccine glacier theater drought farmer minister treaty").split()


def synthetic_article(n: int, words: int = 120, *, host: str = "news.example") -> dict:
    """Article ``n``: a normalized article at ``https://<host>/story/<n>`` whose body of about
    ``words`` words is its own (seeded by ``n``), so no two are near-duplicates."""
    rng = random.Random(n)
    sentences = []
    while sum(len(s.split()) for s in sentences) < words:
        sentences.append(" ".join(rng.choice(_WORDS) for _ in range(11)).capitalize() + f" {n}-{len(sentences)}.")
    paragraphs = ["  ".join(sentences[i:i + 4]) for i in range(0, len(sentences), 4)]
    return normalize_article({
        "url": f"https://{host}/story/{n}", "title": f"Story number {n}",
        "authors": "Ann Lee and Bo Chen", "published": f"2024-05-{1 + n % 28:02d}T10:00:00Z",
        "body": "\n\n".join(paragraphs), "section": "city",
        "related": [{"url": f"https://{host}/story/{n + 1}", "title": "Next"}],
    }, spider="news", now=NOW)


def store_articles(client, keys, numbers, words: int = 120) -> list[dict]:
    """Store the synthetic articles ``numbers`` through the article store; return them."""
    store = ArticleStore(client, keys, check_duplicates=False)
    stored = []
    for n in numbers:
        article = synthetic_article(n, words)
        assert store.store(article) == "stored"
        stored.append(article)
    return stored
