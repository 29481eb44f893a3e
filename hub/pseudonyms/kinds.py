"""The kinds of personal value the hub pseudonymises, and the form of a pseudonym: one list,
used by normalisation, the keyring, the IaaS-account extension and the personal-data scan."""

from __future__ import annotations

import re

from hub.common.ids import is_stix_id

#: The personal values the IaaS-account extension carries as pseudonyms (``pseudonyms.<kind>``).
PERSONAL_KINDS: tuple[str, ...] = ("email", "phone", "payment_instrument", "name", "address")

#: Every kind that can be pseudonymised: the personal kinds plus the provider's account id
#: (``provider_account_pseudonym``), which is scoped by the provider: see
#: :func:`provider_account_value`.
PSEUDONYM_KINDS: tuple[str, ...] = PERSONAL_KINDS + ("provider_account",)

#: A keyed pseudonym made by the hub from a value it saw: HMAC-SHA256 under the hub secret of a
#: key version. Form: ``hmac-sha256:<key version>:<64 lower-case hex digits>``.
HMAC_PSEUDONYM_RE = re.compile(r"^hmac-sha256:[A-Za-z0-9_.-]{1,32}:[0-9a-f]{64}\Z")

#: An oblivious pseudonym (RFC 9497 POPRF, :mod:`hub.pseudonyms.oprf`), made by a provider from
#: the hub's blind evaluation: ``poprf-r255:<key version>:<128 lower-case hex digits>``.
POPRF_PSEUDONYM_RE = re.compile(r"^poprf-r255:[A-Za-z0-9_.-]{1,32}:[0-9a-f]{128}\Z")

#: A pseudonym of either form. Both stay valid: reports filed before the hub offered oblivious
#: pseudonyms keep their ``hmac-sha256:`` ones, and those keep correlating with each other.
PSEUDONYM_RE = re.compile(r"^(?:hmac-sha256:[A-Za-z0-9_.-]{1,32}:[0-9a-f]{64}"
                          r"|poprf-r255:[A-Za-z0-9_.-]{1,32}:[0-9a-f]{128})\Z")

#: How a pseudonym is written, for messages.
PSEUDONYM_FORMS = ("'poprf-r255:<key version>:<128 hex>' or "
                   "'hmac-sha256:<key version>:<64 hex>'")


def pseudonym_version(pseudonym: str) -> tuple[str, str] | None:
    """``(scheme, key version)`` of a pseudonym of either form, or None if it is not one."""
    if not PSEUDONYM_RE.match(pseudonym):
        return None
    scheme, version, _ = pseudonym.split(":", 2)
    return scheme, version


def provider_account_value(provider_identity_id: str, account_id: str) -> str:
    """What is pseudonymised for a provider's account id: ``<provider identity>/<account id>``.

    Account ids are only unique within one provider, so two providers' account "42" must not
    correlate: the provider's STIX identity id scopes the id before it is pseudonymised.
    """
    return f"{provider_identity_id}/{account_id.strip()}"


def scoped_account_value(value: str, provider: str | None = None) -> str:
    """The provider-scoped form of an account id, as :func:`provider_account_value` makes it.

    With ``provider`` (an identity id), ``value`` is the bare account id. Without it, ``value``
    must already be scoped, ``<identity id>/<account id>``: a bare id would give a pseudonym that
    no report carries. Raises :class:`ValueError` naming the rule, never the value.
    """
    if provider is not None:
        if not is_stix_id(provider, "identity"):
            raise ValueError("the provider must be an identity id (identity--<uuid>)")
        if not value.strip():
            raise ValueError("the account id is empty")
        return provider_account_value(provider, value)
    identity, sep, account = value.strip().partition("/")
    if not sep or not is_stix_id(identity, "identity") or not account.strip():
        raise ValueError("a provider account id is scoped by its provider: give the provider's "
                         "identity id, or write the value as <identity id>/<account id>")
    return provider_account_value(identity, account)
