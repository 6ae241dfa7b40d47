"""Authors and publication dates from small hand-written pages (issue 14).

Each page holds one JSON-LD shape, meta tag or byline that real news pages use;
each test asserts the exact names or the exact date string the page gives.
"""

from __future__ import annotations

import json

import lxml.html
import pytest

from crawler.article.authors import clean_names, is_publisher, jsonld_names, looks_like_person
from crawler.article.dates import as_written, either_way, jsonld_date, with_local_offset
from crawler.article.extract import extract_article
from crawler.article.metadata import find_authors, published_date, read_declared
from crawler.article.normalize import normalize_article, to_iso8601

URL = "http://127.0.0.1/news/story.html"


def tree_of(jsonld: object = None, head: str = "", body: str = "") -> lxml.html.HtmlElement:
    script = f'<script type="application/ld+json">{json.dumps(jsonld)}</script>' if jsonld is not None else ""
    return lxml.html.document_fromstring(
        f"<html><head><title>Story</title>{script}{head}</head><body><h1>Story</h1>{body}</body></html>")


def authors_of(jsonld: object = None, head: str = "", body: str = "") -> list[str]:
    tree = tree_of(jsonld, head, body)
    return find_authors(tree, read_declared(tree))[0]


def date_of(jsonld: object = None, head: str = "", body: str = "") -> str | None:
    tree = tree_of(jsonld, head, body)
    return published_date(tree, read_declared(tree), URL)


# --- JSON-LD authors ------------------------------------------------------------------------


def test_a_person_author():
    assert authors_of({"@type": "NewsArticle", "author": {"@type": "Person", "name": "Jane Doe"}}) == ["Jane Doe"]


def test_a_list_of_people_and_an_agency():
    article = {"@type": "NewsArticle", "author": [
        {"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "name": "John Roe"},
        {"@type": "Organization", "name": "Reuters"}]}
    assert authors_of(article) == ["Jane Doe", "John Roe", "Reuters"]


def test_given_and_family_names():
    article = {"@type": "NewsArticle", "author": [
        {"@type": "Person", "givenName": "Anna Giulia", "familyName": "Fink"},
        {"@type": "Person", "givenName": "Jan", "familyName": "Marchart"}]}
    assert authors_of(article) == ["Anna Giulia Fink", "Jan Marchart"]


def test_an_id_reference_into_the_graph():
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite", "@id": "http://127.0.0.1/#website", "name": "Loopback News"},
        {"@type": "Article", "@id": "http://127.0.0.1/news/story.html#article",
         "author": {"@id": "http://127.0.0.1/#/schema/person/1"}, "datePublished": "2024-05-03T15:47:42+02:00"},
        {"@type": "Person", "@id": "http://127.0.0.1/#/schema/person/1", "name": "Ann Author",
         "url": "http://127.0.0.1/author/ann/"}]}
    assert authors_of(graph) == ["Ann Author"]


def test_a_nested_author_and_a_list_of_article_blocks():
    blocks = [{"@type": "BreadcrumbList"},
              {"@type": ["NewsArticle"], "author": {"@type": "Person", "author": [{"name": "Kim Lee"}]}}]
    assert authors_of(blocks) == ["Kim Lee"]


def test_two_names_in_one_person_are_split_in_the_page_language():
    article = {"@type": "NewsArticle", "author": [{"@type": "Person", "name": "Felix Schröder und Jörg Soldwisch, dpa"}]}
    assert authors_of(article) == ["Felix Schröder", "Jörg Soldwisch", "dpa"]


def test_the_publisher_as_author_gives_way_to_a_person_in_the_meta_tags():
    article = {"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Loopback News"},
               "publisher": {"@type": "Organization", "name": "Loopback News"}}
    assert authors_of(article, head='<meta name="author" content="Shany Littman">') == ["Shany Littman"]


def test_the_publisher_as_author_stands_against_initials_in_a_byline():
    article = {"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Loopback News"},
               "publisher": {"@type": "Organization", "name": "Loopback News"}}
    assert authors_of(article, body='<p class="byline">amw</p>') == ["Loopback News"]


# --- Meta tags and bylines ------------------------------------------------------------------


def test_every_author_meta_value_and_no_profile_url():
    head = ('<meta property="article:author" content="https://www.facebook.com/loopback">'
            '<meta name="author" content="Jane Doe"><meta name="author" content="John Roe">')
    assert authors_of(head=head) == ["Jane Doe", "John Roe"]


def test_a_vendor_author_meta():
    assert authors_of(head='<meta name="sailthru.author" content="Sarah Lazare">') == ["Sarah Lazare"]


