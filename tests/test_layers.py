"""The house has no import circle: no module of ShopWatch imports itself through others.

The graph is read from the source, not from what Python happens to import: every
`import` in a module counts, at the top, inside a function, or under `TYPE_CHECKING`.
A circle kept alive only by type hints is still a circle: the two modules cannot be
understood, tested or moved apart. `from package import name` counts as an import of
`package.name` when that is a module, else of `package` (as import-linter reads it);
a package's `__init__` running first is not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "broadcast", "storage", "config", "sandbox")


def modules_of(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Every module under the packages, by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        source = ".".join([*base, *([node.module] if node.module else [])])
    else:
        source = node.module or ""
    return [f"{source}.{alias.name}" for alias in node.names]


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The module `name` is, or the nearest package holding it, if it is one of ours."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Which of the project's modules each of its modules imports, wherever the import is."""
    modules = modules_of(root, packages)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for imported in _imported(node, name, is_package):
                target = _known(imported, modules)
                if target is not None and target != name:
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of the graph, as the modules along it with the first repeated at the end."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path = [start]
        on_path = {start}
        pending = [iter(sorted(graph[start]))]
        while pending:
            following = next(pending[-1], None)
            if following is None:
                pending.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
            elif following in on_path:
                return [*path[path.index(following) :], following]
            elif following not in done:
                path.append(following)
                on_path.add(following)
                pending.append(iter(sorted(graph[following])))
    return None


def test_the_house_has_no_import_circle() -> None:
    graph = import_graph(ROOT, PACKAGES)
    assert len(graph) > 100, "the walk found too few modules to be reading the project"
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def _write(package: Path, modules: dict[str, list[str]]) -> None:
    package.mkdir(exist_ok=True)
    for name, lines in modules.items():
        (package / f"{name}.py").write_text("".join(f"{line}\n" for line in lines))


def test_a_circle_through_type_hints_and_late_imports_is_found_and_named(tmp_path: Path) -> None:
    _write(
        tmp_path / "shop",
        {
            "__init__": [],
            "texts": [
                "from typing import TYPE_CHECKING",
                "if TYPE_CHECKING:",
                "    import shop.bundle",
            ],
            "bundle": ["from shop import words"],
            "words": ["def later():", "    from . import texts", "    return texts"],
        },
    )
    graph = import_graph(tmp_path, ("shop",))
    assert find_cycle(graph) == ["shop.bundle", "shop.words", "shop.texts", "shop.bundle"]
    _write(tmp_path / "shop", {"words": ["import shop"]})
    assert find_cycle(import_graph(tmp_path, ("shop",))) is None
