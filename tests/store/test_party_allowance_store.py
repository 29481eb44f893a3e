"""A party's own pseudonym allowance in the store (revision 0011): set, kept by other edits,
cleared; a database taken down to 0010 and back keeps its parties, on the default again."""

from __future__ import annotations

import pytest

from hub.store.limits import UnstorableError
from hub.store.records import PartyAttributes
from hub.store.sql import SqlStore
from tests.conftest import alembic_step

NOW = 1_795_000_000_000_000


def test_the_allowance_is_set_kept_and_cleared(store: SqlStore) -> None:
    party = store.create_party("cloudco", "provider", "identity--5d0c7a4e-1f0b-4c8e-9a51-3b2f6f0e9d21", False, NOW)
    assert party.pseudonyms_per_minute is None
    assert store.edit_party(party.pk, PartyAttributes(pseudonyms_per_minute=250_000)).pseudonyms_per_minute == 250_000
    kept = store.edit_party(party.pk, PartyAttributes(country="USA"))
    assert (kept.pseudonyms_per_minute, kept.country) == (250_000, "USA")
    assert [p.pseudonyms_per_minute for p in store.list_parties()] == [250_000]
    with pytest.raises(UnstorableError, match="pseudonyms_per_minute"):
        store.edit_party(party.pk, PartyAttributes(pseudonyms_per_minute=0))
    cleared = store.edit_party(party.pk, PartyAttributes(clear=frozenset({"pseudonyms_per_minute"})))
    assert (cleared.pseudonyms_per_minute, cleared.country) == (None, "USA")


def test_down_to_0010_and_up_again(store: SqlStore) -> None:
    party = store.create_party("cloudco", "provider", "identity--5d0c7a4e-1f0b-4c8e-9a51-3b2f6f0e9d21", False, NOW)
    store.edit_party(party.pk, PartyAttributes(pseudonyms_per_minute=5000))
    alembic_step(store, "0010", down=True)
    # Read as revision 0010 left it: no allowance of its own.
    (before,) = store.list_parties()
    assert (before.name, before.pseudonyms_per_minute) == ("cloudco", None)
    alembic_step(store, "0011")
    (after,) = store.list_parties()
    assert (after.name, after.pseudonyms_per_minute) == ("cloudco", None)
    assert store.edit_party(after.pk, PartyAttributes(pseudonyms_per_minute=7)).pseudonyms_per_minute == 7
