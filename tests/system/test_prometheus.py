"""The monitoring files against a real Prometheus scraping two real workers.

Prometheus and promtool come from Debian's ``prometheus`` package, which
``make test`` installs. Every PromQL expression of the Grafana dashboard and of
the alert rules goes through Prometheus' HTTP API after two workers crawled
the demo site: each must parse, and each dashboard query must return data.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
import redis

from crawler.base.counters import HUB_KINDS
from crawler.demo import bad_articles, duplicate_pages, expected_articles, serve
from crawler.frontier.core import Frontier
from crawler.frontier.hubstats import hub_counts
from crawler.base.keys import Keys
from tests.support.fakeweb import FakeWeb, article_html
from tests.support.paths import ROOT
from tests.support.redis import free_port
from tests.support.workers import cli, start_worker, wait

PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
ALERTS = PROMETHEUS_DIR / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "crawl-dashboard.json"
# Grafana's variables, as Grafana would expand them for one spider.
GRAFANA_VARIABLES = {"$spider": "news", "$__rate_interval": "1m"}


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run `make test`, which installs Debian's "
                    f"prometheus package (prometheus and promtool)")
    return path


def _promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([_binary("promtool"), *args], capture_output=True, text=True, timeout=60)


def _alert_names(text: str) -> list[str]:
    return re.findall(r"^\s*- alert:\s*(\S+)\s*$", text, flags=re.MULTILINE)


def _dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def _targets(dashboard: dict) -> list[tuple[str, str]]:
    """(panel title, expr) of every query of every panel."""
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"]
            for target in panel.get("targets", [])]


def _expand(expr: str) -> str:
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"unexpanded Grafana variable in {expr}"
    return expr


# --- promtool ----------------------------------------------------------------------

def test_promtool_checks_the_config_and_its_rules(tmp_path):
    """Debian builds Prometheus without Kubernetes discovery (its NEWS.Debian says so), so
    the Kubernetes job is checked with its kubernetes_sd_configs swapped for an empty
    static list: everything else of it, the relabelling included, is checked as written."""
    config = (PROMETHEUS_DIR / "prometheus.yml").read_text()
    kubernetes = "    kubernetes_sd_configs:\n      - role: pod\n"
    assert config.count(kubernetes) == 1
    (tmp_path / "prometheus.yml").write_text(
        config.replace(kubernetes, "    static_configs:\n      - targets: []\n"))
    shutil.copy(ALERTS, tmp_path / "alerts.yml")
    result = _promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    names = _alert_names(ALERTS.read_text())
    assert f"SUCCESS: {len(names)} rules found" in result.stdout + result.stderr


def test_promtool_checks_the_rules():
    result = _promtool("check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr
    names = _alert_names(ALERTS.read_text())
    assert sorted(names) == sorted({"CrawlStalled", "CrawlErrorRatioHigh", "CrawlerWorkerDown",
                                    "CrawlerNoWorkers", "CrawlFrontierGrowingWithoutBound",
                                    "CrawlDeadLetters", "CrawlSeenFilterNearlyFull", "CrawlerRedisUnreachable",
                                    "CrawlLeasesExpiring", "CrawlDeliveryBacklogGrowing", "CrawlPaused",
                                    "CrawlCaptureLagging", "CrawlHubsOverdue"})
    assert f"SUCCESS: {len(names)} rules found" in result.stdout


def test_promtool_unit_tests_cover_every_alert():
    result = _promtool("test", "rules", str(PROMETHEUS_DIR / "alerts_test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    tests = (PROMETHEUS_DIR / "alerts_test.yml").read_text()
    tested = set(re.findall(r"alertname:\s*(\S+)", tests))
    assert tested == set(_alert_names(ALERTS.read_text()))
    # Each alert is shown both quiet and firing.
    for name in tested:
        blocks = re.findall(rf"alertname: {name}\n\s+exp_alerts:(.*?)(?=\n\s+- eval_time|\n\s+- interval|\Z)",
                            tests, flags=re.DOTALL)
        assert any(block.strip() == "[]" for block in blocks), name
        assert any("exp_labels" in block for block in blocks), name


# --- the dashboard -----------------------------------------------------------------

def test_dashboard_is_complete_and_filters_by_spider():
    dashboard = _dashboard()
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["spider"]["query"]["query"] == "label_values(crawler_responses_total, spider)"
    assert variables["datasource"]["query"] == "prometheus"
    titles = [panel["title"] for panel in dashboard["panels"]]
    for wanted in ("Throughput", "Responses by status class", "Download latency", "Articles by outcome",
                   "Queue and in-flight depth", "Workers alive", "Refusals", "Hubs by kind",
                   "Hub visits by result", "Capture delay", "Revisits due and overdue"):
        assert wanted in titles
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and panel["targets"], panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        refs = [target["refId"] for target in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
    for title, expr in _targets(dashboard):
        selectors = re.findall(r"crawler_\w+(\{[^}]*\})?", expr)
        assert selectors and all('spider=~"$spider"' in selector for selector in selectors), (title, expr)


# --- a real Prometheus ---------------------------------------------------------------

def _api(base: str, path: str, **params) -> dict:
    url = f"{base}{path}?{urllib.parse.urlencode(params)}" if params else base + path
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:  # a bad query is a 400 with a JSON body
        return json.loads(exc.read())


def _query(base: str, expr: str) -> list[dict]:
    reply = _api(base, "/api/v1/query", query=expr)
    assert reply["status"] == "success", (expr, reply)
    return reply["data"]["result"]


def _value(base: str, expr: str) -> float:
    result = _query(base, expr)
    assert len(result) == 1, (expr, result)
    return float(result[0]["value"][1])


def _until(condition, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(interval)


# Stories of a second site, published relative to the test's start: (path, seconds before
# the crawl, or "date" for today's date alone). The demo site's stories are from 2017-18.
FRESH = (("/fresh/1", 90, "Ferry strike ends after talks run through the night"),
         ("/fresh/2", 1200, "Council approves budget for the new library wing"),
         ("/fresh/3", 3 * 86400, "Vineyard harvest starts early in a dry autumn"),
         ("/fresh/4", "date", "Museum reopens its lighthouse gallery"),
         ("/fresh/5", -3600, "Stadium tram line to open on Monday, officials say"))


def _fresh_site() -> FakeWeb:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    pages = {("127.0.0.1", "/robots.txt"): (200, {"Content-Type": "text/plain"}, "User-agent: *\nAllow: /\n")}
    for path, ago, title in FRESH:
        published = (now.date().isoformat() if ago == "date"
                     else (now - timedelta(seconds=ago)).isoformat().replace("+00:00", "Z"))
        pages[("127.0.0.1", path)] = (200, {}, article_html(title, title, published=published))
    return FakeWeb(pages)


def _hub_rows(client: redis.Redis, keys: Keys, base_url: str) -> None:
    """Hubs of the demo site as the registry writes them, not due before the test ends."""
    seconds, _ = client.time()
    for path, kind, due, retired in (("/feed.xml", "feed", seconds + 3600, None),
                                     ("/atom.xml", "feed", seconds + 3600, None),
                                     ("/world/", "front", seconds + 7200, None),
                                     ("/sitemap.xml", "sitemap", None, seconds - 60)):
        url = base_url + path
        client.hset(keys.hubs, url, json.dumps({
            "url": url, "site": base_url, "kind": kind, "interval": 3600.0, "added_at": seconds - 600,
            "last_visit": None, "last_change": None, "last_result": None, "new_links": 0,
            "total_new_links": 0, "visits": 0, "failures": 5 if retired else 0, "next_due": due,
            "retired_at": retired, "etag": None, "last_modified": None, "content_hash": None}))
        if due is not None:
            client.zadd(keys.hubs_due, {url: due})


@pytest.fixture(scope="module")
def prometheus(redis_server, tmp_path_factory):
    """Two workers crawl the demo site and a site of fresh stories while Prometheus scrapes
    them every second; the crawl's Redis holds a few hubs, none due during the test.

    Yields Prometheus' base URL, the number of articles stored, the demo site's URL and
    the number of demo articles, once the crawl is over and Prometheus has scraped its
    final state, and each worker at least twice.
    """
    binary = _binary("prometheus")
    _binary("promtool")
    client = redis.Redis.from_url(redis_server, decode_responses=True)
    client.flushall()
    workdir = tmp_path_factory.mktemp("prometheus")
    ports = [free_port(), free_port()]
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS)],
        "scrape_configs": [{"job_name": "crawler-workers", "static_configs": [
            {"targets": [f"127.0.0.1:{port}" for port in ports]}]}],
    }
    (workdir / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    base = f"http://127.0.0.1:{free_port()}"
    with serve(include_bad=True) as site, _fresh_site() as fresh, \
            open(workdir / "prometheus.log", "w+") as log:
        demo = len(expected_articles(site.base_url) + bad_articles(site.base_url))
        expected = demo + len(FRESH)
        _hub_rows(client, Keys("news"), site.base_url)
        server = subprocess.Popen(
            [binary, f"--config.file={workdir / 'prometheus.yml'}",
             f"--storage.tsdb.path={workdir / 'data'}", f"--web.listen-address={base[7:]}",
             "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT)
        workers = []
        try:
            def ready():
                if server.poll() is not None:
                    log.seek(0)
                    pytest.fail(f"prometheus exited with {server.returncode}: {log.read()[-3000:]}")
                try:
                    return urllib.request.urlopen(base + "/-/ready", timeout=2).status == 200
                except OSError:
                    return False

            _until(ready, 30, "Prometheus to start")
            # A short politeness delay: the crawl lasts a few scrapes.
            workers = [start_worker(redis_server, "--metrics-port", str(port), "--until-idle", "120",
                                    "-s", "METRICS_HOST=127.0.0.1", "-s", "FRONTIER_HOST_DELAY=0.05",
                                    "-s", "METRICS_HUBS_CACHE_SECONDS=1")
                       for port in ports]
            # Seeded once Prometheus has scraped both idle workers, so that it sees the crawl happen.
            _until(lambda: len(_query(base, 'up{job="crawler-workers"} == 1')) == 2, 30,
                   "Prometheus to scrape both workers")
            seeded = cli(redis_server, "seed", site.base_url + "/",
                         *(f"http://127.0.0.1:{fresh.port}{path}" for path, _, _ in FRESH))
            assert seeded.returncode == 0, seeded.stderr
            frontier = Frontier(client, Keys("news"))

            def crawled():
                for proc in workers:
                    if proc.poll() is not None:
                        pytest.fail(f"a worker exited early: {wait(proc)[1][-3000:]}")
                counts = frontier.counts()
                return counts.articles == expected and counts.queued == 0 and counts.in_flight == 0

            _until(crawled, 90, "the crawl")
            delivered = cli(redis_server, "deliver", f"file://{workdir}/articles/", "--group", "files",
                            "--until-idle", "0.5")
            assert delivered.returncode == 0, delivered.stderr

            def scraped():
                # A worker's counters are final in a scrape whose frontier gauges read an
                # idle frontier: a request is acknowledged after its stats were counted.
                done = _query(base, "crawler_frontier_queued + crawler_frontier_in_flight == 0")
                twice = _query(base, 'count_over_time(up{job="crawler-workers"}[1m]) >= 2')
                # The delivery gauges too, twice (rate() needs two samples).
                delivery = _query(base, "count_over_time(crawler_delivered_articles_total[1m]) >= 2")
                # And each worker's latest scrape read Redis after deliver finished.
                final = _query(base, f'crawler_delivered_articles_total{{group="files"}} == {expected}')
                return len(done) == 2 and len(twice) == 2 and len(delivery) == 2 and len(final) == 2

            _until(scraped, 30, "Prometheus to scrape the final state")
            yield base, expected, site.base_url, demo
        finally:
            for proc in workers:
                proc.send_signal(signal.SIGTERM)
            for proc in workers:
                code, out = wait(proc, timeout=60)
                assert code == 0, out[-3000:]
            server.terminate()
            server.wait(30)


def test_every_dashboard_query_returns_data(prometheus):
    base, _, _, _ = prometheus
    dashboard = _dashboard()
    targets = _targets(dashboard)
    assert len(targets) >= 20
    for title, expr in targets:
        result = _query(base, _expand(expr))
        assert result, f"panel {title!r}: no data for {expr}"
    latency = [expr for title, expr in targets if title == "Download latency"]
    for expr in latency:  # the histogram was observed: real quantiles, not NaN
        (series,) = _query(base, _expand(expr))
        assert 0 < float(series["value"][1]) < 30 and not math.isnan(float(series["value"][1])), expr
    # The fresh stories captured 90 s and 20 min after publication: between the two.
    p50, p90 = [expr for title, expr in targets if title == "Capture delay"][:2]
    values = [float(_query(base, _expand(expr))[0]["value"][1]) for expr in (p50, p90)]
    assert 60 < values[0] <= values[1] < 1800, values
    spiders = _api(base, "/api/v1/label/spider/values", **{"match[]": "crawler_responses_total"})
    assert spiders["data"] == ["news"]


def test_every_alert_rule_loads_parses_and_is_quiet_on_a_healthy_crawl(prometheus):
    base, _, _, _ = prometheus

    def evaluated():
        groups = _api(base, "/api/v1/rules")["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        return rules if rules and all(rule["health"] == "ok" for rule in rules) else None

    rules = _until(evaluated, 15, "every rule to be evaluated")
    assert sorted(rule["name"] for rule in rules) == sorted(_alert_names(ALERTS.read_text()))
    for rule in rules:
        _query(base, rule["query"])  # parses, and evaluates without error
    assert _api(base, "/api/v1/alerts")["data"]["alerts"] == []


def test_prometheus_sees_the_crawl_as_it_was(prometheus):
    base, expected, site_url, _ = prometheus
    kinds = list(duplicate_pages(site_url).values())
    for outcome in ("duplicate_url", "duplicate_content", "near_duplicate"):
        assert _value(base, f'sum(crawler_articles_total{{outcome="{outcome}"}})') == kinds.count(outcome)
    assert _value(base, 'sum(crawler_articles_total{outcome="invalid"})') == 0
    assert _value(base, 'sum(crawler_responses_total{status_class="4xx"})') == 1  # the 404 page
    assert _value(base, 'sum(crawler_responses_total{status_class="5xx"})') == 2  # 500, retried once
    assert _value(base, "sum(crawler_requests_retried_total)") == 1
    assert _value(base, 'sum(crawler_download_errors_total{reason="cancelled"})') == 1  # oversize
    assert _value(base, "sum(crawler_download_errors_total)") == 1
    assert _value(base, 'sum(crawler_requests_refused_total{reason="private_network"})') == 0
    # Every response that reached the engine was timed once: redirects and
    # retried responses stay inside the downloader middlewares.
    assert _value(base, "sum(crawler_download_latency_seconds_count)") == (
        _value(base, "sum(crawler_responses_total)")
        - _value(base, 'sum(crawler_responses_total{status_class="3xx"})')
        - _value(base, "sum(crawler_requests_retried_total)"))
    for gauge, value in (("crawler_frontier_queued", 0), ("crawler_frontier_in_flight", 0),
                         ("crawler_frontier_dead_letters", 0), ("crawler_workers_alive", 2),
                         ("crawler_redis_up", 1)):
        result = _query(base, gauge)
        assert [float(series["value"][1]) for series in result] == [value, value], gauge
    assert _value(base, 'sum(crawler_articles_total{outcome="stored"})') == expected
    for gauge, value in (('crawler_delivered_articles_total{group="files"}', expected),
                         ('crawler_delivery_backlog{group="files"}', 0), ("crawler_articles_in_stream", 0)):
        result = _query(base, gauge)
        assert [float(series["value"][1]) for series in result] == [value, value], gauge


def test_prometheus_sees_the_capture_delays_and_the_hubs(prometheus, redis_server):
    base, _, _, demo = prometheus
    # The two fresh stories of the last 2 days, each once; the demo's 2017-18 stories and the
    # 3-day-old one are the archive, today's date alone names no time, the story dated an
    # hour ahead is in the future.
    assert _value(base, "sum(crawler_capture_delay_seconds_count)") == 2
    for bound, count in (("60.0", 0), ("900.0", 1), ("1800.0", 2), ("+Inf", 2)):
        assert _value(base, f'sum(crawler_capture_delay_seconds_bucket{{le="{bound}"}})') == count, bound
    for reason, count in (("archive", demo + 1), ("no_time", 1), ("future", 1)):
        assert _value(base, f'sum(crawler_capture_delay_skipped_total{{reason="{reason}"}})') == count, reason
    assert [float(series["value"][1]) for series in _query(base, "crawler_capture_lag_threshold_seconds")] == [
        3600, 3600]
    # Every worker reports the crawl's hubs as Redis holds them: the rows written before the
    # crawl (2 feeds, 1 front, 1 retired sitemap), and whatever the crawl registered itself.
    counts = hub_counts(redis.Redis.from_url(redis_server, decode_responses=True), Keys("news"))
    assert counts.by_kind["feed"] >= 2 and counts.by_kind["front"] >= 1 and counts.retired >= 1

    def reported():
        return all(
            [float(series["value"][1]) for series in _query(base, f'crawler_hubs{{kind="{kind}"}}')]
            == [counts.by_kind[kind]] * 2 for kind in HUB_KINDS)

    _until(reported, 15, "Prometheus to scrape the hubs by kind")
    for gauge, value in (("crawler_hubs_retired", counts.retired), ("crawler_revisits_due", 0),
                         ("crawler_revisits_overdue", 0)):
        assert [float(series["value"][1]) for series in _query(base, gauge)] == [value, value], gauge
    visits = _query(base, "crawler_hub_visits_total")
    assert len(visits) == 2 * len(HUB_KINDS) * 4  # every kind and result, on both workers
