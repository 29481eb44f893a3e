"""MISP reads the hub's reports through misp-stix, MISP's own STIX 2.1 converter: a report bundle
as the report service writes it (built by the builder, signed), marked with TLP 2.0 and with
the ACS 3.0 marking the builder makes from the facts' choices, imported with
``ExternalSTIX2toMISPParser`` as misp-stix's own tests import external bundles.

The event carries the TLP tag and the ``acs-marking`` tags of the ACS marking (misp-stix tags
its control set and permitted privilege actions; the scopes stay in the marking's galaxy
cluster), and the only messages are those for the object types misp-stix does not support:
:data:`UNSUPPORTED` (listed in the README's "Markings").
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from typing import Any

import misp_stix_converter
import pytest
import stix2

from hub.client.reports import REPORT_TEMPLATE, PreparedReport
from hub.pseudonyms import PseudonymKeyring
from hub.signing import SigningKey
from hub.signing.documents import sign_objects
from hub.stix.extensions import SHARING_EXTENSION_ID
from hub.stix.markings import TLP_MARKING_OBJECTS, TLP_NAMES, tlp_marking_id
from hub.stix.report import ReportFacts, build_report
from hub.stix.sharing import ACS_EXTENSION_ID

#: The types of the hub's report bundles misp-stix does not import (each is reported in its
#: errors; the rest of the bundle is imported).
UNSUPPORTED = frozenset({"infrastructure"})
_MESSAGE_RE = re.compile(r"^(?:Unable to load|Unknown) STIX object type: ([a-z0-9-]+)$")

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AGENCY = "identity--0c4f2a1e-5b3d-4e6f-9a8b-7c6d5e4f3a2b"
ACS = {"acs_countries": ["USA"], "acs_entities": ["GOV", "CTR"], "acs_custodian": "USA.EXAMPLECLOUD"}


def _bundle(tlp: str, **facts: Any) -> tuple[bytes, list[dict[str, Any]]]:
    """The signed report's bundle as the report service writes it, with the definition of its
    TLP marking (an ACS marking-definition is in the report's objects already)."""
    table = {**tomllib.loads(REPORT_TEMPLATE), "tlp": tlp, **facts}
    if tlp == "red":
        table["recipients"] = [AGENCY]
    facts_ = ReportFacts.from_mapping(table)
    objects = build_report(facts_, PseudonymKeyring({"k1": bytes(range(32))}, "k1"), now=NOW)
    signed = sign_objects(objects, SigningKey.generate(), facts_.provider_identity_id, NOW)
    tlp_definition = next(o for o in TLP_MARKING_OBJECTS if o["id"] == tlp_marking_id(tlp))
    prepared = PreparedReport([tlp_definition, *signed], facts_.provider_identity_id, "k")
    return prepared.bundle(), signed


def _import(bundle: bytes) -> Any:
    parser = misp_stix_converter.ExternalSTIX2toMISPParser()
    parser.load_stix_bundle(stix2.parse(bundle.decode("utf-8"), allow_custom=True))
    parser.parse_stix_bundle()
    return parser


def _messages(parser: Any) -> list[str]:
    found = [m for ms in dict(parser.errors).values() for m in ms]
    return found + [m for ms in dict(getattr(parser, "warnings", {})).values() for m in ms]


def _only_unsupported_types(parser: Any, sent: list[dict[str, Any]]) -> None:
    types = set()
    for message in _messages(parser):
        m = _MESSAGE_RE.match(message)
        assert m, f"misp-stix says: {message}"
        types.add(m.group(1))
    assert types == UNSUPPORTED & {o["type"] for o in sent}


@pytest.mark.parametrize("tlp", TLP_NAMES)
def test_the_event_carries_the_tlp_and_acs_tags(tlp: str) -> None:
    bundle, sent = _bundle(tlp, **ACS)
    assert any(o["type"] == "marking-definition" for o in sent)
    assert all(SHARING_EXTENSION_ID in o.get("extensions", {}) for o in sent if o["type"] == "report") \
        == (tlp == "red")
    parser = _import(bundle)
    tags = {t.name for t in parser.misp_event.tags}
    assert f"tlp:{tlp}" in tags
    assert {'acs-marking:classification="U"', 'acs-marking:formal_determination="AIS"',
            'acs-marking:privilege_action="ALL"'} <= tags
    # The ACS marking's galaxy: one cluster, named by the marking's identifier.
    (acs,) = [o for o in sent if o["type"] == "marking-definition"]
    clusters = [c.value for g in parser.misp_event.galaxies for c in g.clusters]
    assert clusters == [acs["extensions"][ACS_EXTENSION_ID]["identifier"]]
    _only_unsupported_types(parser, sent)


def test_the_objects_misp_supports_are_imported() -> None:
    bundle, sent = _bundle("amber", **ACS)
    parser = _import(bundle)
    event = parser.misp_event
    # The user-account becomes a MISP object; each abused resource an attribute.
    assert [o.name for o in event.objects] == ["user-account"]
    resources = {sco["value"] for sco in sent if sco["type"] in ("ipv4-addr", "ipv6-addr", "domain-name", "url")}
    assert resources <= {a.value for a in event.attributes}
    assert event.info.startswith("Abused IaaS account reported by")


def test_without_acs_there_are_no_acs_tags() -> None:
    bundle, sent = _bundle("green")
    parser = _import(bundle)
    tags = {t.name for t in parser.misp_event.tags}
    assert "tlp:green" in tags and not any(t.startswith("acs-marking:") for t in tags)
    _only_unsupported_types(parser, sent)
