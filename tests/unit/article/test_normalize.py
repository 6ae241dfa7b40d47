"""crawler.article.normalize: bodies, dates and the stored article (the text rules: tests/test_text.py)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from crawler.article.fingerprints import content_hash, simhash, simhash_hex
from crawler.article.normalize import ARTICLE_FIELDS, clean_body, normalize_article, to_iso8601

# --- clean_body ---------------------------------------------------------------


def test_clean_body_drops_boilerplate_repeats_and_empty_paragraphs():
    body = "\n\n".join(
        [
            "The council met on Tuesday.",
            "You will be redirected back to your article in seconds",
            "×",
            "Access exclusive content",
            "Subscribe now",
            "Sign up for our newsletter",
            "SIGN UP FOR OUR DAILY NEWSLETTER!",
            "We use cookies to give you the best experience. By continuing you agree.",
            "Accept all cookies",
            "Advertisement",
            "Share this article",
            "   ",
            "The  council met on Tuesday.",  # a repeat once whitespace is folded
            "It voted &amp; adjourned.",
        ]
    )
    assert clean_body(body) == "The council met on Tuesday.\n\nIt voted & adjourned."


def test_clean_body_keeps_names_repeated_in_several_lists():
    body = "\n\n".join(["Album of the Year", "Raye", "Blur", "Artist of the Year", "Raye", "Dua Lipa",
                        "Both lists are long this year, the organisers said.",
                        "Both lists are long this year, the organisers said.",
                        "A pull quote shown twice in the page", "A pull quote shown twice in the page"])
    assert clean_body(body).split("\n\n") == [
        "Album of the Year", "Raye", "Blur", "Artist of the Year", "Raye", "Dua Lipa",
        "Both lists are long this year, the organisers said.", "A pull quote shown twice in the page"]


def test_clean_body_drops_boilerplate_lines_inside_a_paragraph():
    body = "First line of text\nADVERTISEMENT\nsecond line.\r\n\r\n\n\nNext paragraph."
    assert clean_body(body) == "First line of text second line.\n\nNext paragraph."


def test_clean_body_keeps_sentences_that_only_mention_boilerplate_words():
    body = (
        "Readers who subscribe now get a discount, the publisher said.\n\n"
        "The advertisement was pulled after complaints.\n\n"
        "Share this article with care, the campaign urges."
    )
    assert clean_body(body) == body


def test_clean_body_of_nothing():
    assert clean_body(None) == ""
    assert clean_body("\n\nAdvertisement\n\n") == ""


# --- to_iso8601 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2017-11-14T09:30:00-08:00", "2017-11-14T09:30:00-08:00"),
        ("2017-11-14T09:30:00Z", "2017-11-14T09:30:00+00:00"),
        ("2017-11-14T09:30:00.123456+05:30", "2017-11-14T09:30:00+05:30"),
        ("2017-11-14T09:30:00+0100", "2017-11-14T09:30:00+01:00"),
        ("2017-11-14T09:30:00", "2017-11-14T09:30:00+00:00"),
        ("2017-11-14 09:30", "2017-11-14T09:30:00+00:00"),
        ("2017-11-14", "2017-11-14T00:00:00+00:00"),
        ("Tue, 14 Nov 2017 09:30:00 -0800", "2017-11-14T09:30:00-08:00"),
        ("Tue, 14 Nov 2017 09:30:00 GMT", "2017-11-14T09:30:00+00:00"),
        ("Tue, 14 Nov 2017 09:30:00 EST", "2017-11-14T09:30:00-05:00"),
        ("Tue, 14 Nov 2017 09:30:00 -0000", "2017-11-14T09:30:00+00:00"),
        ("November 14, 2017", "2017-11-14T00:00:00+00:00"),
        ("14 November 2017 09:30 CET", "2017-11-14T09:30:00+01:00"),
        ("Published: November 14, 2017 9:30 AM PST", "2017-11-14T09:30:00-08:00"),
        ("Updated 9:30 PM EDT, Tue November 14, 2017", "2017-11-14T21:30:00-04:00"),
        ("  2017-11-14T09:30:00Z\n", "2017-11-14T09:30:00+00:00"),
    ],
)
def test_to_iso8601(raw, expected):
    assert to_iso8601(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "yesterday-ish",
        "Nov 2017",  # no day: not guessed
        "1510680600",  # a bare number
        "14 Nov 2017 09:30 XYZ",  # a zone we do not know: the offset would be a guess
        "0001-01-01",  # placeholder dates
        "2017-13-45",
    ],
)
def test_to_iso8601_unparseable(raw):
    assert to_iso8601(raw) is None


# --- normalize_article --------------------------------------------------------

NOW = datetime(2024, 5, 6, 7, 8, 9, 999, tzinfo=timezone.utc)


def _extracted(**overrides):
    item = {
        "url": "https://www.example.com/news/story-1?utm_source=feed#top",
        "canonical_url": "/news/story-1",
        "title": "  Council &amp; mayor   agree\u00a0budget ",
        "authors": ["By Jane Doe and John Roe"],
        "published": "2017-11-14T09:30:00-08:00",
        "modified": "Tue, 14 Nov 2017 12:00:00 -0800",
        "section": " Politics ",
        "body": "The council met.\n\nAdvertisement\n\nIt agreed a budget.\n\nThe council met.",
        "description": "A budget&#33;",
        "language": "en_US",
        "site_name": "Example News",
        "domain": "www.example.com",
        "related": [
            {"url": "/news/story-2", "title": " Next &amp; more ", "teaser": None, "section": "Politics"},
            "not a dict",
            {"title": "no url"},
        ],
        "discovered_at": 1700000000.5,
        "discovered_via": "news-sitemap",
    }
    item.update(overrides)
    return item


def test_normalize_article_exact_output():
    item = _extracted()
    original = json.loads(json.dumps(item))
    article = normalize_article(item, spider="news", now=NOW)
    body = "The council met.\n\nIt agreed a budget."
    assert article == {
        "url": "https://www.example.com/news/story-1?utm_source=feed#top",
        "canonical_url": "https://www.example.com/news/story-1",
        "title": "Council & mayor agree budget",
        "authors": ["Jane Doe", "John Roe"],
        "published": "2017-11-14T09:30:00-08:00",
        "modified": "2017-11-14T12:00:00-08:00",
        "section": "Politics",
        "body": body,
        "description": "A budget!",
        "language": "en-us",
        "site_name": "Example News",
        "domain": "www.example.com",
        "related": [
            {"url": "/news/story-2", "title": "Next & more", "teaser": None, "section": "Politics"}
        ],
        "word_count": 7,
        "content_hash": content_hash(body),
        "simhash": simhash_hex(simhash(body)),
        "crawled_at": "2024-05-06T07:08:09+00:00",
        "discovered_at": "2023-11-14T22:13:20+00:00",
        "discovered_via": "news-sitemap",
        "spider": "news",
    }
    assert tuple(article) == ARTICLE_FIELDS
    assert item == original  # the input is not modified
    json.dumps(article)  # and the result is JSON


def test_normalize_article_keeps_same_site_canonical():
    article = normalize_article(
        _extracted(canonical_url="https://amp.example.com/news/story-1?ref=amp"),
        spider="news",
        now=NOW,
    )
    assert article["canonical_url"] == "https://amp.example.com/news/story-1"


@pytest.mark.parametrize("canonical", ["https://elsewhere.org/story", None, "", "mailto:x@example.com"])
def test_normalize_article_falls_back_to_the_normalized_url(canonical):
    article = normalize_article(_extracted(canonical_url=canonical), spider="news", now=NOW)
    assert article["canonical_url"] == "https://www.example.com/news/story-1"


def test_normalize_article_missing_fields():
    article = normalize_article({"url": "https://Example.com/a"}, spider="news", now=NOW)
    assert article["canonical_url"] == "https://example.com/a"
    assert article["title"] is None
    assert article["authors"] == []
    assert article["published"] is None
    assert article["body"] == ""
    assert article["domain"] == "example.com"
    assert article["related"] == []
    assert article["word_count"] == 0
    assert article["simhash"] == "0000000000000000"
    assert tuple(article) == ARTICLE_FIELDS


def test_normalize_article_crawled_at_defaults_to_now_in_utc():
    before = datetime.now(timezone.utc).replace(microsecond=0)
    article = normalize_article(_extracted(), spider="news")
    after = datetime.now(timezone.utc)
    crawled = datetime.fromisoformat(article["crawled_at"])
    assert before <= crawled <= after
    assert article["crawled_at"].endswith("+00:00")


def test_normalize_article_requires_a_url():
    with pytest.raises(ValueError, match="no url"):
        normalize_article({"title": "x"}, spider="news")


@pytest.mark.parametrize(("at", "via", "expected"), [
    (None, None, (None, None)),
    ("2026-12-03T10:00:00Z", "feed", ("2026-12-03T10:00:00+00:00", "feed")),
    (1e20, "no such path", (None, None)),
    (True, 7, (None, None)),
])
def test_discovery_fields_are_kept_only_when_valid(at, via, expected):
    article = normalize_article(_extracted(discovered_at=at, discovered_via=via), spider="news", now=NOW)
    assert (article["discovered_at"], article["discovered_via"]) == expected
