"""Pseudonyms of personal values, in one package: the kinds, their normalisation, the keyed
pseudonym, and the keyring file.

Account holders' personal data (e-mail, phone, payment instrument, name, address) never leaves a
provider in clear: what is shared is a keyed pseudonym (:mod:`hub.pseudonyms.keyring`) of the
value normalised by :func:`normalise`, the contract both sides of a match must follow. It imports
only :mod:`hub.common`, so a provider's tools normalise exactly as the hub does.
"""

from __future__ import annotations

from hub.pseudonyms.keyfile import KEYRING_FILE, KeyringFile, create_keyring_file
from hub.pseudonyms.keyring import Pseudonymiser, PseudonymKeyring, generate_secret
from hub.pseudonyms.kinds import (
    PERSONAL_KINDS,
    PSEUDONYM_KINDS,
    PSEUDONYM_RE,
    provider_account_value,
    scoped_account_value,
)
from hub.pseudonyms.normalise import (
    InvalidPersonalValue,
    iban_is_valid,
    luhn_is_valid,
    normalise,
)

__all__ = [
    "KEYRING_FILE",
    "PERSONAL_KINDS",
    "PSEUDONYM_KINDS",
    "PSEUDONYM_RE",
    "InvalidPersonalValue",
    "KeyringFile",
    "PseudonymKeyring",
    "Pseudonymiser",
    "create_keyring_file",
    "generate_secret",
    "iban_is_valid",
    "luhn_is_valid",
    "normalise",
    "provider_account_value",
    "scoped_account_value",
]
