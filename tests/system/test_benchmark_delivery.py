"""benchmarks/delivery.py runs end to end on a few articles (its own Redis and PostgreSQL)."""

from __future__ import annotations

import json

from benchmarks.delivery import _articles, main


def test_articles_are_distinct_prose_of_the_length_asked():
    payloads = _articles(300, 700)
    articles = [json.loads(p) for p in payloads]
    assert len({a["canonical_url"] for a in articles}) == 300
    assert all(650 <= a["word_count"] <= 1100 for a in articles)


def test_the_benchmark_delivers_every_article_to_both_sinks(capsys):
    assert main(["--articles", "400", "--runs", "1", "--batch", "100", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["articles"] == 400 and set(summary["results"]) == {"file", "postgresql"}
    for result in summary["results"].values():
        assert result["median"] > 0 and len(result["articles_per_second"]) == 1
        assert result["cpu_microseconds_per_article"] > 0
    assert 0 < summary["results"]["file"]["compressed_bytes_per_article"] < summary["json_bytes_per_article"]
