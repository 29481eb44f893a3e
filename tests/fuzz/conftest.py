"""A seeded hub app per store, shared by the examples of one fuzz run (module scope)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask

from hub.config import load_config
from hub.server import create_app
from hub.services.hub import Hub
from hub.services.operations.demo import example_objects
from tests.harness import BACKENDS, FrozenClock, open_test_store

#: Requests per store in one run; `make fuzz` asks for more, `make test-fast` for fewer.
FUZZ_REQUESTS = int(os.environ.get("HUB_TEST_FUZZ_REQUESTS", "3000"))

PARTIES = {"alice": "provider", "bob": "provider", "gov": "agency", "ops": "operator"}
GRANTS = {
    "reports": {"alice": (True, True), "bob": (True, True), "gov": (True, False)},
    "signed": {"alice": (True, True), "gov": (True, False)},
    "dropbox": {"bob": (False, True)},
}


@dataclass
class FuzzHub:
    """The app under fuzzing, its services, and what was seeded into it."""

    app: Flask
    hub: Hub
    tokens: dict[str, str]
    collections: dict[str, str]
    object_ids: list[str]
    status_ids: list[str] = field(default_factory=list)
    identities: dict[str, str] = field(default_factory=dict)

    def count(self) -> int:
        """Every stored object version, in every collection."""
        return sum(self.hub.store.count_objects(c.pk) for c in self.hub.store.list_collections())


def _seed(hub: Hub) -> tuple[dict[str, str], dict[str, str], dict[str, str], list[str], list[str]]:
    tokens, identities, collections = {}, {}, {}
    for name, kind in PARTIES.items():
        party, token = hub.admin.add_party(name, kind)
        tokens[name], identities[name] = token, party.identity_id
    for alias, grants in GRANTS.items():
        col = hub.admin.add_collection(alias.title(), alias=alias, require_signatures=alias == "signed")
        collections[alias] = col.id
        for party_name, (read, write) in grants.items():
            hub.admin.grant(party_name, col.id, read, write)
    principal = hub.access.authenticate(tokens["alice"])
    reports = hub.admin.collection(collections["reports"])
    status = hub.ingest.submit(principal, reports, {"objects": example_objects(identities["alice"], "alice", 4)})
    object_ids = [s["id"] for s in status.successes]
    return tokens, identities, collections, object_ids, [status.id]


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzHub]:
    home: Path = tmp_path_factory.mktemp("fuzz-hub")
    (home / "hub.toml").write_text("[taxii]\nmax_content_length = 65536\ndefault_page_size = 5\n"
                                   "max_page_size = 50\n")
    config = load_config(home, environ={})
    with open_test_store(str(request.param), home) as store:
        hub = Hub(config, store, FrozenClock())
        tokens, identities, collections, object_ids, status_ids = _seed(hub)
        app = create_app(config, hub)
        app.config["TESTING"] = False  # errors go through the handlers, as in production
        yield FuzzHub(app, hub, tokens, collections, object_ids, status_ids, identities)
        hub.audit.close()
