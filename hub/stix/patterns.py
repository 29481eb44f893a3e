"""STIX patterning (STIX 2.1 section 9) checks for indicators, with a cache.

A pattern is parsed at most once per process (results are cached by ``(pattern, version)``);
the full ANTLR parse of :mod:`stix2patterns` costs about 0.3 ms, so the one common shape of an
abuse report, a single equality comparison ``[type:property = 'string']``, is recognised by a
regular expression whose every match the grammar accepts, and only other patterns are parsed.
After parsing, the object types and property names the pattern compares are checked the way
the STIX 2.1 rules for names require (section 3.1 and 9.4).

Problems have the code ``invalid-pattern`` and the property ``pattern``. The parser's messages
quote pieces of the pattern, which holds submitted values (an address, a URL): those problems
say so (``quotes_value``), and their ``without_value()`` form says only that the pattern does
not parse.
"""

from __future__ import annotations

import re
from functools import lru_cache

from antlr4 import CommonTokenStream, InputStream, ParseTreeWalker
from stix2patterns.exceptions import STIXPatternErrorListener
from stix2patterns.helpers import brackets_check
from stix2patterns.v21 import object_validator
from stix2patterns.v21.grammars.STIXPatternLexer import STIXPatternLexer
from stix2patterns.v21.grammars.STIXPatternParser import STIXPatternParser
from stix2patterns.v21.inspector import InspectionListener
from stix2patterns.v21.validator import DuplicateQualifierTypeError, ValidationListener
from stix2patterns.validator import run_validator

from hub.common.problems import Code, Problem

__all__ = ["PARSED_PATTERNS_CACHED", "SUPPORTED_PATTERN_VERSIONS", "parsed_pattern_errors", "pattern_errors"]

#: Versions of the STIX pattern language the hub can check.
SUPPORTED_PATTERN_VERSIONS = ("2.1", "2.0")

# Every string this matches is a valid STIX 2.1 pattern: one comparison of a lower-case object
# type and a dotted path of lower-case property names (never the keywords "true"/"false") with
# a string literal whose only escapes are \' and \\ (section 9.2, StringLiteral).
_NOT_BOOL = r"(?!(?:true|false)[.:= !])"
_SIMPLE_RE = re.compile(
    rf"^\[ ?{_NOT_BOOL}([a-z][a-z0-9]*(?:-[a-z0-9]+)*)"
    rf":({_NOT_BOOL}[a-z_][a-z0-9_]*(?:\.{_NOT_BOOL}[a-z_][a-z0-9_]*)*)"
    r" ?(?:=|!=) ?'(?:[^'\\]|\\['\\])*' ?\]\Z"
)

# The musts of the OASIS validator (and STIX 2.1 section 3.1) for names used in a pattern. These
# are the OASIS validator's own (laxer) rules for what a pattern may name, kept so that the two
# validators agree on patterns; an object's own type is held to hub.common.ids.is_stix_type.
_TYPE_NAME_RE = re.compile(r"^-?[a-z0-9]+(-[a-z0-9]+)*-?\Z")
_PROPERTY_NAME_RE = re.compile(r"^[a-z0-9_]{3,250}\Z")
_UNPARSED = "pattern: not a valid STIX pattern (the parser's message quotes the pattern, so it is not shown)"


def _parser_problem(message: str) -> Problem:
    return Problem(Code.INVALID_PATTERN, f"pattern: {message}", "pattern", True, _UNPARSED)


def _name_problem(kind: str, name: object, of: str = "") -> Problem:
    return Problem.quoting(Code.INVALID_PATTERN, "pattern", name,
                           lambda v: f"pattern: {v} is not a valid {kind}{of}")

# Properties of the STIX 2.1 SCOs, by type (section 6); a pattern may name any of them even when
# shorter than three characters (e.g. file:name is fine, but so is network-traffic:src_ref.value).
_SCO_PROPERTIES: dict[str, frozenset[str]] = {
    "artifact": frozenset({"mime_type", "payload_bin", "url", "hashes", "encryption_algorithm",
                           "decryption_key", "extensions"}),
    "autonomous-system": frozenset({"number", "name", "rir", "extensions"}),
    "directory": frozenset({"path", "path_enc", "ctime", "mtime", "atime", "contains_refs",
                            "extensions"}),
    "domain-name": frozenset({"value", "resolves_to_refs", "extensions"}),
    "email-addr": frozenset({"value", "display_name", "belongs_to_ref", "extensions"}),
    "email-message": frozenset({"is_multipart", "date", "content_type", "from_ref", "sender_ref",
                                "to_refs", "cc_refs", "bcc_refs", "message_id", "subject",
                                "received_lines", "additional_header_fields", "body",
                                "body_multipart", "raw_email_ref", "extensions"}),
    "file": frozenset({"hashes", "size", "name", "name_enc", "magic_number_hex", "mime_type",
                       "ctime", "mtime", "atime", "parent_directory_ref", "contains_refs",
                       "content_ref", "extensions"}),
    "ipv4-addr": frozenset({"value", "resolves_to_refs", "belongs_to_refs", "extensions"}),
    "ipv6-addr": frozenset({"value", "resolves_to_refs", "belongs_to_refs", "extensions"}),
    "mac-addr": frozenset({"value", "extensions"}),
    "mutex": frozenset({"name", "extensions"}),
    "network-traffic": frozenset({"start", "end", "is_active", "src_ref", "dst_ref", "src_port",
                                  "dst_port", "protocols", "src_byte_count", "dst_byte_count",
                                  "src_packets", "dst_packets", "ipfix", "src_payload_ref",
                                  "dst_payload_ref", "encapsulates_refs",
                                  "encapsulated_by_ref", "extensions"}),
    "process": frozenset({"is_hidden", "pid", "created_time", "cwd", "command_line",
                          "environment_variables", "opened_connection_refs", "creator_user_ref",
                          "image_ref", "parent_ref", "child_refs", "extensions"}),
    "software": frozenset({"name", "cpe", "swid", "languages", "vendor", "version",
                           "extensions"}),
    "url": frozenset({"value", "extensions"}),
    "user-account": frozenset({"user_id", "credential", "account_login", "account_type",
                               "display_name", "is_service_account", "is_privileged",
                               "can_escalate_privs", "is_disabled", "account_created",
                               "account_expires", "credential_last_changed",
                               "account_first_login", "account_last_login", "extensions"}),
    "windows-registry-key": frozenset({"key", "values", "modified_time", "creator_user_ref",
                                       "number_of_subkeys", "extensions"}),
    "x509-certificate": frozenset({"is_self_signed", "hashes", "version", "serial_number",
                                   "signature_algorithm", "issuer", "validity_not_before",
                                   "validity_not_after", "subject", "subject_public_key_algorithm",
                                   "subject_public_key_modulus", "subject_public_key_exponent",
                                   "x509_v3_extensions", "extensions"}),
}


