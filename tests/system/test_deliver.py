"""``crawler deliver`` as an operator runs it: to files and to a real PostgreSQL, until idle or
SIGTERM, two processes sharing a group, and a ``kill -9`` that loses nothing and stores nothing
twice."""

from __future__ import annotations

import gzip
import json
import os
import signal
import time

import psycopg
import pytest
import redis

from crawler.base.keys import Keys
from crawler.store.postgres import COLUMNS, SCHEMA_VERSION
from tests.support.articles import store_articles, synthetic_article
from tests.support.deliver import finish, start_deliver
from tests.support.workers import cli

KEYS = Keys("news")
# A crashed deliver's entries are claimed after a second (the default is 300).
QUICK = ["-s", "DELIVER_CLAIM_IDLE_SECONDS=1", "-s", "DELIVER_FILE_MAX_SECONDS=0.5"]


@pytest.fixture
def client(redis_url):
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def _lines(directory) -> list[dict]:
    rows = []
    for path in sorted(directory.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            rows += [json.loads(line) for line in lines]
    return rows


def _urls(numbers) -> list[str]:
    return sorted(synthetic_article(n)["canonical_url"] for n in numbers)


def _until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


# --- Files ------------------------------------------------------------------------------

def test_deliver_to_files_until_idle_then_status_and_export_say_so(redis_url, client, tmp_path):
    articles = store_articles(client, KEYS, range(40))
    result = cli(redis_url, "deliver", f"file://{tmp_path}/out/", "--until-idle", "1", "--batch", "7")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stderr.splitlines()[-1])
    group = summary["group"]
    assert group.startswith("file-") and (summary["acknowledged"], summary["trimmed"]) == (40, 40)
    rows = _lines(tmp_path / "out")
    assert [{k: v for k, v in row.items() if k != "_stream_id"} for row in rows] == articles
    status = json.loads(cli(redis_url, "status", "--json").stdout)
    assert status["articles_stored"] == 40
    assert status["delivery"] == {"in_stream": 0, "undelivered": 0, "groups": {group: {
        "backlog": 0, "oldest_age_seconds": 0.0, "pending": 0, "consumers": 0, "delivered": 40}}}
    text = cli(redis_url, "status").stdout
    assert group in text and "delivery (0 articles in the stream)" in text
    exported = cli(redis_url, "export")
    assert exported.returncode == 0 and exported.stdout == ""
    assert "0 articles written to stdout: those still in the stream, a one-shot dump " \
           "(40 delivered by crawler deliver and trimmed are not in it)" in exported.stderr


def test_status_before_any_deliver(redis_url, client):
    store_articles(client, KEYS, range(3))
    status = json.loads(cli(redis_url, "status", "--json").stdout)
    assert status["delivery"] == {"in_stream": 3, "undelivered": 3, "groups": {}}
    assert "no crawler deliver has run" in cli(redis_url, "status").stdout


def test_sigterm_completes_the_open_file_and_exits_0(redis_url, client, tmp_path):
    proc = start_deliver(redis_url, f"file://{tmp_path}/", "--group", "archive")
    _until(lambda: client.exists(KEYS.articles) and client.xinfo_consumers(KEYS.articles, "archive"),
           30, "deliver to start")
    store_articles(client, KEYS, range(25))
    _until(lambda: client.xpending(KEYS.articles, "archive")["pending"] == 25, 30, "deliver to read them")
    assert list(tmp_path.glob("*.jsonl.gz")) == []  # the file is open for 60 s
    proc.send_signal(signal.SIGTERM)
    code, stderr, summary = finish(proc, 30)
    assert code == 0, stderr
    assert summary["acknowledged"] == 25 and summary["unacknowledged"] == 0
    assert sorted(row["canonical_url"] for row in _lines(tmp_path)) == _urls(range(25))
    assert client.xlen(KEYS.articles) == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_two_processes_of_one_group_share_the_work(redis_url, client, tmp_path):
    procs = [start_deliver(redis_url, f"file://{tmp_path}/", "--group", "shared", "--batch", "5",
                           "--until-idle", "3") for _ in range(2)]
    _until(lambda: client.exists(KEYS.articles)
           and len(client.xinfo_consumers(KEYS.articles, "shared")) == 2, 30, "both to start")
    store_articles(client, KEYS, range(300))
    results = [finish(proc) for proc in procs]
    for code, stderr, _ in results:
        assert code == 0, stderr
    shares = [summary["acknowledged"] for _, _, summary in results]
    assert sum(shares) == 300 and min(shares) > 0, shares
    rows = _lines(tmp_path)
    assert len(rows) == 300 and sorted(row["canonical_url"] for row in rows) == _urls(range(300))
    assert client.xlen(KEYS.articles) == 0


