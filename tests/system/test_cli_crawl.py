"""The one-command crawl, the demo, extraction from files, and Scrapy's own commands."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from crawler.demo import expected_articles, serve
from tests.support.paths import FUNDUS, ROOT

CLI = [sys.executable, "-m", "crawler"]
FUNDUS_HTML = FUNDUS / "html"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["CRAWLER_ALLOW_PRIVATE_NETWORKS"] = "1"
    return env


def test_crawl_starts_a_private_redis_and_writes_the_articles(tmp_path):
    out = tmp_path / "out" / "articles.jsonl"
    with serve() as site:
        result = subprocess.run(CLI + ["crawl", site.base_url + "/", "-o", str(out), "--workers", "2"],
                                capture_output=True, text=True, timeout=300, env=_env())
        expected = sorted(a["url"] for a in expected_articles(site.base_url))
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["articles"] == summary["exported"] == len(expected)
    assert summary["duplicates"] == 3 and summary["worker_exit_codes"] == [0, 0]
    assert summary["errors"] == 0  # robots.txt refusing /private/ is not an error
    assert sorted(json.loads(line)["url"] for line in out.read_text().splitlines()) == expected
    # The private redis-server is gone with its folder.
    assert not list(Path("/tmp").glob("crawler-redis-*/redis.sock"))


def test_max_pages_caps_the_requests_of_all_workers(tmp_path):
    out = tmp_path / "articles.jsonl"
    with serve() as site:
        result = subprocess.run(CLI + ["crawl", site.base_url + "/", "-o", str(out), "--workers", "2",
                                       "--max-pages", "5"],
                                capture_output=True, text=True, timeout=300, env=_env())
        fetched = [path for _, path in site.hits if path != "/robots.txt"]
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(fetched) == 5
    assert json.loads(result.stdout)["exported"] == len(out.read_text().splitlines()) <= 4


def test_demo_crawls_the_bundled_site(tmp_path):
    out = tmp_path / "demo.jsonl"
    result = subprocess.run(CLI + ["demo", "-o", str(out)], capture_output=True, text=True,
                            timeout=300, env=_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(out.read_text().splitlines()) == 12
    assert f"12 articles written to {out}" in result.stderr


@pytest.mark.skipif(not FUNDUS_HTML.is_dir(), reason=f"the fundus benchmark pages are not under {FUNDUS}")
def test_extract_prints_one_line_per_file_in_order(tmp_path):
    with serve() as site:
        home = urllib.request.urlopen(site.base_url + "/").read()
    listing = tmp_path / "home.html"
    listing.write_bytes(home)
    page = FUNDUS_HTML / "APNews_0.html.gz"
    plain = tmp_path / "ap.html"
    plain.write_bytes(gzip.decompress(page.read_bytes()))
    missing = tmp_path / "missing.html"
    result = subprocess.run(CLI + ["extract", str(page), str(listing), str(plain), str(missing)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["source"] for line in lines] == [str(page), str(listing), str(plain), str(missing)]
    assert lines[1] == {"source": str(listing), "error": "not an article"}
    assert lines[3] == {"source": str(missing), "error": "No such file or directory"}
    assert lines[0]["title"] == lines[2]["title"] and lines[0]["title"].startswith("Israel")
    assert lines[0]["body"] == lines[2]["body"] and lines[0]["word_count"] > 100


def test_scrapy_list_works_from_the_repository_root():
    result = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout.split()) == (0, ["news"]), result.stderr
