"""The per-object checks and transforms the ingest pipeline runs, and what they may see.

A check judges one object and returns None to let it pass, or a reason to refuse it; a
transform changes an accepted object before it is stored (the hub's countersignature). The
policies are in :mod:`hub.services.policy` and :mod:`hub.services.signatures`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from hub.common.problems import Problem
from hub.services.auth import Principal
from hub.store.records import Collection

__all__ = ["CheckContext", "ObjectCheck", "ObjectTransform"]


@dataclass(frozen=True)
class CheckContext:
    """What a per-object check may look at."""

    principal: Principal
    collection: Collection
    now_us: int
    cache: dict[str, Any] = field(default_factory=dict)  # per-submission memo for the checks
    #: Ids of marking definitions of this envelope that passed every check (judged first).
    accepted_markings: set[str] = field(default_factory=set)


#: A per-object check: returns a reason to refuse the object, or None to let it pass. Checks
#: never change the object; :data:`ObjectTransform` does that, after every check has passed.
ObjectCheck = Callable[[dict[str, Any], CheckContext], Problem | str | None]
#: A transformation of an accepted object before it is stored (e.g. the hub's countersignature).
ObjectTransform = Callable[[dict[str, Any], CheckContext], dict[str, Any]]
