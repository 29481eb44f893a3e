"""Client certificates: what the hub keeps of one (its SHA-256 fingerprint, subject and expiry),
and the party a certificate forwarded by the TLS-terminating proxy authenticates.

The proxy (nginx, ``deploy/nginx/abusehub.conf.template``) verifies the certificate against
the operator's client CA and forwards it, URL-escaped PEM, in :data:`CLIENT_CERT_HEADER`. nginx
offers only a SHA-1 fingerprint variable (``$ssl_client_fingerprint``), so the hub computes
the SHA-256 fingerprint itself from the forwarded certificate. The header is believed only from
the configured ``[server] trusted_proxies`` (:func:`hub.server.create_app` drops it from anyone
else).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from hub.common.errors import BadRequest
from hub.store.base import Store
from hub.store.records import Party

#: The request header the proxy puts the verified client certificate in (nginx:
#: ``$ssl_client_escaped_cert``); WSGI environ name ``HTTP_X_SSL_CLIENT_CERT``.
CLIENT_CERT_HEADER = "X-SSL-Client-Cert"
#: Longest forwarded certificate considered (URL-escaped PEM); real ones are a few kilobytes.
_MAX_HEADER = 32 * 1024


@dataclass(frozen=True)
class CertificateInfo:
    """What the hub keeps of a client certificate."""

    fingerprint: str  # SHA-256 of the DER encoding, lower-case hex
    subject: str  # RFC 4514 string
    not_after_us: int


def fingerprint_of(cert: x509.Certificate) -> str:
    """The SHA-256 fingerprint of ``cert`` (of its DER encoding), lower-case hex."""
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def read_certificate(data: bytes, name: str = "the file") -> CertificateInfo:
    """The certificate in ``data`` (PEM), described; :class:`BadRequest` naming ``name`` when it
    is not one, or when it also holds a private key (which must never be handed to the hub)."""
    if b"PRIVATE KEY-----" in data:
        raise BadRequest(f"{name} holds a private key: give the client certificate alone (PEM), "
                         "and keep the key with the client")
    try:
        cert = x509.load_pem_x509_certificate(data)
    except ValueError:
        raise BadRequest(f"{name} is not a PEM X.509 certificate "
                         "(expected '-----BEGIN CERTIFICATE-----')") from None
    not_after = cert.not_valid_after_utc
    return CertificateInfo(fingerprint=fingerprint_of(cert), subject=cert.subject.rfc4514_string(),
                           not_after_us=int(not_after.timestamp()) * 1_000_000)


def normalise_fingerprint(value: str) -> str:
    """A SHA-256 fingerprint as the hub stores it: 64 lower-case hex digits (colons and spaces
    allowed on input, as ``openssl x509 -fingerprint -sha256`` prints them)."""
    clean = value.replace(":", "").replace(" ", "").lower()
    if len(clean) != 64 or any(ch not in "0123456789abcdef" for ch in clean):
        raise BadRequest("a certificate fingerprint is the SHA-256 of the certificate: 64 hex digits "
                         "(see 'abusehub party cert list NAME')")
    return clean


def forwarded_fingerprint(header: str | None) -> str | None:
    """The SHA-256 fingerprint of the certificate a proxy forwarded in ``header`` (URL-escaped
    PEM), or None when there is none or it is not a certificate."""
    if not header or len(header) > _MAX_HEADER:
        return None
    try:
        cert = x509.load_pem_x509_certificate(unquote(header).encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None
    return fingerprint_of(cert)


def party_for_forwarded_certificate(store: Store, header: str | None) -> Party | None:
    """The active party whose registered certificate the proxy forwarded in ``header``
    (URL-escaped PEM), or None: no header, not a certificate, unknown, or its party disabled
    or removed. Call it only for requests from a trusted proxy."""
    fingerprint = forwarded_fingerprint(header)
    if fingerprint is None:
        return None
    return store.party_for_certificate(fingerprint)
