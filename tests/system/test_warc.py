"""The WARC archive with real workers on the demo site: complete, valid, re-extractable,
safe against kill -9, and a worker that cannot write stops without acknowledging."""

from __future__ import annotations

import collections
import json
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis
from warcio.archiveiterator import ArchiveIterator

from crawler.demo import OVERSIZE_BYTES, bad_articles, bad_pages, expected_articles, serve
from crawler.demo.pages import article_pages
from crawler.store.warc import OPEN_SUFFIX, ArchiveError, Exchange, WarcFiles, read_responses
from tests.support.workers import CLI, WORKER_SETTINGS, cli, export, start_worker, wait

WARCIO = Path(sys.executable).with_name("warcio")
# What a re-extraction may change: when the page was fetched, and when and how its link was
# found (facts of the crawl, not of the archived exchange).
VOLATILE = {"crawled_at", "discovered_at", "discovered_via"}


def _records(path: Path) -> list[tuple[str, str, int, object]]:
    """(type, target URI, offset, warcio record headers) of each record, digests checked."""
    found = []
    with open(path, "rb") as stream:
        records = ArchiveIterator(stream, check_digests=True)
        for record in records:
            record.content_stream().read()
            assert record.digest_checker.passed is not False, (path, record.digest_checker.problems)
            found.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI"),
                          records.get_record_offset(), record.rec_headers))
    return found


