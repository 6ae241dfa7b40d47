"""End to end: seed the demo site, run two real worker processes until idle, export, compare."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
import redis

from crawler import settings
from crawler.demo import bad_articles, bad_pages, duplicate_pages, expected_articles, serve
from tests.support.workers import cli, export, start_worker, wait


@pytest.fixture
def site():
    with serve(include_bad=True) as demo:
        yield demo


def test_two_workers_store_every_article_once(redis_url, site):
    base = site.base_url
    bad = bad_pages(base)
    # Links to .pdf files are not followed; seeding one shows what a non-HTML response does.
    pdf = next(url for url, what in bad.items() if what == "not-html")
    seeded = cli(redis_url, "seed", base + "/", pdf)
    assert (seeded.returncode, json.loads(seeded.stdout)["accepted"]) == (0, 2)
    workers = [start_worker(redis_url, "--until-idle", "3", "--metrics-port", "0") for _ in range(2)]
    results = [wait(proc) for proc in workers]
    for code, out in results:
        assert code == 0, out[-3000:]

    articles = export(redis_url)
    expected = {a["url"]: a for a in expected_articles(base) + bad_articles(base)}
    by_url = {}
    for article in articles:
        assert article["url"] not in by_url, f"stored twice: {article['url']}"
        by_url[article["url"]] = article
    assert sorted(by_url) == sorted(expected)
    for url, want in expected.items():
        got = by_url[url]
        assert got["title"] == want["title"], url
        assert got["authors"] == want["authors"], url
        assert got["published"] == want["published"], url
        assert got["section"] == want["section"], url
        assert got["canonical_url"] == want["canonical_url"], url
        assert got["body"].startswith(want["first_paragraph"]), url
        assert got["related"] == want["related"], url
        assert got["spider"] == "news" and got["domain"] == "127.0.0.1"
        assert len(got["simhash"]) == 16 and got["word_count"] >= 40
        for leak in ("redirected back to your article", "Access exclusive content", "[...]",
                     "More From Our Brands", "We use cookies"):
            assert leak not in got["body"], (url, leak)

    status = json.loads(cli(redis_url, "status", "--json").stdout)
    kinds = list(duplicate_pages(base).values())
    for kind in ("duplicate_url", "duplicate_content", "near_duplicate"):
        assert status["duplicates"][kind] == kinds.count(kind), status
    assert (status["queued"], status["in_flight"], status["dead_letters"]) == (0, 0, 0)
    assert status["articles_stored"] == len(expected)
    assert status["refusals"]["offsite_dropped"] > 0
    assert status["other"]["non_html"] == 2  # the PDF and the empty page
    assert status["errors"]["http_errors"] == 3  # 404, and the 500 page twice
    assert status["invalid_dropped"] == 0

    paths = [path for _, path in site.hits]
    assert not [p for p in paths if p.startswith(("/calendar", "/private"))], paths
    assert not [p for p in paths if "sort=" in p]
    # URL variants with tracking parameters and fragments were fetched once.
    article_paths = [p for p in paths if p.endswith(".html")]
    twice = sorted({p for p in article_paths if article_paths.count(p) > 1})
    # Only the 500 page is fetched again: RetryMiddleware retries it (RETRY_TIMES=1).
    assert twice == sorted(url[len(base):] for url, what in bad.items() if what == "500")
    fetched = {base + p for p in paths}
    assert {url for url, what in bad.items() if what != "oversize"} <= fetched | {
        url for url in bad if "loop" in url}


def test_sigterm_drains_and_loses_nothing(redis_url, site):
    base = site.base_url
    cli(redis_url, "seed", base + "/")
    slow = start_worker(redis_url, "-s", "DOWNLOAD_DELAY=0.5", "-s", "CONCURRENT_REQUESTS=2")
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    deadline = time.monotonic() + 60
    while client.xlen("crawler:{news}:articles") < 2:
        assert time.monotonic() < deadline and slow.poll() is None, "worker made no progress"
        time.sleep(0.2)
    slow.send_signal(signal.SIGTERM)
    code, out = wait(slow, timeout=60)
    assert code == 0, out[-3000:]
    assert client.zcard("crawler:{news}:inflight") == 0  # unfinished leases were given back
    assert int(client.get("crawler:{news}:queued")) > 0
    code, out = wait(start_worker(redis_url, "--until-idle", "3"))
    assert code == 0, out[-3000:]
    stored = sorted(a["url"] for a in export(redis_url))
    assert stored == sorted(a["url"] for a in expected_articles(base) + bad_articles(base))


def test_private_addresses_are_refused_by_default(redis_url, site):
    env = {k: v for k, v in os.environ.items() if k != "CRAWLER_ALLOW_PRIVATE_NETWORKS"}
    cli(redis_url, "seed", site.base_url + "/")
    code, out = wait(start_worker(redis_url, "--until-idle", "2", env=env))
    assert code == 0, out[-3000:]
    assert site.hits == []
    status = json.loads(cli(redis_url, "status", "--json").stdout)
    assert status["refusals"]["refused_private"] == 1
    assert status["errors"]["download_errors"] == 0  # a refusal is not a failed download
    assert status["pages"] == 0


def test_the_resolver_refuses_private_addresses_the_middleware_did_not_see(redis_url, site):
    # As with DNS rebinding, the middleware's own lookup is out of the way: only the
    # reactor's resolver stands between the connection and a private address.
    env = {k: v for k, v in os.environ.items() if k != "CRAWLER_ALLOW_PRIVATE_NETWORKS"}
    no_middleware = json.dumps({**settings.DOWNLOADER_MIDDLEWARES, "crawler.worker.netguard.PrivateNetworkGuard": None})
    cli(redis_url, "seed", site.base_url.replace("127.0.0.1", "localhost") + "/")
    code, out = wait(start_worker(redis_url, "--until-idle", "2", "-s", f"DOWNLOADER_MIDDLEWARES={no_middleware}",
                                  env=env))
    assert code == 0, out[-3000:]
    assert "Refused to connect to localhost: it resolves to 127.0.0.1, a private address" in out
    assert site.hits == []
    status = json.loads(cli(redis_url, "status", "--json").stdout)
    assert status["errors"]["download_errors"] >= 1  # the lookup failed
    assert status["pages"] == 0
