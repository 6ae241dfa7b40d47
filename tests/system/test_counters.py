"""``crawler status``, ``top`` and ``crawl`` count the errors of one stats hash alike."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from crawler.base.counters import ERROR_FIELDS, OTHER_FIELDS, REFUSAL_FIELDS, Field
from crawler.base.keys import Keys
from crawler.cli import crawl
from crawler.frontier.core import Frontier

KEYS = Keys("news")
FIELDS = {value for name, value in vars(Field).items() if not name.startswith("_")}


def _cli(redis_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "crawler", "--redis-url", redis_url, *args],
                          capture_output=True, text=True, timeout=60, env=env)


def test_status_top_and_crawl_agree_on_the_errors_of_one_stats_hash(redis_url, r):
    every_field = {field: number for number, field in enumerate(sorted(FIELDS), start=1)}
    r.hset(KEYS.stats, mapping=every_field)
    errors = sum(every_field[field] for field in ERROR_FIELDS)

    shown = json.loads(_cli(redis_url, "status", "--json").stdout)
    assert shown["errors"] == {field: every_field[field] for field in ERROR_FIELDS}
    assert sum(shown["errors"].values()) == errors
    assert shown["refusals"] == {field: every_field[field] for field in REFUSAL_FIELDS}
    assert shown["other"] == {field: every_field[field] for field in OTHER_FIELDS}

    result = _cli(redis_url, "top", "--once", "--interval", "0.1")
    assert (result.returncode, result.stderr) == (0, "")
    rows = dict(" ".join(line.split()).rsplit(" ", 1) for line in result.stdout.splitlines()
                if re.fullmatch(r"\s*[a-z ]+ \d+\s*", line))
    assert {label: int(value) for label, value in rows.items()
            if label.endswith("errors")} == {
        field.replace("_", " "): every_field[field] for field in ERROR_FIELDS}

    summary = crawl._summary(Frontier(r, KEYS).counts())
    assert summary["errors"] == errors
