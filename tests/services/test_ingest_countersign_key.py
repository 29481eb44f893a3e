"""The hub's countersigning key: made once, even when many workers ask for it at the same time.

Each thread below has its own :class:`HubSigner`, as each server worker has, over one hub home
and one database (SQLite and PostgreSQL, the ``hub`` fixture).
"""

from __future__ import annotations

import threading

from hub.services.hub import Hub
from hub.services.keys import HUB_PARTY, HubSigner
from hub.signing import SigningKey
from tests import factories as f

WORKERS = 8


def test_concurrent_first_uses_all_get_the_same_key_registered_once(hub: Hub) -> None:
    signers = [HubSigner(hub.store, hub.keys, hub.config.home, hub.clock) for _ in range(WORKERS)]
    start = threading.Barrier(WORKERS)
    results: list[tuple[str, str] | BaseException] = [RuntimeError("not run")] * WORKERS

    def run(i: int) -> None:
        start.wait()
        try:
            key, identity = signers[i].ensure()
            results[i] = (key.key_id, identity)
        except BaseException as exc:  # reported below, with the others
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    assert len(set(results)) == 1
    (key_id, identity), = set(results)  # type: ignore[misc]

    party = hub.store.get_party(HUB_PARTY)
    assert party is not None and party.identity_id == identity
    assert [k.key_id for k in hub.store.list_keys(party.pk)] == [key_id]
    path = signers[0].path
    assert SigningKey.from_pem(path.read_bytes()).key_id == key_id
    assert path.stat().st_mode & 0o777 == 0o600
    assert [r.data["key_id"] for r in hub.store.iter_audit() if r.kind == "key.add"] == [key_id]
    assert not [p for p in path.parent.iterdir() if p.name.startswith(f".{path.name}.")]  # no leftovers


def test_prepare_makes_the_key_before_anything_is_served(hub: Hub) -> None:
    key_id = hub.signer.prepare()
    assert hub.signer.path.exists()
    assert hub.signer.prepare() == key_id  # idempotent
    # A new process (a new signer) finds it and the first countersigned submission uses it.
    later = HubSigner(hub.store, hub.keys, hub.config.home, hub.clock)
    assert later.ensure()[0].key_id == key_id
    _party, token = hub.admin.add_party("acme", "provider")
    col = hub.admin.add_collection("Countersigned", countersign=True)
    hub.admin.grant("acme", col.id, True, True)
    obj = f.indicator()
    status = hub.ingest.submit(hub.access.authenticate(token), col, {"objects": [obj]})
    assert not status.failures, status.failures
    keys = hub.store.list_keys(hub.store.get_party(HUB_PARTY).pk)  # type: ignore[union-attr]
    assert [k.key_id for k in keys] == [key_id]
