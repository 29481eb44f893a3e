"""The abused-IaaS-account property-extension on ``user-account``.

The extension body lives at ``user-account.extensions[IAAS_ACCOUNT_EXTENSION_ID]``. Its
properties are those the facts of a report become: the table of
:class:`hub.stix.report_facts.ReportFacts` (each fact's ``stix=``) plus ``extension_type``.
:func:`check_iaas_extension` checks a body by that table, in a few microseconds, naming the
property in each message; :func:`extension_schema` writes the same rules as the JSON Schema
shipped in ``schemas/iaas-account/iaas-account.schema.json`` (``$defs/iaas_account_extension``;
a test holds the file to it, and ``tools/gen_iaas_schema.py`` writes it), and the corpus test in
``tests/stix`` holds the check to the schema's verdicts.

Messages name the property and say what is wrong, never the value submitted: they go into TAXII
status resources, the audit trail and logs, and a bad value may be raw personal data (an e-mail
address where a pseudonym belongs). The allowed values of an enumeration are listed; the value
given is described by its JSON type (and a string by its length) only. Unknown property names
are quoted when they look like property names, and otherwise not shown. So no problem of this
module quotes a value (``quotes_value`` is never set); each names its property as a path under
``extensions['<extension id>']``.
"""

from __future__ import annotations

from typing import Any

from hub.common.problems import Code, Problem
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from hub.stix.facts import SCHEMA_DEFS, Const, Found, Stix, StixShape, Type, got, stix_schema
from hub.stix.report_facts import ReportFacts

__all__ = ["EXTENSION_PROPERTIES", "IAAS_ACCOUNT_TYPE", "check_iaas_extension", "extension_schema"]

#: The ``account_type`` of a user-account that carries the extension.
IAAS_ACCOUNT_TYPE = "cloud-iaas"

#: The extension's properties and their types, in the order the schema lists them.
EXTENSION_PROPERTIES: tuple[tuple[Stix, Type], ...] = (
    (Stix("extension_type", required=True), Const("property-extension")),
    *ReportFacts.model().stix_properties(),
)

_SHAPE = StixShape(EXTENSION_PROPERTIES)
_P = "user-account extension: "
#: Where the extension's properties are, as the validator names them.
_PATH = f"extensions[{IAAS_ACCOUNT_EXTENSION_ID!r}]"


def check_iaas_extension(obj: dict[str, Any], body: Any) -> list[Problem]:
    """Every way ``body`` breaks the IaaS-account extension schema (empty: none).

    ``obj`` is the user-account carrying it (its ``account_type`` must be "cloud-iaas").
    """
    found = Found(_P, _PATH)
    if obj.get("account_type") != IAAS_ACCOUNT_TYPE:
        found.problems.append(Problem(
            Code.NOT_IN_VOCABULARY,
            f"account_type must be {IAAS_ACCOUNT_TYPE!r} on a user-account carrying the "
            f"IaaS-account extension; {got(obj.get('account_type'))}",
            "account_type"))
    if not isinstance(body, dict):
        found.add(Code.WRONG_TYPE, "", f"the extension must be a JSON object; {got(body)}")
    else:
        _SHAPE.check(body, found)
    return found.problems


def extension_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a user-account carrying the extension, as shipped in
    ``schemas/iaas-account/iaas-account.schema.json``."""
    ext = IAAS_ACCOUNT_EXTENSION_ID
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"abusehub abused IaaS account extension ({ext})",
        "description": "A STIX 2.1 user-account of account_type 'cloud-iaas' carrying the abusehub "
                       "IaaS-account property-extension. The extension body is "
                       "$defs/iaas_account_extension.",
        "type": "object",
        "properties": {
            "type": {"const": "user-account"},
            "account_type": {"const": IAAS_ACCOUNT_TYPE},
            "extensions": {
                "type": "object",
                "properties": {ext: {"$ref": "#/$defs/iaas_account_extension"}},
                "required": [ext],
            },
        },
        "required": ["type", "account_type", "extensions"],
        "$defs": {
            "iaas_account_extension": {
                "title": "abused IaaS account (property-extension body)",
                **stix_schema(EXTENSION_PROPERTIES),
            },
            **SCHEMA_DEFS,
        },
    }
