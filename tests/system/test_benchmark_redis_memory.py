"""benchmarks/redis_memory.py and benchmarks/dedupe_quality.py on a small scale: they run,
their own redis-server comes and goes, and the figures they print meet the goals."""

from __future__ import annotations

import re

from benchmarks import dedupe_quality, redis_memory


def test_memory_at_rest_per_stored_and_delivered_article(capsys):
    redis_memory.main(["--articles", "3000", "--words", "200"])
    out = capsys.readouterr().out
    per_article = int(re.search(r"= ([\d,]+) bytes \([\d.]+ KiB\) per article", out)[1].replace(",", ""))
    assert per_article <= 1536, out  # goal: 1.5 KiB, stream trimmed, dedupe state included
    assert "XLEN 0" in out


def test_memory_stays_flat_with_delivery_running(capsys):
    # 40 simulated days of 150 articles, a 5-day window, in about 10 s.
    redis_memory.main(["flat", "--articles", "6000", "--per-day", "150", "--day-seconds", "0.25",
                       "--window", "5", "--maxmemory", "64mb"])
    out = capsys.readouterr().out
    assert "6,000 stored, 6,000 delivered (each once), stream left: 0" in out, out
    used = [float(m) for m in re.findall(r"^\s+\d+\s+[\d,]+\s+([\d.]+) MiB", out, flags=re.MULTILINE)]
    assert len(used) == 4 and max(used[1:]) < 1.5 * used[1], out  # flat once the window has passed


def test_dedupe_quality_table(capsys):
    dedupe_quality.corpus_table()
    out = capsys.readouterr().out
    assert re.search(r"8x2 bands, 4-bit, >= 0.65 \(default\)\s+1.00\s+0.96", out), out
    assert re.search(r"32x4 bands, 32-bit, >= 0.8 \(before\)\s+1.00\s+0.61", out), out
