"""Real hubs for the federation tests: a home set up through the services, served on loopback by
``abusehub serve``, federated by ``abusehub peer|link|federate`` in processes of their own."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from hub.client.taxii import TaxiiClient, read_outcome
from hub.config import load_config
from hub.services.hub import open_hub
from hub.signing import SigningKey
from hub.signing.documents import sign_objects
from tests.conftest import RunningHub, run_cli, start_server

TOML = ("[taxii]\nmax_content_length = 8388608\ndefault_page_size = 100\nmax_page_size = 1000\n"
        "[federation]\npage_size = 50\nmax_retries = 1\n")


@dataclass
class FedHub:
    """A served hub with a collection ``shared`` (signatures required, countersigned)."""

    name: str
    home: Path
    running: RunningHub
    collection: str
    hub_identity: str
    tokens: dict[str, str] = field(default_factory=dict)
    identities: dict[str, str] = field(default_factory=dict)
    alice_key: SigningKey | None = None

    @property
    def api(self) -> str:
        return self.running.api + "/"

    def client(self, party: str) -> TaxiiClient:
        return TaxiiClient(self.api, self.tokens[party])

    def cli(self, *args: str, check: bool = True) -> Any:
        return run_cli(self.home, *args, check=check)

    def objects(self, party: str) -> list[dict[str, Any]]:
        """Every object version of ``shared`` as this hub serves it."""
        with self.client(party) as c:
            return [o.data for page in c.pages(self.collection, versions=("all",)) for o in page.objects]

    def post(self, objs: list[dict[str, Any]]) -> None:
        assert self.alice_key is not None
        signed = sign_objects(objs, self.alice_key, self.identities["alice"])
        with self.client("alice") as c:
            for i in range(0, len(signed), 500):
                outcome = read_outcome(c.submit(self.collection, signed[i:i + 500]))
                assert not outcome.refused, outcome.refused[:3]


def make_fed_hub(folder: Path, name: str, peers: list[str], *, alice: bool = False, toml: str = TOML) -> FedHub:
    home = folder / name
    home.mkdir(parents=True)
    (home / "hub.toml").write_text(toml)
    hub = open_hub(load_config(home, environ={}), migrate=True)
    _rev, _kid, _ = hub.prepare()
    tokens, identities = {}, {}
    for party, kind in {**{f"hub-{p}": "peer" for p in peers}, **({"alice": "provider"} if alice else {})}.items():
        p, token = hub.admin.add_party(party, kind)
        tokens[party], identities[party] = token, p.identity_id
    col = hub.admin.add_collection("Shared", alias="shared", require_signatures=True, countersign=True)
    for party in tokens:
        hub.admin.grant(party, col.id, True, True)
    key = None
    if alice:
        key = SigningKey.generate()
        hub.keys.add("alice", key.public_key.to_jwk())
    hub_identity = hub.signer.ensure()[1]
    hub.close()
    running = start_server(home)
    return FedHub(name, home, running, col.id, hub_identity, tokens, identities, key)


def peer(here: FedHub, there: FedHub, tmp: Path) -> None:
    """``here`` adds ``there`` as a peer with the token ``there`` issued for it."""
    token_file = tmp / f"{here.name}-to-{there.name}.token"
    token_file.write_text(there.tokens[f"hub-{here.name}"] + "\n")
    here.cli("peer", "add", f"hub-{there.name}", "--url", there.api, "--token-file", str(token_file))


def pin(here: FedHub, there: FedHub, *identities: str) -> None:
    for identity in identities:
        here.cli("peer", "map-identity", f"hub-{there.name}", identity)
    here.cli("peer", "import-keys", f"hub-{there.name}")


def status(here: FedHub) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = orjson.loads(here.cli("link", "status", "--json").stdout)
    return out
