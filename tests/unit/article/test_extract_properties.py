"""Properties of the extraction entry point over generated pages (hypothesis).

For any bytes and any HTML-ish document (tags, attributes, teaser blocks,
bylines, broken JSON-LD, raw "<" and control characters, any content type):
:func:`extract_article` returns ``None`` or an article with exactly its fields,
raises nothing and logs no failure of its own steps (it would return ``None``
for a bug as for a listing page), gives the same answer twice, and answers
within a bounded time; :func:`normalize_article` takes whatever it returns.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crawler.article.dates import warm_up
from crawler.article.extract import extract_article
from crawler.article.normalize import ARTICLE_FIELDS, normalize_article

URL = "http://127.0.0.1/news/story.html"
FIELDS = {"url", "canonical_url", "title", "authors", "published", "modified", "section", "body",
          "description", "language", "site_name", "domain", "related"}
BOUNDED = settings(max_examples=int(os.environ.get("PROPERTY_EXAMPLES", 200)), deadline=timedelta(seconds=2),
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module", autouse=True)
def _warm_up():
    # As a worker does at start: dateparser's one-off 2 s are no page's time.
    warm_up()


content_types = st.sampled_from([None, "", "text/html", "text/html; charset=utf-8", "text/html; charset=latin-1",
                                 "text/html; charset=bogus", "application/xhtml+xml", "application/pdf",
                                 "image/png", "text/plain"])
_WORDS = st.sampled_from(
    "the council said new plan would cost more residents asked comment before decision harbour river "
    "school market bridge 2024 Jane Doe".split())
prose = st.lists(_WORDS, min_size=1, max_size=60).map(" ".join)
texts = st.one_of(
    prose, st.text(max_size=40),
    st.sampled_from(["More Biz", "More Tech News", "More from Our Brands", "From our partners", "By Jane Doe and John Roe",
                     "By ", "<", "<<<<", ">", "&amp;", "&#x0;", "\n\n\n", "  // comment", "<![CDATA[", "]]>",
                     "<!--", "-->", "\x00", "\x0c", "\u200b", "\ufeff", "日本語の記事です。", "Published: March 2, 2024",
                     "Residents of the valley were asked to comment"]),
)
_HREFS = st.sampled_from(["/a.html", "/biz/1.html", "http://127.0.0.1/x", "https://127.0.0.1/y#z", "//other.example/",
                          "javascript:void(0)", "#", "", "file:///etc/passwd", "http://[::1", "%zz", "mailto:a@b",
                          "data:text/html,x", " /spaced "])
_ATTRIBUTES = st.one_of(
    st.tuples(st.just("href"), _HREFS),
    st.tuples(st.just("class"), st.sampled_from(["byline", "author", "teaser", "title", "headline", "dek",
                                                 "excerpt", "more", "twitter-tweet", ""])),
    st.tuples(st.just("itemprop"), st.sampled_from(["author", "name", "datePublished", "dateModified"])),
    st.tuples(st.just("datetime"), st.sampled_from(["2024-03-01T09:30:00Z", "", " ", "not a date", "0000"])),
    st.tuples(st.just("content"), st.one_of(texts, st.sampled_from(["article", "2024-03-01"]))),
    st.tuples(st.just("property"), st.sampled_from(["og:type", "og:title", "og:url", "og:description",
                                                    "article:published_time", "og:site_name"])),
    st.tuples(st.just("name"), st.sampled_from(["description", "author", "date"])),
    st.tuples(st.just("rel"), st.sampled_from(["canonical", "author", "nofollow"])),
    st.tuples(st.just("lang"), st.sampled_from(["en", "de-DE", "", "x" * 50])),
)
_TAGS = st.sampled_from(["p", "div", "span", "a", "h1", "h2", "h3", "article", "main", "section", "aside", "ul",
                         "li", "table", "tr", "td", "b", "em", "time", "br", "header", "footer", "figure",
                         "blockquote", "noscript", "template", "iframe", "style", "title"])


def _attributes(pairs: list[tuple[str, str]]) -> str:
    return "".join(f' {name}="{value.replace(chr(34), "&quot;")}"' for name, value in pairs)


@st.composite
def _element(draw: st.DrawFn, children: st.SearchStrategy[str]) -> str:
    tag = draw(_TAGS)
    inner = "".join(draw(st.lists(children, max_size=5)))
    closed = draw(st.booleans()) or tag in {"p", "li", "td"}  # some tags left open, as pages do
    return f"<{tag}{_attributes(draw(st.lists(_ATTRIBUTES, max_size=3)))}>{inner}" + (f"</{tag}>" if closed else "")


nodes = st.recursive(texts, lambda children: _element(children), max_leaves=40)
_json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), texts),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.sampled_from(["@type", "headline", "author", "name",
                                                                "datePublished", "articleBody", "@graph",
                                                                "liveBlogUpdate", "publisher", "mainEntity"]),
                                               children, max_size=5)),
    max_leaves=20)


@st.composite
def json_ld(draw: st.DrawFn) -> str:
    data = draw(_json_values)
    if draw(st.booleans()):
        data = {"@type": draw(st.sampled_from(["NewsArticle", "LiveBlogPosting", "WebPage", ["Article"]])),
                "headline": draw(texts), "articleBody": draw(texts), "extra": data}
    text = json.dumps(data)
    # What sites do to their JSON-LD: comments, CDATA, trailing commas, cut short.
    mangle = draw(st.sampled_from(["", "comment", "cdata", "comma", "cut", "newlines"]))
    if mangle == "comment":
        text = "// generated\n" + text
    elif mangle == "cdata":
        text = f"<![CDATA[{text}]]>"
    elif mangle == "comma":
        text = text[:-1] + ",}" if text.endswith("}") else text + ","
    elif mangle == "cut":
        text = text[:draw(st.integers(0, len(text)))]
    elif mangle == "newlines":
        text = text[:1] + "\n" * draw(st.integers(0, 2000)) + text[1:]
    return f'<script type="application/ld+json">{text}</script>'


@st.composite
def documents(draw: st.DrawFn) -> str:
    head = "".join(draw(st.lists(st.one_of(json_ld(), nodes), max_size=4)))
    body = "".join(draw(st.lists(nodes, max_size=8)))
    if draw(st.booleans()):
        return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"
    return head + body  # a fragment, or worse


@contextmanager
def failures_logged():
    """The WARNING and ERROR records that crawler.article's loggers emit inside the block."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.WARNING)
    logger = logging.getLogger("crawler.article")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def check(page: str | bytes, content_type: str | None) -> None:
    with failures_logged() as failures:
        article = extract_article(page, URL, content_type=content_type)
        again = extract_article(page, URL, content_type=content_type)
    assert [record.getMessage() for record in failures] == []
    assert article == again
    if article is None:
        return
    assert set(article) == FIELDS
    assert article["url"] == URL
    assert isinstance(article["body"], str) and article["body"]
    assert all(isinstance(entry["url"], str) and entry["url"].startswith(("http://", "https://"))
               for entry in article["related"])
    assert tuple(normalize_article(article, spider="news")) == ARTICLE_FIELDS


