"""Only http and https are fetched: a page linking or redirecting to ``file://`` gets nothing local stored.

A real worker crawls a site on 127.0.0.1 whose pages point at worker-local
files through ``file://127.0.0.1/...`` (the seeded host, so the offsite check
lets it by), ``ftp://``, a 302 and a meta refresh; nothing of those files may be
fetched, stored or exported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

from tests.system.fakeweb import FakeWeb, article_html

CLI = [sys.executable, "-m", "crawler"]
SETTINGS = ["-s", "FRONTIER_HOST_DELAY=0", "-s", "FRONTIER_HEARTBEAT_SECONDS=0.5", "-s", "RETRY_TIMES=0"]
MARKER = "TOPSECRET-LOCAL-FILE"


def cli(redis_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "--redis-url", redis_url, *args], capture_output=True, text=True, timeout=120)


def test_links_and_redirects_to_local_files_fetch_nothing(redis_url, tmp_path):
    secrets = []
    for name in ("linked", "redirected", "refreshed", "ftp"):
        path = tmp_path / f"{name}.html"
        path.write_text(article_html(f"Secret {name}", f"{MARKER} {name}"))
        secrets.append(path)
    linked, redirected, refreshed, ftp = secrets
    pages = {}
    with FakeWeb(pages) as web:
        host = "127.0.0.1"
        base = f"http://{host}:{web.port}"
        story = article_html("A real story", "An honest story about the town council.")
        pages.update({
            (host, "/"): (200, {}, "<html><body><ul>" + "".join(
                f'<li><a href="{href}">{href}</a></li>' for href in (
                    f"file://{host}{linked}", f"ftp://{host}{ftp}", "/go", "/refresh", "/story"))
                + "</ul></body></html>"),
            (host, "/go"): (302, {"Location": f"file://{host}{redirected}"}, ""),
            (host, "/refresh"): (200, {}, f'<html><head><meta http-equiv="refresh" '
                                          f'content="0; url=file://{host}{refreshed}"></head></html>'),
            (host, "/story"): (200, {}, story),
        })
        seeded = cli(redis_url, "seed", base + "/")
        assert json.loads(seeded.stdout)["accepted"] == 1, seeded.stderr
        with tempfile.TemporaryFile(mode="w+") as log:
            worker = subprocess.run([*CLI, "--redis-url", redis_url, "worker", "--until-idle", "2",
                                     "--metrics-port", "0", *SETTINGS],
                                    stdout=log, stderr=subprocess.STDOUT, text=True, timeout=180)
            log.seek(0)
            output = log.read()
        assert worker.returncode == 0, output[-3000:]

    exported = cli(redis_url, "export")
    assert exported.returncode == 0, exported.stderr
    articles = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [article["url"] for article in articles] == [base + "/story"]
    assert MARKER not in exported.stdout
    assert MARKER not in output
    assert "file://" not in output
    status = json.loads(cli(redis_url, "status", "--json").stdout)
    # The file:// and ftp:// links are dropped by the spider, counted; Scrapy never builds
    # the redirect and the refresh to file:// (kept as the 302 and the page themselves).
    assert status["refusals"]["refused_scheme"] == 2
    assert status["articles_stored"] == 1
    assert sorted(web.requests) == sorted([(host, "/robots.txt"), (host, "/"), (host, "/go"),
                                           (host, "/refresh"), (host, "/story")])