def _names_errors(comparisons: dict[str, list[tuple[list[object], str, str]]]) -> list[Problem]:
    """Check the object types and first property names a pattern compares."""
    errors: list[Problem] = []
    for obj_type, exprs in comparisons.items():
        known = _SCO_PROPERTIES.get(obj_type)
        type_ok = known is not None or (_TYPE_NAME_RE.match(obj_type) is not None
                                        and 3 <= len(obj_type) <= 250)
        if not type_ok:
            errors.append(_name_problem("object type name", obj_type))
        for path, _op, _value in exprs:
            prop = path[0]
            if known is not None and prop in known:
                continue
            if not isinstance(prop, str) or not _PROPERTY_NAME_RE.match(prop):
                # The type is named only when it is a valid name (else it was quoted above).
                of = f" of {obj_type!r}" if type_ok else ""
                errors.append(_name_problem("property name", prop, of))
    return errors


def _parse_21(pattern: str) -> list[Problem]:
    """Parse with the STIX 2.1 grammar once and run the same checks as stix2patterns."""
    listener = STIXPatternErrorListener()
    lexer = STIXPatternLexer(InputStream(pattern))
    lexer.removeErrorListeners()
    parser = STIXPatternParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    tree = parser.pattern()
    errors = [_parser_problem(e) for e in listener.err_strings]
    if not errors:
        inspection = InspectionListener()
        ParseTreeWalker.DEFAULT.walk(inspection, tree)
        data = inspection.pattern_data()
        errors.extend(_parser_problem(e) for e in object_validator.verify_object(data))
        try:
            ParseTreeWalker.DEFAULT.walk(ValidationListener(), tree)
        except DuplicateQualifierTypeError as e:
            errors.append(_parser_problem(str(e)))
        if not errors:
            errors.extend(_names_errors(data.comparisons))
    if not brackets_check(pattern):
        errors.insert(0, Problem(Code.INVALID_PATTERN, "pattern: the pattern is missing square brackets",
                                 "pattern"))
    return errors


def pattern_errors(pattern: str, version: str = "2.1") -> tuple[Problem, ...]:
    """Return the problems of a STIX pattern (empty if valid).

    ``version`` is the indicator's ``pattern_version`` (STIX 2.1 section 4.7); "2.0" patterns are
    checked with the STIX 2.0 grammar. A single comparison of a string (the common indicator) is
    checked by a regular expression and the names it compares, in microseconds and without a
    cache; what needs the parser is cached by pattern (:func:`parsed_pattern_errors`).
    """
    if version == "2.1":
        m = _SIMPLE_RE.match(pattern)
        if m is not None:
            obj_type, path = m.group(1), m.group(2)
            first = path.split(".", 1)[0]
            if "hashes" in path.split("."):
                return parsed_pattern_errors(pattern)  # hash values are checked by the parser's pass
            return tuple(_names_errors({obj_type: [([first], "=", "")]}))
        return parsed_pattern_errors(pattern)
    # STIX 2.0 grammar: rare on a 2.1 hub; use the library's own entry point.
    return tuple(_parser_problem(e) for e in run_validator(pattern, version))


#: Patterns whose parse is remembered: a parse takes about a millisecond, an entry some 300
#: bytes, so 4,096 of them hold about 1 MiB per process (65,536 held 19 MiB in each worker).
PARSED_PATTERNS_CACHED = 4096


@lru_cache(maxsize=PARSED_PATTERNS_CACHED)
def parsed_pattern_errors(pattern: str) -> tuple[Problem, ...]:
    """The problems of a STIX 2.1 pattern found by the parser's pass, cached by pattern: the
    same indicator comes back (federation, a resubmitted envelope) and is parsed once."""
    return tuple(_parse_21(pattern))
