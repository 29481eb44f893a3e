"""The Store protocol is whole and SqlStore implements all of it.

A service is given a :class:`hub.store.base.Store` and calls it: there is nothing it could learn
by checking what else its store is. So the protocol includes every part of the store (shared
limits, lifecycle, federation), everything :class:`hub.store.sql.SqlStore` offers publicly is
declared by it, and the parts cannot be used in ``isinstance`` checks. mypy checks the same
statically (``_whole`` in ``hub/store/sql.py``); these tests check the running classes.
"""

from __future__ import annotations

import inspect
import typing

import pytest

from hub.store.audiences import AudienceStore
from hub.store.base import Store
from hub.store.federation import FederationStore
from hub.store.lifecycle import LifecycleStore
from hub.store.ops import OpsStore
from hub.store.sql import SqlStore

PARTS = (OpsStore, LifecycleStore, FederationStore, AudienceStore)


def protocol_members(proto: type) -> set[str]:
    """The public names (methods, properties, attributes) ``proto`` declares, with those of
    the protocols it includes."""
    names: set[str] = set()
    for cls in proto.__mro__:
        if cls in (typing.Protocol, typing.Generic, object) or not getattr(cls, "_is_protocol", False):
            continue
        names |= {n for n in vars(cls) if not n.startswith("_")}
        names |= {n for n in getattr(cls, "__annotations__", {}) if not n.startswith("_")}
    return names


def test_the_store_includes_every_part() -> None:
    members = protocol_members(Store)
    for part in PARTS:
        assert part in Store.__mro__, part.__name__
        assert protocol_members(part) and protocol_members(part) <= members, part.__name__


def test_a_sql_store_has_every_member_of_the_protocol(store: SqlStore, backend: str) -> None:
    missing = []
    for name in sorted(protocol_members(Store)):
        declared = inspect.getattr_static(Store, name)
        if not hasattr(store, name) or (inspect.isfunction(declared) and not callable(getattr(store, name))):
            missing.append(name)
    assert missing == []
    # The two members the protocol declares for the tools (backup, the server's workers).
    assert store.url.startswith("sqlite" if backend == "sqlite" else "postgresql")
    file = store.database_file()
    assert (file is None) == (backend != "sqlite")
    assert file is None or all(isinstance(n, int) for n in file)


def test_everything_a_sql_store_offers_is_declared_by_the_protocol() -> None:
    offered = {n for n in dir(SqlStore) if not n.startswith("_") and callable(getattr(SqlStore, n))}
    assert offered  # the class was read
    assert offered - protocol_members(Store) == set()


@pytest.mark.parametrize("proto", [Store, *PARTS], ids=lambda p: p.__name__)
def test_no_part_of_the_store_can_be_checked_with_isinstance(proto: type) -> None:
    with pytest.raises(TypeError, match="runtime_checkable"):
        isinstance(object(), proto)
