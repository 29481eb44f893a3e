"""Detection of obvious personal data in STIX objects, run on every ingested object.

The hub refuses personal data of account holders in clear (ARCHITECTURE.md: pseudonyms only).
This module finds the *obvious* cases: e-mail addresses, phone numbers, payment card numbers and
IBANs in free text, an ``email-addr`` object at all, and raw values where the IaaS-account
extension wants pseudonyms. It cannot recognise names or postal addresses in prose; the builder
(:mod:`hub.stix.report`) is what keeps those out.

Every problem (:class:`~hub.common.problems.Problem`, code ``personal-data``) names the property
and the *kind* of value found, never the value: reasons are returned to the submitter in a TAXII
status resource and may be logged.

Digits of other scripts (``"４１５"``, ``"٤١١١"``) are read as the ASCII digits they stand for
before anything is searched, so a number written in them is found like any other; the patterns
below then spell ``[0-9]``.

Cost: :func:`find_pii` first checks for an ``@`` or at least seven digits, which almost all
text of a STIX object lacks, before running any regular expression. The phone matcher (about
0.1 ms a call) runs only where a run of digits is long enough to be a valid number (ten digits
for a North American number without "+", see :func:`_could_be_phone`); the unit tests hold that
pre-filter to the matcher's own verdicts over every region's example numbers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from phonenumbers import Leniency, PhoneNumberMatcher

from hub.common.problems import Code, Problem
from hub.pseudonyms import PERSONAL_KINDS, PSEUDONYM_RE, iban_is_valid, luhn_is_valid
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID

__all__ = ["EMAIL", "PHONE", "PAYMENT_CARD", "IBAN", "find_pii", "scan_object"]

#: Descriptions returned by :func:`find_pii` (safe to show: they never contain the value).
EMAIL = "an e-mail address"
PHONE = "a phone number"
PAYMENT_CARD = "a payment card number"
IBAN = "an IBAN"

_ORDER = (EMAIL, PHONE, PAYMENT_CARD, IBAN)
_DIGITS = "0123456789"
_MIN_DIGITS = 7  # the shortest phone number worth reporting has 7 digits

_EMAIL_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,61}[A-Za-z0-9]"
)

# Structured tokens full of digits that are not personal data. They are blanked out (with a
# character that ends any phone or card candidate) before the number searches run.
_STRUCTURED_RE = re.compile(
    r"""
      [0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}  # UUID, STIX id
    | [0-9]{4}-[0-9]{2}-[0-9]{2}                                   # ISO date ...
      (?:[T\ ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?  # ... and time
    | (?<![0-9A-Za-z])(?=[0-9A-Fa-f]*[A-Fa-f])[0-9A-Fa-f]{16,}(?![0-9A-Za-z])  # hex digest
    | (?<![0-9A-Za-z:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}         # IPv6, MAC, hh:mm:ss
      (?:/[0-9]{1,3})?
    | (?<![0-9.])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?::[0-9]{1,5})?(?:/[0-9]{1,2})?(?![0-9.])  # IPv4[:port][/len]
    """,
    re.VERBOSE,
)
# Dotted numbers: versions ("10.0.19041.1234", "2.10.3") are blanked, but a North American
# phone number written "415.555.2671" (three groups of 3+ digits) is not.
_DOTTED_RE = re.compile(r"(?<![0-9.])[0-9]+(?:\.[0-9]+){2,}(?![0-9.])")
_MASK = ";"

_CARD_RE = re.compile(r"(?<![0-9A-Za-z])[2-6][0-9]{3}(?:[ -]?[0-9]){9,15}(?![0-9A-Za-z])")
_IBAN_RE = re.compile(
    r"(?<![0-9A-Za-z])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![0-9A-Za-z])"
)
_SEP_RE = re.compile(r"[ -]")

# What the phone matcher lets stand between the digits of one number (phonenumbers'
# _VALID_PUNCTUATION, at most four in a row), so that a run found here holds every candidate
# the matcher could find inside it.
_PHONE_PUNCTUATION = (
    "-x\u2010-\u2015\u2212\u30FC\uFF0D-\uFF0F \u00A0\u00AD\u200B\u2060\u3000()"
    "\uFF08\uFF09\uFF3B\uFF3D.\\[\\]/~\u2053\u223C\uFF5E"
)
_PHONE_RUN_RE = re.compile(rf"[0-9](?:[{_PHONE_PUNCTUATION}]{{0,4}}[0-9])*")
_NOT_DIGIT_RE = re.compile(r"[^0-9]")
# A decimal digit of another script: in a str pattern \d is any Unicode decimal digit (Nd).
_OTHER_DIGIT_RE = re.compile(r"(?![0-9])\d")


def _ascii_digit(match: re.Match[str]) -> str:
    return str(unicodedata.decimal(match.group(0)))


def _with_ascii_digits(text: str) -> str:
    """``text`` with every decimal digit of another script replaced by its ASCII digit."""
    return text if text.isascii() else _OTHER_DIGIT_RE.sub(_ascii_digit, text)
_PLUS_CHARS = ("+", "\uFF0B")


def _blank(match: re.Match[str]) -> str:
    return _MASK * len(match.group(0))


def _blank_versions(match: re.Match[str]) -> str:
    groups = match.group(0).split(".")
    if len(groups) >= 4 or any(len(g) <= 2 for g in groups):
        return _MASK * len(match.group(0))
    return match.group(0)


def _is_card(candidate: str) -> bool:
    # The whole candidate, or a prefix ending at a separator (a card followed by other digits).
    digits = _SEP_RE.sub("", candidate)
    if 13 <= len(digits) <= 19 and luhn_is_valid(digits):
        return True
    for m in _SEP_RE.finditer(candidate):
        prefix = _SEP_RE.sub("", candidate[: m.start()])
        if 13 <= len(prefix) <= 19 and luhn_is_valid(prefix):
            return True
    return False


def _is_iban(candidate: str) -> bool:
    parts = candidate.split(" ")
    while len(parts) >= 1:
        if iban_is_valid("".join(parts)):
            return True
        if len(parts) <= 3:
            return False
        parts.pop()
    return False


def _could_be_phone(text: str) -> bool:
    """False only where no valid phone number can be in ``text`` (region US, or any "+" number).

    The shortest valid numbers: 6 digits after a "+" (+43 and a four-digit Austrian number);
    10 as North American national numbers, except Canada's seven-digit 310-xxxx service
    numbers; 9 from the US international prefix "011". A run that passes may still hold no
    number: the matcher decides.
    """
    plus = any(p in text for p in _PLUS_CHARS)
    for m in _PHONE_RUN_RE.finditer(text):
        digits = _NOT_DIGIT_RE.sub("", m.group(0))
        n = len(digits)
        if (n >= 10 or (plus and n >= 6) or (n >= 9 and "011" in digits)
                or (n >= 7 and "310" in digits)):
            return True
    return False


def _has_phone(text: str) -> bool:
    # Region "US" finds national North American numbers and "+<country>" numbers; region None
    # finds only "+<country>" numbers, so it can add something only when there is a "+".
    regions = ("US", None) if "+" in text else ("US",)
    for region in regions:
        for _ in PhoneNumberMatcher(text, region, leniency=Leniency.VALID):
            return True
    return False


def find_pii(text: str) -> list[str]:
    """The kinds of obvious personal data in ``text``, as safe descriptions.

    Returns a subset of ``[EMAIL, PHONE, PAYMENT_CARD, IBAN]`` in that order ("an e-mail
    address", "a phone number", "a payment card number", "an IBAN"); never the values.
    Dates, timestamps, version numbers, IPv4/IPv6 addresses, ports, UUIDs, STIX ids and hex
    digests are not reported.
    """
    if not isinstance(text, str) or not text:
        return []
    text = _with_ascii_digits(text)
    has_at = "@" in text
    if not has_at and sum(map(text.count, _DIGITS)) < _MIN_DIGITS:
        return []
    found: set[str] = set()
    if has_at:
        if _EMAIL_RE.search(text):
            found.add(EMAIL)
            text = _EMAIL_RE.sub(_blank, text)
        if sum(map(text.count, _DIGITS)) < _MIN_DIGITS:
            return [d for d in _ORDER if d in found]
    # Masking only removes candidates: if the text holds no run of digits long enough for a
    # phone or card number (a card's digits form one such run) and nothing shaped like an
    # IBAN, there is nothing left to find.
    if not _could_be_phone(text) and not _IBAN_RE.search(text):
        return [d for d in _ORDER if d in found]
    masked = _STRUCTURED_RE.sub(_blank, text)
    masked = _DOTTED_RE.sub(_blank_versions, masked)
    for m in _CARD_RE.finditer(masked):
        if _is_card(m.group(0)):
            found.add(PAYMENT_CARD)
            masked = masked[: m.start()] + _MASK * (m.end() - m.start()) + masked[m.end():]
    for m in _IBAN_RE.finditer(masked):
        if _is_iban(m.group(0)):
            found.add(IBAN)
            masked = masked[: m.start()] + _MASK * (m.end() - m.start()) + masked[m.end():]
    if sum(map(masked.count, _DIGITS)) >= _MIN_DIGITS and _could_be_phone(masked) and _has_phone(masked):
        found.add(PHONE)
    return [d for d in _ORDER if d in found]


# Free-text properties of STIX 2.1 objects (SDOs, SROs, the note and opinion texts).
_TEXT_PROPERTIES = ("name", "description", "abstract", "content", "explanation")
_USER_ACCOUNT_PROPERTIES = ("user_id", "account_login", "display_name")
_MAX_CUSTOM_DEPTH = 8


def _custom_strings(value: Any, path: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    """Every string inside a custom (x_) property, with its path."""
    if depth > _MAX_CUSTOM_DEPTH:
        return
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _custom_strings(item, f"{path}[{i}]", depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            # Member names are text too, and a path repeats one only when it is not personal.
            personal_key = bool(find_pii(key))
            if personal_key:
                yield f"{path} (a member name)", key
            yield from _custom_strings(item, f"{path}.{'(a member name)' if personal_key else key}",
                                       depth + 1)


_EXT_PATH = f"extensions[{IAAS_ACCOUNT_EXTENSION_ID!r}]"


def _personal(path: str, message: str) -> Problem:
    return Problem(Code.PERSONAL_DATA, message, path)


def _check_pseudonym(value: Any, path: str) -> Problem | None:
    if isinstance(value, str) and PSEUDONYM_RE.match(value):
        return None
    if isinstance(value, list) and value and all(
        isinstance(v, str) and PSEUDONYM_RE.match(v) for v in value
    ):
        return None
    return _personal(f"{_EXT_PATH}.{path}", f"{path} is not a pseudonym: raw personal values are refused")


def _scan_iaas_extension(ext: Any) -> list[Problem]:
    if not isinstance(ext, dict):
        return []
    problems: list[Problem] = []
    if "provider_account_pseudonym" in ext:
        problem = _check_pseudonym(ext["provider_account_pseudonym"], "provider_account_pseudonym")
        if problem:
            problems.append(problem)
    pseudonyms = ext.get("pseudonyms")
    if pseudonyms is not None:
        if not isinstance(pseudonyms, dict):
            problems.append(_personal(f"{_EXT_PATH}.pseudonyms", "pseudonyms must be an object of "
                                                                 "pseudonyms: raw personal values are refused"))
        else:
            for kind, value in pseudonyms.items():
                # A member name is named only when it is one of the kinds: anything else may be
                # a value put where a kind belongs (the validator refuses unknown kinds).
                name = kind if kind in PERSONAL_KINDS else "(a member that is not a kind)"
                problem = _check_pseudonym(value, f"pseudonyms.{name}")
                if problem:
                    problems.append(problem)
    return problems


def scan_object(obj: dict[str, Any]) -> list[Problem]:
    """Why to refuse a STIX object for carrying personal data in clear (empty: none found).

    Each :class:`~hub.common.problems.Problem` has the code ``personal-data``, the property where
    the value was found, and a message naming the property and the kind of value, never the
    value (``str()`` of a problem is that message).

    Looks at free text (``name``, ``description``, ``abstract``, ``content``, ``explanation``,
    ``labels``, ``external_references[*].description``, every string inside ``x_`` custom
    properties), refuses ``email-addr`` objects carrying a ``value``, checks ``user_id``,
    ``account_login`` and ``display_name`` of a ``user-account``, and requires the pseudonym
    fields of the IaaS-account extension to be pseudonyms. Ids, timestamps, patterns and other
    structured properties are not scanned.
    """
    if not isinstance(obj, dict):
        return []
    problems: list[Problem] = []

    def scan(path: str, text: Any, verb: str = "contains") -> None:
        if isinstance(text, str):
            for kind in find_pii(text):
                problems.append(_personal(path, f"{path} {verb} {kind}"))

    for prop in _TEXT_PROPERTIES:
        scan(prop, obj.get(prop))
    labels = obj.get("labels")
    if isinstance(labels, list):
        for i, label in enumerate(labels):
            scan(f"labels[{i}]", label)
    refs = obj.get("external_references")
    if isinstance(refs, list):
        for i, ref in enumerate(refs):
            if isinstance(ref, dict):
                scan(f"external_references[{i}].description", ref.get("description"))
    for prop, value in obj.items():
        if prop.startswith("x_"):
            for path, text in _custom_strings(value, prop):
                scan(path, text)

    obj_type = obj.get("type")
    if obj_type == "email-addr" and obj.get("value"):
        # The whole object is personal data: there is nothing to scan, only to refuse.
        problems.append(_personal("value", "email-addr object carries an e-mail address in clear"))
    elif obj_type == "user-account":
        for prop in _USER_ACCOUNT_PROPERTIES:
            scan(prop, obj.get(prop), "looks like")
    extensions = obj.get("extensions")
    if isinstance(extensions, dict) and IAAS_ACCOUNT_EXTENSION_ID in extensions:
        problems.extend(_scan_iaas_extension(extensions[IAAS_ACCOUNT_EXTENSION_ID]))
    return list(dict.fromkeys(problems))
