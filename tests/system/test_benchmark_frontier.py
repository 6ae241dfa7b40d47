"""Tests of benchmarks.frontier: the generated site, the settings of each
configuration, and one --quick run of the script, checked row by row."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import deque

import pytest

import crawler.settings as project
from benchmarks.frontier import LABELS, OURS, OURS2, PLAIN, STOCK
from benchmarks.frontier.site import NginxMissing, ensure_nginx, generate_site, page_links
from benchmarks.frontier.worker import crawl_settings
from crawler.frontier.seen import SeenFilter
from tests.support.paths import ROOT

# --- The site ---------------------------------------------------------------------


def test_every_page_links_to_ten_others_and_all_are_reachable_from_the_start():
    pages = 5000
    links = {n: page_links(n, pages) for n in range(pages)}
    assert all(len(targets) == 10 and len(set(targets)) == 10 and n not in targets
               for n, targets in links.items())
    assert all(0 <= t < pages for targets in links.values() for t in targets)
    seen, todo = {0}, deque([0])
    while todo:
        for target in links[todo.popleft()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    assert seen == set(range(pages))
    assert page_links(1234, pages) == links[1234]  # deterministic


def test_generate_site_writes_small_pages_with_their_links(tmp_path):
    assert generate_site(tmp_path, 30) == "/p/0.html"
    files = sorted(tmp_path.joinpath("p").iterdir())
    assert len(files) == 30
    assert max(f.stat().st_size for f in files) < 1024
    html = (tmp_path / "p" / "0.html").read_text()
    assert [f'href="/p/{n}.html"' in html for n in page_links(0, 30)] == [True] * 10


# --- The configurations --------------------------------------------------------------


def test_configurations_differ_only_in_the_scheduler_and_what_it_needs():
    url = "redis://127.0.0.1:1/0"
    plain, ours, stock = (crawl_settings(mode, url) for mode in (PLAIN, OURS, STOCK))
    frontier_names = {name for name in ours if name.startswith("FRONTIER_")}
    scheduler_names = {"SCHEDULER", "DUPEFILTER_CLASS", "REDIS_URL", "SCHEDULER_PERSIST", "EXTENSIONS"}

    def common(settings):
        return {k: v for k, v in settings.items() if k not in scheduler_names | frontier_names}

    assert common(plain) == common(ours) == common(stock)
    assert common(plain) | {"EXTENSIONS": plain["EXTENSIONS"]} == {
        "BOT_NAME": "bench", "TWISTED_REACTOR": project.TWISTED_REACTOR, "ROBOTSTXT_OBEY": False,
        "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False, "CONCURRENT_REQUESTS": 32,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 32, "ITEM_PIPELINES": {}, "EXTENSIONS": {},
    }
    assert (plain["SCHEDULER"], ours["SCHEDULER"], stock["SCHEDULER"]) == (
        "scrapy.core.scheduler.Scheduler", "crawler.frontier.Scheduler", "scrapy_redis.scheduler.Scheduler")
    assert stock["SCHEDULER_PERSIST"] is False
    # Every other FRONTIER_* setting is the frontier's own default (crawler/frontier/defaults.py).
    assert {name: ours[name] for name in frontier_names} == {"FRONTIER_HOST_DELAY": 0.0}
    assert list(ours["EXTENSIONS"]) == ["benchmarks.frontier.worker.FrontierIdleClose"]


# --- The script --------------------------------------------------------------------

ROWS = [
    f"pages/s, {LABELS[PLAIN]}",
    f"pages/s, {LABELS[OURS]}",
    f"pages/s, {LABELS[STOCK]}",
    f"pages/s, {LABELS[OURS2]}",
    "ours 1 worker / plain Scrapy",
    "stock scrapy-redis / plain Scrapy",
    "ours 2 workers / ours 1 worker",
    f"CPU ms per page, {LABELS[PLAIN]}",
    f"CPU ms per page, {LABELS[OURS]}",
    f"CPU ms per page, {LABELS[STOCK]}",
    "pages per CPU second, ours / plain Scrapy",
    "Redis bytes per seen URL, exact set (FRONTIER_SEEN=set)",
    "Redis bytes per seen URL, Bloom filter (100,000 at 0.1%)",
    "Redis bytes per seen URL, Bloom keys (MEMORY USAGE)",
    "Redis bytes per seen URL, stock scrapy-redis set",
    "Bloom false-positive rate (20,000 fresh)",
    "round trips per page, ours",
    "round trips per page, stock scrapy-redis",
    "commands sent per page, ours",
    "commands sent per page, stock scrapy-redis",
    "Redis commands run per page, ours",
    "Redis commands run per page, stock scrapy-redis",
]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("│")[1:-1]]


def _number(text: str) -> float:
    return float(text.replace(",", "").removesuffix("%"))


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    try:
        ensure_nginx(install=False)
    except NginxMissing as exc:
        pytest.skip(f"{exc}; the benchmark serves its site with nginx")
    out = tmp_path_factory.mktemp("bench") / "results.json"
    began = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "benchmarks.frontier", "--quick", "--no-install",
                             "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - began
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout, json.loads(out.read_text()), elapsed


@pytest.mark.timeout(90)
def test_quick_run_prints_every_row_with_numbers(quick):
    stdout, results, elapsed = quick
    assert elapsed < 60
    figures, cpu = stdout.split("CPU cores busy during the crawls")
    rows = {_cells(line)[0]: _cells(line) for line in figures.splitlines() if line.startswith("│")}
    for label in ROWS:
        name = next((name for name in rows if name.startswith(label)), None)
        assert name is not None, f"no row {label!r}"
        _, median, _, goal, met = rows[name]
        _number(median)
        assert met in {"met", "NOT met", "—"}
        assert (goal == "—") == (met == "—")
    assert [row["figure"] for row in results["rows"]] == list(rows)
    cpu_rows = {_cells(line)[0]: _cells(line)[1:] for line in cpu.splitlines() if line.startswith("│")}
    assert list(cpu_rows) == [LABELS[mode] for mode in (PLAIN, OURS, STOCK, OURS2)]
    for scrapy_cores, redis_cores, nginx_cores, total in cpu_rows.values():
        assert _number(total) == pytest.approx(
            _number(scrapy_cores) + _number(redis_cores) + _number(nginx_cores), abs=0.015)
    assert "Command: " in stdout and "-m benchmarks.frontier --quick --no-install --json" in stdout


@pytest.mark.timeout(90)
def test_quick_run_crawls_the_whole_site_in_every_configuration(quick):
    _, results, _ = quick
    assert results["pages"] == 500 and results["rounds"] == 1 and results["failures"] == []
    assert {mode: [run["pages"] for run in runs] for mode, runs in results["runs"].items()} == {
        PLAIN: [500], OURS: [500], STOCK: [500], OURS2: [500]}
    figures = {row["figure"].split(" (")[0]: row["value"] for row in results["rows"]}
    runs = {mode: runs[0] for mode, runs in results["runs"].items()}
    assert figures["ours 1 worker / plain Scrapy"] == pytest.approx(
        runs[OURS]["pages_per_s"] / runs[PLAIN]["pages_per_s"])
    # Stock scrapy-redis sends one SADD per link (10 per page, and the start URL): at least 10 round trips.
    assert runs[STOCK]["round_trips"] >= 5001
    assert runs[STOCK]["redis_commands"] >= 5001 + 500  # and one ZADD per new page
    assert 0 < runs[OURS]["round_trips"] < runs[STOCK]["round_trips"]


@pytest.mark.timeout(90)
def test_quick_run_measures_the_seen_filters(quick):
    _, results, _ = quick
    memory = results["memory"]
    bloom = SeenFilter.bloom(100_000, 0.001)
    assert (memory["bloom"]["bits"], memory["bloom"]["hashes"]) == (bloom.bits, bloom.hashes)
    assert memory["bloom"]["false_negatives"] == 0 and memory["bloom"]["checked_added"] == 10_000
    assert memory["bloom"]["false_positive_rate"] == memory["bloom"]["false_positives"] / 20_000
    # The Bloom key holds at least its bits; a set holds at least the 40 hex digits of each fingerprint.
    assert memory["bloom"]["key_bytes_per_url"] >= bloom.bits / 8 / 100_000
    assert 40 < memory["set"]["key_bytes_per_url"] < 200
    assert 40 < memory["stock"]["key_bytes_per_url"] < 200
