"""Counter names are written once (crawler.base.counters) and mean the same everywhere."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys

import pytest
from prometheus_client import CollectorRegistry
from scrapy.utils.test import get_crawler

from crawler.base import counters
from crawler.base.counters import (
    ERROR_FIELDS,
    LUA_FIELDS,
    OTHER_FIELDS,
    PIPELINE_OUTCOMES,
    REFUSAL_FIELDS,
    STAT_FIELDS,
    STORE_OUTCOMES,
    Field,
    Outcome,
    Stat,
)
from crawler.base.keys import Keys
from crawler.cli import crawl, status, top
from crawler.frontier.core import Frontier
from crawler.metrics.collector import DOWNLOAD_ERROR_REASONS, CrawlCollector
from crawler.worker.heartbeat import crawl_counts
from tests.conftest import ROOT

PACKAGE = ROOT / "crawler"
COUNTERS = PACKAGE / "base" / "counters.py"
KEYS = Keys("news")

# Literals equal to a counter name that are something else: output keys and labels of
# the CLI (part of its interface, spelled alike by chance) and an attribute name.
ALLOWED = {
    ("crawler/cli/status.py", "pages"),  # --json key
    ("crawler/cli/status.py", "articles_stored"),  # --json key, from the articles stream
    ("crawler/cli/status.py", "dead_letters"),  # --json key, from the dead-letter list
    ("crawler/cli/crawl.py", "pages"),  # key of the summary
    ("crawler/cli/top.py", "pages"),  # row label
    ("crawler/metrics/collector.py", "dead_letters"),  # FrontierCounts attribute
}


def _values(namespace: type) -> set[str]:
    return {value for name, value in vars(namespace).items() if not name.startswith("_")}


STATS, FIELDS, OUTCOMES = _values(Stat), _values(Field), _values(Outcome)
PREFIXES = {stat for stat in STATS if stat.endswith("/")}


def test_groups_are_fields_and_cover_the_heartbeat_without_overlap():
    assert set(STAT_FIELDS) <= FIELDS
    assert set(ERROR_FIELDS) | set(REFUSAL_FIELDS) | set(OTHER_FIELDS) <= FIELDS
    grouped = [*ERROR_FIELDS, *REFUSAL_FIELDS, *OTHER_FIELDS]
    assert len(grouped) == len(set(grouped)) == 11
    # Every heartbeat counter is shown in one group of crawler status, pages apart.
    assert set(STAT_FIELDS) - set(grouped) == {Field.PAGES}
    assert ERROR_FIELDS == ("download_errors", "http_errors", "spider_errors")
    assert REFUSAL_FIELDS == ("refused_private", "refused_robots", "offsite_dropped", "refused_scheme")
    assert LUA_FIELDS <= FIELDS and not LUA_FIELDS & set(STAT_FIELDS)
    assert all(prefix in STATS or prefix.startswith(tuple(PREFIXES))
               for prefixes in STAT_FIELDS.values() for prefix in prefixes)


def test_outcomes_of_the_store_and_of_the_pipelines():
    assert STORE_OUTCOMES == ("stored", "duplicate_url", "duplicate_content", "near_duplicate")
    assert PIPELINE_OUTCOMES == (*STORE_OUTCOMES, "invalid")
    assert set(PIPELINE_OUTCOMES) == OUTCOMES
    assert [counters.outcome_stat(outcome) for outcome in STORE_OUTCOMES] == [
        "articles/stored", "dedupe/duplicate_url", "dedupe/duplicate_content",
        "dedupe/near_duplicate"]
    assert counters.invalid_stat("too_short") == "articles/invalid/too_short"
    assert counters.failed_stat("HttpError") == "pages/failed/HttpError"
    assert counters.log_count_stat("warning") == "log_count/WARNING"
    with pytest.raises(ValueError, match="'invalid'"):
        counters.outcome_stat("invalid")
    with pytest.raises(ValueError, match="'too_long'"):
        counters.invalid_stat("too_long")


def test_every_user_of_errors_imports_the_one_definition():
    assert status.ERROR_FIELDS is top.ERROR_FIELDS is crawl.ERROR_FIELDS is counters.ERROR_FIELDS


_LUA_HINCRBY = re.compile(r"""HINCRBY['"]\s*,\s*[\w\[\]]+\s*,\s*['"]([^'"]+)['"]""")


def test_the_lua_scripts_write_exactly_the_declared_lua_fields():
    # The Lua is in Python strings (crawler/frontier/scripts.py, crawler/store/dedupe.py)
    # or in .lua files (crawler/base/lua/): search both.
    sources = [path for path in PACKAGE.rglob("*") if path.suffix in (".py", ".lua")]
    written: dict[str, set[str]] = {}
    for path in sources:
        for field in _LUA_HINCRBY.findall(path.read_text(encoding="utf-8")):
            written.setdefault(field, set()).add(str(path.relative_to(ROOT)))
    assert set(written) == LUA_FIELDS, written
    scripts = set().union(*written.values())
    assert len(scripts) >= 2, scripts  # the frontier's and the store's


def _literals(tree: ast.AST):
    """(line, text) of every str constant, the text parts of f-strings included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def _is_counter_name(text: str) -> bool:
    return text in STATS or text in FIELDS or text in OUTCOMES or text.startswith(tuple(PREFIXES))


def test_no_counter_name_is_spelled_outside_counters_py():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == COUNTERS:
            continue
        relative = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{relative}:{line}: {text!r}" for line, text in _literals(tree)
                  if _is_counter_name(text) and (relative, text) not in ALLOWED]
    assert found == []


def test_the_scan_sees_a_counter_name_spelled_out():
    source = 'stats.inc_value("frontier/corrupt")\nstats.inc_value(f"pages/failed/{name}")\n' \
             'pipe.hincrby(key, "dead_letters", 1)\nif outcome == "stored": pass\n'
    assert sorted(text for _, text in _literals(ast.parse(source)) if _is_counter_name(text)) == [
        "dead_letters", "frontier/corrupt", "pages/failed/", "stored"]


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


def test_the_metrics_count_the_errors_and_refusals_the_heartbeat_sends(r):
    stats = {
        "downloader/response_status_count/200": 40,
        "downloader/response_status_count/301": 1,
        "downloader/response_status_count/404": 3,
        "downloader/response_status_count/503": 2,
        "downloader/exception_type_count/twisted.internet.error.TimeoutError": 4,
        "downloader/exception_type_count/crawler.worker.netguard.RefusedAddress": 2,
        "downloader/exception_type_count/scrapy.exceptions.IgnoreRequest": 5,
        "downloader/exception_type_count/crawler.worker.netguard.RefusedScheme": 1,
        # Scrapy counts each spider exception twice: in the total and by class.
        "spider_exceptions/count": 3,
        "spider_exceptions/ValueError": 2,
        "spider_exceptions/KeyError": 1,
        "netguard/refused": 2,
        "robotstxt/forbidden": 5,
        "offsite/dropped": 7,
        "links/not_http": 4,
        "netguard/not_http": 1,
        "depth/request_ignored_count": 9,
    }
    sent = crawl_counts(stats)
    assert {field: sent[field] for field in (*ERROR_FIELDS, *REFUSAL_FIELDS)} == {
        "download_errors": 4, "http_errors": 5, "spider_errors": 3,
        "refused_private": 2, "refused_robots": 5, "offsite_dropped": 7, "refused_scheme": 5}

    crawler = get_crawler()
    for name, value in stats.items():
        crawler.stats.set_value(name, value)
    registry = CollectorRegistry()
    registry.register(CrawlCollector(crawler.stats, Frontier(r, KEYS), "news"))

    def metric(name: str, **labels: str) -> float:
        return registry.get_sample_value(name, {"spider": "news", **labels})

    exported = {
        "download_errors": sum(metric("crawler_download_errors_total", reason=reason)
                               for reason in DOWNLOAD_ERROR_REASONS),
        "http_errors": sum(metric("crawler_responses_total", status_class=status_class)
                           for status_class in ("4xx", "5xx")),
        "spider_errors": metric("crawler_spider_errors_total"),
        "refused_private": metric("crawler_requests_refused_total", reason="private_network"),
        "refused_robots": metric("crawler_requests_refused_total", reason="robots"),
        "offsite_dropped": metric("crawler_requests_refused_total", reason="offsite"),
        "refused_scheme": metric("crawler_requests_refused_total", reason="scheme"),
    }
    assert exported == {field: sent[field] for field in exported}
