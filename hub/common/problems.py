"""Structured problems: what a check found wrong with submitted data.

A check returns :class:`Problem` values rather than strings, so that the code that reports them
never parses a message: it reads the ``code`` to decide, the ``property`` to say where, and
``quotes_value`` to know whether the message repeats something the user sent (which may then be
withheld from a status, a log or another party's view). ``str(problem)`` is the message.

The model is the OASIS python-stix2 library's ``InvalidValueError`` (the class, the property and
the reason as separate attributes, the sentence built from them); the codes are the hub's own
and listed in :class:`Code`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hub.common.quoting import describe, show

__all__ = ["Code", "Problem"]


class Code(StrEnum):
    """The stable problem codes. A code names the rule broken, never the value; new codes may be
    added, existing ones keep their meaning."""

    # The shape of an object and its values (STIX 2.1 sections 2 and 3).
    NOT_AN_OBJECT = "not-an-object"
    MISSING_PROPERTY = "missing-property"
    WRONG_TYPE = "wrong-type"  # the JSON type of a value (a number where a string belongs)
    INVALID_TYPE_NAME = "invalid-type-name"
    INVALID_ID = "invalid-id"
    ID_TYPE_MISMATCH = "id-type-mismatch"  # the id's type part is not the object's type
    WRONG_REF_TYPE = "wrong-ref-type"  # a reference to an object of a type not allowed there
    INVALID_SPEC_VERSION = "invalid-spec-version"
    INVALID_TIMESTAMP = "invalid-timestamp"
    TIMESTAMP_PRECISION = "timestamp-precision"
    TIMESTAMP_ORDER = "timestamp-order"
    OUT_OF_RANGE = "out-of-range"
    INVALID_VALUE = "invalid-value"  # a value breaks its property's format (a URL, a language tag)
    NOT_IN_VOCABULARY = "not-in-vocabulary"  # a closed vocabulary or enumeration
    INVALID_PROPERTY_NAME = "invalid-property-name"
    RESERVED_PROPERTY = "reserved-property"
    UNKNOWN_PROPERTY = "unknown-property"
    PROPERTY_COMBINATION = "property-combination"  # "one of", "exactly one of", "only with"
    INVALID_EXTENSION = "invalid-extension"
    INVALID_MARKING_DEFINITION = "invalid-marking-definition"
    INVALID_PATTERN = "invalid-pattern"
    UNSUPPORTED_PATTERN_VERSION = "unsupported-pattern-version"
    NOT_A_PSEUDONYM = "not-a-pseudonym"
    # The collection's policies.
    INVALID_STIX = "invalid-stix"  # one refusal summing up the validator's problems
    INVALID_MARKING_REF = "invalid-marking-ref"
    UNKNOWN_MARKING = "unknown-marking"
    TLP_ABOVE_CEILING = "tlp-above-ceiling"
    TLP_DEFINITION_MISMATCH = "tlp-definition-mismatch"
    PERSONAL_DATA = "personal-data"
    # Markings that decide who reads an object (hub.stix.sharing).
    RED_WITHOUT_RECIPIENTS = "red-without-recipients"
    UNKNOWN_RECIPIENT = "unknown-recipient"
    GRANULAR_MARKING_NOT_ENFORCED = "granular-marking-not-enforced"
    INVALID_ACS_MARKING = "invalid-acs-marking"
    MARKING_DEFINITION_NOT_OPEN = "marking-definition-not-open"
    # Signatures.
    NOT_SIGNED = "not-signed"
    MALFORMED_SIGNATURE = "malformed-signature"
    NOT_THE_SUBMITTER = "not-the-submitter"  # created_by_ref names another organisation
    WRONG_SIGNER = "wrong-signer"
    BAD_SIGNATURE = "bad-signature"  # unknown, revoked or expired key, or it does not verify


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one object or value.

    ``code`` is a short stable name (:class:`Code`); ``property`` the path of the property at
    fault (``"valid_from"``, ``"extensions[...].pseudonyms.email"``; for the facts of a report,
    the fact's: ``"resources[2]"``, ``"personal.email"``, see :mod:`hub.stix.facts`) or ``""``
    for the object as a whole, so that a form places a problem by it; ``message`` the sentence
    a person reads. ``quotes_value`` says that ``message`` repeats a submitted value that may
    be personal data (anything but a well-formed id, timestamp or name the specification
    defines); ``withheld`` is then the same sentence with the value described instead of
    repeated (see :meth:`without_value`).
    """

    code: str
    message: str
    property: str = ""
    quotes_value: bool = False
    withheld: str = ""

    def __str__(self) -> str:
        return self.message

    @classmethod
    def quoting(cls, code: str, prop: str, value: Any, sentence: Callable[[str], str]) -> Problem:
        """A problem whose message shows ``value``: ``sentence`` receives the value as it is
        shown (:func:`~hub.common.quoting.show`), and again as it is described when withheld.

        >>> p = Problem.quoting("invalid-value", "lang", "en_GB",
        ...                     lambda v: f"lang {v} is not an RFC 5646 language tag")
        >>> str(p), p.without_value().message
        ("lang 'en_GB' is not an RFC 5646 language tag", 'lang (a string of 5 characters, not shown) is not an RFC 5646 language tag')
        """
        return cls(code, sentence(show(value)), prop, True,
                   sentence(f"({describe(value)}, not shown)"))

    def without_value(self) -> Problem:
        """This problem as it may be told where submitted values must not be repeated (a
        status resource, the audit trail): the same problem when it quotes nothing, else its
        ``withheld`` sentence (or, lacking one, a sentence naming only the property)."""
        if not self.quotes_value:
            return self
        message = self.withheld or (
            f"{self.property}: the value given is not valid ({self.code}; not shown)"
            if self.property else f"a value given is not valid ({self.code}; not shown)"
        )
        return Problem(self.code, message, self.property)
