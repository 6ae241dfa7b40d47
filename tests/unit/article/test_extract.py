"""Tests of crawler.article.related and crawler.article.extract: a seed-shaped page, encodings,
non-articles, and the 80 real pages of the fundus benchmark."""

from __future__ import annotations

import gzip
import json
import re
import time
from collections import Counter

import lxml.html
import pytest

from crawler.article.extract import decode_html, extract_article
from crawler.article.metadata import canonical_url, read_declared
from crawler.article.related import find_related, related_section, strip_related_blocks
from tests.support.paths import FUNDUS

URL = "https://www.loopback.test/biz/amazon-china-cloud.html"

HEADLINE = "Amazon Sells China Cloud Business as Online Controls Tighten"
PARAGRAPHS = [
    "Amazon has agreed to sell its cloud computing business in China for about $300 million. "
    "The move is a response to the Chinese government\u2019s increasing control of the Internet "
    "and web services.",
    "The e-commerce giant said Tuesday that it sold the infrastructure behind its Chinese public "
    "cloud business to its existing partner, Sinnet, in a deal valued at up to $300 million. "
    "Amazon Web Services will continue to own the company\u2019s intellectual property.",
    "Earlier this year, China introduced new laws that require all companies operating in China "
    "to store data locally. The measures, which took effect from June, also halt use of the VPNs "
    "that consumers and businesses use to access web services and websites that are not "
    "available or blocked in China.",
    "While Chinese President Xi Jinping this week proclaimed the advantages of global trade and "
    "allowed increased foreign ownership in the financial services industry, the country is "
    "moving in the opposite direction on the Internet.",
    "International companies are having to choose between the kind of compliance that requires "
    "them to give backdoor access to the Chinese authorities or to exit the country. Apple, "
    "Microsoft, Oracle and IBM all have cloud computing businesses in China.",
    "Though the company remains outside, Facebook chief Mark Zuckerberg last month made his "
    "annual visit to China. Recent media reports suggest that Facebook is making renewed "
    "attempts to open for business in the Middle Kingdom.",
    "Amazon\u2019s move highlights the difficulties facing companies, such as Netflix, that would "
    "like access to China but remain blocked. Their absence means that China\u2019s tech giants "
    "have the field largely to themselves and are growing bigger.",
    "Local Chinese tech giants Tencent and Weibo were recently fined for not sufficiently "
    "censoring user comments on their platforms. The government now also says that it wants to "
    "have equity stakes in tech firms and to have boardroom representation.",
]
# (path, truncated link text, full headline, teaser)
TEASERS = [
    ("blurred-lines.html", "'Blurred Lines' Suit Ends With $5",
     "'Blurred Lines' Suit Ends With $5 Million Judgement Against Robin Thicke, Pharrell Williams",
     "After five years, the legal battle over the copyright of the Robin Thicke\u2019s 2013 hit "
     "\u201cBlurred Lines\u201d has ended, with Marvin Gaye\u2019s family being awarded a final "
     "judgment of nearly $5 million [...]"),
    ("wme-greenburg.html", "WME Veteran Ari Greenburg Promoted to",
     "WME Veteran Ari Greenburg Promoted to President of Talent Agency",
     "WME veteran Ari Greenburg, one of the original Endeavor staffers who helped build the "
     "talent agency that became an industry powerhouse, has been promoted to president. [...]"),
    ("wenham.html", "Alison Wenham Steps Down as CEO",
     "Alison Wenham Steps Down as CEO of WIN",
     "After 12 years at the helm of the Worldwide Independent Network, a global trade "
     "organization for the independent music industry, Alison Wenham is stepping down. [...]"),
    ("moonves.html", "Leslie Moonves",
     "Leslie Moonves Quietly Exits AFI and Paley Center Boards",
     "Leslie Moonves, the ousted CEO of CBS Corp., is no longer serving on the boards of "
     "trustees of the American Film Institute and the Paley Center for Media. [...]"),
    ("doj-piracy.html", "DOJ Indicts Five in Piracy Ring",
     "Department of Justice Indicts Five in International Piracy Ring",
     "Five men were indicted Wednesday on charges that they hacked into the servers of "
     "production companies, and stole hundreds of films and TV shows. [...]"),
    ("endeavor-idaho.html", "Endeavor Sued Over Idaho Country Music",
     "Endeavor Sued Over Idaho Country Music Festival",
     "A former county official in rural Idaho sued Endeavor on Wednesday, alleging she is owed "
     "more than $190,000 in unpaid loans arising from a troubled country music festival. [...]"),
]
BRAND_TEXT = "Sister Magazine: Ten Gadgets We Loved This Year"
PAYWALL_TEXT = "Subscribe now for unlimited access to every story and our archive."
NAV_TEXT = "Entertainment and Culture Coverage"
FOOTER_TEXT = "Copyright 2017 The Daily Loopback Media Group. All rights reserved."