def _reextract(*args: str, redis_url: str | None = None) -> tuple[subprocess.CompletedProcess, dict]:
    prefix = ["--redis-url", redis_url] if redis_url else []
    result = subprocess.run(CLI + prefix + ["reextract", *args], capture_output=True, text=True, timeout=300)
    summary = json.loads(result.stderr.strip().splitlines()[-1]) if result.stderr.strip() else {}
    return result, summary


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_response_is_archived_valid_and_reextracted_to_the_same_articles(redis_url, tmp_path):
    warc = tmp_path / "warc"
    with serve(include_bad=True) as site:
        base = site.base_url
        pdf = next(url for url, what in bad_pages(base).items() if what == "not-html")  # not linked
        assert cli(redis_url, "seed", base + "/", pdf).returncode == 0
        # Small files: the crawl rotates several times.
        workers = [start_worker(redis_url, "--until-idle", "3", "--warc", str(warc), "-s", "WARC_MAX_BYTES=20000")
                   for _ in range(2)]
        for worker in workers:
            code, out = wait(worker)
            assert code == 0, out[-3000:]
        hits = [path for _, path in site.hits]
    files = sorted(warc.iterdir())
    assert len(files) >= 3 and all(f.name.startswith("news-") and f.name.endswith(".warc.gz") for f in files)
    checked = subprocess.run([str(WARCIO), "check", *map(str, files)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    responses, requests, concurrent = [], set(), set()
    for path in files:
        records = _records(path)
        assert records[0][0] == "warcinfo" and records[0][3].get_header("WARC-Filename") == path.name
        assert path.stat().st_size <= 20000 or len(records) == 3
        for kind, uri, _offset, headers in records[1:]:
            assert headers.protocol == "WARC/1.1" and headers.get_header("WARC-Date")
            if kind == "response":
                assert headers.get_header("WARC-IP-Address") == "127.0.0.1"
                assert headers.get_header("WARC-Payload-Digest").startswith("sha1:")
                responses.append(uri)
                concurrent.add(headers.get_header("WARC-Record-ID"))
            else:
                assert kind == "request"
                requests.add(headers.get_header("WARC-Concurrent-To"))
    assert requests == concurrent and len(requests) == len(responses)
    # Every request the site answered has its response archived (robots.txt, redirects, 404,
    # the 500 page and its retry, the PDF included), once per fetch; only the oversize page,
    # whose download the worker cancels, has none.
    oversize = [url for url, what in bad_pages(base).items() if what == "oversize"]
    assert OVERSIZE_BYTES > 1048576 and len(oversize) == 1
    fetched = collections.Counter(base + path for path in hits)
    fetched.pop(oversize[0])
    assert collections.Counter(responses) == fetched
    assert {"/robots.txt", "/lab/loop-a", "/lab/error.html", "/lab/report.pdf"} <= set(hits)

    crawl = {a["url"]: a for a in export(redis_url)}
    assert sorted(crawl) == sorted(a["url"] for a in expected_articles(base) + bad_articles(base))
    result, summary = _reextract(str(warc), "-o", str(tmp_path / "again.jsonl"))
    assert result.returncode == 0, result.stderr
    again = _lines(tmp_path / "again.jsonl")
    assert summary["responses"] == len(responses) and summary["articles"] == len(again)
    by_url = {}
    for article in again:
        by_url.setdefault(article["url"], article)
        # warc_file and warc_offset name the response record the article comes from.
        record = next(r for r in read_responses(article["warc_file"]) if r.offset == article["warc_offset"])
        assert record.url == article["url"] and record.status == 200
    for url, stored in crawl.items():
        got = {k: v for k, v in by_url[url].items() if k not in ("warc_file", "warc_offset")}
        assert {k for k in stored.keys() | got.keys() if stored.get(k) != got.get(k)} <= VOLATILE, url
    # The rest are the pages the crawl's store dropped as duplicates.
    status = json.loads(cli(redis_url, "status", "--json").stdout)
    assert len(again) - len(crawl) == sum(status["duplicates"].values()) > 0

    # --store: into an emptied crawl, the pipelines store the same articles again.
    redis.Redis.from_url(redis_url).flushall()
    result, summary = _reextract(str(warc), "--store", "-o", "/dev/null", redis_url=redis_url)
    assert result.returncode == 0, result.stderr
    assert (summary["stored"], summary["duplicates"]) == (len(crawl), len(again) - len(crawl))
    restored = {a["url"]: a for a in export(redis_url)}
    assert sorted(restored) == sorted(crawl)
    for url, stored in crawl.items():
        assert {k for k in stored if stored[k] != restored[url][k]} <= VOLATILE, url
    # A second pass fetches nothing and stores nothing twice.
    result, summary = _reextract(str(warc), "--store", "-o", "/dev/null", redis_url=redis_url)
    assert (result.returncode, summary["stored"], summary["duplicates"]) == (0, 0, len(again))


def _open_records(warc: Path, worker: subprocess.Popen) -> int:
    """Response records in the file ``worker`` is writing (worker ids are host:pid:random)."""
    for path in warc.glob(f"*_{worker.pid}_*{OPEN_SUFFIX}"):
        try:
            return sum(1 for _ in read_responses(path))
        except ArchiveError:
            return 1
    return 0


def test_kill_9_leaves_readable_files_and_every_article_has_its_response(redis_url, tmp_path):
    rnd = random.Random(13)
    warc = tmp_path / "warc"
    slow = ["--warc", str(warc), "-s", "FRONTIER_HOST_DELAY=0.3", "-s", "FRONTIER_LEASE_SECONDS=2",
            "-s", "FRONTIER_MAX_ATTEMPTS=10"]
    with serve(include_bad=True) as site:
        base = site.base_url
        assert cli(redis_url, "seed", base + "/").returncode == 0
        workers = [start_worker(redis_url, "--until-idle", "4", *slow) for _ in range(2)]
        killed = []
        for _ in range(2):
            deadline = time.monotonic() + 60
            while not (writing := [w for w in workers if _open_records(warc, w) >= 2]):
                assert time.monotonic() < deadline, "no worker archived anything"
                time.sleep(0.05)
            time.sleep(rnd.uniform(0, 0.3))
            victim = rnd.choice(writing)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            killed.append(victim.pid)
            workers[workers.index(victim)] = start_worker(redis_url, "--until-idle", "4", *slow)
        for worker in workers:
            code, out = wait(worker)
            assert code == 0, out[-3000:]
    left_open = sorted(p for p in warc.iterdir() if p.name.endswith(OPEN_SUFFIX))
    # Each killed worker left its file open; the others closed theirs.
    assert {int(p.name.split("-")[1].split("_")[-2]) for p in left_open} == set(killed)
    archived = {}
    for path in sorted(warc.iterdir()):
        try:
            for response in read_responses(path):
                archived.setdefault(response.url, set()).add(response.status)
        except ArchiveError as exc:
            assert path in left_open, exc  # only a killed worker's file may end inside a record
        if path not in left_open:
            checked = subprocess.run([str(WARCIO), "check", str(path)], capture_output=True, text=True)
            assert checked.returncode == 0, checked.stdout
    articles = export(redis_url)
    assert sorted(a["url"] for a in articles) == sorted(
        a["url"] for a in expected_articles(base) + bad_articles(base))
    assert all(200 in archived.get(a["url"], ()) for a in articles)


def _limit_file_size(limit: int):
    def apply() -> None:
        # A file this process writes cannot grow past `limit`: writes beyond fail as on a
        # full disk (EFBIG; Python ignores SIGXFSZ). Logs go to a pipe, which has no size.
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_worker_that_cannot_write_stops_and_acknowledges_nothing_unarchived(redis_url, tmp_path):
    full, spare = tmp_path / "full", tmp_path / "spare"
    with serve(include_bad=True) as site:
        base = site.base_url
        assert cli(redis_url, "seed", base + "/").returncode == 0
        stopped = subprocess.run(
            CLI + ["--redis-url", redis_url, "worker", *WORKER_SETTINGS, "--metrics-port", "0",
                   "--until-idle", "3", "--warc", str(full), "-s", "LOG_LEVEL=WARNING"],
            capture_output=True, text=True, timeout=120, preexec_fn=_limit_file_size(40_000))
        log = stopped.stderr
        assert stopped.returncode == 1, log[-3000:]
        assert log.count("Cannot write WARC files (File too large in ") == 1, log[-3000:]
        assert "Worker stopped: warc_error" in log
        unarchived = {line.rsplit(" ", 1)[-1] for line in log.splitlines() if "Not archived, retried later: " in line}
        assert unarchived, log[-3000:]
        status = json.loads(cli(redis_url, "status", "--json").stdout)
        assert status["in_flight"] == 0 and status["queued"] >= len(unarchived)

        code, out = wait(start_worker(redis_url, "--until-idle", "3", "--warc", str(spare)))
        assert code == 0, out[-3000:]
    [cut] = full.iterdir()  # closed, cut back to its last complete record
    assert cut.name.endswith(".warc.gz") and cut.stat().st_size <= 40_000
    checked = subprocess.run([str(WARCIO), "check", str(cut)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout
    first = {r.url for r in read_responses(cut)}
    second = {r.url for path in spare.iterdir() for r in read_responses(path)}
    # What the first worker could not archive, it did not acknowledge: the second fetched it.
    assert unarchived <= second and not unarchived & first
    articles = export(redis_url)
    assert sorted(a["url"] for a in articles) == sorted(
        a["url"] for a in expected_articles(base) + bad_articles(base))
    assert {a["url"] for a in articles} <= first | second


def test_a_folder_that_cannot_be_written_is_one_line_at_start(redis_url, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = cli(redis_url, "worker", "--warc", str(blocker / "warc"))
    assert result.returncode == 2
    assert result.stderr == f"crawler worker: error: cannot write WARC files in {blocker / 'warc'}: Not a directory\n"


def test_reextract_reports_each_bad_file_in_one_line_and_reads_the_others(tmp_path):
    files = WarcFiles(tmp_path, "news", "h:1:x")
    base = "http://127.0.0.1:1"
    path, page = next(iter(article_pages(base).items()))
    files.write(Exchange(base + path, 200, [("Content-Type", "text/html; charset=utf-8")], page.encode()))
    closed = files.close()
    not_warc = tmp_path / "notes.warc.gz"
    not_warc.write_text("hello\n")
    result, summary = _reextract(str(tmp_path / "missing.warc.gz"), str(not_warc), str(closed))
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()[:-1]
    assert len(errors) == 2
    assert errors[0] == f"crawler reextract: {tmp_path / 'missing.warc.gz'}: No such file or directory"
    assert errors[1].startswith(f"crawler reextract: {not_warc}: unreadable from offset 0 (")
    assert (summary["files"], summary["unreadable"], summary["responses"]) == (3, 2, 1)
    [article] = [json.loads(line) for line in result.stdout.splitlines()]
    assert article["url"] == base + path and article["warc_file"] == str(closed)
    assert article["title"] == next(a["title"] for a in expected_articles(base) if a["url"] == base + path)
    unwritable = subprocess.run(CLI + ["reextract", str(closed), "-o", str(tmp_path / "no" / "out.jsonl")],
                                capture_output=True, text=True)
    assert (unwritable.returncode, unwritable.stderr) == (
        2, f"crawler reextract: error: cannot write {tmp_path / 'no' / 'out.jsonl'}: No such file or directory\n")
