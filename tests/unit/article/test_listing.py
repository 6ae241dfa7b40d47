"""The article/listing verdict (crawler.article.listing, and extract_article's use of it):
listing pages of several real shapes are never articles, and article pages whose
text only one extractor finds, or that declare nothing, or that are one long block
of prose, are never dropped."""

from __future__ import annotations

import pytest

from crawler.article.extract import extract_article
from crawler.article.listing import has_prose, is_listing_url, is_teaser_run

SITE = "http://127.0.0.1:8000"
SENTENCES = [
    "The harbour board met on Tuesday evening to settle the price of mooring for the coming summer season.",
    "Members argued for two hours about whether the fishing fleet should pay less than the visiting yachts.",
    "In the end the board agreed to keep last year's prices and to look at the question again in the autumn.",
    "A petition signed by more than four hundred residents had asked for a cut in the fees for local boats.",
    "The chair said the board could not lower fees while the repairs to the north wall were still unpaid.",
    "Several fishermen left before the vote, saying the meeting had been decided before it ever started.",
]


def _card(n: int, *, teaser: bool = True, date: bool = False) -> str:
    teaser_html = (f"<p>{SENTENCES[n % len(SENTENCES)]}</p>" if teaser else "")
    date_html = f"<time datetime='2024-05-{n + 1:02d}'>May {n + 1}, 2024</time>" if date else ""
    return (f"<article class='post'><h2><a href='/news/2024/05/story-{n}.html'>Story number {n} "
            f"on the harbour and its boats</a></h2>{date_html}{teaser_html}"
            f"<a class='more' href='/news/2024/05/story-{n}.html'>Continue reading story {n}</a></article>")


def _page(main: str, *, head: str = "") -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><title>Harbour news | The Loopback</title>{head}</head>"
            "<body><nav><a href='/'>Home</a> <a href='/news/'>News</a> <a href='/sport/'>Sport</a></nav>"
            f"<main>{main}</main><footer><a href='/about'>About us</a></footer></body></html>")


ARTICLE_HEAD = "<meta property='og:type' content='article'>"
PAGINATION = "<nav class='pages'><a href='/news/page/1/'>1</a> <a href='/news/page/3/'>3</a></nav>"

# Real listing shapes: a WordPress paginated section (declared "article" by its theme),
# a blog archive by month, a tag page, an author page, a ?page=N listing, and a
# section front with teasers and no pagination at all.
LISTINGS = {
    "paginated section with og:type article": (
        f"{SITE}/music/page/5/", _page("".join(_card(n) for n in range(10)) + PAGINATION, head=ARTICLE_HEAD)),
    "monthly archive": (
        f"{SITE}/2024/05/", _page("<h1>May 2024</h1>" + "".join(_card(n, date=True) for n in range(8)))),
    "tag page": (f"{SITE}/tag/harbour/", _page("".join(_card(n, teaser=False) for n in range(12)))),
    "author page": (f"{SITE}/author/jane-doe/", _page("<h1>Jane Doe</h1>" + "".join(_card(n) for n in range(6)))),
    "query pagination": (f"{SITE}/news/?page=3", _page("".join(_card(n) for n in range(10)) + PAGINATION)),
    "section front of teasers": (f"{SITE}/news/", _page("".join(_card(n) for n in range(12)))),
}


@pytest.mark.parametrize("name", sorted(LISTINGS))
def test_listing_pages_are_never_articles(name):
    url, html = LISTINGS[name]
    assert extract_article(html, url) is None


def test_an_article_on_a_listing_shaped_site_is_still_an_article():
    body = "".join(f"<p>{s} {t}</p>" for s, t in zip(SENTENCES, reversed(SENTENCES)))
    html = _page(f"<article><h1>Mooring prices stay the same</h1>{body}</article>", head=ARTICLE_HEAD)
    article = extract_article(html, f"{SITE}/news/2024/05/17/mooring-prices.html")
    assert article is not None
    assert article["body"].split("\n\n") == [f"{s} {t}" for s, t in zip(SENTENCES, reversed(SENTENCES))]


def test_an_undeclared_article_of_one_long_block_is_an_article():
    # Text separated by <br> only: one or two "paragraphs", but plainly prose.
    text = "<br><br>".join(" ".join(SENTENCES[i:] + SENTENCES[:i]) for i in range(2))
    article = extract_article(_page(f"<div class='entry'>{text}</div>"), f"{SITE}/blog/harbour-notes")
    assert article is not None
    assert article["body"].split() == text.replace("<br><br>", " ").split()


@pytest.mark.parametrize(("url", "expected"), [
    ("https://a.test/music/page/5/", True),
    ("https://a.test/category/music/page/2", True),
    ("https://a.test/tag/music/", True),
    ("https://a.test/archives/", True),
    ("https://a.test/2024/05/", True),
    ("https://a.test/news/2024/05/17/", True),
    ("https://a.test/news/?page=3", True),
    ("https://a.test/?paged=2&cat=4", True),
    ("https://a.test/author/jane-doe", True),
    # An article's slug or id after the date or the segment: no listing.
    ("https://a.test/archives/2025/12/16/vibe_coding.html", False),
    ("https://a.test/2024/05/17/story.html", False),
    ("https://a.test/archive/63076", False),
    ("https://a.test/blog/seven-tips/2024/12", False),
    ("https://a.test/page/about-us", False),
    ("https://a.test/news/story-123?p=abc", False),
    ("https://a.test/news/1.html?page=2", False),  # an article's second page
    ("https://a.test/", False),
    ("https://a.test/biz/", False),
])
def test_is_listing_url(url, expected):
    assert is_listing_url(url) is expected


def test_has_prose_counts_words_in_long_lines_only():
    two = " ".join(SENTENCES[:2])  # 35 words
    assert has_prose([two, "Share", two])  # 70 words in prose lines
    assert not has_prose([two, "Share"])  # 35: short of 60
    assert not has_prose([SENTENCES[0], SENTENCES[1], SENTENCES[5]] * 6)  # 18 lines under 20 words: no prose
    assert not has_prose(["Home", "News", "Sport"] * 30)


def test_is_teaser_run_needs_many_links_and_no_paragraph():
    teasers = list(SENTENCES)
    assert is_teaser_run(teasers, link_lines=6)
    assert not is_teaser_run(teasers, link_lines=2)  # too few links
    assert not is_teaser_run([*teasers, " ".join(SENTENCES)], link_lines=6)  # a paragraph: an article
