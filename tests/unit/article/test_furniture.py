"""Furniture inside the article's container (crawler.article.furniture, and
extract_article's use of it): sign-up boxes and share bars are cut by their
structure, in any wording, and the article's own text, lists and links stay."""

from __future__ import annotations

import lxml.html
import pytest

from crawler.article.extract import extract_article
from crawler.article.furniture import strip_furniture

URL = "http://127.0.0.1:8000/news/2024/05/harbour-fees.html"
PARAGRAPHS = [
    f"In part {n} of the evening, the harbour board heard from {who}, who said the new mooring fees would"
    f" fall hardest on the small boats that have fished from the old quay for three generations or more."
    for n, who in enumerate(["the fishermen's guild", "the yacht club", "the ferry company", "two residents",
                             "the town's treasurer", "a visiting inspector"])
]
# Two wordings, two languages, two shapes: what they share is a form with an e-mail field.
SIGNUP_BOXES = {
    "english box": (
        "<div class='box-x1'><h3>Get the morning briefing</h3><p>The five stories you need, every weekday, "
        "straight to your inbox.</p><form action='/subscribe'><input type='email' name='address'>"
        "<button>Sign me up</button></form></div>"),
    "german box, no email type": (
        "<section><h4>Unser Newsletter</h4><p>Jeden Freitag die wichtigsten Nachrichten aus dem Hafen.</p>"
        "<form><input type='text' name='newsletter_email'><input type='submit' value='Anmelden'></form></section>"),
}
SHARE_BAR = ("<ul class='x9'><li><a href='https://www.facebook.com/sharer.php?u=1'>Facebook</a></li>"
             "<li><a href='https://twitter.com/intent/tweet?url=1'>X</a></li>"
             "<li><a href='https://www.linkedin.com/shareArticle?url=1'>LinkedIn</a></li>"
             "<li><a href='mailto:?subject=harbour'>E-mail</a></li></ul>")


def _page(inside: str) -> str:
    paragraphs = [f"<p>{p}</p>" for p in PARAGRAPHS]
    paragraphs.insert(3, inside)
    return ("<html><head><title>Harbour fees | The Loopback</title><meta property='og:type' content='article'>"
            "</head><body><article><h1>Harbour fees</h1>" + "".join(paragraphs) + "</article></body></html>")


@pytest.mark.parametrize("name", sorted(SIGNUP_BOXES))
def test_a_signup_box_inside_the_article_is_cut(name):
    article = extract_article(_page(SIGNUP_BOXES[name]), URL)
    assert article["body"].split("\n\n") == PARAGRAPHS


def test_a_share_bar_inside_the_article_is_cut():
    article = extract_article(_page(SHARE_BAR), URL)
    assert article["body"].split("\n\n") == PARAGRAPHS


def test_links_of_the_article_itself_stay():
    # A list of links to other sites, with texts longer than a button: part of the article.
    sources = ("<ul><li><a href='https://harbour.example/report.pdf'>The board's annual report on mooring</a></li>"
               "<li><a href='https://ferries.example/timetable'>The ferry company's summer timetable</a></li>"
               "<li><a href='https://guild.example/letter'>The guild's open letter to the board</a></li></ul>")
    tree = lxml.html.document_fromstring(_page(sources))
    assert strip_furniture(tree, URL) == 0
    assert len(tree.findall(".//li")) == 3


def test_strip_furniture_keeps_the_article_when_the_form_is_in_it():
    # A form with an e-mail field straight inside the <article>: only the form goes, never the article.
    tree = lxml.html.document_fromstring(_page("<form><input type='email'></form>"))
    assert strip_furniture(tree, URL) == 1
    assert [p.text_content() for p in tree.findall(".//article/p")] == PARAGRAPHS
    assert tree.find(".//form") is None
