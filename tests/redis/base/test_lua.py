"""The Lua scripts (crawler/base/lua) on a real redis-server: each loads, its locals bind its keys."""

from __future__ import annotations

import hashlib
import re

import pytest

from crawler.base import lua
from crawler.base.keys import Keys
from crawler.frontier.core import Frontier


@pytest.mark.parametrize("name", lua.names())
def test_every_script_loads_on_redis(r, name):
    script = lua.load(name)
    assert r.script_load(script.source) == hashlib.sha1(script.source.encode()).hexdigest()
    # Every K_<NAME> the Lua uses is one of the locals the loader declares.
    declared = {f"K_{word.upper()}" for word in script.keys + ((script.rest,) if script.rest else ())}
    body = script.source.split("\n", 2)[2] if script.flags else script.source.split("\n", 1)[1]
    assert set(re.findall(r"\bK_[A-Z_]+\b", body)) <= declared


@pytest.mark.parametrize("name", ["PUSH", "STORE", "HEARTBEAT"])
def test_each_local_is_the_key_of_its_name(r, name):
    """The generated locals bind K_<NAME> to the KEYS entry of the header's position."""
    script = lua.load(name)
    keys = Keys("news")
    rest = [keys.dedupe_day("2024-05-06"), keys.dedupe_day("2024-05-05")] if script.rest else []
    names = [f"K_{word.upper()}" for word in script.keys]
    tail = f", unpack(K_{script.rest.upper()})" if script.rest else ""
    lines = script.source.split("\n")
    shebang = lines.pop(0) + "\n" if lines[0].startswith("#!") else ""
    probe = shebang + lines[0] + f"\nreturn {{{', '.join(names)}{tail}}}"
    expected = script.key_names(keys, rest)
    assert r.eval(probe, len(expected), *expected) == expected


def test_bound_script_passes_the_header_keys(r):
    keys = Keys("news")
    store = lua.register(r, "STORE", keys)
    assert store.keys == [keys.articles, keys.stats]
    with pytest.raises(ValueError, match="Lua script HEARTBEAT takes no keys beyond workers"):
        lua.register(r, "HEARTBEAT", keys)(["w1"], rest=["extra"])


def test_heartbeat_scores_the_worker_with_redis_time(r):
    frontier = Frontier(r, Keys("news"))
    frontier.heartbeat("w1")
    with r.pipeline(transaction=False) as pipe:
        frontier.heartbeat("w2", pipe=pipe)
        frontier.heartbeat("w1", pipe=pipe)
        assert pipe.execute() == [1, 0]
    secs, micros = r.time()
    now = secs + micros / 1e6
    scores = dict(r.zrange(Keys("news").workers, 0, -1, withscores=True))
    assert sorted(scores) == ["w1", "w2"]
    assert all(now - 1 < score <= now for score in scores.values())
