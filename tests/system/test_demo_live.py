"""The live demo site: stories go live on schedule, hubs list them, answer 304s,
and the site records what was fetched. Time is moved by hand (a fake clock)."""

from __future__ import annotations

import calendar
import itertools
import json
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

import feedparser
import pytest
from lxml import etree
from parsel import Selector
from protego import Protego

from crawler.article.extract import extract_article
from crawler.article.fingerprints import shingles
from crawler.demo import serve
from crawler.demo.live import FEED_LATEST, HOME_LATEST, MORE_LATEST, NEWS_MAX_AGE
from crawler.demo.stories import BACKLOG_AGES, CYCLE, FEEDS, LIVE_SECTIONS, Schedule

START = 1_800_000_000.0
EVERY = 2.0
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock(START)


@pytest.fixture
def site(clock):
    with serve(live=True, publish_every=EVERY, seed=7, clock=clock) as demo:
        yield demo


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def links(base: str, body: bytes) -> list[str]:
    return [urljoin(base + "/", href) for href in Selector(text=body.decode()).css("a::attr(href)").getall()]


def xml_locs(body: bytes) -> list[str]:
    return [loc.text for loc in etree.fromstring(body).iter(f"{SM}loc")]


def test_stories_go_live_on_schedule_and_not_before(site, clock):
    base, new = site.base_url, len(BACKLOG_AGES)
    assert [s["number"] for s in site.truth()["stories"]] == list(range(new))
    upcoming = site.schedule.new_story(0)
    assert upcoming.live_at == START + EVERY
    assert get(base + upcoming.path)[0] == 404
    assert upcoming.path not in b"".join(get(base + p)[2] for p in site.live.hubs).decode()
    clock.now = START + EVERY
    status, _, body = get(base + upcoming.path)
    assert status == 200
    article = extract_article(body, base + upcoming.path)
    assert article["published"] == upcoming.published == "2027-01-15T04:00:02-04:00"
    assert article["title"] == upcoming.headline and article["authors"] == [upcoming.author]
    assert 'article:published_time" content="2027-01-15T04:00:02-04:00"' in body.decode()
    clock.now = START + 10 * EVERY + 1
    assert len(site.truth()["stories"]) == new + 10


def test_the_same_seed_and_start_publish_the_same_stories():
    a, b = (Schedule(seed=7, start=START, publish_every=EVERY) for _ in range(2))
    other = Schedule(seed=8, start=START, publish_every=EVERY)
    assert [a.new_story(k) for k in range(30)] == [b.new_story(k) for k in range(30)]
    assert [a.new_story(k).headline for k in range(30)] != [other.new_story(k).headline for k in range(30)]
    assert [a.new_story(k).only for k in range(len(CYCLE))] == [None, "more", None, "front", None, "news-sitemap"]
    with pytest.raises(ValueError, match="at least 1 second"):
        Schedule(seed=7, start=START, publish_every=0.5)


def test_stories_are_distinct_articles_for_the_deduplication():
    schedule = Schedule(seed=7, start=START, publish_every=EVERY)
    stories = schedule.live(START + 200 * EVERY)
    bodies = [shingles(" ".join(s.paragraphs)) for s in stories]
    worst = max(len(x & y) / len(x | y) for x, y in itertools.combinations(bodies, 2))
    assert worst < 0.4  # the store calls 0.65 a near-duplicate
    assert len({s.path for s in stories}) == len(stories)


def test_feeds_parse_and_list_the_newest_ordinary_stories_of_their_section(site, clock):
    clock.now = START + 40 * EVERY
    stories = site.schedule.live(clock.now)
    for section in LIVE_SECTIONS:
        want = sorted((s for s in stories if s.section == section and not s.only),
                      key=lambda s: -s.live_at)[:FEED_LATEST]
        for kind, path in FEEDS[section]:
            status, headers, body = get(site.base_url + path)
            assert status == 200 and headers["Content-Type"].startswith(f"application/{kind}+xml")
            feed = feedparser.parse(body)
            assert not feed.bozo, feed.get("bozo_exception")
            assert feed.version == ("rss20" if kind == "rss" else "atom10")
            assert [e.link for e in feed.entries] == [site.base_url + s.path for s in want]
            assert [calendar.timegm(e.published_parsed) for e in feed.entries] == [
                s.live_at for s in want]


