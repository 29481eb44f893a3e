"""Normalisation of personal values: the contract that makes two providers' pseudonyms match.

Account holders' personal data (e-mail, phone, payment instrument, name, address) never leaves a
provider in clear. What is shared is ``hmac-sha256:<key version>:<hex>``, the HMAC-SHA256 of
``kind + "\\x00" + normalise(kind, value)`` under a secret key of the hub. Two providers defrauded
with the same card therefore publish the same pseudonym, while nobody without the key can test a
guess against it.

Matching only works if both sides write a value the same way, so :func:`normalise` is the
contract: every rule it applies is part of the pseudonym format, and changing one is a breaking
change that needs a new key version (old pseudonyms would silently stop matching).

Nothing in this module ever puts a raw personal value into an exception message or a ``repr``:
errors name the *kind* only (they end up in logs, TAXII status resources and CLI output).
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from hub.common.errors import BadRequest
from hub.pseudonyms.kinds import PSEUDONYM_KINDS

__all__ = ["InvalidPersonalValue", "iban_is_valid", "luhn_is_valid", "normalise"]

# A deliberately plain address check: one '@', no whitespace, a dotted domain of LDH labels.
# Quoted local parts and address literals are not account e-mail addresses in practice.
# \Z, not $: "$" would also match before a final newline and let one into the normalised form.
_EMAIL_RE = re.compile(
    r"^[^@\s\"(),:;<>\[\]\\]{1,64}@"
    r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}\Z"
)
_IBAN_SHAPE_RE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_CARD_SEPARATORS_RE = re.compile(r"[\s-]+")
_WHITESPACE_RE = re.compile(r"\s+")
# Apostrophes vanish ("O'Brien" == "OBrien"); all other punctuation separates words
# ("12 Main St.,Springfield" == "12 main st springfield").
_APOSTROPHES = str.maketrans("", "", "'\u2018\u2019\u02bc\u0060\u00b4")


class InvalidPersonalValue(BadRequest, ValueError):
    """A personal value could not be normalised.

    The message names the kind and the rule that failed, never the value itself.
    """

    def __init__(self, kind: str, problem: str) -> None:
        super().__init__(f"{kind}: {problem}")
        self.kind = kind


def luhn_is_valid(digits: str) -> bool:
    """True if a string of decimal digits passes the Luhn (mod 10) check."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_is_valid(iban: str) -> bool:
    """True if an upper-case IBAN without spaces has a valid shape and ISO 13616 mod-97 check."""
    if not _IBAN_SHAPE_RE.match(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    # Letters count as two digits: A=10 ... Z=35.
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


def _normalise_email(value: str) -> str:
    # The whole address is lower-cased. RFC 5321 lets the local part be case-sensitive, but no
    # mainstream mailbox provider treats it so, and a provider's sign-up form rarely preserves
    # case reliably; matching "Alice@X" with "alice@x" is what analysts expect.
    #
    # A "+tag" in the local part is KEPT. Sub-addressing is a convention of some mail systems
    # only (others use "-" or nothing at all), so stripping it would merge distinct mailboxes
    # on some domains and make pseudonyms depend on guesses about foreign mail servers. Matching
    # stays exact and predictable; correlating tagged variants is an analyst's decision.
    text = unicodedata.normalize("NFC", value.strip()).lower()
    local, sep, domain = text.rpartition("@")
    if not sep or not local:
        raise InvalidPersonalValue("email", "not an e-mail address (expected local@domain)")
    domain = domain.rstrip(".")
    if not domain.isascii():
        # Internationalised domains are compared in their ASCII (punycode) form, so that
        # "bücher.example" and "xn--bcher-kva.example" give the same pseudonym.
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidPersonalValue("email", "the domain is not a valid domain name") from None
    text = f"{local}@{domain}"
    if not _EMAIL_RE.match(text):
        raise InvalidPersonalValue("email", "not an e-mail address (expected local@domain)")
    return text


def _normalise_phone(value: str, default_region: str | None) -> str:
    try:
        number = phonenumbers.parse(value.strip(), default_region)
    except phonenumbers.NumberParseException:
        # The library's message can quote the input: do not chain it.
        raise InvalidPersonalValue(
            "phone",
            "not a phone number (give it in international form +<country code>..., "
            "or a default region)",
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPersonalValue("phone", "not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _normalise_payment_instrument(value: str) -> str:
    # NFKC first, so full-width digits and letters count as their ASCII forms.
    compact = _CARD_SEPARATORS_RE.sub("", unicodedata.normalize("NFKC", value)).upper()
    if compact.isascii() and compact.isdigit():
        if not 12 <= len(compact) <= 19:
            raise InvalidPersonalValue(
                "payment_instrument", "a card number must have 12 to 19 digits"
            )
        if not luhn_is_valid(compact):
            raise InvalidPersonalValue(
                "payment_instrument", "not a valid card number (Luhn check failed)"
            )
        return compact
    if compact[:2].isalpha() and compact[2:4].isdigit():
        if not iban_is_valid(compact):
            raise InvalidPersonalValue(
                "payment_instrument", "not a valid IBAN (shape or mod-97 check failed)"
            )
        return compact
    raise InvalidPersonalValue(
        "payment_instrument", "neither a card number nor an IBAN"
    )


def _normalise_text(kind: str, value: str) -> str:
    text = unicodedata.normalize("NFKC", value).casefold().translate(_APOSTROPHES)
    # Punctuation (Unicode categories P*) becomes a word separator.
    text = "".join(" " if unicodedata.category(ch)[0] == "P" else ch for ch in text)
    text = _WHITESPACE_RE.sub(" ", text).strip()
    if not text:
        raise InvalidPersonalValue(kind, "empty after normalisation")
    return text


def normalise(kind: str, value: str, *, default_region: str | None = None) -> str:
    """Return the canonical form of a personal value, the input of its pseudonym.

    ``kind`` is one of :data:`PSEUDONYM_KINDS`:

    - ``email``: stripped, lower-cased as a whole (``+tag`` kept), IDN domain in punycode;
    - ``phone``: E.164 (``+14155552671``); numbers without ``+`` are read in ``default_region``
      (an ISO 3166 alpha-2 code); unparseable or invalid numbers are refused;
    - ``payment_instrument``: a card number as digits only (12-19 digits, Luhn-valid), or an
      IBAN upper-case without spaces (mod-97 valid); anything else is refused;
    - ``name``, ``address``: Unicode NFKC, case-folded, apostrophes dropped, other punctuation
      turned into spaces, whitespace collapsed;
    - ``provider_account``: stripped only (the builder scopes it by provider).

    The function is idempotent. Raises :class:`InvalidPersonalValue` (a ``ValueError``) naming
    the kind, never the value.
    """
    if not isinstance(value, str):
        raise InvalidPersonalValue(kind, f"must be a string, got {type(value).__name__}")
    if kind == "email":
        return _normalise_email(value)
    if kind == "phone":
        return _normalise_phone(value, default_region)
    if kind == "payment_instrument":
        return _normalise_payment_instrument(value)
    if kind in ("name", "address"):
        return _normalise_text(kind, value)
    if kind == "provider_account":
        text = value.strip()
        if not text:
            raise InvalidPersonalValue(kind, "empty")
        return text
    raise ValueError(f"unknown personal value kind {kind!r}; expected one of {PSEUDONYM_KINDS}")