def seed_page(*, head_extra: str = "", charset: str = "utf-8") -> str:
    """A page in the shape of /work/shared/seed: overlay, headline, byline, body,
    "More Biz" teasers, sister-site block, paywall prompt, nav and footer."""
    items = "\n".join(
        f'<li class="teaser"><a href="/biz/{path}#comments">{short}</a>'
        f"<h3>{full}</h3><p>{teaser}</p></li>"
        for path, short, full, teaser in TEASERS
    )
    body = "\n".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return f"""<!DOCTYPE html>
<html lang="en-US"><head>
<meta charset="{charset}">
<title>{HEADLINE} | The Daily Loopback</title>
<meta name="description" content="Amazon has agreed to sell its cloud business in China.">
<meta property="og:type" content="article">
<meta property="og:site_name" content="The Daily Loopback">
<meta property="og:title" content="{HEADLINE} | The Daily Loopback">
<link rel="canonical" href="/biz/amazon-china-cloud.html">
{head_extra}
</head><body>
<nav class="site-nav"><ul><li><a href="/">Home</a></li><li><a href="/biz/">Biz</a></li>
<li><a href="/culture/">{NAV_TEXT}</a></li></ul></nav>
<div class="interstitial"><button class="close">\u00d7</button>
<p>You will be redirected back to your article in seconds</p></div>
<main><article>
<h1>{HEADLINE}</h1>
<p class="byline">By Jane Doe and John Roe</p>
<time datetime="2017-11-14T09:30:00-08:00">November 14, 2017</time>
<div class="article-body">{body}</div>
</article>
<section class="more-section"><h2>More Biz</h2><ul>{items}</ul></section>
<section class="brands"><h2>More From Our Brands</h2><ul>
<li><a href="https://www.sister-magazine.test/gadgets">{BRAND_TEXT}</a></li>
<li><a href="https://www.other-brand.test/food">Other Brand: The Best Restaurants of the Year</a></li>
</ul></section>
<div class="paywall"><h3>Access exclusive content</h3><p>{PAYWALL_TEXT}</p>
<a href="/subscribe">Subscribe</a></div>
</main>
<footer><p>{FOOTER_TEXT}</p><a href="/privacy">Privacy policy</a></footer>
</body></html>"""


EXPECTED_RELATED = [
    {"url": f"https://www.loopback.test/biz/{path}", "title": full, "teaser": teaser,
     "section": "Biz"}
    for path, _short, full, teaser in TEASERS
]


# --- crawler.article.related ------------------------------------------------------------


def test_find_related_returns_each_teaser_with_its_full_headline():
    tree = lxml.html.fromstring(seed_page())
    assert find_related(tree, URL) == EXPECTED_RELATED


def test_find_related_does_not_modify_the_tree():
    tree = lxml.html.fromstring(seed_page())
    before = lxml.html.tostring(tree)
    find_related(tree, URL)
    related_section(tree)
    assert lxml.html.tostring(tree) == before


def test_strip_related_blocks_removes_section_and_brand_blocks():
    tree = lxml.html.fromstring(seed_page())
    assert strip_related_blocks(tree) == 2
    text = tree.text_content()
    assert "More Biz" not in text and "More From Our Brands" not in text
    assert BRAND_TEXT not in text
    assert all(full not in text and teaser not in text for _, _, full, teaser in TEASERS)
    assert all(p in text for p in PARAGRAPHS)
    assert strip_related_blocks(tree) == 0


