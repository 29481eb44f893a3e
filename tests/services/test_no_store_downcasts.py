"""No service downcasts its store.

Every service is given a :class:`hub.store.base.Store`, which declares all the store does
(``tests/store/test_protocol.py``). A service that checks what else its store might be
(``isinstance`` with a store class, a helper such as ``lifecycle_store(store)``, ``cast`` to a
store type, ``getattr``/``hasattr`` on the store) hides a method the protocol lacks: declare it in
the protocol instead. This test reads the source of ``hub/services`` (its syntax tree, so comments
and docstrings do not count) and fails on any such check, so that they stay gone.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hub.services

SERVICES = Path(hub.services.__file__).parent

#: The helpers that turned a store into one of its parts.
HELPERS = ("lifecycle_store", "ops_store", "federation_store")


def _name(node: ast.AST) -> str | None:
    """The name ``node`` ends in (``store`` for ``store``, ``self.store`` and ``hub.store``)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # cast("LifecycleStore", ...)
        return node.value.rsplit(".", 1)[-1]
    return None


def _store_class(node: ast.AST) -> str | None:
    """The store class ``node`` names (one of a tuple too), or None."""
    for one in node.elts if isinstance(node, ast.Tuple) else [node]:
        name = _name(one)
        if name is not None and name.endswith("Store"):
            return name
    return None


def downcasts(source: str) -> list[tuple[int, str]]:
    """``(line, kind)`` of each downcast of a store in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in HELPERS:
            found.append((node.lineno, f"def {node.name}"))
        if not isinstance(node, ast.Call):
            continue
        func, args = _name(node.func), node.args
        if func in HELPERS:
            found.append((node.lineno, f"{func}()"))
        elif func in ("isinstance", "issubclass") and len(args) == 2 and (cls := _store_class(args[1])):
            found.append((node.lineno, f"{func}(..., {cls})"))
        elif func == "cast" and args and (cls := _store_class(args[0])):
            found.append((node.lineno, f"cast({cls}, ...)"))
        elif func in ("getattr", "hasattr") and args and _name(args[0]) == "store":
            found.append((node.lineno, f"{func}(store, ...)"))
    return found


def test_no_service_downcasts_its_store() -> None:
    modules = sorted(SERVICES.rglob("*.py"))
    assert len(modules) > 20  # the services were found
    offending = []
    for path in modules:
        rel = path.relative_to(SERVICES).as_posix()
        for line, kind in downcasts(path.read_text(encoding="utf-8")):
            offending.append(f"hub/services/{rel}:{line}: {kind}")
    assert offending == [], "services must call the Store they are given, not downcast it"


@pytest.mark.parametrize(("source", "kind"), [
    ("if not isinstance(store, LifecycleStore):\n    pass", "isinstance(..., LifecycleStore)"),
    ("ok = isinstance(hub.store, (int, SqlStore))", "isinstance(..., SqlStore)"),
    ("fed = federation_store(self.store)", "federation_store()"),
    ("ops_store(hub.store).ping()", "ops_store()"),
    ("from hub.services import limits\nlimits.ops_store(s)", "ops_store()"),
    ("def lifecycle_store(store):\n    return store", "def lifecycle_store"),
    ("s = cast(FederationStore, store)", "cast(FederationStore, ...)"),
    ("s = typing.cast('hub.store.ops.OpsStore', store)", "cast(OpsStore, ...)"),
    ("url = getattr(hub.store, 'url', '')", "getattr(store, ...)"),
    ("if hasattr(self.store, 'ping'): pass", "hasattr(store, ...)"),
])
def test_the_check_finds_each_kind_of_downcast(source: str, kind: str) -> None:
    assert [k for _line, k in downcasts(source)] == [kind]


def test_the_check_passes_what_is_no_downcast() -> None:
    source = ("isinstance(value, dict)\ngetattr(config, 'home')\nstore.party_for_certificate(fp)\n"
              "open_store(url)\n# isinstance(store, LifecycleStore) in a comment\n")
    assert downcasts(source) == []
