"""Internationalised hosts, crawled for real: a seed typed in Unicode and its links share one host.

The sites ``bücher.example`` and ``example.com`` are played by a listener on
127.0.0.1 that the worker reaches as its HTTP proxy (``http_proxy``), so the
worker asks for them by name, as it would on the web, and nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from tests.system.fakeweb import FakeWeb, article_html

CLI = [sys.executable, "-m", "crawler"]
SETTINGS = ["-s", "FRONTIER_HOST_DELAY=0", "-s", "FRONTIER_HEARTBEAT_SECONDS=0.5", "-s", "RETRY_TIMES=0"]
BUCHER = "xn--bcher-kva.example"


def cli(redis_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "--redis-url", redis_url, *args], input=stdin, capture_output=True,
                          text=True, timeout=120)


def listing(*links: str) -> tuple[int, dict, str]:
    return 200, {}, "<html><body><ul>" + "".join(f'<li><a href="{href}">{href}</a></li>' for href in links) + "</ul></body></html>"


def story(title: str) -> tuple[int, dict, str]:
    return 200, {}, article_html(title, f"The story of {title}, told at length for the readers.")


def test_links_of_a_unicode_seed_are_followed_under_one_host(redis_url, r):
    pages = {
        (BUCHER, "/"): listing("/a", "http://bücher.example/b", f"http://{BUCHER}/c", "http://BÜCHER.example/a"),
        (BUCHER, "/a"): story("Alpha"), (BUCHER, "/b"): story("Bravo"), (BUCHER, "/c"): story("Charlie"),
        ("example.com", "/"): listing("/d", "http://exa\u200bmple.com/e"),
        ("example.com", "/d"): story("Delta"), ("example.com", "/e"): story("Echo"),
    }
    with FakeWeb(pages) as web:
        seeded = cli(redis_url, "seed", "-f", "-", stdin="http://bücher.example/\nhttp://exa\u200bmple.com/\n")
        assert json.loads(seeded.stdout) == {"accepted": 2, "duplicates": 0, "rejected": 0}, seeded.stderr
        proxy = f"http://127.0.0.1:{web.port}"
        env = {**os.environ, "http_proxy": proxy, "HTTP_PROXY": proxy, "no_proxy": "", "NO_PROXY": ""}
        with tempfile.TemporaryFile(mode="w+") as log:
            worker = subprocess.run([*CLI, "--redis-url", redis_url, "worker", "--until-idle", "2",
                                     "--metrics-port", "0", *SETTINGS],
                                    stdout=log, stderr=subprocess.STDOUT, text=True, timeout=180, env=env)
            log.seek(0)
            output = log.read()
        assert worker.returncode == 0, output[-3000:]

    exported = [json.loads(line) for line in cli(redis_url, "export").stdout.splitlines()]
    assert sorted(article["url"] for article in exported) == [
        "http://example.com/d", "http://example.com/e",
        f"http://{BUCHER}/a", f"http://{BUCHER}/b", f"http://{BUCHER}/c"]
    status = json.loads(cli(redis_url, "status", "--json").stdout)
    assert status["refusals"]["offsite_dropped"] == 0
    assert r.smembers("crawler:{news}:hosts") == {BUCHER, "example.com"}
    # Each page once, every one asked for by its IDNA name.
    assert sorted(web.requests) == sorted({*pages, (BUCHER, "/robots.txt"), ("example.com", "/robots.txt")})