def test_related_section_names_the_first_block():
    assert related_section(lxml.html.fromstring(seed_page())) == "Biz"
    assert related_section(lxml.html.fromstring("<div><p>No blocks here</p></div>")) is None


RELATED_VARIANTS = """<html><body><article><p>Body text.</p></article>
<div class="rail">
  <div class="rail-head"><span>More Tech News</span><a href="/tech/">See all</a></div>
  <div class="cards">
    <div class="card"><a href="https://loopback.test/tech/one.html"><img src="1.jpg"></a>
      <a href="https://loopback.test/tech/one.html">Chip Maker Posts Record Quarter</a></div>
    <div class="card"><a href="/tech/two.html"><h4>Phone Sales Slow Down</h4>
      <span class="excerpt">Shipments fell for a third quarter.</span></a></div>
    <div class="card"><a href="https://elsewhere.test/tech/three.html">Off-site story</a></div>
    <div class="card"><a href="/tech/two.html">Phone Sales</a></div>
  </div>
</div>
<h3>More</h3><ul><li><a href="/x.html">Lone more link one</a></li><li><a href="/y.html">Two</a></li></ul>
<h3>More from The Loopback</h3><ul><li><a href="/z.html">Same-site but a "More from" block</a></li>
<li><a href="/w.html">Another one</a></li></ul>
</body></html>"""


def test_find_related_variants():
    """A span heading with its cards in a sibling div; links merged per article;
    off-site, "More" alone and "More from ..." blocks ignored."""
    tree = lxml.html.fromstring(RELATED_VARIANTS)
    assert find_related(tree, "https://www.loopback.test/tech/index.html") == [
        {"url": "https://loopback.test/tech/one.html", "title": "Chip Maker Posts Record Quarter",
         "teaser": "", "section": "Tech News"},
        {"url": "https://www.loopback.test/tech/two.html", "title": "Phone Sales Slow Down",
         "teaser": "Shipments fell for a third quarter.", "section": "Tech News"},
    ]
    assert related_section(tree) == "Tech News"
    assert strip_related_blocks(tree) == 2
    assert "Same-site but" not in tree.text_content()
    assert "Lone more link one" in tree.text_content()


def test_related_links_and_the_canonical_follow_the_one_same_site_rule():
    """crawler.base.urls.same_site: another subdomain of the registrable domain is the site."""
    page = """<html><head><link rel="canonical" href="https://amp.example.co.uk/news/a.html">
    </head><body><h3>More Politics</h3><ul>
    <li><a href="https://amp.example.co.uk/news/b.html">Council Agrees a Budget</a></li>
    <li><a href="https://example.co.uk/news/c.html">Mayor Wins a Second Term</a></li>
    <li><a href="https://other.co.uk/news/d.html">Elsewhere: a Story Off the Site</a></li>
    </ul></body></html>"""
    tree = lxml.html.fromstring(page)
    url = "https://www.example.co.uk/news/a.html"
    assert [entry["url"] for entry in find_related(tree, url)] == [
        "https://amp.example.co.uk/news/b.html", "https://example.co.uk/news/c.html"]
    declared = read_declared(tree)
    assert canonical_url(tree, declared, url) == "https://amp.example.co.uk/news/a.html"
    assert canonical_url(tree, declared, "https://other.co.uk/news/a.html") is None


# --- crawler.article.extract: the seed-shaped page --------------------------------------


@pytest.fixture(scope="module")
def seed_article():
    return extract_article(seed_page().encode("utf-8"), URL, content_type="text/html")


