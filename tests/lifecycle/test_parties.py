"""A party's lifecycle: disabled, enabled, removed; and its client certificates.

In-process, on every store backend: the real app (``seeded``) answers with the party's token
before and after each change, and the audit trail records each change.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
import pytest

from hub.common.errors import BadRequest, Conflict, NotFound
from hub.services.access.certificates import party_for_forwarded_certificate, read_certificate
from tests.factories import indicator
from tests.harness import HubUnderTest
from tests.lifecycle.pki import issue, make_ca

TAXII = "application/taxii+json;version=2.1"


def _status(h: HubUnderTest, party: str, alias: str = "reports") -> int:
    return h.http.get(h.collection_url(alias, "objects"), headers=h.auth(party)).status_code


def _audit(h: HubUnderTest, kind: str) -> list[Any]:
    return [r for r in h.hub.store.iter_audit() if r.kind == kind]


def _post(h: HubUnderTest, party: str, objects: list[dict[str, Any]], alias: str = "reports") -> Any:
    return h.http.post(h.collection_url(alias, "objects"), data=orjson.dumps({"objects": objects}),
                         headers={"Content-Type": TAXII, **h.auth(party)})


def test_disable_refuses_the_token_at_once_and_enable_accepts_it_again(seeded: HubUnderTest) -> None:
    h = seeded
    assert _status(h, "alice") == 200
    assert h.hub.admin.disable_party("alice") is True
    r = h.http.get(h.collection_url("reports", "objects"), headers=h.auth("alice"))
    assert r.status_code == 401
    assert _status(h, "bob") == 200  # nobody else is touched
    assert h.hub.admin.disable_party("alice") is False  # already disabled: nothing changes
    # A token issued while disabled is refused too: the party, not the token, is disabled.
    extra = h.hub.admin.issue_token("alice", "while-disabled")
    assert h.http.get(h.api + "/collections/", headers={"Authorization": f"Bearer {extra}"}).status_code == 401
    assert h.hub.admin.enable_party("alice") is True
    assert _status(h, "alice") == 200
    assert h.http.get(h.api + "/collections/", headers={"Authorization": f"Bearer {extra}"}).status_code == 200
    assert [r.party for r in _audit(h, "party.disable")] == ["alice"]
    assert [r.party for r in _audit(h, "party.enable")] == ["alice"]


def test_remove_keeps_what_the_party_submitted_and_its_name_taken(seeded: HubUnderTest) -> None:
    h = seeded
    sent = [indicator(), indicator()]
    assert _post(h, "alice", sent).json["success_count"] == 2
    removal = h.hub.admin.remove_party("alice")
    assert removal.tokens_revoked == 1 and removal.objects_kept == 2
    assert _status(h, "alice") == 401
    # Its objects stay, and others still read them.
    body = h.http.get(h.collection_url("reports", "objects"), headers=h.auth("bob")).json
    assert {o["id"] for o in body["objects"]} == {o["id"] for o in sent}
    (record,) = _audit(h, "party.remove")
    assert record.party == "alice" and record.data["objects_kept"] == 2
    # The name is not silently given to someone else, and nothing more is given to it.
    with pytest.raises(Conflict, match="was removed"):
        h.hub.admin.add_party("alice", "provider")
    with pytest.raises(Conflict, match="was removed"):
        h.hub.admin.issue_token("alice")
    with pytest.raises(Conflict, match="was removed"):
        h.hub.admin.grant("alice", h.collections["reports"], True, False)
    with pytest.raises(Conflict, match="was removed"):
        h.hub.admin.enable_party("alice")
    assert h.hub.admin.list_grants("alice") == []
    assert h.hub.admin.state(h.hub.admin.party("alice")).removed_us is not None


def test_a_removed_party_cannot_authenticate_with_its_certificate(seeded: HubUnderTest) -> None:
    h = seeded
    ca = make_ca()
    client = issue(ca, "alice client")
    h.hub.admin.add_certificate("alice", client.cert_pem)
    header = quote(client.cert_pem.decode())
    assert party_for_forwarded_certificate(h.hub.store, header).name == "alice"
    h.hub.admin.disable_party("alice")
    assert party_for_forwarded_certificate(h.hub.store, header) is None
    h.hub.admin.enable_party("alice")
    assert party_for_forwarded_certificate(h.hub.store, header).name == "alice"
    h.hub.admin.remove_party("alice")
    assert party_for_forwarded_certificate(h.hub.store, header) is None
    assert h.hub.admin.list_certificates("alice") == []


def test_certificates_are_kept_by_fingerprint_subject_and_expiry(seeded: HubUnderTest) -> None:
    h = seeded
    ca = make_ca()
    first, second = issue(ca, "alice one"), issue(ca, "alice two", days=3)
    rec = h.hub.admin.add_certificate("alice", first.cert_pem)
    assert rec.fingerprint == first.fingerprint and "CN=alice one" in rec.subject
    assert rec.not_after_us == int(first.cert.not_valid_after_utc.timestamp()) * 1_000_000
    h.hub.admin.add_certificate("alice", second.cert_pem)
    assert [c.fingerprint for c in h.hub.admin.list_certificates("alice")] == [first.fingerprint, second.fingerprint]
    with pytest.raises(Conflict, match="already registered"):
        h.hub.admin.add_certificate("bob", first.cert_pem)  # one certificate, one party
    # Removal by fingerprint, as 'openssl x509 -fingerprint -sha256' prints it (colons, capitals).
    colons = ":".join(first.fingerprint[i:i + 2] for i in range(0, 64, 2)).upper()
    h.hub.admin.remove_certificate("alice", colons)
    assert [c.fingerprint for c in h.hub.admin.list_certificates("alice")] == [second.fingerprint]
    assert party_for_forwarded_certificate(h.hub.store, quote(first.cert_pem.decode())) is None
    with pytest.raises(NotFound):
        h.hub.admin.remove_certificate("alice", first.fingerprint)
    with pytest.raises(BadRequest, match="64 hex digits"):
        h.hub.admin.remove_certificate("alice", "not-a-fingerprint")
    kinds = [r.kind for r in h.hub.store.iter_audit() if r.kind.startswith("party.cert")]
    assert kinds == ["party.cert.add", "party.cert.add", "party.cert.remove"]


@pytest.mark.parametrize("data, message", [
    (b"hello\n", "is not a PEM X.509 certificate"),
    (b"", "is not a PEM X.509 certificate"),
    (b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", "is not a PEM X.509 certificate"),
])
def test_a_file_that_is_not_a_certificate_is_refused_with_one_line(data: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message) as err:
        read_certificate(data, "client.pem")
    assert "client.pem" in str(err.value) and "\n" not in str(err.value)


def test_a_certificate_file_holding_its_private_key_is_refused() -> None:
    client = issue(make_ca(), "careless")
    with pytest.raises(BadRequest, match="private key"):
        read_certificate(client.cert_pem + client.key_pem, "bundle.pem")


def test_a_forwarded_header_that_is_not_a_registered_certificate_names_nobody(seeded: HubUnderTest) -> None:
    unregistered = issue(make_ca(), "stranger")
    for header in (None, "", "garbage", quote("-----BEGIN CERTIFICATE-----\nxx\n"), "%" * 40000,
                   quote(unregistered.cert_pem.decode())):
        assert party_for_forwarded_certificate(seeded.hub.store, header) is None, header

def test_an_expired_certificate_is_refused(seeded: HubUnderTest) -> None:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "old")])
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    with pytest.raises(BadRequest, match="expired at 2020-01-02"):
        seeded.hub.admin.add_certificate("alice", cert.public_bytes(Encoding.PEM), "old.pem")
    assert seeded.hub.admin.list_certificates("alice") == []
