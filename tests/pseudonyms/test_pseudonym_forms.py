"""Both forms of pseudonym are accepted wherever one is recognised: the pattern, the IaaS-account
extension's checks, the personal-data scan and the extension's JSON schema; malformed ones are
refused with a message naming both forms."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from hub.client.reports import REPORT_TEMPLATE
from hub.pseudonyms import (
    HMAC_PSEUDONYM_RE,
    POPRF_PSEUDONYM_RE,
    PSEUDONYM_RE,
    PoprfKeyring,
    PseudonymKeyring,
    pseudonym_version,
)
from hub.pseudonyms.oprf import POPRF_PSEUDONYM_RE as CORE_POPRF_RE
from hub.pseudonyms.oprf import format_pseudonym, pseudonym_info, pseudonym_input
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from hub.stix.pii import scan_object
from hub.stix.report import ReportFacts, build_report
from hub.stix.validator import validate

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas/iaas-account/iaas-account.schema.json").read_text())

POPRF = "poprf-r255:k2:" + "ab" * 64
HMAC = "hmac-sha256:k1:" + "cd" * 32
BAD = ["poprf-r255:k2:" + "ab" * 32, "hmac-sha256:k1:" + "cd" * 64, "poprf-r255:k2:" + "AB" * 64,
       "poprf-r255::" + "ab" * 64, "sha256:k1:" + "cd" * 32, "poprf-r255:k:2:" + "ab" * 64]


class PoprfPseudonymiser:
    """Oblivious pseudonyms made with a keyring in clear (what the provider's finalize gives)."""

    def __init__(self) -> None:
        self.ring = PoprfKeyring({"k1": PoprfKeyring.generate_seed()}, "k1")

    def pseudonym(self, kind: str, value: str) -> str:
        out = self.ring.server("k1").evaluate_unblinded(pseudonym_input(kind, value), pseudonym_info(kind, "k1"))
        return format_pseudonym("k1", out)


def _account(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (account,) = [o for o in objects if o["type"] == "user-account"]
    return account


def _facts() -> ReportFacts:
    table = tomllib.loads(REPORT_TEMPLATE)
    table["provider_identity_id"] = "identity--5f2b7c1e-4c1a-4f43-9a57-0c6f4b3f8a11"
    return ReportFacts.from_mapping(table)


def test_the_patterns_accept_both_forms_and_nothing_else() -> None:
    schema_re = re.compile(SCHEMA["$defs"]["pseudonym"]["pattern"])
    for good in (POPRF, HMAC):
        assert PSEUDONYM_RE.match(good) and schema_re.match(good)
    assert POPRF_PSEUDONYM_RE.match(POPRF) and CORE_POPRF_RE.match(POPRF) and not HMAC_PSEUDONYM_RE.match(POPRF)
    assert HMAC_PSEUDONYM_RE.match(HMAC) and not POPRF_PSEUDONYM_RE.match(HMAC)
    for bad in BAD:
        assert not PSEUDONYM_RE.match(bad) and not schema_re.match(bad), bad
    assert pseudonym_version(POPRF) == ("poprf-r255", "k2") and pseudonym_version(HMAC) == ("hmac-sha256", "k1")
    assert pseudonym_version(BAD[0]) is None


@pytest.mark.parametrize("pseudonymiser", [PoprfPseudonymiser(), PseudonymKeyring({"k1": bytes(32)}, "k1")],
                         ids=["poprf", "hmac"])
def test_a_report_of_either_form_is_valid_and_carries_no_personal_data(pseudonymiser: Any) -> None:
    objects = build_report(_facts(), pseudonymiser)
    for obj in objects:
        assert validate(obj) == [] and scan_object(obj) == [], obj["id"]
    ext = _account(objects)["extensions"][IAAS_ACCOUNT_EXTENSION_ID]
    schema = {**SCHEMA["$defs"]["iaas_account_extension"], "$defs": SCHEMA["$defs"]}
    jsonschema.validate(ext, schema)


def test_a_malformed_pseudonym_is_refused_naming_both_forms() -> None:
    objects = build_report(_facts(), PoprfPseudonymiser())
    account = _account(objects)
    account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]["pseudonyms"]["email"] = BAD[0]
    problems = [str(p) for p in validate(account)]
    assert any("pseudonyms.email" in p and "poprf-r255:<key version>:<128 hex>" in p
               and "hmac-sha256:<key version>:<64 hex>" in p for p in problems), problems
    assert scan_object(account) != []


def test_a_pseudonym_followed_by_a_new_line_is_not_a_pseudonym() -> None:
    """'$' would match before a final new line: the patterns end at the end of the text, so a
    value with one is refused as the shipped schema (ECMA-262, where '$' is the end) refuses it."""
    for good in (POPRF, HMAC):
        for pattern in (PSEUDONYM_RE, POPRF_PSEUDONYM_RE, HMAC_PSEUDONYM_RE, CORE_POPRF_RE):
            assert not pattern.match(good + "\n")
    objects = build_report(_facts(), PoprfPseudonymiser())
    account = _account(objects)
    account["extensions"][IAAS_ACCOUNT_EXTENSION_ID]["pseudonyms"]["email"] = POPRF + "\n"
    assert any("pseudonyms.email" in str(p) for p in validate(account))