def test_two_groups_each_get_every_article(redis_url, client, tmp_path):
    def deliver(name: str) -> None:
        result = cli(redis_url, "deliver", f"file://{tmp_path}/{name}/", "--until-idle", "0.5")
        assert result.returncode == 0, result.stderr

    deliver("a")
    deliver("b")  # both groups exist
    store_articles(client, KEYS, range(30))
    deliver("a")
    assert client.xlen(KEYS.articles) == 30  # b has not had them yet: nothing trimmed
    deliver("b")
    assert client.xlen(KEYS.articles) == 0
    assert sorted(r["canonical_url"] for r in _lines(tmp_path / "a")) == _urls(range(30))
    assert sorted(r["canonical_url"] for r in _lines(tmp_path / "b")) == _urls(range(30))
    status = json.loads(cli(redis_url, "status", "--json").stdout)["delivery"]
    assert [group["delivered"] for group in status["groups"].values()] == [30, 30]
    assert client.hget(KEYS.stats, "articles_trimmed") == "30"


def test_kill_9_loses_nothing_and_writes_no_file_twice(redis_url, client, tmp_path):
    store_articles(client, KEYS, range(3000))
    proc = start_deliver(redis_url, f"file://{tmp_path}/", "--batch", "20",
                         "-s", "DELIVER_FILE_MAX_BYTES=20000", *QUICK)
    _until(lambda: len(list(tmp_path.glob("*.jsonl.gz"))) >= 3, 60, "some files")
    proc.kill()
    proc.wait(10)
    assert client.xlen(KEYS.articles) > 0, "killed after the end: the test proves nothing"
    time.sleep(1.1)  # past DELIVER_CLAIM_IDLE_SECONDS: the dead consumer's entries are claimed
    result = cli(redis_url, "deliver", f"file://{tmp_path}/", "--until-idle", "2", *QUICK)
    assert result.returncode == 0, result.stderr
    rows = _lines(tmp_path)
    ids = [row["_stream_id"] for row in rows]
    assert len(ids) == len(set(ids)) == 3000
    assert sorted(row["canonical_url"] for row in rows) == _urls(range(3000))
    assert client.xlen(KEYS.articles) == 0


# --- Errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["s3://bucket/"], "unknown sink 's3://bucket/'"),
    (["file:///tmp/x/", "--group", "a b"], "invalid group name 'a b'"),
    (["file:///tmp/x/", "--batch", "0"], "--batch) must be between 1 and 100000"),
    (["file:///tmp/x/", "--until-idle", "0"], "--until-idle must be a positive number"),
    (["file:///tmp/x/", "-s", "DELIVER_CLAIM_IDLE_SECONDS=10"], "must be more than DELIVER_FILE_MAX_SECONDS"),
    ([], "give a sink (file:///dir/, postgresql://..., -) or set DATABASE_URL"),
    (["postgresql://crawler:s3cret@/nodb?host=/nonexistent&port=1"],
     "cannot connect to postgresql://crawler:***@/nodb?host=/nonexistent&port=1"),
])
def test_mistakes_are_one_line_and_exit_2(redis_url, args, message):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    result = cli(redis_url, "deliver", *args, env=env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) <= 2 and message in lines[-1], result.stderr
    assert "s3cret" not in result.stderr


