"""Hubs served in-process: a hub home set up through the services, its WSGI app built by
:func:`hub.server.create_app`, and :class:`~hub.client.taxii.TaxiiClient` instances wired to it
with :class:`httpx.WSGITransport`. No server process, no port: the fast tier of the client tests.

Each hub is independent (its own home, configuration, database, pseudonym keyring and hub
signing key), so two of them can be federated in one test. The database is SQLite under the
home, or a fresh PostgreSQL schema (``backend="postgres"``), dropped on :meth:`InProcessHub.close`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.client.taxii import TaxiiClient
from hub.config import load_config
from hub.server import create_app
from hub.services.hub import Hub, open_hub
from hub.signing import SigningKey
from tests.conftest import POSTGRES_URL, _postgres_available

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class InProcessHub:
    """One hub: its services, its WSGI app, and what was set up in it."""

    home: Path
    hub: Hub
    app: Any
    url: str
    tokens: dict[str, str] = field(default_factory=dict)
    identities: dict[str, str] = field(default_factory=dict)
    collections: dict[str, str] = field(default_factory=dict)
    keys: dict[str, SigningKey] = field(default_factory=dict)
    schema: str | None = None

    def transport(self) -> httpx.WSGITransport:
        """A transport that hands each request to this hub's app."""
        return httpx.WSGITransport(app=self.app)

    def client(self, party: str | None = None, **kwargs: Any) -> TaxiiClient:
        """A client of this hub's API root, with ``party``'s token (none if None)."""
        token = self.tokens[party] if party is not None else None
        return TaxiiClient(self.url, token, transport=self.transport(), **kwargs)

    def add_collection(self, alias: str, grants: Mapping[str, tuple[bool, bool]], *,
                       signed: bool | None = None) -> str:
        """A new collection known here as ``alias`` (replacing an earlier one of that alias),
        with ``grants`` (party: (read, write)); ``signed`` None: signatures not required,
        False: required, True: required and countersigned by the hub."""
        col = self.hub.admin.add_collection(alias.title(), alias=f"{alias}-{uuid.uuid4().hex[:8]}",
                                            require_signatures=signed is not None, countersign=bool(signed))
        for name, (read, write) in grants.items():
            self.hub.admin.grant(name, col.id, read, write)
        self.collections[alias] = col.id
        return col.id

    def stored(self, alias: str) -> list[tuple[str, str | None, str]]:
        """(id, version, exact JSON text) of every object version, in date_added order."""
        from hub.store.records import ObjectFilter

        col = self.hub.store.get_collection(self.collections[alias])
        assert col is not None
        page = self.hub.store.query_objects(col.pk, ObjectFilter(versions=("all",)), None, 100_000)
        return [(i.stix_id, i.version, i.json_text) for i in page.items]

    def close(self) -> None:
        self.hub.close()
        if self.schema is not None:
            import psycopg

            with psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"),
                                 autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{self.schema}" CASCADE')


def make_hub(
    home: Path,
    parties: Mapping[str, str],
    collections: Mapping[str, Mapping[str, tuple[bool, bool]]],
    *,
    signed: Mapping[str, bool] | None = None,
    keys_for: tuple[str, ...] = (),
    backend: str = "sqlite",
    url: str = "http://127.0.0.1/api/",
    toml: str = "[taxii]\ndefault_page_size = 5\nmax_page_size = 50\n",
) -> InProcessHub:
    """A hub home with ``parties`` (name: kind) and ``collections`` (alias: party: (read,
    write)); ``signed`` names the collections that require signatures (True: the hub
    countersigns too); each party of ``keys_for`` gets a signing key, registered."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "hub.toml").write_text(toml)
    environ: dict[str, str] = {}
    schema = None
    if backend == "postgres":
        if not _postgres_available():
            pytest.skip(f"PostgreSQL not available at {POSTGRES_URL}")
        import psycopg

        schema = f"abusehub_client_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"),
                             autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in POSTGRES_URL else "?"
        environ["HUB_DATABASE_URL"] = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    config = load_config(home, environ=environ)
    hub = open_hub(config, migrate=True)
    made = InProcessHub(home, hub, create_app(config, hub), url, schema=schema)
    for name, kind in parties.items():
        party, token = hub.admin.add_party(name, kind)
        made.tokens[name], made.identities[name] = token, party.identity_id
    for alias, grants in collections.items():
        made.add_collection(alias, grants, signed=(signed or {}).get(alias))
    for name in keys_for:
        key = SigningKey.generate()
        hub.keys.add(name, key.public_key.to_jwk())
        made.keys[name] = key
    return made
