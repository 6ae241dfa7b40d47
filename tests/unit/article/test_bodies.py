"""Body candidates and the choice between them (crawler.article.bodies), and extract_article's use of them."""

from __future__ import annotations

import lxml.html
import pytest

from crawler.article.bodies import Candidate, choose, html_lines, readability_lines, trafilatura_lines
from crawler.article.extract import extract_article

URL = "http://127.0.0.1:8000/biz/2024/05/council-budget"

# Eight paragraphs of distinct prose, as an article has.
PARAGRAPHS = [
    f"In paragraph {n}, the council's {topic} took most of the evening, and members said the vote on"
    f" {topic} would come back next month once officials had checked the figures again with care."
    for n, topic in enumerate(["the bus lanes", "the school roofs", "the library hours", "the harbour wall",
                               "the tram depot", "the park lighting", "the market rents", "the flood barriers"])
]
NAV = "".join(f'<li><a href="/section-{n}">Section number {n}</a></li>' for n in range(25))


def page(container: str) -> str:
    """An article page whose text sits in ``container`` (an opening tag), after a long menu."""
    closing = "</" + container[1:].split()[0].rstrip(">") + ">"
    paragraphs = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        "<html><head><title>Council budget - The Loopback</title>"
        '<meta property="og:type" content="article"></head>'
        f"<body><nav><ul>{NAV}</ul></nav><h1>Council budget</h1>{container}{paragraphs}{closing}"
        "<footer><p>(c) The Loopback</p></footer></body></html>"
    )


def words(text: str) -> int:
    return len(text.split())


@pytest.mark.parametrize("container", ['<aside class="story">', '<div class="comments">',
                                       '<div class="comments-open entry">'])
def test_article_text_in_a_container_trafilatura_distrusts_is_still_found(container):
    html = page(container)
    tree = lxml.html.document_fromstring(html)
    # trafilatura's balanced mode alone loses most of it; that is what the candidates are for.
    assert words(" ".join(trafilatura_lines(tree, URL))) < 0.6 * words(" ".join(PARAGRAPHS))
    article = extract_article(html, URL)
    assert article is not None
    assert article["body"].split("\n\n") == PARAGRAPHS


def test_a_plain_article_needs_no_second_opinion(monkeypatch):
    calls = []
    monkeypatch.setattr("crawler.article.extract.readability_lines", lambda *a: calls.append(a) or [])
    article = extract_article(page('<div class="story">'), URL)
    assert article["body"].split("\n\n") == PARAGRAPHS
    assert calls == []


def test_a_listing_address_gets_no_second_opinion(monkeypatch):
    calls = []
    monkeypatch.setattr("crawler.article.extract.readability_lines", lambda *a: calls.append(a) or [])
    listing = page('<aside class="story">')
    assert extract_article(listing, "http://127.0.0.1:8000/biz/page/2/") is None
    assert calls == []


def test_an_undeclared_page_whose_first_body_has_no_prose_is_asked_again(monkeypatch):
    # trafilatura drops the <aside>; the page declares nothing: readability still finds the article.
    html = page('<aside class="story">').replace('<meta property="og:type" content="article">', "")
    article = extract_article(html, URL)
    assert article is not None
    assert article["body"].split("\n\n") == PARAGRAPHS


def test_readability_lines_leaves_the_tree_as_it_was():
    tree = lxml.html.document_fromstring(page('<div class="story">').replace("<p>", '<p style="display:none">', 1))
    before = lxml.html.tostring(tree)
    lines = readability_lines(tree, URL)
    assert lines == PARAGRAPHS[1:]  # readability drops hidden text: the copy, not our tree
    assert lxml.html.tostring(tree) == before


def test_readability_lines_of_a_page_without_text():
    assert readability_lines(lxml.html.document_fromstring("<html><body></body></html>"), URL) == []


def test_html_lines_breaks_after_blocks_only():
    root = lxml.html.fragment_fromstring("<div><p>One <b>bold</b> line</p><ul><li>two</li><li>three</li></ul>"
                                         "four<br>five</div>")
    assert html_lines(root) == ["One bold line", "two", "three", "four", "five"]


def test_choose_prefers_the_text_other_candidates_confirm():
    full = Candidate("recall", PARAGRAPHS)
    part = Candidate("fast", PARAGRAPHS[:2])
    other = Candidate("readability", PARAGRAPHS[:7])
    assert choose([part, full, other]) is full


def test_choose_penalizes_menus_and_links_one_extractor_let_through():
    clean = Candidate("clean", PARAGRAPHS)
    menu = Candidate("menu", [f"Section number {n}" for n in range(25)] + PARAGRAPHS)
    linky = Candidate("linky", PARAGRAPHS, link_lines=40)
    assert choose([menu, linky, clean]) is clean


def test_choose_takes_lone_prose_over_nothing_and_keeps_order_on_ties():
    empty, prose = Candidate("empty", []), Candidate("prose", PARAGRAPHS[:3])
    assert choose([empty, prose]) is prose
    same = Candidate("same", PARAGRAPHS[:3])
    assert choose([prose, same]) is prose
    with pytest.raises(ValueError):
        choose([])


def test_a_cut_short_jsonld_body_does_not_win_over_the_whole_text():
    first = Candidate("trafilatura", PARAGRAPHS[:1])
    jsonld = Candidate("json-ld", PARAGRAPHS[:2])
    whole = Candidate("readability", PARAGRAPHS)
    assert choose([first, jsonld, whole]) is whole
