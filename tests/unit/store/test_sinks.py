"""The sinks of crawler deliver without Redis: sink URIs, group names, settings, the JSON
Lines line, the file sink's rotation, atomic publication and recovery, PostgreSQL rows."""

from __future__ import annotations

import gzip
import io
import json
import os
import time
from datetime import datetime, timedelta, timezone

import pytest

from crawler.store.delivery import DeliveryConfig
from crawler.store.postgres import COLUMNS, article_row, database_identity
from crawler.store.sinks import (
    FileSink,
    SinkError,
    StdoutSink,
    article_line,
    default_group,
    open_sink,
    validate_group,
)
from tests.support.articles import synthetic_article

SINK = {"file_max_bytes": 1 << 20, "file_max_seconds": 60, "stale_seconds": 120}


def _entries(start: int, n: int) -> list[tuple[str, str]]:
    return [(f"{1000 + i}-0", json.dumps(synthetic_article(i), separators=(",", ":")))
            for i in range(start, start + n)]


def _read(path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _published(directory) -> list:
    return sorted(directory.glob("*.jsonl.gz"))


# --- URIs, groups, settings -------------------------------------------------------------

def test_default_groups_name_the_sink_never_its_password(tmp_path):
    group = default_group(f"file://{tmp_path}/out/")
    assert group.startswith("file-") and len(group) == 13
    assert default_group(f"file://{tmp_path}/out") == group  # the same directory
    assert default_group(f"file://localhost{tmp_path}/out/") == group
    assert default_group(f"file://{tmp_path}/other/") != group
    assert default_group("-") == "stdout"
    one = default_group("postgresql://u:secret@db.example:5432/news")
    assert one.startswith("postgresql-news-") and "secret" not in one
    assert default_group("postgresql://u:other@db.example:5432/news") == one  # password is no part
    assert default_group("postgresql://u@db2.example:5432/news") != one
    for group in (group, one, "stdout"):
        assert validate_group(group) == group


@pytest.mark.parametrize("uri, message", [
    ("s3://bucket/x", "unknown sink 's3://bucket/x'"),
    ("ftp://u:secret@h/x", "unknown sink 'ftp://u:***@h/x'"),
    ("file://otherhost/dir/", "give an absolute local directory"),
    ("file:relative/dir", "give an absolute local directory"),
    ("postgresql://u:secret@h/db?bogus=1", "invalid PostgreSQL URI 'postgresql://u:***@h/db?bogus=1'"),
])
def test_bad_sinks_are_one_line_errors_without_passwords(uri, message):
    with pytest.raises(SinkError) as error:
        default_group(uri)
        open_sink(uri, **SINK)
    assert message in str(error.value) and "secret" not in str(error.value)


@pytest.mark.parametrize("group", ["", "-x", "a b", "a/b", "x" * 65, "é"])
def test_bad_group_names(group):
    with pytest.raises(SinkError, match="invalid group name"):
        validate_group(group)


@pytest.mark.parametrize("values, message", [
    ({"batch": 0}, "DELIVER_BATCH (--batch) must be between 1 and 100000"),
    ({"file_max_bytes": 0}, "DELIVER_FILE_MAX_BYTES must be at least 1"),
    ({"file_max_seconds": 0}, "DELIVER_FILE_MAX_SECONDS must be a positive number"),
    ({"file_max_seconds": 60, "claim_idle_seconds": 60}, "must be more than DELIVER_FILE_MAX_SECONDS"),
    ({"claim_idle_seconds": float("nan")}, "must be more than DELIVER_FILE_MAX_SECONDS"),
])
def test_config_rejects_values_that_cannot_work(values, message):
    with pytest.raises(ValueError, match=__import__("re").escape(message)):
        DeliveryConfig(**values)


def test_config_from_settings():
    class Settings(dict):
        def getint(self, name, default):
            return int(self.get(name, default))

        def getfloat(self, name, default):
            return float(self.get(name, default))

    config = DeliveryConfig.from_settings(Settings(DELIVER_FILE_MAX_BYTES="1000"), batch=7)
    assert (config.batch, config.file_max_bytes, config.file_max_seconds) == (7, 1000, 60.0)
    with pytest.raises(ValueError, match="DELIVER_BATCH must be a number, got 'many'"):
        DeliveryConfig.from_settings(Settings(DELIVER_BATCH="many"))


# --- Lines ------------------------------------------------------------------------------

def test_a_line_is_the_article_with_its_stream_id_first():
    article = synthetic_article(3)
    raw = json.dumps(article, ensure_ascii=False, separators=(",", ":"))
    line = article_line("17-2", raw)
    assert line.endswith("\n") and line.count("\n") == 1
    assert json.loads(line) == {"_stream_id": "17-2", **article}
    assert list(json.loads(line))[0] == "_stream_id"
    assert json.loads(article_line("1-0", "{}")) == {"_stream_id": "1-0"}
    for bad in ("", "[1]", '"x"', "{not json", '{"a":\n1}', "null"):
        assert article_line("1-0", bad) is None


def test_stdout_sink_writes_each_batch_and_skips_what_is_no_object():
    out = io.BytesIO()
    sink = StdoutSink(out)
    entries = _entries(0, 3) + [("2000-0", "[]")]
    assert sink.write(entries) == [entry_id for entry_id, _ in entries]
    lines = out.getvalue().decode().splitlines()
    assert [json.loads(line)["_stream_id"] for line in lines] == ["1000-0", "1001-0", "1002-0"]


# --- The file sink -----------------------------------------------------------------------

def test_files_rotate_by_size_are_hidden_until_acknowledged_and_valid_gzip(tmp_path):
    sink = FileSink(tmp_path, max_bytes=4000, max_seconds=60, stale_seconds=120)
    sink.open("files", "host:12:ab")
    assert sink.write(_entries(0, 2)) == []  # under 4000 bytes: the file stays open
    (tmp,) = os.listdir(tmp_path)
    assert tmp.startswith(".articles-") and tmp.endswith(".tmp")
    done = sink.write(_entries(2, 10))  # past 4000 compressed bytes: complete
    assert done == [f"{1000 + i}-0" for i in range(12)]
    assert _published(tmp_path) == []  # not acknowledged yet: still hidden
    (hidden,) = os.listdir(tmp_path)
    assert hidden.startswith(".articles-") and hidden.endswith(".jsonl.gz.files.done")
    sink.acknowledged()
    (path,) = _published(tmp_path)
    assert path.name == hidden[1:-len(".files.done")]
    assert path.name.startswith("articles-") and "-host-12-ab-000001" in path.name
    assert [row["_stream_id"] for row in _read(path)] == done
    assert [{k: v for k, v in row.items() if k != "_stream_id"} for row in _read(path)] == [
        synthetic_article(i) for i in range(12)]
    # The next file is a new one, named later: names sort by time.
    sink.write(_entries(12, 1))
    sink.acknowledged()
    assert sink.flush() == ["1012-0"]
    sink.acknowledged()
    first, second = _published(tmp_path)
    assert (first, second) == (path, max(_published(tmp_path)))
    assert [row["_stream_id"] for row in _read(second)] == ["1012-0"]
    assert sorted(os.listdir(tmp_path)) == sorted([first.name, second.name])


def test_files_rotate_by_age(tmp_path):
    sink = FileSink(tmp_path, max_bytes=1 << 30, max_seconds=0.2, stale_seconds=120)
    sink.open("files", "c")
    sink.write(_entries(0, 2))
    assert sink.poll() == []
    time.sleep(0.25)
    assert sink.poll() == ["1000-0", "1001-0"]
    sink.acknowledged()
    assert len(_published(tmp_path)) == 1


def test_close_without_flush_leaves_nothing_a_reader_sees(tmp_path):
    sink = FileSink(tmp_path, **{"max_bytes": 1 << 30, "max_seconds": 60, "stale_seconds": 120})
    sink.open("files", "c")
    sink.write(_entries(0, 2))
    sink.close()
    assert os.listdir(tmp_path) == []


def test_recover_acknowledges_and_publishes_finished_files_of_its_group_only(tmp_path):
    crashed = FileSink(tmp_path, max_bytes=1, max_seconds=60, stale_seconds=120)
    crashed.open("files", "dead")
    ids = crashed.write(_entries(0, 3))  # complete and hidden, then the process died
    other = FileSink(tmp_path, max_bytes=1, max_seconds=60, stale_seconds=120)
    other.open("other", "x")
    other.write(_entries(5, 1))
    assert _published(tmp_path) == []
    survivor = FileSink(tmp_path, max_bytes=1 << 30, max_seconds=60, stale_seconds=120)
    survivor.open("files", "alive")
    assert survivor.recover() == ids
    survivor.acknowledged()
    (path,) = _published(tmp_path)
    assert [row["_stream_id"] for row in _read(path)] == ids
    assert [name for name in os.listdir(tmp_path) if name.startswith(".")] == [
        next(name for name in os.listdir(tmp_path) if name.endswith(".other.done"))]
    crashed.acknowledged()  # the dead one's rename, were it to come back: nothing to do
    assert len(_published(tmp_path)) == 1


def test_recover_removes_stale_temporary_files_only(tmp_path):
    old = tmp_path / ".articles-20240101T000000.000000Z-dead-000001.jsonl.gz.tmp"
    old.write_bytes(gzip.compress(b'{"_stream_id":"1-0"}\n')[:10])
    past = time.time() - 200
    os.utime(old, (past, past))
    fresh = tmp_path / ".articles-20240101T000000.000000Z-live-000001.jsonl.gz.tmp"
    fresh.write_bytes(b"")
    sink = FileSink(tmp_path, max_bytes=1 << 30, max_seconds=60, stale_seconds=120)
    sink.open("files", "c")
    assert sink.recover() == []
    assert os.listdir(tmp_path) == [fresh.name]


def test_a_directory_that_cannot_be_made_is_a_sink_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(SinkError, match="cannot create"):
        open_sink(f"file://{tmp_path}/file/sub/", **SINK)


# --- PostgreSQL rows ---------------------------------------------------------------------

def test_article_rows_hold_every_column_but_delivered_at():
    article = synthetic_article(4)
    row = article_row("12-3", json.dumps(article))
    names = [name for name in COLUMNS if name != "delivered_at"]
    values = dict(zip(names, row, strict=True))
    assert values["canonical_url"] == article["canonical_url"]
    assert values["stream_id"] == "12-3"
    assert values["published"] == datetime(2024, 5, 5, 10, tzinfo=timezone.utc)
    assert values["published"].utcoffset() == timedelta(0)
    assert json.loads(values["authors"]) == ["Ann Lee", "Bo Chen"]
    assert json.loads(values["related"]) == article["related"]
    assert values["word_count"] == article["word_count"]


def test_article_rows_drop_nul_and_bad_dates_and_refuse_what_is_no_article():
    article = {**synthetic_article(1), "title": "a\x00b", "published": "yesterday",
               "authors": ["x\x00"], "word_count": 2**40}
    values = dict(zip([n for n in COLUMNS if n != "delivered_at"], article_row("1-0", json.dumps(article))))
    assert (values["title"], values["published"], values["authors"], values["word_count"]) == (
        "ab", None, '["x"]', None)
    for raw in ("{not json", "[1]", json.dumps({"url": "u", "body": "b"}),
                json.dumps({**synthetic_article(1), "body": None})):
        assert article_row("1-0", raw) is None


def test_database_identity_has_no_user_or_password():
    assert database_identity("postgresql://u:pw@db:5433/news") == ("news", "db:5433/news")
    assert database_identity("postgresql:///news?host=/run/pg") == ("news", "/run/pg:/news")