def test_extract_article_keys_and_metadata(seed_article):
    article = seed_article
    assert list(article) == ["url", "canonical_url", "title", "authors", "published", "modified",
                             "section", "body", "description", "language", "site_name", "domain",
                             "related"]
    assert article["url"] == URL
    assert article["canonical_url"] == "https://www.loopback.test/biz/amazon-china-cloud.html"
    assert article["title"] == HEADLINE
    assert article["authors"] == ["Jane Doe", "John Roe"]
    assert article["published"] == "2017-11-14T09:30:00-08:00"
    assert article["modified"] is None
    assert article["section"] == "Biz"
    assert article["description"] == "Amazon has agreed to sell its cloud business in China."
    assert article["language"] == "en-US"
    assert article["site_name"] == "The Daily Loopback"
    assert article["domain"] == "loopback.test"
    assert article["related"] == EXPECTED_RELATED


def test_extract_article_body_is_the_article_text_only(seed_article):
    body = seed_article["body"]
    assert body == "\n\n".join(PARAGRAPHS)
    for unwanted in ["\u00d7", "redirected back", HEADLINE, "Jane Doe", "More Biz",
                     "More From Our Brands", BRAND_TEXT, "Access exclusive content", PAYWALL_TEXT,
                     NAV_TEXT, FOOTER_TEXT, *(t[2] for t in TEASERS), *(t[3] for t in TEASERS)]:
        assert unwanted not in body


def test_extract_article_accepts_str():
    page = seed_page()
    article = extract_article(page, URL)
    assert article is not None and article["body"] == "\n\n".join(PARAGRAPHS)


@pytest.mark.parametrize(("head", "expected"), [
    ("<title>Big Storm Hits the Coast | The Daily Loopback</title>", "Big Storm Hits the Coast"),
    ("<title>Big Storm Hits the Coast - Loopback</title>", "Big Storm Hits the Coast"),
    ("<title>The Daily Loopback: Big Storm Hits the Coast</title>"
     '<meta property="og:site_name" content="The Daily Loopback">', "Big Storm Hits the Coast"),
    ("<title>Storm - Live Updates - Loopback</title>", "Storm - Live Updates"),
    ('<meta property="og:title" content="Big Storm Hits the Coast &amp;#8211; Again">',
     "Big Storm Hits the Coast \u2013 Again"),
])
def test_title_without_site_name(head, expected):
    page = (f'<html><head>{head}<meta property="og:type" content="article"></head><body>'
            f"<article><p>{PARAGRAPHS[0]}</p><p>{PARAGRAPHS[1]}</p></article></body></html>")
    assert extract_article(page, "https://www.loopback.test/a.html")["title"] == expected


LISTING = """<!DOCTYPE html><html lang="en"><head><title>Biz | The Daily Loopback</title>
<meta property="og:type" content="website"></head><body>
<nav><a href="/">Home</a> <a href="/biz/">Biz</a> <a href="/tech/">Tech</a></nav>
<main><h1>Biz</h1>{cards}</main><footer><a href="/about">About us</a></footer></body></html>"""


def test_listing_page_is_not_an_article():
    cards = "".join(
        f'<div class="card"><h2><a href="/biz/story-{i}.html">Story number {i} makes the '
        f"business headlines today</a></h2><p>A short teaser for story {i}, which tells the "
        f"reader in a sentence or two what the article is about and why.</p>"
        f'<a href="/biz/story-{i}.html">Read more about story {i}</a></div>'
        for i in range(14)
    )
    assert extract_article(LISTING.format(cards=cards), "https://www.loopback.test/biz/") is None


def test_page_without_metadata_is_judged_by_its_text():
    page = seed_page().replace('<meta property="og:type" content="article">', "")
    article = extract_article(page, URL)
    assert article is not None and article["title"] == HEADLINE
    short = page.replace("".join(f"<p>{p}</p>\n" for p in PARAGRAPHS[1:]), "")
    short = re.sub(r"<p>(?!Amazon has)[^<]{200,}</p>", "", short)
    assert extract_article(short, URL) is None


JSONLD_PAGE = """<html><head><title>Other title - Loopback</title>
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "From the broken block", ,, </script>
<script type="application/ld+json">{valid}</script>
<script type="application/ld+json"><!--
{{"@type": "BreadcrumbList", "itemListElement": [{{"@type": "ListItem", "position": 1,}}],}}
--></script>
</head><body><h1>Visible headline</h1><div class="text"><p>{p0}</p><p>{p1}</p></div></body></html>"""


