"""Properties of the seed-line parser, over generated lines (hypothesis).

Whatever a line holds (text, bytes, JSON of any shape, depth or size), parsing it
returns a seed, None, or raises :class:`SeedError`, and nothing else, within a
bounded time; a seed it returns is one the service can queue as is.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scrapy import Request

from crawler.base.urls import is_http_url, url_host
from crawler.frontier.codec import seed_payload
from crawler.frontier.seeding import (
    MAX_PRIORITY,
    MAX_URL_LENGTH,
    MIN_PRIORITY,
    SEED_META_KEYS,
    Seed,
    SeedError,
    parse_seed_line,
    printable,
)
from tests.unit.test_url_properties import urls

BOUNDED = settings(max_examples=int(os.environ.get("PROPERTY_EXAMPLES", 400)),
                   deadline=timedelta(milliseconds=500), suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=30,
)
metas = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from([*SEED_META_KEYS, "proxy", "depth", "download_maxsize", "x"]),
                    json_values, max_size=3),
    st.fixed_dictionaries({}, optional={"source": st.text(max_size=210),
                                        "tags": st.lists(st.text(max_size=110), max_size=22)}),
)
priorities = st.one_of(st.integers(), st.integers(MIN_PRIORITY - 2, MAX_PRIORITY + 2), json_values)


@st.composite
def json_lines(draw: st.DrawFn) -> str:
    fields = draw(st.fixed_dictionaries({}, optional={
        "url": st.one_of(urls(), json_values), "meta": metas, "priority": priorities,
        "extra": json_values}))
    try:
        text = json.dumps(fields, ensure_ascii=draw(st.booleans()))
    except ValueError:  # a float JSON cannot write
        text = "{}"
    if draw(st.booleans()):  # cut it anywhere, or nest it
        text = text[: draw(st.integers(0, len(text)))]
    depth = draw(st.sampled_from([0, 0, 0, 7, 8, 600, 1100, 3000]))
    return "[" * depth + text + "]" * depth if depth else text


lines = st.one_of(json_lines(), urls(), st.text(max_size=300),
                  st.binary(max_size=300), urls().map(lambda url: url.encode() + b"\xff"),
                  st.builds(lambda n: '{"url": "http://a.example/", "priority": ' + "9" * n + "}",
                            st.integers(4000, 6000)))


def _check(seed: Seed) -> None:
    assert is_http_url(seed.url) and len(seed.url) <= MAX_URL_LENGTH
    assert Request(seed.url).url == seed.url  # the form Scrapy fetches
    host = url_host(seed.url)
    assert host and host.isascii()
    assert parse_seed_line(seed.url) == Seed(seed.url)  # idempotent
    assert set(seed.meta) <= set(SEED_META_KEYS)
    assert MIN_PRIORITY <= seed.priority <= MAX_PRIORITY and type(seed.priority) is int
    json.loads(seed_payload(seed.url, meta=seed.meta, priority=seed.priority))


@BOUNDED
@given(lines)
@example('{"url": "http://a.example/", "meta": {"source": ' + "[" * 2000 + "]" * 2000 + "}}")
@example('{"url": "http://a.example/", "priority": ' + "9" * 5000 + "}")
@example(b"http://a.example/\xff")
@example("http://a.example/\udcff")
@example('{"url": "http://a.example/", "priority": 1e400}')
@example('{"url": "http://a.example/", "meta": {"source": NaN}}')
@example("http://0?0")  # Scrapy fetches http://0/?0
@example("HTTP://.")  # no host once the trailing dot goes
def test_any_line_is_a_seed_none_or_a_seed_error(line):
    try:
        seed = parse_seed_line(line)
    except SeedError as exc:
        message = str(exc)
        assert message and "\n" not in message
        assert printable(message).isprintable()
        return
    if seed is not None:
        _check(seed)


@BOUNDED
@given(st.text(max_size=300) | st.binary(max_size=300))
def test_printable_is_printable(value):
    shown = printable(value, 200)
    assert shown.isprintable() and len(shown) <= 200 * 10
