"""A real hub server on loopback, seeded with parties, collections and grants."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from hub.config import load_config
from hub.services.hub import open_hub
from tests.conftest import RunningHub, start_server, stop_server

# party -> kind, operator
PARTIES = {"alice": "provider", "bob": "provider", "gov": "agency", "ops": "operator"}
# collection alias -> {party: (read, write)}
GRANTS = {
    "reports": {"alice": (True, True), "bob": (True, True), "gov": (True, False)},
    "advisories": {"gov": (True, True), "alice": (True, False)},
    "private": {"alice": (True, True)},
    "dropbox": {"bob": (False, True)},
}


def seed(home: Path, max_content_length: int = 65536, *, toml: str | None = None,
         parties: dict[str, str] | None = None,
         grants: dict[str, dict[str, tuple[bool, bool]]] | None = None) -> RunningHub:
    """A hub home with ``parties`` (name: kind) and collections with ``grants`` (alias: party:
    (read, write)), served on loopback. ``toml`` replaces the default hub.toml."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "hub.toml").write_text(toml if toml is not None else
        f"[taxii]\nmax_content_length = {max_content_length}\ndefault_page_size = 5\nmax_page_size = 50\n")
    hub = open_hub(load_config(home, environ={}), migrate=True)
    tokens, identities, collections = {}, {}, {}
    for name, kind in (parties or PARTIES).items():
        party, token = hub.admin.add_party(name, kind)
        tokens[name], identities[name] = token, party.identity_id
    for alias, col_grants in (grants or GRANTS).items():
        col = hub.admin.add_collection(alias.title(), alias=alias)
        collections[alias] = col.id
        for party_name, (read, write) in col_grants.items():
            hub.admin.grant(party_name, col.id, read, write)
    hub.close()
    running = start_server(home)
    running.tokens, running.identities, running.collections = tokens, identities, collections
    return running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = seed(tmp_path_factory.mktemp("hub"))
    yield running
    stop_server(running)
