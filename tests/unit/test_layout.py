"""The folders of tests/ say what a test needs, and the unit tests keep to it.

tests/unit/ needs nothing but Python: no redis-server, no process, no server.
tests/redis/ needs the session's redis-server, in-process: no worker or CLI process.
tests/system/ runs the rest. The scan is of the source, so it needs no collection.
"""

from __future__ import annotations

import ast

import pytest

from tests.support.paths import ROOT

TESTS = ROOT / "tests"
KINDS = ("unit", "redis", "system")
REDIS_FIXTURES = {"redis_server", "redis_url", "r"}
# What starts a process or serves a port, by module, and by name from a module.
PROCESSES = {"subprocess", "multiprocessing", "tests.support.workers"}
SERVERS = {"socket", "socketserver", "http.server", "tests.support.redis"}
SERVER_NAMES = {("crawler.demo", "serve")}
FORBIDDEN = {"unit": PROCESSES | SERVERS, "redis": PROCESSES}


def _imports(tree: ast.AST):
    """(line, module, name) of every import; name is None for ``import module``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                yield node.lineno, node.module, alias.name


def _fixture_requests(tree: ast.AST):
    """(line, name) of every parameter or ``usefixtures`` argument naming a Redis fixture."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args
            for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
                if arg.arg in REDIS_FIXTURES:
                    yield node.lineno, arg.arg
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "usefixtures"):
            for arg in node.args:
                if isinstance(arg, ast.Constant) and arg.value in REDIS_FIXTURES:
                    yield node.lineno, arg.value


def violations(kind: str, name: str, source: str) -> list[str]:
    """What in ``source`` (a module of tests/``kind``/) needs more than its kind allows."""
    tree = ast.parse(source)
    found = []
    for line, module, imported in _imports(tree):
        full = f"{module}.{imported}" if imported else module
        if full in FORBIDDEN.get(kind, ()) or module in FORBIDDEN.get(kind, ()) or (
                kind == "unit" and (module, imported) in SERVER_NAMES):
            found.append(f"{name}:{line}: imports {full}")
    if kind == "unit":
        found += [f"{name}:{line}: requests the fixture {fixture}"
                  for line, fixture in sorted(_fixture_requests(tree))]
    return found


def test_every_test_module_is_in_a_kind_folder():
    misplaced = [path.relative_to(TESTS).as_posix() for path in TESTS.rglob("test_*.py")
                 if path.relative_to(TESTS).parts[0] not in KINDS]
    assert misplaced == []


@pytest.mark.parametrize("kind", ["unit", "redis"])
def test_modules_need_no_more_than_their_kind(kind):
    found = []
    for path in sorted((TESTS / kind).rglob("*.py")):
        found += violations(kind, path.relative_to(TESTS).as_posix(),
                            path.read_text(encoding="utf-8"))
    assert found == []


def test_the_scan_sees_what_a_unit_test_must_not_need():
    source = ("import subprocess\nimport http.server\nfrom tests.support import workers\n"
              "from tests.support.redis import free_port\nfrom crawler.demo import serve\n"
              "import redis\nfrom crawler.demo import expected_articles\n\n"
              "@pytest.fixture\ndef store(r):\n    pass\n\n"
              "@pytest.mark.usefixtures('redis_url')\ndef test_a(store, tmp_path):\n    pass\n\n"
              "async def test_b(redis_server):\n    pass\n")
    assert violations("unit", "m.py", source) == [
        "m.py:1: imports subprocess", "m.py:2: imports http.server",
        "m.py:3: imports tests.support.workers", "m.py:4: imports tests.support.redis.free_port",
        "m.py:5: imports crawler.demo.serve",
        "m.py:10: requests the fixture r", "m.py:13: requests the fixture redis_url",
        "m.py:17: requests the fixture redis_server",
    ]
    assert violations("redis", "m.py", source) == [
        "m.py:1: imports subprocess", "m.py:3: imports tests.support.workers"]
    assert violations("system", "m.py", source) == []


def test_each_test_is_marked_with_its_folder(request):
    assert [mark.name for mark in request.node.iter_markers() if mark.name in KINDS] == ["unit"]