@pytest.mark.parametrize(("byline", "names"), [
    ("By Jane Doe and John Roe | March 2, 2024", ["Jane Doe", "John Roe"]),
    ("By Jane Doe, Staff Reporter", ["Jane Doe"]),
    ("Von Anna Martel und Lea Wagner", ["Anna Martel", "Lea Wagner"]),
    ("Par Alexandre Hervaud et Jérémy Piette", ["Alexandre Hervaud", "Jérémy Piette"]),
    ("Trine Juncher Jørgensen og Tôrtia Reimer-Johansen", ["Trine Juncher Jørgensen", "Tôrtia Reimer-Johansen"]),
    ("By Jane Doe (jane.doe@example.org)", ["Jane Doe"]),
    ("Written by Rob Ewaschuk", ["Rob Ewaschuk"]),
])
def test_a_byline_cleaned_of_roles_dates_and_addresses(byline, names):
    assert authors_of(body=f'<div class="byline">{byline}</div><p>Text.</p>') == names


def test_clean_names_deduplicates_and_drops_urls():
    assert clean_names(["Jane Doe", "JANE DOE", "https://example.org/jane", "jane@example.org"]) == ["Jane Doe"]


def test_a_one_letter_and_splits_only_full_names():
    assert clean_names(["Ana Lima e Rui Costa"]) == ["Ana Lima", "Rui Costa"]
    assert clean_names(["Procter y Gamble"]) == ["Procter y Gamble"]


def test_jsonld_names_of_odd_values():
    assert jsonld_names(None) == []
    assert jsonld_names("https://example.org/author/jane") == []
    assert jsonld_names({"@type": "Person", "name": ["", "Jane Doe"]}) == ["Jane Doe"]


def test_publisher_names_and_person_names():
    assert is_publisher("Lrt.lt", ["LRT"])
    assert is_publisher("The Gateway Pundit", ["Gateway Pundit"])
    assert not is_publisher("Associated Press", ["Loopback News", "loopback"])
    assert looks_like_person("Ana de la Cruz") and looks_like_person("松岡大地")
    assert not looks_like_person("amw") and not looks_like_person("APA") and not looks_like_person("BR24 Redaktion 2")


# --- Dates ------------------------------------------------------------------------------------


def test_the_publishers_offset_is_kept():
    article = {"@type": "NewsArticle", "datePublished": "2024-05-16T09:26:10+02:00",
               "dateModified": "2024-05-17T08:00:00+02:00"}
    assert date_of(article) == "2024-05-16T09:26:10+02:00"


def test_publication_in_a_graph_before_the_modification_meta():
    graph = {"@graph": [{"@type": "WebPage", "dateModified": "2024-06-01T10:00:00+00:00"},
                        {"@type": "BlogPosting", "datePublished": ["2024-05-30T08:00:00-04:00"]}]}
    head = '<meta property="article:modified_time" content="2024-06-01T10:00:00+00:00">'
    assert date_of(graph, head) == "2024-05-30T08:00:00-04:00"


def test_the_publication_meta_before_the_creation_date():
    article = {"@type": "NewsArticle", "dateCreated": "2017-02-24T01:18:13Z"}
    head = '<meta property="article:published_time" content="2017-02-23T17:18:13-08:00">'
    assert date_of(article, head) == "2017-02-23T17:18:13-08:00"


def test_a_utc_meta_takes_the_offset_of_the_articles_own_time():
    head = '<meta property="article:published_time" content="2025-12-19T02:41:41+00:00">'
    body = '<article><time datetime="2025-12-18T21:46:01-05:00">December 18</time><p>Text.</p></article>'
    assert date_of(head=head, body=body) == "2025-12-18T21:46:01-05:00"


def test_an_unreadable_value_gives_way_to_the_next_source():
    head = '<meta property="article:published_time" content="sometime soon">'
    body = '<article><time datetime="2024-03-02T10:00:00+01:00">2 March</time></article>'
    assert date_of(head=head, body=body) == "2024-03-02T10:00:00+01:00"


@pytest.mark.parametrize(("declared", "body", "date"), [
    # Written for reading ("Jun 12, 2025"), not as schema.org's ISO dates: a template's
    # display field (a CMS's last publication), after the date the page shows.
    ("Jun 12, 2025", '<article><time datetime="2022-11-02">2 Nov 2022</time></article>', "2022-11-02"),
    ("Jun 12, 2025", "<article><p>No other date.</p></article>", "2025-06-12"),  # still its day
    # An ISO value keeps its place before the page's own <time>.
    ("2025-06-12", '<article><time datetime="2022-11-02">2 Nov 2022</time></article>', "2025-06-12"),
])
def test_a_jsonld_date_written_for_reading_comes_after_the_pages_own(declared, body, date):
    found = date_of({"@type": "BlogPosting", "datePublished": declared}, body=body)
    assert to_iso8601(found)[:10] == date


