"""The frontier in a plain Scrapy project, by settings alone.

A separate project (its own settings module, never ``crawler.settings``) sets
only ``SCHEDULER``, ``DUPEFILTER_CLASS``, ``REDIS_URL`` and the host delay, and
runs a ``CrawlSpider`` with rules, ``cb_kwargs`` and an item pipeline in two
``scrapy crawl`` processes over the demo site: every page is crawled once, by
one of them, and nothing else of this service is needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter

import pytest

from crawler.demo import expected_articles, serve
from tests.support.paths import ROOT

SETTINGS = """\
BOT_NAME = "plainproject"
SPIDER_MODULES = ["plainproject.spiders"]
SCHEDULER = "crawler.frontier.Scheduler"
DUPEFILTER_CLASS = "crawler.frontier.DupeFilter"
REDIS_URL = {redis_url!r}
# What a project sets as it would set DOWNLOAD_DELAY: one fetch of the host per
# 0.3 s for both processes together, so that the crawl lasts long enough for both.
FRONTIER_HOST_DELAY = 0.3
ITEM_PIPELINES = {{"plainproject.pipelines.PagesPipeline": 300}}
LOG_LEVEL = "INFO"
"""

SPIDER = '''\
import os

from scrapy import Request
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule


class SiteSpider(CrawlSpider):
    name = "site"
    allowed_domains = ["127.0.0.1"]
    # The demo site's endless calendar is a crawler trap: this project's own rule keeps out of it.
    rules = (
        Rule(LinkExtractor(allow=r"\\.html$", deny=r"/calendar/"), callback="parse_page",
             cb_kwargs={"kind": "story"}, follow=True),
        Rule(LinkExtractor(deny=r"/calendar/"), callback="parse_page", cb_kwargs={"kind": "other"},
             follow=True),
    )

    def __init__(self, start, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [start]

    async def start(self):
        # Start requests skip the dupefilter by default; two processes of one
        # crawl must not both fetch the start page.
        for url in self.start_urls:
            yield Request(url)

    def parse_page(self, response, kind):
        yield {"url": response.url, "kind": kind, "status": response.status, "pid": os.getpid()}
'''

PIPELINE = '''\
import json
import os


class PagesPipeline:
    def open_spider(self):
        self.file = open(os.path.join(os.environ["PAGES_DIR"], f"{os.getpid()}.jsonl"), "a")

    def close_spider(self):
        self.file.close()

    def process_item(self, item):
        self.file.write(json.dumps(item) + "\\n")
        self.file.flush()
        return item
'''


@pytest.fixture
def plain_project(tmp_path, redis_url):
    package = tmp_path / "project" / "plainproject"
    (package / "spiders").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "spiders" / "__init__.py").write_text("")
    (package / "settings.py").write_text(SETTINGS.format(redis_url=redis_url))
    (package / "spiders" / "site.py").write_text(SPIDER)
    (package / "pipelines.py").write_text(PIPELINE)
    return package.parent


def test_a_plain_scrapy_project_uses_the_frontier_by_settings_alone(plain_project, tmp_path, redis_url):
    pages_dir = tmp_path / "pages"
    pages_dir.mkdir()
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "plainproject.settings", "PAGES_DIR": str(pages_dir),
           "PYTHONPATH": os.pathsep.join([str(plain_project), str(ROOT)])}
    env.pop("REDIS_URL", None)
    with serve() as site:
        command = [sys.executable, "-m", "scrapy", "crawl", "site", "-a", f"start={site.base_url}/"]
        def start() -> subprocess.Popen:
            return subprocess.Popen(command, cwd=plain_project, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)

        # A Scrapy spider closes once its engine finds nothing to do: the second process joins
        # once the first has queued the start page's links (it has fetched a second page), so
        # that it finds work waiting in the shared frontier however slowly the machine starts it.
        workers = [start()]
        deadline = time.monotonic() + 120
        while len(site.hits) < 2 and workers[0].poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        workers.append(start())
        outputs = [worker.communicate(timeout=240)[0] for worker in workers]
        hits = [path for _, path in site.hits]
        for worker, output in zip(workers, outputs):
            assert worker.returncode == 0, output[-3000:]
            assert "Traceback" not in output, output[-3000:]
            assert "'finish_reason': 'finished'" in output, output[-3000:]

    pages = [json.loads(line) for path in pages_dir.iterdir() for line in path.read_text().splitlines()]
    crawled = Counter(page["url"] for page in pages)
    # Every page once: in both processes' items together, and in what the site served.
    assert [url for url, n in crawled.items() if n > 1] == []
    assert [path for path, n in Counter(hits).items() if n > 1] == []
    assert {site.base_url + path for path in hits} == set(crawled) | {site.base_url + "/"}
    assert {article["url"] for article in expected_articles(site.base_url)} <= set(crawled)
    # The rules' cb_kwargs came through the frontier's JSON with each request.
    assert {page["kind"] for page in pages if page["url"].endswith(".html")} == {"story"}
    assert {page["kind"] for page in pages if not page["url"].endswith(".html")} <= {"other"}
    # Both processes took part: the frontier handed requests to each of them.
    assert len({page["pid"] for page in pages}) == 2, Counter(page["pid"] for page in pages)
    # And the shared frontier is left empty: nothing queued, nothing in flight.
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert client.get("crawler:{site}:queued") in (None, "0")
        assert client.zcard("crawler:{site}:inflight") == 0
    finally:
        client.close()
