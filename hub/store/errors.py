"""Errors the store raises besides the database driver's own (see :mod:`hub.store.base`).

A module of its own so that every part of the store (:mod:`hub.store.lifecycle`,
:mod:`hub.store.federation`, ...) can raise them while :mod:`hub.store.base` composes those parts'
protocols into :class:`hub.store.base.Store`.
"""

from __future__ import annotations

__all__ = ["DuplicateError"]


class DuplicateError(Exception):
    """A unique name or id is already taken."""
