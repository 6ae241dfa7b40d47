"""Counter names are written once (crawler.base.counters) and mean the same everywhere."""

from __future__ import annotations

import ast
import re

import pytest

from crawler.base import counters
from crawler.base.counters import (
    ERROR_FIELDS,
    LUA_FIELDS,
    OTHER_FIELDS,
    PIPELINE_OUTCOMES,
    REFUSAL_FIELDS,
    STAT_FIELDS,
    STORE_OUTCOMES,
    Field,
    Outcome,
    Stat,
)
from crawler.cli import crawl, status, top
from tests.support.paths import ROOT

PACKAGE = ROOT / "crawler"
COUNTERS = PACKAGE / "base" / "counters.py"

# Literals equal to a counter name that are something else: output keys and labels of
# the CLI (part of its interface, spelled alike by chance) and an attribute name.
ALLOWED = {
    ("crawler/cli/status.py", "pages"),  # --json key
    ("crawler/cli/status.py", "articles_stored"),  # --json key, from the articles stream
    ("crawler/cli/status.py", "dead_letters"),  # --json key, from the dead-letter list
    ("crawler/cli/crawl.py", "pages"),  # key of the summary
    ("crawler/cli/top.py", "pages"),  # row label
    ("crawler/metrics/collector.py", "dead_letters"),  # FrontierCounts attribute
    ("crawler/discovery/pages.py", "pages"),  # a path word before a page number (/pages/2)
}


def _values(namespace: type) -> set[str]:
    return {value for name, value in vars(namespace).items() if not name.startswith("_")}


STATS, FIELDS, OUTCOMES = _values(Stat), _values(Field), _values(Outcome)
PREFIXES = {stat for stat in STATS if stat.endswith("/")}


def test_groups_are_fields_and_cover_the_heartbeat_without_overlap():
    assert set(STAT_FIELDS) <= FIELDS
    assert set(ERROR_FIELDS) | set(REFUSAL_FIELDS) | set(OTHER_FIELDS) <= FIELDS
    grouped = [*ERROR_FIELDS, *REFUSAL_FIELDS, *OTHER_FIELDS]
    assert len(grouped) == len(set(grouped)) == 11
    # Every heartbeat counter is shown in one group of crawler status, pages apart.
    assert set(STAT_FIELDS) - set(grouped) == {Field.PAGES}
    assert ERROR_FIELDS == ("download_errors", "http_errors", "spider_errors")
    assert REFUSAL_FIELDS == ("refused_private", "refused_robots", "offsite_dropped", "refused_scheme")
    assert LUA_FIELDS <= FIELDS and not LUA_FIELDS & set(STAT_FIELDS)
    assert all(prefix in STATS or prefix.startswith(tuple(PREFIXES))
               for prefixes in STAT_FIELDS.values() for prefix in prefixes)


def test_outcomes_of_the_store_and_of_the_pipelines():
    assert STORE_OUTCOMES == ("stored", "duplicate_url", "duplicate_content", "near_duplicate")
    assert PIPELINE_OUTCOMES == (*STORE_OUTCOMES, "invalid")
    assert set(PIPELINE_OUTCOMES) == OUTCOMES
    assert [counters.outcome_stat(outcome) for outcome in STORE_OUTCOMES] == [
        "articles/stored", "dedupe/duplicate_url", "dedupe/duplicate_content",
        "dedupe/near_duplicate"]
    assert counters.invalid_stat("too_short") == "articles/invalid/too_short"
    assert counters.failed_stat("HttpError") == "pages/failed/HttpError"
    assert counters.log_count_stat("warning") == "log_count/WARNING"
    with pytest.raises(ValueError, match="'invalid'"):
        counters.outcome_stat("invalid")
    with pytest.raises(ValueError, match="'too_long'"):
        counters.invalid_stat("too_long")


def test_every_user_of_errors_imports_the_one_definition():
    assert status.ERROR_FIELDS is top.ERROR_FIELDS is crawl.ERROR_FIELDS is counters.ERROR_FIELDS


_LUA_HINCRBY = re.compile(r"""HINCRBY['"]\s*,\s*[\w\[\]]+\s*,\s*['"]([^'"]+)['"]""")


def test_the_lua_scripts_write_exactly_the_declared_lua_fields():
    # The Lua is in Python strings (crawler/frontier/scripts.py, crawler/store/dedupe.py)
    # or in .lua files (crawler/base/lua/): search both.
    sources = [path for path in PACKAGE.rglob("*") if path.suffix in (".py", ".lua")]
    written: dict[str, set[str]] = {}
    for path in sources:
        for field in _LUA_HINCRBY.findall(path.read_text(encoding="utf-8")):
            written.setdefault(field, set()).add(str(path.relative_to(ROOT)))
    assert set(written) == LUA_FIELDS, written
    scripts = set().union(*written.values())
    assert len(scripts) >= 2, scripts  # the frontier's and the store's


def _literals(tree: ast.AST):
    """(line, text) of every str constant, the text parts of f-strings included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def _is_counter_name(text: str) -> bool:
    return text in STATS or text in FIELDS or text in OUTCOMES or text.startswith(tuple(PREFIXES))


def test_no_counter_name_is_spelled_outside_counters_py():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == COUNTERS:
            continue
        relative = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{relative}:{line}: {text!r}" for line, text in _literals(tree)
                  if _is_counter_name(text) and (relative, text) not in ALLOWED]
    assert found == []


def test_the_scan_sees_a_counter_name_spelled_out():
    source = 'stats.inc_value("frontier/corrupt")\nstats.inc_value(f"pages/failed/{name}")\n' \
             'pipe.hincrby(key, "dead_letters", 1)\nif outcome == "stored": pass\n'
    assert sorted(text for _, text in _literals(ast.parse(source)) if _is_counter_name(text)) == [
        "dead_letters", "frontier/corrupt", "pages/failed/", "stored"]