def test_stdout_sink(redis_url, client):
    store_articles(client, KEYS, range(5))
    result = cli(redis_url, "deliver", "-", "--until-idle", "0.5")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["canonical_url"] for line in result.stdout.splitlines()] == \
        [synthetic_article(n)["canonical_url"] for n in range(5)]
    assert json.loads(result.stderr.splitlines()[-1])["group"] == "stdout"


# --- PostgreSQL --------------------------------------------------------------------------

def _rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT canonical_url, stream_id FROM articles ORDER BY canonical_url").fetchall()


def test_postgres_from_database_url_creates_the_schema_and_upserts(redis_url, client, postgres_url):
    articles = store_articles(client, KEYS, range(50))
    env = {**os.environ, "DATABASE_URL": postgres_url}
    result = cli(redis_url, "deliver", "--until-idle", "0.5", "--batch", "8", env=env)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stderr.splitlines()[-1])
    assert summary["group"].startswith("postgresql-t_") and summary["acknowledged"] == 50
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT component, version FROM crawler_schema").fetchall() == [
            ("articles", SCHEMA_VERSION)]
        columns = conn.execute("SELECT column_name, data_type FROM information_schema.columns "
                               "WHERE table_name = 'articles' ORDER BY ordinal_position").fetchall()
        assert [name for name, _ in columns] == list(COLUMNS)
        assert dict(columns)["related"] == dict(columns)["authors"] == "jsonb"
        indexes = {row[0] for row in conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'articles'")}
        assert any("(published)" in i for i in indexes) and any("(domain)" in i for i in indexes)
        stored = conn.execute("SELECT canonical_url, title, body, authors, related, published, word_count "
                              "FROM articles ORDER BY canonical_url").fetchall()
    expected = sorted(articles, key=lambda a: a["canonical_url"])
    assert [(row[0], row[1], row[2], row[3], row[4], row[5].isoformat(), row[6]) for row in stored] == [
        (a["canonical_url"], a["title"], a["body"], a["authors"], a["related"], a["published"], a["word_count"])
        for a in expected]
    first = _rows(postgres_url)
    # The same articles in the stream again (a redelivery): still one row each, now from the newer entries.
    for article in articles[:10]:
        client.xadd(KEYS.articles, {"article": json.dumps(article)})
    result = cli(redis_url, "deliver", "postgresql", "--until-idle", "0.5", env=env)
    assert result.returncode == 0, result.stderr
    second = _rows(postgres_url)
    assert [url for url, _ in second] == [url for url, _ in first] and len(second) == 50
    assert sum(a != b for (_, a), (_, b) in zip(first, second)) == 10


def test_postgres_kill_9_mid_batch_loses_nothing_and_stores_nothing_twice(redis_url, client, postgres_url):
    store_articles(client, KEYS, range(4000))

    def delivered() -> int:
        return sum(int(n) for n in client.hvals(KEYS.delivered))

    # Killed while it holds a batch it has not acknowledged (read, maybe committed): it holds
    # one most of the time, and a kill between two batches is tried again.
    for _ in range(5):
        before = delivered()
        proc = start_deliver(redis_url, postgres_url, "--batch", "25", *QUICK)
        _until(lambda: delivered() >= before + 200, 60, "some rows")
        proc.kill()
        proc.wait(10)
        (group,) = client.xinfo_groups(KEYS.articles)
        if group["pending"] > 0:
            break
    assert client.xlen(KEYS.articles) > 0 and group["pending"] > 0, "never killed mid-batch"
    time.sleep(1.1)
    result = cli(redis_url, "deliver", postgres_url, "--until-idle", "2", *QUICK)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stderr.splitlines()[-1])["claimed"] == group["pending"]
    rows = _rows(postgres_url)
    assert [url for url, _ in rows] == _urls(range(4000))  # each once: the primary key
    assert len({stream_id for _, stream_id in rows}) == 4000
    assert client.xlen(KEYS.articles) == 0
    (group,) = client.xinfo_groups(KEYS.articles)
    assert group["pending"] == 0 and client.hget(KEYS.delivered, group["name"]) == "4000"