def test_pages_announce_their_feeds_and_the_culture_front_has_none(site):
    base = site.base_url

    def alternates(path):
        sel = Selector(text=get(base + path)[2].decode())
        return [(link.attrib["type"], urljoin(base + "/", link.attrib["href"]))
                for link in sel.css('head link[rel="alternate"]')]

    every = [(f"application/{kind}+xml", base + path) for s in LIVE_SECTIONS for kind, path in FEEDS[s]]
    assert alternates("/") == every
    assert alternates("/tech/") == [t for t in every if "/tech/" in t[1]]
    assert alternates("/culture/") == []
    story = site.schedule.backlog[1]  # a tech story
    assert story.section == "tech" and alternates(story.path) == alternates("/tech/")


def test_robots_names_the_sitemap_index_of_a_news_and_an_archive_sitemap(site, clock):
    base = site.base_url
    clock.now = START + 30 * EVERY
    robots = Protego.parse(get(base + "/robots.txt")[2].decode())
    assert list(robots.sitemaps) == [base + "/sitemap_index.xml"]
    assert not robots.can_fetch(base + "/_demo/truth.json", "news")
    index = etree.fromstring(get(base + "/sitemap_index.xml")[2])
    assert index.tag == f"{SM}sitemapindex"
    assert xml_locs(etree.tostring(index)) == [base + "/sitemaps/news.xml", base + "/sitemaps/archive.xml"]

    stories = site.schedule.live(clock.now)
    news = etree.fromstring(get(base + "/sitemaps/news.xml")[2])
    dates = {url.findtext(f"{SM}loc"): url.findtext(f"{NEWS}news/{NEWS}publication_date")
             for url in news.iter(f"{SM}url")}
    want = [s for s in stories if s.only in (None, "news-sitemap") and s.live_at >= clock.now - NEWS_MAX_AGE]
    assert sorted(dates) == sorted(base + s.path for s in want)
    assert all(d.endswith("-04:00") and "T" in d for d in dates.values())
    assert len(want) == len(stories) - 3 - sum(1 for s in stories if s.only in ("more", "front"))
    archive = etree.fromstring(get(base + "/sitemaps/archive.xml")[2])
    lastmods = {url.findtext(f"{SM}loc"): url.findtext(f"{SM}lastmod") for url in archive.iter(f"{SM}url")}
    assert lastmods == {base + s.path: s.published for s in stories if not s.only}


def test_hubs_answer_304_to_their_validators_until_a_story_changes_them(site, clock):
    url = site.base_url + "/"
    status, headers, body = get(url)
    etag, modified = headers["ETag"], headers["Last-Modified"]
    newest = max(s.live_at for s in site.schedule.backlog)
    assert parsedate_to_datetime(modified).timestamp() == newest
    assert get(url, {"If-None-Match": etag})[:1] == (304,)
    assert get(url, {"If-None-Match": etag})[2] == b""
    assert get(url, {"If-Modified-Since": modified})[0] == 304
    # If-None-Match decides when both are sent.
    assert get(url, {"If-None-Match": '"other"', "If-Modified-Since": modified})[0] == 200
    clock.now = START + EVERY  # story 0 (ordinary) goes live: the home page lists it
    status, headers2, body2 = get(url, {"If-None-Match": etag})
    assert status == 200 and headers2["ETag"] != etag and body2 != body
    assert get(url, {"If-Modified-Since": modified})[0] == 200
    assert parsedate_to_datetime(headers2["Last-Modified"]).timestamp() == START + EVERY
    assert get(site.base_url + "/culture/", {"If-None-Match": "*"})[0] == 304
    counts = site.truth()["hub_fetch_counts"]
    assert counts["home"] == {"200": 4, "304": 3} and counts["front"] == {"200": 0, "304": 1}
    assert counts["feed"] == {"200": 0, "304": 0}
    assert [(f[1], f[2], f[3]) for f in site.hub_fetches()][:2] == [("/", "home", 200), ("/", "home", 304)]


