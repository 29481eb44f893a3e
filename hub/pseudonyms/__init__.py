"""Pseudonyms of personal values, in one package: the kinds, their normalisation, the keyed
pseudonyms, and the keyring file.

Account holders' personal data (e-mail, phone, payment instrument, name, address) never leaves a
provider in clear: what is shared is a keyed pseudonym of the value normalised by
:func:`normalise`, the contract both sides of a match must follow. The oblivious form
(``poprf-r255:``, :mod:`hub.pseudonyms.oprf`) is made by the provider from the hub's blind
evaluation, so the hub never sees the value; the older form (``hmac-sha256:``,
:mod:`hub.pseudonyms.keyring`) is made by the hub from the value. It imports only
:mod:`hub.common`, so a provider's tools normalise exactly as the hub does.
"""

from __future__ import annotations

from hub.pseudonyms.keyfile import KEYRING_FILE, KeyringFile, create_keyring_file
from hub.pseudonyms.keyring import Pseudonymiser, PseudonymKeyring, generate_secret
from hub.pseudonyms.kinds import (
    HMAC_PSEUDONYM_RE,
    PERSONAL_KINDS,
    POPRF_PSEUDONYM_RE,
    PSEUDONYM_FORMS,
    PSEUDONYM_KINDS,
    PSEUDONYM_RE,
    provider_account_value,
    pseudonym_version,
    scoped_account_value,
)
from hub.pseudonyms.normalise import (
    InvalidPersonalValue,
    iban_is_valid,
    luhn_is_valid,
    normalise,
)
from hub.pseudonyms.oprf import (
    MAX_BATCH_SIZE,
    InvalidElement,
    InvalidOprfInput,
    PoprfKeyring,
    PseudonymBatch,
    VerifyError,
    pseudonym_info,
)

__all__ = [
    "HMAC_PSEUDONYM_RE",
    "KEYRING_FILE",
    "MAX_BATCH_SIZE",
    "PERSONAL_KINDS",
    "POPRF_PSEUDONYM_RE",
    "PSEUDONYM_FORMS",
    "PSEUDONYM_KINDS",
    "PSEUDONYM_RE",
    "InvalidElement",
    "InvalidOprfInput",
    "InvalidPersonalValue",
    "KeyringFile",
    "PoprfKeyring",
    "PseudonymBatch",
    "VerifyError",
    "PseudonymKeyring",
    "Pseudonymiser",
    "create_keyring_file",
    "generate_secret",
    "iban_is_valid",
    "luhn_is_valid",
    "normalise",
    "provider_account_value",
    "pseudonym_info",
    "pseudonym_version",
    "scoped_account_value",
]
