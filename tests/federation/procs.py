"""Real hubs for the federation tests: the hub under test (:class:`tests.harness.HubUnderTest`) set up
through the services, served on loopback by ``abusehub serve``, federated by ``abusehub
peer|link|federate`` in processes of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from hub.client.taxii import read_outcome
from hub.signing import SigningKey
from hub.signing.documents import sign_objects
from tests.harness import HubUnderTest

TOML = ("[taxii]\nmax_content_length = 8388608\ndefault_page_size = 100\nmax_page_size = 1000\n"
        "[federation]\npage_size = 50\nmax_retries = 1\n")


class FedHub(HubUnderTest):
    """A served hub with a collection ``shared`` (signatures required, countersigned) where every
    party reads and writes: a peer party ``hub-<name>`` for each other hub, and alice (with a
    registered key) on the hubs she files at."""

    #: The identity of the hub's own countersigning key.
    hub_identity: str

    @property
    def collection(self) -> str:
        return self.collections["shared"]

    @property
    def alice_key(self) -> SigningKey | None:
        return self.keys.get("alice")

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
    """Hub ``name`` in ``folder``/``name``, the peer of each of ``peers``, served (close it after)."""
    parties = {**{f"hub-{p}": "peer" for p in peers}, **({"alice": "provider"} if alice else {})}
    made = FedHub.build(folder / name, toml=toml, parties=parties, prepare=True,
                        grants={"shared": {p: (True, True) for p in parties}}, signed={"shared": True},
                        keys_for=("alice",) if alice else ())
    try:
        made.hub_identity = made.hub.signer.ensure()[1]
        return made.serve()
    except BaseException:
        made.close()
        raise


def peer(here: FedHub, there: FedHub, tmp: Path) -> None:
    """``here`` adds ``there`` as a peer with the token ``there`` issued for it."""
    token_file = tmp / f"{here.name}-to-{there.name}.token"
    token_file.write_text(there.tokens[f"hub-{here.name}"] + "\n")
    here.cli("peer", "add", f"hub-{there.name}", "--url", there.url, "--token-file", str(token_file))


def pin(here: FedHub, there: FedHub, *identities: str) -> None:
    for identity in identities:
        here.cli("peer", "map-identity", f"hub-{there.name}", identity)
    here.cli("peer", "import-keys", f"hub-{there.name}")


def status(here: FedHub) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = orjson.loads(here.cli("link", "status", "--json").stdout)
    return out
