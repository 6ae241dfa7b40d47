"""The layout is the architecture: imports only go down the layers (README, "Architecture")."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import ROOT

PACKAGE = ROOT / "crawler"

# Lower layers first; a module may import its own layer and those before it.
LAYERS = ["base", "article", "discovery", "store", "frontier", "metrics", "worker", "spiders", "cli"]
_RANK = {name: rank for rank, name in enumerate(LAYERS)} | {"demo": len(LAYERS) - 1}
# Third-party packages a layer must not import at all.
FORBIDDEN = {
    "base": {"scrapy", "scrapy_redis", "twisted"},
    "article": {"scrapy", "scrapy_redis", "twisted", "redis"},
    "discovery": {"scrapy_redis", "twisted", "redis"},
    "store": {"scrapy", "scrapy_redis", "twisted"},
}


def _layer(path: Path) -> str | None:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else None  # settings.py, __main__.py: the top


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports at run time, at any depth (inside functions too);
    imports for type checking only (``if TYPE_CHECKING:``) are no dependency."""
    names = []
    todo = [ast.parse(path.read_text(encoding="utf-8"))]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            todo += node.orelse
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        todo += ast.iter_child_nodes(node)
    return names


def test_every_module_belongs_to_a_known_layer():
    folders = {path.name for path in PACKAGE.iterdir() if path.is_dir() and not path.name.startswith("_")}
    assert folders == set(_RANK)


def test_imports_only_go_down():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = _layer(path)
        if layer is None:
            continue
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "crawler" and len(parts) > 1 and parts[1] in _RANK:
                if _RANK[parts[1]] > _RANK[layer]:
                    wrong.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
            elif parts[0] == "crawler" and len(parts) > 1 and parts[1] == "settings":
                wrong.append(f"{path.relative_to(PACKAGE.parent)} imports the service's settings")
            elif parts[0] in FORBIDDEN.get(layer, ()):
                wrong.append(f"{path.relative_to(PACKAGE.parent)} ({layer}) imports {name}")
    assert wrong == []
