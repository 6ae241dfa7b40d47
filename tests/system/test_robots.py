"""robots.txt is obeyed for every request, including those that waited for it together."""

from __future__ import annotations

import json

from crawler.demo import serve
from tests.support.workers import cli, start_worker, wait


def test_requests_waiting_for_robots_txt_are_all_refused(redis_url):
    with serve() as site:
        urls = [f"{site.base_url}/private/secret.html?copy={n}" for n in range(4)]
        assert cli(redis_url, "seed", *urls).returncode == 0
        code, out = wait(start_worker(redis_url, "--until-idle", "2"))
        assert code == 0, out[-3000:]
        assert [path for _, path in site.hits] == ["/robots.txt"]
    status = json.loads(cli(redis_url, "status", "--json").stdout)
    assert status["refusals"]["refused_robots"] == 4
    assert status["errors"]["download_errors"] == 0
    assert (status["queued"], status["in_flight"]) == (0, 0)