def test_broken_jsonld_block_does_not_lose_the_valid_one():
    valid = json.dumps({
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebPage", "name": "A page"},
            {"@type": ["NewsArticle"], "headline": "Headline from the valid block",
             "datePublished": "2024-03-01T10:00:00+01:00", "dateModified": "2024-03-02T08:00:00Z",
             "author": [{"@type": "Person", "name": "Ann Author"}, {"name": "Bo Builder"}],
             "articleSection": ["World", "Europe"],
             "publisher": {"@type": "Organization", "name": "Loopback News"}},
        ],
    })
    page = JSONLD_PAGE.format(valid=valid, p0=PARAGRAPHS[0], p1=PARAGRAPHS[1])
    article = extract_article(page, "https://loopback.test/world/x.html")
    assert article is not None  # declared by JSON-LD, though short
    assert article["title"] == "Headline from the valid block"
    assert article["authors"] == ["Ann Author", "Bo Builder"]
    assert article["published"] == "2024-03-01T10:00:00+01:00"
    assert article["modified"] == "2024-03-02T08:00:00Z"
    assert article["section"] == "World"
    assert article["site_name"] == "Loopback News"
    assert article["canonical_url"] is None
    assert article["body"] == f"{PARAGRAPHS[0]}\n\n{PARAGRAPHS[1]}"


def test_jsonld_with_comments_and_trailing_commas_is_read_leniently():
    block = ('<!--\n{"@context": "https://schema.org", "@type": "ReportageNewsArticle",\n'
             '// a JavaScript comment\n"headline": "Lenient headline",\n'
             '"author": {"@type": "Person", "name": "Cy Commas",},}\n-->')
    page = JSONLD_PAGE.format(valid="{}", p0=PARAGRAPHS[0], p1=PARAGRAPHS[1]).replace(
        "<script type=\"application/ld+json\">{}</script>",
        f'<script type="application/ld+json">{block}</script>')
    article = extract_article(page, "https://loopback.test/world/x.html")
    assert article["title"] == "Lenient headline"
    assert article["authors"] == ["Cy Commas"]


# --- Encodings ------------------------------------------------------------------

LATIN = "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e \u2013 \u201cna\u00efve\u201d r\u00e9sum\u00e9 for \u20ac5"
CHINESE = ("\u4e9a\u9a6c\u900a\u540c\u610f\u4ee5\u7ea6\u4e09\u4ebf\u7f8e\u5143\u51fa\u552e\u5176"
           "\u5728\u4e2d\u56fd\u7684\u4e91\u8ba1\u7b97\u4e1a\u52a1\uff0c\u6731\u9555\u57fa\u8868"
           "\u793a\u6b22\u8fce\u3002")  # U+9555 is in GBK/GB18030, not in GB2312


@pytest.mark.parametrize(("declaration", "header"), [
    ('<meta charset="windows-1252">', None),
    ('<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">', None),
    ("", "text/html; charset=windows-1252"),
    ("", None),
])
def test_decode_windows_1252(declaration, header):
    page = f"<html><head>{declaration}</head><body><p>{LATIN}</p></body></html>"
    assert LATIN in decode_html(page.encode("cp1252"), header)


def test_decode_gb2312_as_gb18030():
    page = f'<html><head><meta charset="gb2312"></head><body><p>{CHINESE}</p></body></html>'
    assert CHINESE in decode_html(page.encode("gb18030"))
    assert CHINESE in decode_html(page.encode("gb18030"), "text/html; charset=GB2312")
    undeclared = f"<html><body><p>{CHINESE * 3}</p></body></html>"
    assert CHINESE * 3 in decode_html(undeclared.encode("gb18030"))


def test_decode_header_wins_over_meta_and_utf8_default():
    page = f'<html><head><meta charset="utf-8"></head><body><p>{LATIN}</p></body></html>'
    assert LATIN in decode_html(page.encode("cp1252"), "text/html; charset=windows-1252")
    assert LATIN in decode_html(f"<p>{LATIN}</p>".encode())
    assert decode_html(b"") == ""
    assert isinstance(decode_html(b"\xff\xfe\x00\xd8 broken", "text/html; charset=nonsense"), str)


