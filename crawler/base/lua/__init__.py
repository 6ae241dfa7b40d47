"""The service's Lua scripts, one ``<name>.lua`` file each in this package, and their loader.

Every file starts with a header of ``--`` lines, then a blank line, then Lua::

    -- PUSH: the contract: what the script does, what it returns
    --   (a field goes on over lines indented by three spaces or more)
    -- PRELUDE: frontier
    -- KEYS: ready inflight ...
    -- ARGV: prefix delay check mode chunk_bits [token payload score host]...

- The first line names the script: its file name upper-cased (``push.lua``),
  without the leading ``_`` of a prelude (``_frontier.lua``: ``FRONTIER``).
- ``KEYS`` names, in order, the :class:`~crawler.base.keys.Keys` properties
  the script gets as KEYS. A last name ending in ``...`` names a Keys method
  (``dedupe_day...``): the caller passes any number of its keys after the
  others (``rest``). That line is the only place the order is written: the
  loader puts one local per name before the Lua, ``K_<NAME>`` (``local
  K_READY, K_INFLIGHT = KEYS[1], KEYS[2]``; a table of the remaining keys for
  ``name...``), so the Lua uses names, never ``KEYS[n]``; and
  :meth:`LuaScript.key_names` builds the KEYS list from a Keys object by
  the same names.
- ``PRELUDE: <name>``, instead of ``KEYS``: the script runs as ``_<name>.lua``
  followed by its own Lua, and gets the prelude's KEYS; its ARGV begins with
  the prelude's.
- ``ARGV``: the layout of the arguments (``name...`` any number of them,
  ``[a b]...`` a group repeated), then what they mean. Read by people only.
- ``FLAGS``, optional, last: Redis 7 script flags, sent as the script's first
  line (``#!lua flags=allow-oom``). ``allow-oom`` lets a script run when Redis
  is at ``maxmemory`` with ``noeviction``: only for scripts that do not grow
  memory (RENEW, HEARTBEAT, ACK, RELEASE, PAUSE), so that a full Redis stops
  the crawl without costing a request an attempt (README, "Backpressure").

Every key a script touches is passed in KEYS and all are under one crawl's
hash tag, so the scripts run on Redis Cluster too. Files are read with
:mod:`importlib.resources`, so they load from an installed wheel as well.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from crawler.base.keys import Keys

if TYPE_CHECKING:
    import redis

__all__ = ["BoundScript", "LuaScript", "load", "names", "register"]

_FIELD_RE = re.compile(r"-- ([A-Z][A-Z_]*): (\S.*)")
_MORE_RE = re.compile(r"--   +(\S.*)")
_NAME_RE = re.compile(r"[a-z][a-z0-9_]*")
# The Redis 7 script flags a header may name.
_FLAGS = ("allow-oom", "no-writes", "allow-stale")


@dataclass(frozen=True)
class LuaScript:
    """One script as read from its file.

    ``keys`` are the names of the Keys properties passed as KEYS, in order;
    ``rest`` the name of the Keys method whose keys the caller passes after
    them (any number), or None; ``argv`` the ARGV layout line; ``prelude`` the
    name of the prelude the script begins with, or None; ``flags`` its Redis
    script flags. ``source`` is the Lua sent to Redis: the flags' shebang line
    (when it has flags), the ``K_<NAME>`` locals, the prelude, the script's file.
    """

    name: str
    contract: str
    keys: tuple[str, ...]
    rest: str | None
    argv: str
    prelude: str | None
    source: str
    flags: tuple[str, ...] = ()

    def key_names(self, keys: Keys, rest: Iterable[str] = ()) -> list[str]:
        """The KEYS of one call for the crawl of ``keys``: the header's properties of
        ``keys`` in header order, then ``rest``.

        Raises ValueError for ``rest`` keys given to a script whose header has no
        ``name...``.
        """
        rest = list(rest)
        if rest and self.rest is None:
            raise ValueError(f"Lua script {self.name} takes no keys beyond {' '.join(self.keys)}")
        return [*(getattr(keys, name) for name in self.keys), *rest]


@dataclass(frozen=True)
class _Header:
    name: str
    contract: str
    prelude: str | None
    keys: tuple[str, ...]
    rest: str | None
    argv: str
    text: str
    flags: tuple[str, ...] = ()


def _read(stem: str) -> str:
    try:
        return resources.files(__name__).joinpath(f"{stem}.lua").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyError(f"no Lua script {stem}.lua in {__name__}") from None


def _parse(stem: str) -> _Header:
    """The header of ``<stem>.lua``; ValueError naming the file when it breaks the convention."""
    text = _read(stem)
    fields: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        if not line.startswith("--"):
            if line.strip():
                raise ValueError(f"{stem}.lua: the header must end with a blank line, not {line!r}")
            break
        if field := _FIELD_RE.fullmatch(line):
            fields.append((field[1], [field[2]]))
        elif (more := _MORE_RE.fullmatch(line)) and fields:
            fields[-1][1].append(more[1])
        else:
            raise ValueError(f"{stem}.lua: not a header line: {line!r}")
    order = [field for field, _ in fields]
    name = stem.lstrip("_").upper()
    if not fields or order[0] != name:
        raise ValueError(f"{stem}.lua: the header must begin with '-- {name}: <contract>'")
    if order[1:] not in (["KEYS", "ARGV"], ["PRELUDE", "ARGV"], ["KEYS", "ARGV", "FLAGS"],
                         ["PRELUDE", "ARGV", "FLAGS"]):
        raise ValueError(f"{stem}.lua: after the contract the header needs KEYS or PRELUDE, "
                         f"then ARGV, then optionally FLAGS (in that order), "
                         f"not {' '.join(order[1:]) or 'nothing'}")
    values = dict(fields)
    prelude, keys, rest = None, (), None
    if "PRELUDE" in values:
        prelude = " ".join(values["PRELUDE"])
        if not _NAME_RE.fullmatch(prelude):
            raise ValueError(f"{stem}.lua: PRELUDE names a prelude file: {prelude!r}")
    else:
        keys, rest = _key_names(stem, " ".join(values["KEYS"]).split())
    flags = tuple(" ".join(values.get("FLAGS", [])).split())
    for flag in flags:
        if flag not in _FLAGS:
            raise ValueError(f"{stem}.lua: FLAGS names {flag!r}, not one of {', '.join(_FLAGS)}")
    return _Header(name=name, contract=" ".join(values[name]), prelude=prelude, keys=keys,
                   rest=rest, argv=values["ARGV"][0], text=text, flags=flags)


def _key_names(stem: str, words: list[str]) -> tuple[tuple[str, ...], str | None]:
    rest = words.pop()[:-3] if words and words[-1].endswith("...") else None
    for word in words:
        if not (_NAME_RE.fullmatch(word) and isinstance(inspect.getattr_static(Keys, word, None), property)):
            raise ValueError(f"{stem}.lua: KEYS names {word!r}, no property of crawler.base.keys.Keys")
    if rest is not None and not (_NAME_RE.fullmatch(rest) and inspect.isfunction(getattr(Keys, rest, None))):
        raise ValueError(f"{stem}.lua: KEYS ends with {rest!r}..., no method of crawler.base.keys.Keys")
    if len(set(words)) != len(words):
        raise ValueError(f"{stem}.lua: KEYS names a key twice")
    return tuple(words), rest


def _locals(keys: Sequence[str], rest: str | None) -> str:
    """One line of Lua: ``K_<NAME>`` = its KEYS entry, by header order."""
    parts = []
    if keys:
        parts.append(f"local {', '.join(f'K_{key.upper()}' for key in keys)} = "
                     f"{', '.join(f'KEYS[{n}]' for n in range(1, len(keys) + 1))}")
    if rest is not None:
        table = f"K_{rest.upper()}"
        parts.append(f"local {table} = {{}} for i = {len(keys) + 1}, #KEYS do "
                     f"{table}[#{table} + 1] = KEYS[i] end")
    return " ".join(parts) + "\n"


@functools.cache
def load(name: str) -> LuaScript:
    """The script ``name`` (``"PUSH"``, from ``push.lua``), with its prelude.

    Raises KeyError for an unknown script and ValueError for a file (or its
    prelude) whose header breaks the convention of this module.
    """
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
        raise KeyError(f"no Lua script {name!r}: script names are upper case, like 'PUSH'")
    header = _parse(name.lower())
    keys, rest, prelude_text = header.keys, header.rest, ""
    if header.prelude is not None:
        prelude = _parse(f"_{header.prelude}")
        if prelude.prelude is not None:
            raise ValueError(f"_{header.prelude}.lua: a prelude cannot have a prelude")
        if prelude.flags:
            raise ValueError(f"_{header.prelude}.lua: a prelude has no FLAGS (its scripts do)")
        if header.argv.split()[:len(prelude.argv.split())] != prelude.argv.split():
            raise ValueError(f"{name.lower()}.lua: ARGV must begin with the prelude's: {prelude.argv}")
        keys, rest, prelude_text = prelude.keys, prelude.rest, prelude.text + "\n"
    shebang = f"#!lua flags={','.join(header.flags)}\n" if header.flags else ""
    return LuaScript(name=name, contract=header.contract, keys=keys, rest=rest, argv=header.argv,
                     prelude=header.prelude, flags=header.flags,
                     source=shebang + _locals(keys, rest) + prelude_text + header.text)


def names() -> list[str]:
    """The names of every script of this package, sorted (preludes are none)."""
    return sorted(entry.name[:-4].upper() for entry in resources.files(__name__).iterdir()
                  if entry.name.endswith(".lua") and not entry.name.startswith("_"))


class BoundScript:
    """A script registered on one client (redis-py's ``register_script``), bound to one crawl's keys.

    Calling it runs the script with KEYS built from the header (see
    :meth:`LuaScript.key_names`) and ``args`` as ARGV, by EVALSHA, loading it
    first when Redis does not have it; on ``client`` when given (a pipeline,
    or :func:`crawler.base.connection.pipeline`'s stand-in on a cluster), else
    on the client it was registered on. Returns the script's reply (a pipeline
    collects it instead). Raises :class:`redis.RedisError` as the call does.
    """

    def __init__(self, client: redis.Redis, name: str, keys: Keys) -> None:
        self.script = load(name)
        self.keys = self.script.key_names(keys)
        self._registered = client.register_script(self.script.source)

    def __call__(self, args: Sequence[Any] = (), *, rest: Sequence[str] = (), client: Any = None) -> Any:
        if rest and self.script.rest is None:
            raise ValueError(f"Lua script {self.script.name} takes no keys beyond {' '.join(self.script.keys)}")
        return self._registered(keys=[*self.keys, *rest], args=list(args), client=client)


def register(client: redis.Redis, name: str, keys: Keys) -> BoundScript:
    """Script ``name`` (see :func:`load`) registered on ``client`` with the KEYS of the crawl of ``keys``."""
    return BoundScript(client, name, keys)
