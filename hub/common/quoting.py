"""How a message describes a value that a user sent.

Messages reach status resources, logs and terminals: they name the property and the rule, and
show a submitted value only when it is short, and never when the caller says it may be personal.
"""

from __future__ import annotations

from typing import Any


def json_type(value: Any) -> str:
    """The JSON name of a Python value's type, for messages ("a number, not a string")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def show(value: Any, limit: int = 60) -> str:
    """repr() of a user-supplied value, cut short so a message never echoes a megabyte."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(value: Any) -> str:
    """A value described without repeating it: its JSON type, and a string's length
    (``"a string of 12 characters"``, ``"a number"``, ``"an object"``)."""
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    name = json_type(value)
    if name == "null":
        return "null"
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