def test_one_path_stories_are_linked_from_exactly_one_place(site, clock):
    base = site.base_url
    clock.now = START + 3 * len(CYCLE) * EVERY
    stories = site.schedule.live(clock.now)
    places: dict[str, list[tuple[str, str]]] = {}  # story URL -> [(page, kind)]
    pages = {p: k for p, k in site.live.hubs.items()} | {s.path: "more" for s in stories}
    for path, kind in pages.items():
        status, headers, body = get(base + path)
        assert status == 200, path
        found = (xml_locs(body) if body.startswith(b"<?xml") and b"<sitemapindex" not in body
                 else [e.link for e in feedparser.parse(body).entries] if kind == "feed"
                 else links(base, body))
        for url in set(found):
            places.setdefault(url, []).append((path, kind))
    only = [s for s in stories if s.only]
    assert sorted(s.only for s in only) == sorted(["more", "front", "news-sitemap"] * 3)
    for story in only:
        where = places[base + story.path]
        assert [kind for _path, kind in where] == [story.only], (story, where)
        if story.only == "front":
            assert where == [("/culture/", "front")]
        if story.only == "more":
            host = next(s for s in stories if s.number == story.linked_from)
            assert where == [(host.path, "more")] and host.live_at == story.live_at + EVERY
    for story in (s for s in stories if not s.only):
        kinds = {kind for _path, kind in places[base + story.path]}
        assert kinds <= story.paths and {"front", "sitemap"} <= kinds, story
    host_page = get(base + next(s for s in only if s.only == "more").path)[2]
    assert len(extract_article(host_page, base + "/x.html")["related"]) == MORE_LATEST


def test_the_site_records_first_fetches_and_serves_its_truth_as_json(site, clock):
    base = site.base_url
    clock.now = START + 3 * EVERY
    story = site.schedule.new_story(1)  # a "more" story, linked once story 2 is live
    assert get(base + "/")[0] == 200
    clock.now = START + 3.5 * EVERY
    assert get(base + story.path)[0] == 200
    clock.now = START + 4 * EVERY
    assert get(base + story.path)[0] == 200
    truth = site.truth()
    record = next(s for s in truth["stories"] if s["path"] == story.path)
    assert record["first_fetched"] == START + 3.5 * EVERY
    assert record["live_at"] == START + 2 * EVERY and record["linked_at"] == START + 3 * EVERY
    assert record["only"] == "more" and record["paths"] == ["more"]
    assert site.first_fetches() == {"/": START + 3 * EVERY, story.path: START + 3.5 * EVERY}
    served = json.loads(get(base + "/_demo/truth.json")[2])
    assert served == json.loads(json.dumps(site.truth()))
    assert len(truth["stories"]) == len(BACKLOG_AGES) + 4
    assert HOME_LATEST == 10


def test_crawler_demo_live_serve_only_prints_its_url_and_stops_on_sigterm():
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "crawler", "demo", "--live", "--serve-only",
                             "--publish-every", "1", "--seed", "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/"), url
        truth = json.loads(get(url + "_demo/truth.json")[2])
        assert truth["seed"] == 3 and truth["publish_every"] == 1.0
        assert get(url + "biz/feed.rss")[0] == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    bad = subprocess.run([sys.executable, "-m", "crawler", "demo", "--live", "--publish-every", "0.5"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.strip().endswith("--publish-every must be at least 1 second")
