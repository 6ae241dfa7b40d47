"""The Lua scripts' convention (crawler/base/lua): one file each, a fixed header, keys by name."""

from __future__ import annotations

import hashlib
import inspect
import re
from importlib import resources

import pytest

from crawler.base import lua
from crawler.base.keys import Keys
from crawler.frontier.core import Frontier

SCRIPTS = ["ACK", "COOL", "DROP", "HEARTBEAT", "LEASE", "PRUNE", "PUSH", "REAP", "RELEASE", "RENEW", "REQUEUE",
           "RETRY", "STORE"]
FRONTIER = ["ACK", "COOL", "DROP", "LEASE", "PRUNE", "PUSH", "REAP", "RELEASE", "RENEW", "REQUEUE", "RETRY"]


def _files() -> dict[str, str]:
    return {entry.name: entry.read_text(encoding="utf-8")
            for entry in resources.files("crawler.base.lua").iterdir() if entry.name.endswith(".lua")}


def _header(text: str) -> list[str]:
    lines = text.split("\n")
    end = next(i for i, line in enumerate(lines) if not line.startswith("--"))
    assert lines[end] == "", "the header ends with a blank line"
    return lines[:end]


def _field(header: list[str], name: str) -> list[str]:
    """The words of field ``name``, continuation lines included."""
    start = next(i for i, line in enumerate(header) if line.startswith(f"-- {name}: "))
    words = header[start][len(f"-- {name}: "):].split()
    for line in header[start + 1:]:
        if not line.startswith("--   "):
            break
        words += line[2:].split()
    return words


def test_one_file_per_script_and_the_frontier_prelude():
    assert sorted(_files()) == sorted([f"{name.lower()}.lua" for name in SCRIPTS] + ["_frontier.lua"])
    assert lua.names() == SCRIPTS
    assert [name for name in SCRIPTS if lua.load(name).prelude == "frontier"] == FRONTIER


@pytest.mark.parametrize("filename", sorted(_files()))
def test_every_file_has_the_header(filename):
    header = _header(_files()[filename])
    name = filename[:-4].lstrip("_").upper()
    assert re.fullmatch(rf"-- {name}: \S.*", header[0])
    fields = [m[1] for line in header[1:] if (m := re.match(r"-- ([A-Z]+): \S", line))]
    assert fields in (["KEYS", "ARGV"], ["PRELUDE", "ARGV"])
    assert all(re.match(r"-- [A-Z]+: \S|--   \S", line) for line in header[1:])
    # No script body numbers its keys: they are the K_<NAME> locals of the header.
    assert "KEYS[" not in _files()[filename]


@pytest.mark.parametrize("name", SCRIPTS)
def test_keys_are_the_header_names_in_order(name):
    script = lua.load(name)
    filename = "_frontier.lua" if script.prelude == "frontier" else f"{name.lower()}.lua"
    words = _field(_header(_files()[filename]), "KEYS")
    assert script.keys == tuple(word for word in words if not word.endswith("..."))
    assert script.rest == ("minhash_band" if name == "STORE" else None)
    keys = Keys("news")
    assert script.key_names(keys) == [getattr(keys, word) for word in script.keys]
    for word in script.keys:
        assert isinstance(inspect.getattr_static(Keys, word), property), word
    if script.rest is not None:
        assert inspect.isfunction(getattr(Keys, script.rest))
        band = keys.minhash_band(0, "ab")
        assert script.key_names(keys, [band]) == [*(getattr(keys, word) for word in script.keys), band]
    else:
        with pytest.raises(ValueError, match=f"Lua script {name} takes no keys beyond"):
            script.key_names(keys, ["extra"])


def test_frontier_scripts_share_the_prelude_keys_and_argv():
    assert lua.load("PUSH").keys == (
        "ready", "inflight", "lease_owner", "attempts", "host_backlog", "queued", "host_next",
        "host_delay", "deadletter", "stats", "seen", "seen_bloom", "seen_count", "budget",
        "leased_total",
    )
    for name in FRONTIER:
        script = lua.load(name)
        assert script.keys == lua.load("PUSH").keys
        assert script.argv.split()[:2] == ["prefix", "delay"]
        assert "-- FRONTIER: " in script.source and f"-- {name}: " in script.source


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_loads_on_redis(r, name):
    script = lua.load(name)
    assert r.script_load(script.source) == hashlib.sha1(script.source.encode()).hexdigest()
    # Every K_<NAME> the Lua uses is one of the locals the loader declares.
    declared = {f"K_{word.upper()}" for word in script.keys + ((script.rest,) if script.rest else ())}
    body = script.source.split("\n", 1)[1]
    assert set(re.findall(r"\bK_[A-Z_]+\b", body)) <= declared


@pytest.mark.parametrize("name", ["PUSH", "STORE", "HEARTBEAT"])
def test_each_local_is_the_key_of_its_name(r, name):
    """The generated locals bind K_<NAME> to the KEYS entry of the header's position."""
    script = lua.load(name)
    keys = Keys("news")
    rest = [keys.minhash_band(0, "aa"), keys.minhash_band(1, "bb")] if script.rest else []
    names = [f"K_{word.upper()}" for word in script.keys]
    tail = f", unpack(K_{script.rest.upper()})" if script.rest else ""
    probe = script.source.split("\n", 1)[0] + f"\nreturn {{{', '.join(names)}{tail}}}"
    expected = script.key_names(keys, rest)
    assert r.eval(probe, len(expected), *expected) == expected


def test_load_rejects_unknown_names():
    with pytest.raises(KeyError, match="no Lua script 'push'"):
        lua.load("push")
    with pytest.raises(KeyError, match="no Lua script nope.lua"):
        lua.load("NOPE")


@pytest.mark.parametrize(("text", "error"), [
    ("-- OTHER: x\n-- KEYS: ready\n-- ARGV: a\n\nreturn 1\n", "must begin with '-- BAD: <contract>'"),
    ("-- BAD: x\n-- ARGV: a\n-- KEYS: ready\n\nreturn 1\n", "needs KEYS or PRELUDE, then ARGV"),
    ("-- BAD: x\n-- KEYS: ready\n\nreturn 1\n", "needs KEYS or PRELUDE, then ARGV"),
    ("-- BAD: x\n-- KEYS: ready nowhere\n-- ARGV: a\n\nreturn 1\n", "'nowhere', no property"),
    ("-- BAD: x\n-- KEYS: host_queue\n-- ARGV: a\n\nreturn 1\n", "'host_queue', no property"),
    ("-- BAD: x\n-- KEYS: ready ready\n-- ARGV: a\n\nreturn 1\n", "names a key twice"),
    ("-- BAD: x\n-- KEYS: ready workers...\n-- ARGV: a\n\nreturn 1\n", "'workers'..., no method"),
    ("-- BAD: x\n-- KEYS: ready\n-- ARGV: a\nreturn 1\n", "must end with a blank line"),
    ("-- BAD: x\n-- KEYS: ready\n-- a note\n-- ARGV: a\n\nreturn 1\n", "not a header line"),
])
def test_headers_breaking_the_convention_are_refused(monkeypatch, text, error):
    monkeypatch.setattr(lua, "_read", lambda stem: text)
    with pytest.raises(ValueError, match=re.escape(f"bad.lua: ") + ".*" + re.escape(error)):
        lua._parse("bad")


def test_bound_script_passes_the_header_keys(r):
    keys = Keys("news")
    store = lua.register(r, "STORE", keys)
    assert store.keys == [keys.dedupe_url, keys.dedupe_content, keys.articles, keys.stats,
                          keys.minhash_signatures]
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
