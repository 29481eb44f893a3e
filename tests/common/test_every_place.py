"""Every place that takes a STIX id, a type name or a timestamp refuses the same bad ones.

The grammars live in :mod:`hub.common.ids` and :mod:`hub.common.timestamps`; this table holds
each part of the hub that reads an id, a type or a timestamp from outside to them: ingest's
basics, the validator's references (and the IaaS-account extension's), the report builder's
facts and sightings, signing, TAXII query parameters and the poll client. A row is a value that
is bad in every grammar (a bad UUID version or variant, upper case, digits of another script, a
date that does not exist); whitespace and ISO 8601 forms that some readers accept on purpose
(the report builder reads an analyst's ISO 8601 dates, TAXII trims the items of a
comma-separated list) are in the grammar's own tables (test_ids.py, test_timestamps.py).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from hub.client.errors import ClientError
from hub.client.poll import Poller
from hub.client.taxii import TaxiiClient
from hub.common.errors import BadRequest
from hub.common.problems import Code
from hub.signing import SIGNATURE_EXTENSION_ID, SignatureFormatError, SigningKey, sign_object, signatures_of
from hub.stix.basics import InvalidObject, check_basics
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID as IAAS
from hub.stix.report import InvalidReportFacts, ReportFacts, build_sighting
from hub.stix.validator import validate
from hub.taxii.params import parse_query

U = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
IDENTITY = f"identity--{U}"
INDICATOR = f"indicator--{U}"
PSEUDONYM = "hmac-sha256:k1:" + "ab" * 32
TS = "2026-01-02T03:04:05.678Z"


def _indicator(**changes: Any) -> dict[str, Any]:
    obj = {"type": "indicator", "spec_version": "2.1", "id": INDICATOR, "created": TS, "modified": TS,
           "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix", "valid_from": TS}
    obj.update(changes)
    return obj


def _account(**ext_changes: Any) -> dict[str, Any]:
    body = {"extension_type": "property-extension", "provider_ref": IDENTITY,
            "provider_account_pseudonym": PSEUDONYM, "first_abuse_seen": TS,
            "acquisition": "direct-signup", "kyc_status": "verified",
            "abused_resource_refs": [f"ipv4-addr--{U}"], "abuse_types": ["phishing"]}
    body.update(ext_changes)
    return {"type": "user-account", "spec_version": "2.1", "id": f"user-account--{U}",
            "account_type": "cloud-iaas", "user_id": PSEUDONYM, "extensions": {IAAS: body}}


FACTS: dict[str, Any] = {
    "provider_identity_id": IDENTITY, "provider_name": "Example Cloud", "provider_account_id": "acct-1",
    "account_created": "2026-01-01T00:00:00Z", "first_abuse_seen": "2026-01-02T00:00:00Z",
    "last_seen": "2026-01-03T00:00:00Z", "resources": ["198.51.100.7"], "abuse_types": ["phishing"],
    "summary": "A phishing site on a trial account.", "acquisition": "direct-signup",
    "kyc_status": "unverified",
}


def test_the_good_values_pass_everywhere(tmp_path: Path) -> None:
    """The control: the rows below change one value of objects every place accepts."""
    assert check_basics(_indicator())[0] == INDICATOR
    assert validate(_indicator(created_by_ref=IDENTITY, object_marking_refs=[f"marking-definition--{U}"])) == []
    assert validate(_account()) == []
    assert ReportFacts.from_mapping(FACTS).provider_identity_id == IDENTITY
    assert build_sighting(INDICATOR, IDENTITY, first_seen=TS)["sighting_of_ref"] == INDICATOR
    signed = sign_object(_indicator(), SigningKey.generate(), IDENTITY)
    assert signatures_of(signed)[0].signer == IDENTITY
    parse_query(MultiDict([("match[id]", INDICATOR), ("match[type]", "indicator"),
                           ("added_after", TS), ("match[version]", TS)]))
    with _client() as client:
        assert Poller(client, "reports", tmp_path / "out.jsonl", types=["indicator"], since=TS).types == ["indicator"]


# ---------------------------------------------------------------------------------------------
# Identifiers. A row makes a bad id of the type a place wants.

def _uuid(version: str = "4", variant: str = "9") -> str:
    return f"{U[:14]}{version}{U[15:19]}{variant}{U[20:]}"


BAD_IDS = [
    pytest.param(lambda t: f"{t}--{U.upper()}", id="upper-case-uuid"),
    pytest.param(lambda t: f"{t}--{_uuid(version='0')}", id="uuid-version-0"),
    pytest.param(lambda t: f"{t}--{_uuid(version='6')}", id="uuid-version-6"),
    pytest.param(lambda t: f"{t}--{_uuid(variant='c')}", id="uuid-variant-c"),
    pytest.param(lambda t: f"{t}--{_uuid(variant='7')}", id="uuid-variant-7"),
    pytest.param(lambda t: f"{t}--00000000-0000-0000-0000-000000000000", id="nil-uuid"),
    pytest.param(lambda t: f"{t}--\uff18{U[1:]}", id="fullwidth-digit"),
    pytest.param(lambda t: f"{t}--\u0668{U[1:]}", id="arabic-indic-digit"),
    pytest.param(lambda t: f"{t}--{U[:-1]}\u00b3", id="superscript-digit"),
    pytest.param(lambda t: f"{t}-{U}", id="one-hyphen"),
    pytest.param(lambda t: f"{t.upper()}--{U}", id="upper-case-type"),
]


def _basics(bad: Callable[[str], str]) -> None:
    with pytest.raises(InvalidObject) as caught:
        check_basics(_indicator(id=bad("indicator")))
    assert caught.value.problem.code in (Code.INVALID_ID, Code.ID_TYPE_MISMATCH)


def _reference(bad: Callable[[str], str]) -> None:
    problems = validate(_indicator(created_by_ref=bad("identity")))
    assert [(p.code, p.property) for p in problems] == [(Code.INVALID_ID, "created_by_ref")]


def _marking_reference(bad: Callable[[str], str]) -> None:
    problems = validate(_indicator(object_marking_refs=[bad("marking-definition")]))
    assert [(p.code, p.property) for p in problems] == [(Code.INVALID_ID, "object_marking_refs[0]")]


def _extension_reference(bad: Callable[[str], str]) -> None:
    problems = validate(_account(provider_ref=bad("identity")))
    assert [p.code for p in problems] == [Code.INVALID_ID]
    assert problems[0].property.endswith(".provider_ref")


def _report_facts(bad: Callable[[str], str]) -> None:
    with pytest.raises(InvalidReportFacts) as caught:
        ReportFacts.from_mapping({**FACTS, "provider_identity_id": bad("identity")})
    assert "provider_identity_id" in {p.property for p in caught.value.found}


def _sighting_of(bad: Callable[[str], str]) -> None:
    with pytest.raises(InvalidReportFacts, match="sighting_of_ref"):
        build_sighting(bad("indicator"), IDENTITY)


def _sighted_by(bad: Callable[[str], str]) -> None:
    with pytest.raises(InvalidReportFacts, match="sighted_by_ref"):
        build_sighting(INDICATOR, bad("identity"))


def _signer(bad: Callable[[str], str]) -> None:
    with pytest.raises(SignatureFormatError, match="signer"):
        sign_object(_indicator(), SigningKey.generate(), bad("identity"))


def _taxii_match_id(bad: Callable[[str], str]) -> None:
    with pytest.raises(BadRequest, match=r"match\[id\]"):
        parse_query(MultiDict([("match[id]", bad("indicator"))]))


ID_PLACES = [
    pytest.param(_basics, id="ingest-basics"),
    pytest.param(_reference, id="validator-created_by_ref"),
    pytest.param(_marking_reference, id="validator-object_marking_refs"),
    pytest.param(_extension_reference, id="validator-iaas-provider_ref"),
    pytest.param(_report_facts, id="report-facts-provider_identity_id"),
    pytest.param(_sighting_of, id="sighting-of"),
    pytest.param(_sighted_by, id="sighting-by"),
    pytest.param(_signer, id="signing-signer"),
    pytest.param(_taxii_match_id, id="taxii-match-id"),
]


@pytest.mark.parametrize("place", ID_PLACES)
@pytest.mark.parametrize("bad", BAD_IDS)
def test_a_bad_id_is_refused_everywhere(place: Callable[[Callable[[str], str]], None],
                                        bad: Callable[[str], str]) -> None:
    place(bad)


# ---------------------------------------------------------------------------------------------
# Type names.

BAD_TYPES = [
    pytest.param("Indicator", id="upper-case"),
    pytest.param("1ndicator", id="starts-with-digit"),
    pytest.param("ip", id="two-characters"),
    pytest.param("x--acme", id="double-hyphen"),
    pytest.param("indicator-", id="ends-with-hyphen"),
    pytest.param("x_acme", id="underscore"),
    pytest.param("\uff49ndicator", id="fullwidth-letter"),
    pytest.param("ipv\u0664-addr", id="arabic-indic-digit"),
]


def _client() -> TaxiiClient:
    # Built, never used: constructing a Poller sends nothing.
    return TaxiiClient("http://127.0.0.1:9/api1/")


def _type_basics(bad: str) -> None:
    with pytest.raises(InvalidObject) as caught:
        check_basics(_indicator(type=bad, id=f"{bad}--{U}"))
    assert caught.value.problem.code == Code.INVALID_TYPE_NAME


def _type_taxii(bad: str) -> None:
    with pytest.raises(BadRequest, match=r"match\[type\]"):
        parse_query(MultiDict([("match[type]", bad)]))


def _type_poller(bad: str, tmp_path: Path) -> None:
    with _client() as client, pytest.raises(ClientError, match="--type"):
        Poller(client, "reports", tmp_path / "out.jsonl", types=[bad])


TYPE_PLACES = [
    pytest.param(_type_basics, id="ingest-basics"),
    pytest.param(_type_taxii, id="taxii-match-type"),
    pytest.param(_type_poller, id="poll-types"),
]


@pytest.mark.parametrize("place", TYPE_PLACES)
@pytest.mark.parametrize("bad", BAD_TYPES)
def test_a_bad_type_name_is_refused_everywhere(place: Callable[..., None], bad: str, tmp_path: Path) -> None:
    if place is _type_poller:
        place(bad, tmp_path)
    else:
        place(bad)


# ---------------------------------------------------------------------------------------------
# Timestamps.

BAD_TIMESTAMPS = [
    pytest.param("\uff12\uff10\uff12\uff15-01-01T00:00:00.000Z", id="fullwidth-digits"),
    pytest.param("\u0662\u0660\u0662\u0665-01-01T00:00:00.000Z", id="arabic-indic-digits"),
    pytest.param("\u00b2\u2070\u00b2\u2075-01-01T00:00:00.000Z", id="superscript-digits"),
    pytest.param("\u0968\u0966\u0968\u096b-01-01T00:00:00.000Z", id="devanagari-digits"),
    pytest.param("2025-01-01T00:00:\uff10\uff10.000Z", id="fullwidth-seconds"),
    pytest.param("2025-02-29T00:00:00.000Z", id="29-february-2025"),
    pytest.param("2100-02-29T00:00:00.000Z", id="29-february-2100"),
    pytest.param("2025-04-31T00:00:00.000Z", id="31-april"),
    pytest.param("2025-13-01T00:00:00.000Z", id="month-13"),
    pytest.param("2025-01-01T24:00:00.000Z", id="hour-24"),
    pytest.param("2016-12-31T23:59:60.000Z", id="leap-second"),
    pytest.param("yesterday", id="words"),
]


def _ts_basics(bad: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidObject) as caught:
        check_basics(_indicator(modified=bad))
    assert (caught.value.problem.code, caught.value.problem.property) == (Code.INVALID_TIMESTAMP, "modified")


def _ts_validator(bad: str, tmp_path: Path) -> None:
    problems = validate(_indicator(valid_from=bad))
    assert [(p.code, p.property) for p in problems] == [(Code.INVALID_TIMESTAMP, "valid_from")]


def _ts_extension(bad: str, tmp_path: Path) -> None:
    problems = validate(_account(first_abuse_seen=bad))
    assert [p.code for p in problems] == [Code.INVALID_TIMESTAMP]
    assert problems[0].property.endswith(".first_abuse_seen")


def _ts_added_after(bad: str, tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match="added_after"):
        parse_query(MultiDict([("added_after", bad)]))


def _ts_match_version(bad: str, tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match=r"match\[version\]"):
        parse_query(MultiDict([("match[version]", bad)]))


def _ts_poller_since(bad: str, tmp_path: Path) -> None:
    with _client() as client, pytest.raises(ClientError, match="--since"):
        Poller(client, "reports", tmp_path / "out.jsonl", since=bad)


def _ts_signed(bad: str, tmp_path: Path) -> None:
    signed = copy.deepcopy(sign_object(_indicator(), SigningKey.generate(), IDENTITY))
    entry = signed["extensions"][SIGNATURE_EXTENSION_ID]["signatures"][0]
    entry["signed"] = bad
    with pytest.raises(SignatureFormatError, match="signed"):
        signatures_of(signed)


def _ts_sighting(bad: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidReportFacts, match="first_seen"):
        build_sighting(INDICATOR, IDENTITY, first_seen=bad)


def _ts_report_facts(bad: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidReportFacts) as caught:
        ReportFacts.from_mapping({**FACTS, "account_created": bad})
    assert "account_created" in {p.property for p in caught.value.found}


TIMESTAMP_PLACES = [
    pytest.param(_ts_basics, id="ingest-basics"),
    pytest.param(_ts_validator, id="validator-valid_from"),
    pytest.param(_ts_extension, id="validator-iaas-first_abuse_seen"),
    pytest.param(_ts_added_after, id="taxii-added_after"),
    pytest.param(_ts_match_version, id="taxii-match-version"),
    pytest.param(_ts_poller_since, id="poll-since"),
    pytest.param(_ts_signed, id="signing-signed"),
    pytest.param(_ts_sighting, id="sighting-first_seen"),
    pytest.param(_ts_report_facts, id="report-facts-account_created"),
]


@pytest.mark.parametrize("place", TIMESTAMP_PLACES)
@pytest.mark.parametrize("bad", BAD_TIMESTAMPS)
def test_a_bad_timestamp_is_refused_everywhere(place: Callable[[str, Path], None], bad: str,
                                               tmp_path: Path) -> None:
    place(bad, tmp_path)
