"""``crawler seed`` on hostile input: every line gets its own verdict, nothing crashes the run,
nothing reaches the terminal unescaped, and no seed meta lifts a limit or names a proxy."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

GOOD = [b"https://ok.example/1", b'{"url": "https://ok.example/2", "meta": {"source": "wire"}, "priority": 3}',
        b"https://ok.example/3"]
HOSTILE = [
    b'{"url": "https://ok.example/p", "priority": ' + b"9" * 5000 + b"}",
    b'{"url": "https://ok.example/n", "meta": {"source": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
    b'{"url": "https://ok.example/n", "meta": {"source": ' + b"[" * 1500 + b"]" * 1500 + b"}}",
    b"https://ok.example/\xff\xfe",
    b"https://ok.example/\x1b[2J\x1b]0;owned\x07",
    b'{"url": "https://ok.example/x\\u001b[31m", "meta": {"\\u001b[2Jkey": 1}}',
    b'{"url": "https://ok.example/proxy", "meta": {"proxy": "http://127.0.0.1:9"}}',
    b'{"url": "https://ok.example/size", "meta": {"download_maxsize": 0}}',
    b'{"url": "https://ok.example/depth", "meta": {"depth": -1000000}}',
    b"file://ok.example/etc/passwd",
]
EXPECTED = [
    # Long lines are echoed up to 200 characters.
    "line 2: line longer than 4096 bytes: " + HOSTILE[0][:200].decode(),
    "line 3: line longer than 4096 bytes: " + HOSTILE[1][:200].decode(),
    "line 4: JSON nested deeper than 8 levels: " + HOSTILE[2][:200].decode(),
    "line 5: not valid UTF-8 (byte 0xff at byte 20): https://ok.example/\\xff\\xfe",
    "line 6: url contains whitespace or control characters: https://ok.example/\\x1b[2J\\x1b]0;owned\\x07",
    "line 7: meta keys not allowed: \\x1b[2Jkey (a seed may set only source, tags): "
    '{"url": "https://ok.example/x\\u001b[31m", "meta": {"\\u001b[2Jkey": 1}}',
    "line 8: meta keys not allowed: proxy (a seed may set only source, tags): "
    '{"url": "https://ok.example/proxy", "meta": {"proxy": "http://127.0.0.1:9"}}',
    "line 9: meta keys not allowed: download_maxsize (a seed may set only source, tags): "
    '{"url": "https://ok.example/size", "meta": {"download_maxsize": 0}}',
    "line 10: meta keys not allowed: depth (a seed may set only source, tags): "
    '{"url": "https://ok.example/depth", "meta": {"depth": -1000000}}',
    "line 11: scheme must be http or https: file://ok.example/etc/passwd",
]


def seed(redis_url: str, *args: str | bytes, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler", "--redis-url", redis_url, "seed", *args],
                          input=stdin, capture_output=True, timeout=120)


def queued_urls(r) -> list[str]:
    return sorted(json.loads(item)["url"] for item in r.zrange("crawler:{news}:queue:ok.example", 0, -1))


@pytest.mark.parametrize("source", ["stdin", "file"])
def test_every_line_gets_its_own_verdict(redis_url, r, tmp_path, source):
    data = b"\n".join([GOOD[0], *HOSTILE, GOOD[1], GOOD[2]]) + b"\n"
    if source == "stdin":
        result = seed(redis_url, "-f", "-", stdin=data)
    else:
        (tmp_path / "seeds.txt").write_bytes(data)
        result = seed(redis_url, "-f", str(tmp_path / "seeds.txt"))
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr
    assert result.returncode == 1, stderr
    assert json.loads(result.stdout) == {"accepted": 3, "duplicates": 0, "rejected": len(HOSTILE)}
    assert stderr.splitlines() == EXPECTED
    assert "\x1b" not in stderr and "\x07" not in stderr
    assert queued_urls(r) == ["https://ok.example/1", "https://ok.example/2", "https://ok.example/3"]
    second = json.loads(r.zrange("crawler:{news}:queue:ok.example", 0, 0)[0])
    assert (second["url"], second["meta"], second["priority"]) == ("https://ok.example/2", {"source": "wire"}, 3)


def test_arguments_that_are_not_utf8_are_rejected_alone(redis_url, r):
    result = seed(redis_url, os.fsdecode(b"https://ok.example/\xff"), "https://ok.example/1")
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == ["line 1: not valid UTF-8 (byte 0xff at byte 20): "
                                                   "https://ok.example/\\xff"]
    assert queued_urls(r) == ["https://ok.example/1"]


def test_internationalised_hosts_are_queued_under_the_host_scrapy_fetches(redis_url, r):
    result = seed(redis_url, "-f", "-", stdin="http://bücher.example/\nhttp://exa\u200bmple.com/a\n"
                                              "http://example.com/b\nhttp://exa\u200bmple.com/b\n".encode())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"accepted": 3, "duplicates": 1, "rejected": 0}
    assert r.smembers("crawler:{news}:hosts") == {"xn--bcher-kva.example", "example.com"}
    assert [json.loads(item)["url"] for item in r.zrange("crawler:{news}:queue:xn--bcher-kva.example", 0, -1)] == [
        "http://xn--bcher-kva.example/"]
    assert sorted(json.loads(item)["url"] for item in r.zrange("crawler:{news}:queue:example.com", 0, -1)) == [
        "http://example.com/a", "http://example.com/b"]


def test_crawl_echoes_a_bad_url_escaped(redis_url):
    result = subprocess.run([sys.executable, "-m", "crawler", "--redis-url", redis_url, "crawl",
                             "https://ok.example/\x1b[2J\x1b]0;owned\x07"], capture_output=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        "crawler crawl: error: https://ok.example/\\x1b[2J\\x1b]0;owned\\x07: "
        "url contains whitespace or control characters"]
