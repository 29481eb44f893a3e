"""The runtime dependencies in pyproject.toml are exactly the third-party distributions the hub
package imports: every module ``hub/`` imports at run time comes from a declared dependency
(an install of the hub alone, as the container makes it, can run every command), and no
dependency is declared that ``hub/`` never imports (the tests' and benchmarks' tools belong in
their extras)."""

from __future__ import annotations

import ast
import functools
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HUB = REPO / "hub"


def _canonical(name: str) -> str:
    """A distribution name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(extra: str | None = None) -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return {_canonical(re.split(r"[\s\[<>=!~;,]", spec, maxsplit=1)[0]) for spec in specs}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported_modules(tree: ast.AST) -> set[str]:
    """The top-level names of every absolute import in ``tree``, leaving out the bodies of
    ``if TYPE_CHECKING:`` (never run)."""
    found: set[str] = set()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _type_checking_only(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        stack.extend(ast.iter_child_nodes(node))
    return found


@functools.cache  # read, never changed, by the tests below: the walk and the lookup are made once
def _distributions() -> dict[str, list[str]]:
    return packages_distributions()


@functools.cache
def hub_third_party_imports() -> dict[str, list[str]]:
    """Each third-party top-level module ``hub/`` imports at run time -> the files importing it."""
    where: dict[str, list[str]] = {}
    for path in sorted(HUB.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for module in _imported_modules(tree):
            if module != "hub" and module not in sys.stdlib_module_names:
                where.setdefault(module, []).append(str(path.relative_to(REPO)))
    return where


def test_the_walk_sees_imports_in_functions_and_leaves_out_type_checking() -> None:
    tree = ast.parse("import a.b\nfrom c import d\nfrom . import e\nif TYPE_CHECKING:\n    import f\n"
                     "else:\n    import g\ndef h():\n    import i\n")
    assert _imported_modules(tree) == {"a", "c", "g", "i"}


def test_every_module_the_hub_imports_is_a_declared_runtime_dependency() -> None:
    imported = hub_third_party_imports()
    assert {"flask", "sqlalchemy", "httpx", "idna"} <= set(imported)  # the walk found them
    distributions = _distributions()
    # The hub's own extra: PostgreSQL's driver, imported only where a PostgreSQL store is opened.
    declared = _declared() | _declared("postgres")
    missing = {}
    for module, files in imported.items():
        dists = {_canonical(d) for d in distributions.get(module, [])}
        assert dists, f"{module} (imported by {files[0]}) is not installed"
        if not dists & declared:
            missing[module] = (sorted(dists), files[0])
    assert missing == {}, f"imported by hub/ but not runtime dependencies: {missing}"


def test_every_runtime_dependency_is_imported_by_the_hub() -> None:
    distributions = _distributions()
    provided: set[str] = set()
    for module in hub_third_party_imports():
        provided |= {_canonical(d) for d in distributions.get(module, [])}
    unused = _declared() - provided
    assert unused == set(), f"runtime dependencies hub/ never imports (move them to an extra): {sorted(unused)}"


def test_the_tests_and_benchmarks_tools_are_in_their_extras() -> None:
    # What only tests and benchmarks import: stix2 (building objects independently),
    # jsonschema (the schemas), taxii2-client (an independent TAXII client) and requests.
    test, bench = _declared("test"), _declared("bench")
    assert {"stix2", "jsonschema", "taxii2-client", "requests"} <= test
    assert {"stix2", "taxii2-client", "requests"} <= bench
