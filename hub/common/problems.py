"""Structured problems: what a check found wrong with submitted data.

A check returns :class:`Problem` values rather than strings, so that the code that reports them
never parses a message: it reads the ``code`` to decide, the ``property`` to say where, and
``quotes_value`` to know whether the message repeats something the user sent (which may then be
withheld from a status, a log or another party's view). ``str(problem)`` is the message.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one object or value.

    ``code`` is a short stable name (``"invalid-id"``, ``"unknown-marking"``, ...); ``property``
    the path of the property at fault (``"valid_from"``, ``"extensions[...].pseudonyms.email"``)
    or ``""`` for the object as a whole; ``message`` the sentence a person reads;
    ``quotes_value`` whether ``message`` repeats a submitted value.
    """

    code: str
    message: str
    property: str = ""
    quotes_value: bool = False

    def __str__(self) -> str:
        return self.message
