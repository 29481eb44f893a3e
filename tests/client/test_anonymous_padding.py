"""An anonymous report's pseudonym request does not fingerprint the report (docs/ANONYMITY.md).

The provider's tool pseudonymises an anonymous report's values through the party's
authenticated ``POST pseudonyms/evaluate`` just before filing, and the hub audits that request
with its counts per kind. Two anonymous reports with different personal values (one value; three
values of three kinds) are filed through the real client and the TAXII app of a hub that accepts
anonymous filings: each made ONE evaluation request, and the audit records of the two carry the
same counts per kind, every kind padded to the same bucket. The published reports still carry
the pseudonyms of their own values, not of the dummies.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hub.anonymity.filing import ANONYMOUS_SCOPE
from hub.client.anonymous import (
    FIRST_BUCKET,
    PADDED_KINDS,
    _bucket_for,
    _padded_values,
    file_anonymous_report,
    prepare_anonymous_report,
)
from hub.pseudonyms import normalise, provider_account_value
from tests.factories import report_facts
from tests.services.anonymity.conftest import build_anon_hub

ONE = {"email": "holder@example.com"}
THREE = {"email": "other.holder@example.org", "phone": "+1 415 555 2671", "payment_instrument": "4111 1111 1111 1111"}


def _evaluations(hut: Any, party: str) -> list[dict[str, Any]]:
    hut.hub.audit.flush()
    return [r.data for r in hut.hub.store.iter_audit()
            if r.data.get("endpoint") == "pseudonyms/evaluate" and r.party == party]


def _file(hut: Any, party: str, account: str, personal: dict[str, str]) -> list[dict[str, Any]]:
    client = hut.client(party)
    facts = report_facts(hut.identities[party], account, personal=personal)
    prepared = prepare_anonymous_report(client, facts, hut.keys[party], hut.identities[party])
    result = file_anonymous_report(client, hut.collections["reports"], prepared)
    reader = hut.client("gov")
    objects = [o.data for page in reader.pages(hut.collections["reports"]) for o in page.objects]
    assert any(o["id"] == result.report_id for o in objects)
    return objects


def test_two_anonymous_reports_make_requests_the_audit_cannot_tell_apart(backend: str, tmp_path: Path) -> None:
    hut, _oversight = build_anon_hub(tmp_path / "home", backend)
    with hut:
        _file(hut, "alice", "acct-one", ONE)
        objects = _file(hut, "alice", "acct-three", THREE)
        rows = _evaluations(hut, "alice")
        # One request per report, and the two carry the same counts per kind.
        assert len(rows) == 2
        assert rows[0]["kinds"] == rows[1]["kinds"] == {k: FIRST_BUCKET for k in PADDED_KINDS}
        assert rows[0]["count"] == rows[1]["count"] == FIRST_BUCKET * len(PADDED_KINDS)

        # The report carries its own values' pseudonyms (in the anonymous scope), not a dummy's.
        wanted = [(k, normalise(k, v)) for k, v in THREE.items()]
        wanted.append(("provider_account", provider_account_value(ANONYMOUS_SCOPE, "acct-three")))
        expected = hut.client("bob").pseudonymise(wanted)
        text = str(objects)
        assert all(p in text for p in expected)


def test_padding_fills_every_kind_to_one_bucket_with_fresh_values() -> None:
    values = [("provider_account", provider_account_value(ANONYMOUS_SCOPE, "a")), ("email", "x@example.com")]
    padded, where = _padded_values(values)
    assert Counter(k for k, _ in padded) == {k: FIRST_BUCKET for k in PADDED_KINDS}
    # Grouped by kind, in the fixed order, whatever the report holds.
    assert [k for k, _ in padded] == [k for k in PADDED_KINDS for _ in range(FIRST_BUCKET)]
    assert [padded[i] for i in where] == values
    again, _ = _padded_values(values)
    dummies = set(padded) - set(values)
    assert len(dummies) == len(padded) - len(values) and not dummies & set(again)
    for kind, value in dummies:
        assert normalise(kind, value) == value
    assert _bucket_for([("email", f"u{i}@example.com") for i in range(5)]) == 2 * FIRST_BUCKET
    assert _bucket_for([]) == FIRST_BUCKET


def test_a_kind_without_padding_is_refused_by_name() -> None:
    from hub.client.errors import ClientError
    with pytest.raises(ClientError, match="no padding for the pseudonym kind nickname"):
        _padded_values([("nickname", "x")])