def test_extract_gb2312_article_keeps_the_chinese_text():
    paragraphs = [CHINESE * 3, CHINESE[::-1] * 3, CHINESE * 2]
    page = ('<html lang="zh-CN"><head><meta charset="gb2312"><title>\u4e91\u8ba1\u7b97</title>'
            '<meta property="og:type" content="article"></head><body><article>'
            "<h1>\u4e9a\u9a6c\u900a\u51fa\u552e\u4e91\u4e1a\u52a1</h1>"
            + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article></body></html>")
    article = extract_article(page.encode("gb18030"), "https://news.test/a.html")
    assert article is not None
    assert CHINESE * 3 in article["body"]
    assert article["title"] == "\u4e9a\u9a6c\u900a\u51fa\u552e\u4e91\u4e1a\u52a1"
    assert article["language"] == "zh-CN"


def test_extract_windows_1252_article_without_declaration():
    page = seed_page().replace('<meta charset="utf-8">', "")
    page = page.replace(PARAGRAPHS[0], f"{LATIN} {PARAGRAPHS[0]}")
    article = extract_article(page.encode("cp1252"), URL)
    assert article is not None and LATIN in article["body"]


# --- Not articles, malformed input ----------------------------------------------


@pytest.mark.parametrize(("body", "content_type"), [
    (b"", None),
    (b"   \n\t ", "text/html"),
    ("", None),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", None),
    (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
    (b"<!-- only a comment -->", "text/html"),
    (b'{"not": "html"}', "application/json"),
])
def test_non_articles_return_none(body, content_type):
    assert extract_article(body, URL, content_type=content_type) is None


@pytest.mark.parametrize("page", [
    "<html><body><p>unclosed <div><span>text \x00 with NUL\x07</p></table></html>",
    '<?xml version="1.0" encoding="UTF-8"?><html><body><p>XHTML</p></body></html>',
    "<html><head><script type='application/ld+json'>[1, 2, \"x\"]</script></head></html>",
    "<p>" + "deep <div>" * 3000,
])
def test_malformed_html_never_raises(page):
    result = extract_article(page, URL)
    assert result is None or isinstance(result, dict)


# --- The fundus benchmark -------------------------------------------------------


def _shingles(text: str) -> Counter:
    tokens = re.findall(r"\w+", text)
    return Counter(tuple(tokens[i:i + 4]) for i in range(len(tokens) - 3))


@pytest.mark.skipif(not (FUNDUS / "ground_truth.json").is_file(),
                    reason=f"fundus benchmark pages not present under {FUNDUS}")
def test_fundus_benchmark_body_f1(capsys):
    """Every page is an article with a title and a body; the mean 4-token-shingle
    precision and recall (multisets, case kept) give an F1 of at least 0.90."""
    truth = json.loads((FUNDUS / "ground_truth.json").read_text())
    pages = {name: gzip.decompress((FUNDUS / "html" / name).read_bytes()) for name in sorted(truth)}
    start = time.process_time()
    results = {name: extract_article(body, truth[name]["url"]) for name, body in pages.items()}
    seconds = time.process_time() - start
    precision = recall = 0.0
    for name, article in results.items():
        assert article is not None, name
        assert article["title"] and article["body"], name
        predicted, expected = _shingles(article["body"]), _shingles("\n\n".join(truth[name]["body"]))
        shared = sum((predicted & expected).values())
        precision += shared / max(1, sum(predicted.values()))
        recall += shared / max(1, sum(expected.values()))
    precision, recall = precision / len(results), recall / len(results)
    f1 = 2 * precision * recall / (precision + recall)
    with capsys.disabled():
        print(f"\nfundus: P={precision:.4f} R={recall:.4f} F1={f1:.4f}, "
              f"{len(results) / seconds:.1f} pages/s (CPU)")
    assert f1 >= 0.90
    # A loose bound that only a pathological slowdown breaks (the target is 20 pages/s).
    assert len(results) / seconds >= 8