@BOUNDED
@given(st.binary(max_size=4096), content_types)
@example(b"\xff\xfe<\x00p\x00>\x00", None)
@example(b"%PDF-1.7 <p>", "text/html")
@example(b"<html><body>" + bytes(range(256)) * 8, None)
def test_any_bytes(data, content_type):
    check(data, content_type)


@BOUNDED
@given(documents(), content_types)
@example("<p>" + "<" * 5000, None)
@example('<script type="application/ld+json">{"a": 1,' + "\n" * 5000 + "}</script><p>x</p>", "text/html")
@example("<div><h3>More Biz</h3>" * 200 + '<a href="/1">1</a><a href="/2">2</a>' + "</div>" * 200, None)
# Two of the audit's pages (issue 10, item 7): seconds each before, milliseconds now.
@example('<script type="application/ld+json">{"@type": "NewsArticle",' + "\n" * 40_000 + ' "x": }</script>'
         "<p>text</p>", "text/html")
@example("".join(f'<div><h3>More Biz</h3><ul><li><a href="/b/{i}a">A {i}</a></li><li><a href="/b/{i}b">B</a>'
                 "</li></ul></div>" for i in range(500)), None)
# A control character after a "More ..." block: lxml refused the tail it left when the block was cut.
@example("<P>MORE FROM</P>\x08", None)
def test_any_html_like_document(document, content_type):
    check(document, content_type)
    check(document.encode("utf-8", "surrogatepass"), content_type)