@pytest.mark.parametrize(("value", "readings"), [
    ("02-12-2025", {"2025-12-02", "2025-02-12"}),
    ("3/4/2024 10:00", {"2024-04-03", "2024-03-04"}),
    ("12-12-2025", None),  # the same either way
    ("13-02-2025", None),  # day first: there is no 13th month
    ("04.05.2025", None),  # dotted: day first (as_written)
    ("2025-12-02", None),
])
def test_either_way(value, readings):
    assert either_way(value) == readings


@pytest.mark.parametrize(("times", "date"), [
    # Day and month either way round, then said plainly: the plain one.
    (["02-12-2025", "2025-12-02"], "2025-12-02"),
    (["02/12/2025", "2025-02-12T09:00:00Z"], "2025-02-12T09:00:00Z"),
    # A later <time> of another day (a teaser's) settles nothing: the first stands.
    (["02-12-2025", "2024-06-03"], "02-12-2025"),
    # Not ambiguous: the first, whatever follows.
    (["13-02-2025", "2025-02-13"], "13-02-2025"),
    (["2025-12-01", "2025-12-02"], "2025-12-01"),
])
def test_a_time_read_either_way_is_settled_by_a_plain_one(times, date):
    body = "<article>" + "".join(f'<time datetime="{value}">then</time>' for value in times) + "<p>Text.</p></article>"
    assert date_of(body=body) == date


def test_a_dotted_date_is_day_first_everywhere():
    stored = normalize_article({"url": URL, "published": as_written("04.05.2025, 10:30 Uhr")}, spider="test")
    assert stored["published"] == "2025-05-04T10:30:00+00:00"


@pytest.mark.parametrize(("raw", "written"), [
    ("4. 5. 2025", "2025-05-04"),
    ("2025-12-17UTC07:30:00+00:00", "2025-12-17T07:30:00+00:00"),
    ("on Friday December 19, 2025 @08:00PM", "Friday December 19, 2025  08:00PM"),
    ("2024-05-16T09:26:10.000Z", "2024-05-16T09:26:10.000Z"),
    ("  ", None),
])
def test_as_written(raw, written):
    assert as_written(raw) == written


def test_jsonld_date_shapes():
    assert jsonld_date([{"datePublished": {"@value": "2024-01-02"}}], "datePublished") == "2024-01-02"
    assert jsonld_date([{"datePublished": ""}, {"datePublished": ["", "2024-01-03"]}], "datePublished") == "2024-01-03"
    assert jsonld_date([{"name": "x"}], "datePublished") is None


def test_with_local_offset_only_for_the_same_moment():
    assert with_local_offset("2024-01-02T10:00:00Z", ["2024-01-02T05:10:00-05:00"]) == "2024-01-02T05:10:00-05:00"
    assert with_local_offset("2024-01-02T10:00:00Z", ["2024-01-01T05:00:00-05:00"]) == "2024-01-02T10:00:00Z"
    assert with_local_offset("2024-01-02T10:00:00+01:00", ["2024-01-02T04:00:00-05:00"]) == "2024-01-02T10:00:00+01:00"


def test_the_stored_article_has_the_cleaned_authors_and_the_local_date():
    paragraphs = "".join(f"<p>Paragraph {i}: the council said on Tuesday that the flood plan would cost more "
                         "than expected, and residents will be asked before any decision.</p>" for i in range(6))
    article = {"@type": "NewsArticle", "headline": "Flood plan",
               "author": [{"@type": "Person", "name": "Jane Doe and John Roe"}],
               "datePublished": "2024-05-16T09:26:10+02:00"}
    html = (f'<html><head><script type="application/ld+json">{json.dumps(article)}</script></head>'
            f"<body><article><h1>Flood plan</h1>{paragraphs}</article></body></html>")
    stored = normalize_article(extract_article(html, URL), spider="test")
    assert (stored["authors"], stored["published"]) == (["Jane Doe", "John Roe"], "2024-05-16T09:26:10+02:00")


def test_warm_up_never_raises(monkeypatch):
    import crawler.article.dates as dates

    def broken():
        raise RuntimeError("no locales")

    monkeypatch.setattr(dates, "get_external_parser", broken)
    dates.warm_up()  # a slow first page is all a failure costs
