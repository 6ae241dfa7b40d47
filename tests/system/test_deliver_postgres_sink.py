"""The PostgreSQL sink against a real server: a lost connection costs nothing (the batch is
sent again on a new one), NUL characters and odd dates are stored, the schema is checked."""

from __future__ import annotations

import json

import psycopg
import pytest

from crawler.store.postgres import SCHEMA_VERSION, PostgresSink
from crawler.store.sinks import SinkError
from tests.support.articles import synthetic_article


def _entries(numbers) -> list[tuple[str, str]]:
    return [(f"{1000 + n}-0", json.dumps(synthetic_article(n))) for n in numbers]


def _urls(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute("SELECT canonical_url FROM articles ORDER BY canonical_url")]


def test_a_lost_connection_is_retried_with_the_next_batch(postgres_url):
    sink = PostgresSink(postgres_url)
    sink.open("g", "c")
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE application_name = 'crawler deliver'")
    assert sink.write(_entries(range(0, 5))) == []  # sent; its transaction fails in the thread
    with pytest.raises(psycopg.OperationalError):
        sink.write(_entries(range(5, 10)))  # the failure surfaces; the batch was not sent
    assert sink.write(_entries(range(5, 10))) == []  # both batches, on a new connection
    assert sink.flush() == [f"{1000 + n}-0" for n in range(10)]
    sink.close()
    assert _urls(postgres_url) == sorted(synthetic_article(n)["canonical_url"] for n in range(10))


def test_nul_characters_and_bad_dates_are_stored_without_them(postgres_url):
    article = {**synthetic_article(1), "title": "a\x00b", "body": "x\x00y " * 50,
               "published": "not a date", "related": [{"url": "u\x00", "title": None}]}
    sink = PostgresSink(postgres_url)
    sink.open("g", "c")
    sink.write([("5-0", json.dumps(article))])
    assert sink.flush() == ["5-0"]
    sink.close()
    with psycopg.connect(postgres_url) as conn:
        title, body, published, related = conn.execute(
            "SELECT title, body, published, related FROM articles").fetchone()
    assert (title, body, published, related) == ("ab", "xy " * 50, None, [{"url": "u", "title": None}])


def test_a_table_of_someone_else_is_left_alone(postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE articles (id int)")
    sink = PostgresSink(postgres_url)
    with pytest.raises(SinkError, match="table articles exists but was not created by crawler deliver"):
        sink.open("g", "c")


def test_a_newer_schema_is_refused(postgres_url):
    sink = PostgresSink(postgres_url)
    sink.open("g", "c")
    sink.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE crawler_schema SET version = 99")
    with pytest.raises(SinkError, match=f"schema version 99, this crawler writes version {SCHEMA_VERSION}"):
        PostgresSink(postgres_url).open("g", "c")


def test_a_version_1_table_is_upgraded_in_place_and_keeps_its_rows(postgres_url):
    sink = PostgresSink(postgres_url)
    sink.open("g", "c")
    sink.write([("1-0", json.dumps(synthetic_article(1)))])
    assert sink.flush() == ["1-0"]
    sink.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:  # as version 1 created it
        conn.execute("ALTER TABLE articles DROP COLUMN discovered_at, DROP COLUMN discovered_via")
        conn.execute("UPDATE crawler_schema SET version = 1")
    article = {**synthetic_article(2), "discovered_at": "2026-12-03T10:00:00+00:00",
               "discovered_via": "news-sitemap"}
    sink = PostgresSink(postgres_url)
    sink.open("g", "c")
    sink.write([("2-0", json.dumps(article))])
    assert sink.flush() == ["2-0"]
    sink.close()
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute("SELECT stream_id, discovered_via, discovered_at IS NOT NULL FROM articles "
                            "ORDER BY stream_id").fetchall()
        version = conn.execute("SELECT version FROM crawler_schema").fetchone()[0]
    assert rows == [("1-0", None, False), ("2-0", "news-sitemap", True)]
    assert version == SCHEMA_VERSION
