"""The demo news site serves exactly what its ground truth says it does."""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
import urllib.error
import urllib.request
import urllib.robotparser
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import pytest
from parsel import Selector
from scrapy.http import HtmlResponse

from crawler.demo import (
    OVERSIZE_BYTES,
    bad_articles,
    bad_pages,
    duplicate_pages,
    expected_articles,
    serve,
)
from crawler.demo.content import ARTICLES, LAB_ARTICLES, NEAR_DUPLICATE

SITE = "The Daily Loopback"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass
class Page:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def sel(self) -> Selector:
        return Selector(text=self.body.decode("utf-8"))

    def hrefs(self, base_url: str) -> list[str]:
        """Every link target of the page, resolved against ``base_url``, fragments kept."""
        return [urljoin(base_url + "/", href) for href in self.sel.css("a::attr(href)").getall()]


def fetch(url: str, method: str = "GET") -> Page:
    request = urllib.request.Request(url, method=method)
    try:
        with _OPENER.open(request, timeout=10) as response:
            return Page(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Page(error.code, error.headers, error.read())


def _text(sel: Selector, css: str) -> str:
    return " ".join(" ".join(sel.css(css).xpath("string()").getall()).split())


def _iso(value: str) -> str:
    parsed = datetime.fromisoformat(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).isoformat()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture(scope="module")
def site():
    with serve(include_bad=True) as demo:
        yield demo


@pytest.fixture(scope="module")
def plain_site():
    with serve() as demo:
        yield demo


@pytest.fixture(scope="module")
def truth(site):
    return {article["url"]: article for article in expected_articles(site.base_url)}


# --- Serving ---------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "localhost", "::1", ""])
def test_serve_refuses_non_loopback_hosts(host):
    with pytest.raises(ValueError, match="loopback"):
        serve(host)


def test_base_url_names_the_bound_port(site):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", site.base_url)
    assert fetch(site.base_url + "/").status == 200


def test_close_frees_the_port_even_with_an_idle_keep_alive_connection():
    demo = serve()
    port = int(demo.base_url.rsplit(":", 1)[1])
    idle = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    idle.request("GET", "/")
    assert idle.getresponse().read()  # the connection stays open (HTTP/1.1 keep-alive)
    started = time.monotonic()
    demo.close()
    demo.close()  # idempotent
    assert time.monotonic() - started < 5
    idle.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    with serve(port=port) as again:
        assert again.base_url == demo.base_url
        assert fetch(again.base_url + "/").status == 200


def test_hits_record_every_request_path_with_its_query(site):
    before = len(site.hits)
    fetch(site.base_url + "/culture/?sort=oldest")
    fetch(site.base_url + "/no/such/page.html?x=1")
    fetch(site.base_url + "/robots.txt", method="HEAD")
    recent = list(site.hits)[before:]
    assert [path for _, path in recent] == [
        "/culture/?sort=oldest", "/no/such/page.html?x=1", "/robots.txt"]
    times = [at for at, _ in recent]
    assert times == sorted(times) and times[-1] <= time.monotonic()


def test_requests_write_nothing_to_stderr(site, capfd):
    for path in ("/", "/missing", "/lab/error.html", "/lab/loop-a"):
        fetch(site.base_url + path)
    # A client that hangs up in the middle of the oversize page (as Scrapy does).
    port = int(site.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /lab/oversize.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    time.sleep(0.3)  # let the handler thread hit the closed connection
    assert fetch(site.base_url + "/").status == 200
    assert capfd.readouterr().err == ""


def test_every_response_has_a_matching_content_length(site, truth):
    paths = ["/", "/biz/", "/tech/?page=2", "/calendar/?month=2017-11", "/robots.txt",
             "/nowhere", "/lab/", "/lab/empty.html", "/lab/error.html", "/lab/loop-a",
             *(_path(url) for url in truth)]
    for path in paths:
        page = fetch(site.base_url + path)
        assert int(page.headers["Content-Length"]) == len(page.body), path


def test_pages_are_deterministic(site):
    first_article = _path(expected_articles(site.base_url)[0]["url"])
    with serve(include_bad=True) as other:
        for path in ("/", "/biz/", first_article, "/lab/gb2312.html", "/lab/report.pdf"):
            mine = fetch(site.base_url + path).body.replace(site.base_url.encode(), b"BASE")
            theirs = fetch(other.base_url + path).body.replace(other.base_url.encode(), b"BASE")
            assert mine == theirs, path


# --- Home, listings, traps ------------------------------------------------------------


def test_home_links_every_section_the_calendar_and_the_private_page(plain_site):
    base = plain_site.base_url
    links = set(fetch(base + "/").hrefs(base))
    assert {base + "/biz/", base + "/tech/", base + "/culture/"} <= links
    assert base + "/calendar/?month=2017-11" in links
    assert base + "/private/secret.html" in links
    assert not any("/lab/" in link for link in links)


def test_home_links_the_lab_only_with_include_bad(site):
    assert site.base_url + "/lab/" in fetch(site.base_url + "/").hrefs(site.base_url)


def test_home_links_article_variants_that_serve_the_same_page(site, truth):
    base = site.base_url
    links = fetch(base + "/").hrefs(base)
    variants = [link for link in links
                if link.split("?")[0].split("#")[0] in truth and link not in truth]
    # The clean URL comes first, so a crawl in page order stores it, not a variant.
    for variant in variants:
        clean = variant.split("?")[0].split("#")[0]
        assert links.index(clean) < links.index(variant), variant
    assert any("utm_source=home" in v and "fbclid=abc" in v for v in variants)
    assert any(v.endswith("#comments") for v in variants)
    assert any("ref=rss&utm_campaign=x" in v for v in variants)
    for variant in variants:
        clean = variant.split("?")[0].split("#")[0]
        assert fetch(variant).body == fetch(clean).body, variant


@pytest.mark.parametrize("section,name", [("biz", "Biz"), ("tech", "Tech"),
                                          ("culture", "Culture")])
def test_section_listing_links_all_its_articles_and_its_traps(site, truth, section, name):
    base = site.base_url
    mine = {url for url, article in truth.items() if article["section"] == name}
    assert len(mine) == 4
    listing = fetch(f"{base}/{section}/")
    links = listing.hrefs(base)
    assert mine <= set(links)
    assert {f"{base}/{section}/?sort=newest", f"{base}/{section}/?sort=oldest",
            f"{base}/{section}/?page=2"} <= set(links)
    newest = [link for link in links if link in mine]
    oldest = [link for link in fetch(f"{base}/{section}/?sort=oldest").hrefs(base)
              if link in mine]
    assert oldest == newest[::-1]
    assert newest == sorted(
        mine, key=lambda url: datetime.fromisoformat(truth[url]["published"]), reverse=True)
    page2 = [link for link in fetch(f"{base}/{section}/?page=2").hrefs(base) if link in mine]
    assert page2 == oldest[:2]
    assert fetch(f"{base}/{section}/?page=3").status == 404


def test_calendar_links_to_new_months_forever(site):
    base = site.base_url
    url, seen = base + "/calendar/?month=2017-11", set()
    for _ in range(15):
        page = fetch(url)
        assert page.status == 200
        seen.add(url)
        url = urljoin(base, page.sel.css('a[rel="next"]::attr(href)').get())
    assert url == base + "/calendar/?month=2019-02" and url not in seen
    january = fetch(base + "/calendar/?month=2017-01")
    assert january.sel.css('a[rel="prev"]::attr(href)').get() == "/calendar/?month=2016-12"
    assert fetch(base + "/calendar/?month=2017-13").status == 404


def test_robots_txt_disallows_only_the_private_folder(site, truth):
    page = fetch(site.base_url + "/robots.txt")
    assert page.headers["Content-Type"] == "text/plain; charset=utf-8"
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(page.body.decode().splitlines())
    assert not robots.can_fetch("news-crawler", site.base_url + "/private/secret.html")
    for url in [site.base_url + "/", *truth, *duplicate_pages(site.base_url),
                *bad_pages(site.base_url)]:
        assert robots.can_fetch("news-crawler", url), url


# --- Articles ------------------------------------------------------------------------


def test_expected_articles_are_twelve_distinct_sorted_records(site):
    articles = expected_articles(site.base_url)
    urls = [article["url"] for article in articles]
    assert len(articles) == 12 and urls == sorted(set(urls))
    assert len({article["title"] for article in articles}) == 12
    assert {article["section"] for article in articles} == {"Biz", "Tech", "Culture"}
    assert all(article["canonical_url"] == article["url"] for article in articles)
    assert expected_articles(site.base_url + "/") == articles
    zoned = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
    for article in articles:
        assert zoned.fullmatch(article["published"])
        assert article["modified"] is None or zoned.fullmatch(article["modified"])


def test_every_expected_article_page_shows_its_ground_truth(site, truth):
    for url, article in truth.items():
        page = fetch(url)
        assert page.status == 200, url
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        sel = page.sel
        assert _text(sel, "h1") == article["title"]
        assert _text(sel, "title") == f"{article['title']} | {SITE}"
        assert _text(sel, "div.article-body > p:first-child") == article["first_paragraph"]
        assert sel.css('link[rel="canonical"]::attr(href)').get() == article["canonical_url"]
        assert _iso(sel.css("time.published::attr(datetime)").get()) == article["published"]
        modified = sel.css("time.updated::attr(datetime)").get()
        assert (modified and _iso(modified)) == (article["modified"] or None)
        assert [_text(author, "*") for author in sel.css("p.byline span.author")] == \
            article["authors"]
        for snippet in ("You will be redirected back to your article in seconds",
                        "More From Our Brands", "Access exclusive content",
                        "We use cookies to improve your experience.", "Accept all cookies"):
            assert snippet in page.body.decode(), (url, snippet)


def test_article_bodies_are_long_enough(site, truth):
    for url in truth:
        paragraphs = [_text(p, "*") for p in fetch(url).sel.css("div.article-body > p")]
        assert len(paragraphs) >= 5, url
        assert sum(len(p.split()) for p in paragraphs) >= 150, url
        for paragraph in paragraphs:
            sentences = re.findall(r"[.!?][\u201d\u2019\"]?(?=\s|$)", paragraph)
            assert 2 <= len(sentences) <= 4, (url, paragraph)


def test_related_entries_are_the_more_block_of_the_page(site, truth):
    for url, article in truth.items():
        sel = fetch(url).sel
        block = sel.css("section.more")
        assert _text(block, "h2") == f"More {article['section']}"
        shown = []
        for item in block.css("li"):
            link = item.css("a")
            link_text = _text(link, "*")
            headline = _text(item, "h3")
            assert link_text == headline or (
                link_text.endswith("\u2026") and headline.startswith(link_text[:-1]))
            shown.append({"url": urljoin(url, link.attrib["href"]), "title": headline,
                          "teaser": _text(item, "p"), "section": article["section"]})
        assert shown == article["related"], url
        assert len(shown) == 3 and url not in {entry["url"] for entry in shown}
        for entry in shown:
            assert entry["teaser"].endswith(" [...]")
            assert truth[entry["url"]]["first_paragraph"].startswith(entry["teaser"][:-6])
            assert truth[entry["url"]]["title"] == entry["title"]


def test_article_metadata_kinds(site, truth):
    kinds = {}
    for url, article in truth.items():
        sel = fetch(url).sel
        blocks = sel.css('script[type="application/ld+json"]::text').getall()
        og = {m.attrib["property"]: m.attrib["content"]
              for m in sel.css('meta[property^="og:"], meta[property^="article:"]')}
        if blocks:
            kinds[url] = "json-ld"
            data = json.loads(blocks[0])
            assert data["@type"] == "NewsArticle" and data["headline"] == article["title"]
            assert data["publisher"]["name"] == SITE
            assert data["articleSection"] == article["section"]
            assert _iso(data["datePublished"]) == article["published"]
            assert (data.get("dateModified") and _iso(data["dateModified"])) == \
                (article["modified"] or None)
            names = [author["name"] for author in data["author"]]
            assert names == (article["authors"] or ["Staff Reporter"])
            assert og["og:type"] == "article"
        elif og:
            kinds[url] = "og"
            assert og["og:type"] == "article" and og["og:title"] == article["title"]
            assert _iso(og["article:published_time"]) == article["published"]
            assert og["article:section"] == article["section"]
            assert sel.css('meta[property="article:author"]::attr(content)').getall() == \
                article["authors"]
        else:
            kinds[url] = "none"
    assert list(kinds.values()).count("og") == 2
    assert list(kinds.values()).count("none") == 1
    assert list(kinds.values()).count("json-ld") == 9


def test_bylines_dates_and_authors_vary(site, truth):
    author_counts = {len(article["authors"]) for article in truth.values()}
    assert {0, 1, 2, 3} <= author_counts
    staff = [url for url, article in truth.items() if not article["authors"]]
    assert len(staff) == 1
    assert _text(fetch(staff[0]).sel, "p.byline") == "By Staff Reporter"
    offsets = {article["published"][-6:] for article in truth.values()}
    assert len(offsets) >= 6
    zoneless = [url for url in truth
                if not re.search(r"[+-]\d\d:\d\d$|Z$",
                                 fetch(url).sel.css("time.published::attr(datetime)").get())]
    assert len(zoneless) == 1
    assert truth[zoneless[0]]["published"] == "2018-03-02T10:00:00+00:00"


# --- Duplicates ------------------------------------------------------------------------


def _body(page: Page) -> list[str]:
    return [_text(p, "*") for p in page.sel.css("div.article-body > p")]


def test_duplicate_pages_are_copies_linked_only_from_their_originals(site, truth):
    base = site.base_url
    copies = duplicate_pages(base)
    assert sorted(copies.values()) == ["duplicate_content", "duplicate_url", "near_duplicate"]
    assert not set(copies) & set(truth)
    by_title = {article["title"]: url for url, article in truth.items()}
    not_originals = {base + "/", base + "/biz/", base + "/tech/", base + "/culture/",
                     base + "/biz/?page=2", base + "/tech/?page=2"}
    for url, kind in copies.items():
        copy = fetch(url)
        assert copy.status == 200, url
        original_url = by_title[_text(copy.sel, "h1")]
        original = fetch(original_url)
        canonical = copy.sel.css('link[rel="canonical"]::attr(href)').get()
        assert url in original.hrefs(base), url
        assert not any(url in fetch(other).hrefs(base) for other in not_originals), url
        if kind == "duplicate_url":
            assert canonical == original_url
            assert copy.sel.css("html").attrib.get("amp") is not None
            assert _body(copy) == _body(original)
        elif kind == "duplicate_content":
            assert canonical == url and url.startswith(base + "/wire/")
            assert _body(copy) == _body(original)
        else:
            assert canonical == url and url.endswith("-update.html")
            before = " ".join(_body(original)).split()
            after = " ".join(_body(copy)).split()
            assert len(before) == len(after)
            assert [(a, b) for a, b in zip(before, after) if a != b] == [
                (NEAR_DUPLICATE[1].split()[1], NEAR_DUPLICATE[2].split()[1])]


# --- The lab ---------------------------------------------------------------------------


def test_bad_pages_declare_every_kind(site):
    kinds = bad_pages(site.base_url)
    assert sorted(set(kinds.values())) == sorted(
        ["malformed", "windows-1252", "gb2312", "no-charset", "not-html", "empty", "oversize",
         "redirect-loop", "404", "500"])
    assert all(url.startswith(site.base_url + "/lab/") for url in kinds)
    listed = set(fetch(site.base_url + "/lab/").hrefs(site.base_url))
    assert set(kinds) <= listed


def test_lab_is_absent_without_include_bad(plain_site):
    for url in [plain_site.base_url + "/lab/", *bad_pages(plain_site.base_url)]:
        assert fetch(url).status == 404, url


def _by_kind(site) -> dict[str, str]:
    return {kind: url for url, kind in bad_pages(site.base_url).items()}


def test_bad_articles_are_the_four_real_articles(site):
    articles = bad_articles(site.base_url)
    kinds = bad_pages(site.base_url)
    assert [kinds[article["url"]] for article in articles] == [
        "gb2312", "malformed", "no-charset", "windows-1252"]
    assert all(article["section"] == "Lab" and article["related"] == [] for article in articles)
    assert {a["title"] for a in articles} == {a.headline for a in LAB_ARTICLES.values()}


def test_encoded_articles_hold_their_ground_truth_in_their_charset(site):
    truths = {bad_pages(site.base_url)[a["url"]]: a for a in bad_articles(site.base_url)}
    expected = {  # kind -> (Content-Type header, codec, declared in a meta tag)
        "windows-1252": ("text/html; charset=windows-1252", "cp1252", False),
        "gb2312": ("text/html", "gb2312", True),
        "no-charset": ("text/html", "cp1252", False),
        "malformed": ("text/html; charset=utf-8", "utf-8", True),
    }
    for kind, (content_type, codec, meta) in expected.items():
        article = truths[kind]
        page = fetch(article["url"])
        assert page.status == 200 and page.headers["Content-Type"] == content_type
        text = page.body.decode(codec)
        assert article["title"] in text and article["first_paragraph"] in text
        if codec != "utf-8":
            with pytest.raises(UnicodeDecodeError):
                page.body.decode("utf-8")
        declares = re.search(rb"<meta[^>]*charset", page.body, re.I) is not None
        assert declares is meta, kind
    assert b'<meta charset="gb2312">' in fetch(truths["gb2312"]["url"]).body
    no_charset = fetch(truths["no-charset"]["url"]).body
    assert b"charset" not in no_charset.lower() and not no_charset.startswith(b"\xef\xbb\xbf")
    assert {"café", "naïve"} <= set(re.findall(r"\w+", no_charset.decode("cp1252")))
    assert "€" in fetch(truths["windows-1252"]["url"]).body.decode("cp1252")


@pytest.mark.parametrize("kind", ["windows-1252", "gb2312", "malformed"])
def test_scrapy_decodes_declared_charsets(site, kind):
    article = {a["url"]: a for a in bad_articles(site.base_url)}[_by_kind(site)[kind]]
    page = fetch(article["url"])
    response = HtmlResponse(article["url"], body=page.body,
                            headers={"Content-Type": page.headers["Content-Type"]})
    assert article["first_paragraph"] in response.text


def test_malformed_article_is_sloppy_but_recoverable(site):
    article = {a["url"]: a for a in bad_articles(site.base_url)}[_by_kind(site)["malformed"]]
    page = fetch(article["url"])
    raw = page.body.decode()
    assert "</div></div>" in raw and "</span>" in raw and "</head>" not in raw
    assert "</body>" not in raw and "<p>" in raw and raw.count("<p") > raw.count("</p>")
    assert _text(page.sel, "h1") == article["title"]
    assert _text(page.sel, "div.article-body > p:first-child") == article["first_paragraph"]


def test_non_html_empty_and_oversize_pages(site):
    kinds = _by_kind(site)
    pdf = fetch(kinds["not-html"])
    assert pdf.status == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.body.startswith(b"%PDF-1.4\n") and pdf.body.endswith(b"%%EOF\n")
    empty = fetch(kinds["empty"])
    assert (empty.status, empty.body) == (200, b"")
    assert empty.headers["Content-Type"] == "text/html; charset=utf-8"
    assert empty.headers["Content-Length"] == "0"
    assert OVERSIZE_BYTES == 3 * 1024 * 1024
    head = fetch(kinds["oversize"], method="HEAD")
    assert (head.status, head.body) == (200, b"")
    assert head.headers["Content-Length"] == str(OVERSIZE_BYTES)
    big = fetch(kinds["oversize"])
    assert len(big.body) == OVERSIZE_BYTES
    assert big.body.startswith(b"<!DOCTYPE html>") and big.body.endswith(b"</html>\n")


def test_redirect_loop_404_and_500(site):
    base, kinds = site.base_url, bad_pages(site.base_url)
    loop = sorted(url for url, kind in kinds.items() if kind == "redirect-loop")
    assert loop == [base + "/lab/loop-a", base + "/lab/loop-b"]
    a, b = fetch(loop[0]), fetch(loop[1])
    assert (a.status, a.headers["Location"]) == (302, loop[1])
    assert (b.status, b.headers["Location"]) == (302, loop[0])
    missing = [url for url, kind in kinds.items() if kind == "404"]
    assert [fetch(url).status for url in missing] == [404]
    assert missing[0] in fetch(base + "/lab/").hrefs(base)
    failing = [url for url, kind in kinds.items() if kind == "500"]
    assert [fetch(url).status for url in failing] == [500]
