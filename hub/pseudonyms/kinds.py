"""The kinds of personal value the hub pseudonymises, and the form of a pseudonym: one list,
used by normalisation, the keyring, the IaaS-account extension and the personal-data scan."""

from __future__ import annotations

import re

#: The personal values the IaaS-account extension carries as pseudonyms (``pseudonyms.<kind>``).
PERSONAL_KINDS: tuple[str, ...] = ("email", "phone", "payment_instrument", "name", "address")

#: Every kind that can be pseudonymised: the personal kinds plus the provider's account id
#: (``provider_account_pseudonym``), which is scoped by the provider: see
#: :func:`provider_account_value`.
PSEUDONYM_KINDS: tuple[str, ...] = PERSONAL_KINDS + ("provider_account",)

#: A keyed pseudonym of a personal value: HMAC-SHA256 under the hub secret of a key version.
#: Form: ``hmac-sha256:<key version>:<64 lower-case hex digits>``.
PSEUDONYM_RE = re.compile(r"^hmac-sha256:[A-Za-z0-9_.-]{1,32}:[0-9a-f]{64}$")


def provider_account_value(provider_identity_id: str, account_id: str) -> str:
    """What is pseudonymised for a provider's account id: ``<provider identity>/<account id>``.

    Account ids are only unique within one provider, so two providers' account "42" must not
    correlate: the provider's STIX identity id scopes the id before it is pseudonymised.
    """
    return f"{provider_identity_id}/{account_id.strip()}"
