"""Real hubs for the federation tests: the hub under test (:class:`tests.harness.HubUnderTest`) set up
through the services, served on loopback by ``abusehub serve``, federated by ``abusehub
peer|link|federate`` in processes of their own."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from hub.client.taxii import read_outcome
from hub.signing import SigningKey
from hub.signing.documents import sign_objects
from hub.stix.extensions import SHARING_EXTENSION_ID
from hub.stix.markings import tlp_marking_id
from tests.factories import indicator, ts
from tests.harness import HubUnderTest

#: The ACS 3.0 marking extension (AIS 2.0).
ACS_EXTENSION_ID = "extension-definition--3a65884d-005a-4290-8335-cb2d778a83ce"

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


def make_fed_hub(folder: Path, name: str, peers: list[str], *, alice: bool = False, toml: str = TOML,
                 readers: Mapping[str, str] | None = None, max_tlp: str | None = None,
                 signed: bool | None = True) -> FedHub:
    """Hub ``name`` in ``folder``/``name``, the peer of each of ``peers``, served (close it after).
    ``readers`` (name: kind) are more parties that read and write ``shared``; ``max_tlp`` its TLP
    ceiling (default amber); ``signed`` whether it requires signatures and is countersigned
    (True), requires them only (False), or neither (None)."""
    parties = {**{f"hub-{p}": "peer" for p in peers}, **({"alice": "provider"} if alice else {}),
               **(readers or {})}
    made = FedHub.build(folder / name, toml=toml, parties=parties, prepare=True,
                        grants={"shared": {p: (True, True) for p in parties}}, signed={"shared": signed},
                        keys_for=("alice",) if alice else ())
    try:
        made.hub_identity = made.hub.signer.ensure()[1]
        if max_tlp is not None:
            made.hub.admin.edit_collection(made.collection, max_tlp=max_tlp)
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


def marked(creator: str, tlp: str, **sharing: list[str]) -> dict[str, Any]:
    """An indicator marked ``tlp``, with the hub's sharing extension carrying ``sharing``
    (``recipients``, ``organisations``) when given."""
    extra: dict[str, Any] = {}
    if sharing:
        extra["extensions"] = {SHARING_EXTENSION_ID: {"extension_type": "property-extension", **sharing}}
    return indicator(created_by_ref=creator, object_marking_refs=[tlp_marking_id(tlp)], **extra)


def acs_definition(custodian: str, sharedefault: str, further_sharing: list[dict[str, Any]] | None = None,
                   ) -> dict[str, Any]:
    """An ACS 3.0 marking-definition that lets anyone read (``privdefault=permit``, unclassified)
    and shares further as ``sharedefault`` and ``further_sharing`` say."""
    body: dict[str, Any] = {
        "extension_type": "property-extension", "identifier": f"isa:guide.19001.ACS3-{uuid.uuid4()}",
        "create_date_time": ts(0), "responsible_entity_custodian": custodian,
        "policy_reference": f"urn:isa:policy:acs:ns:v3.0?privdefault=permit&sharedefault={sharedefault}",
        "control_set": {"classification": "U"}}
    if further_sharing is not None:
        body["further_sharing"] = further_sharing
    return {"type": "marking-definition", "spec_version": "2.1", "id": f"marking-definition--{uuid.uuid4()}",
            "created": ts(0), "extensions": {ACS_EXTENSION_ID: body}}
