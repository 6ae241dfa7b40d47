"""The Lua scripts' convention (crawler/base/lua): one file each, a fixed header, keys by name."""

from __future__ import annotations

import inspect
import re
from importlib import resources

import pytest

from crawler.base import lua
from crawler.base.keys import Keys

SCRIPTS = ["ACK", "BACKLOG", "COOL", "DELIVERED", "DROP", "HEARTBEAT", "HUBS_DUE", "HUB_REMOVE", "HUB_SET", "LEASE",
           "PAUSE", "PRUNE", "PUSH", "REAP", "RELEASE", "RENEW", "REQUEUE", "RETRY", "STORE"]
# Scripts that run when Redis is at maxmemory (noeviction): none of them grows memory.
ALLOW_OOM = ["ACK", "HEARTBEAT", "PAUSE", "RELEASE", "RENEW"]
FRONTIER = ["ACK", "COOL", "DROP", "HUBS_DUE", "LEASE", "PRUNE", "PUSH", "REAP", "RELEASE", "RENEW", "REQUEUE", "RETRY"]


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


def test_one_file_per_script_and_the_preludes():
    assert sorted(_files()) == sorted([f"{name.lower()}.lua" for name in SCRIPTS] + ["_frontier.lua", "_hubs.lua"])
    assert lua.names() == SCRIPTS
    assert [name for name in SCRIPTS if lua.load(name).prelude == "frontier"] == FRONTIER
    assert [name for name in SCRIPTS if lua.load(name).prelude == "hubs"] == ["HUB_REMOVE", "HUB_SET"]


@pytest.mark.parametrize("filename", sorted(_files()))
def test_every_file_has_the_header(filename):
    header = _header(_files()[filename])
    name = filename[:-4].lstrip("_").upper()
    assert re.fullmatch(rf"-- {name}: \S.*", header[0])
    fields = [m[1] for line in header[1:] if (m := re.match(r"-- ([A-Z]+): \S", line))]
    assert fields in (["KEYS", "ARGV"], ["PRELUDE", "ARGV"], ["KEYS", "ARGV", "FLAGS"],
                      ["PRELUDE", "ARGV", "FLAGS"])
    assert all(re.match(r"-- [A-Z]+: \S|--   \S", line) for line in header[1:])
    # No script body numbers its keys: they are the K_<NAME> locals of the header.
    assert "KEYS[" not in _files()[filename]


@pytest.mark.parametrize("name", SCRIPTS)
def test_keys_are_the_header_names_in_order(name):
    script = lua.load(name)
    filename = f"_{script.prelude}.lua" if script.prelude else f"{name.lower()}.lua"
    words = _field(_header(_files()[filename]), "KEYS")
    assert script.keys == tuple(word for word in words if not word.endswith("..."))
    assert script.rest == ("dedupe_day" if name == "STORE" else None)
    keys = Keys("news")
    assert script.key_names(keys) == [getattr(keys, word) for word in script.keys]
    for word in script.keys:
        assert isinstance(inspect.getattr_static(Keys, word), property), word
    if script.rest is not None:
        assert inspect.isfunction(getattr(Keys, script.rest))
        band = keys.dedupe_day("2024-05-06")
        assert script.key_names(keys, [band]) == [*(getattr(keys, word) for word in script.keys), band]
    else:
        with pytest.raises(ValueError, match=f"Lua script {name} takes no keys beyond"):
            script.key_names(keys, ["extra"])


def test_frontier_scripts_share_the_prelude_keys_and_argv():
    assert lua.load("PUSH").keys == (
        "ready", "inflight", "lease_owner", "attempts", "host_backlog", "queued", "host_next",
        "host_delay", "deadletter", "stats", "seen", "seen_bloom", "seen_count", "budget",
        "leased_total", "hubs_due", "hubs_queued", "hub_requests",
    )
    for name in FRONTIER:
        script = lua.load(name)
        assert script.keys == lua.load("PUSH").keys
        assert script.argv.split()[:2] == ["prefix", "delay"]
        assert "-- FRONTIER: " in script.source and f"-- {name}: " in script.source


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
    with pytest.raises(ValueError, match=re.escape("bad.lua: ") + ".*" + re.escape(error)):
        lua._parse("bad")


@pytest.mark.parametrize("name", SCRIPTS)
def test_flags_are_the_first_line_of_the_source(name):
    script = lua.load(name)
    assert script.flags == (("allow-oom",) if name in ALLOW_OOM else ())
    first = script.source.split("\n", 1)[0]
    if script.flags:
        assert first == "#!lua flags=allow-oom"
    else:
        assert not first.startswith("#!")
