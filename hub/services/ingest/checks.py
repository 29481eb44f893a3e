"""The per-object checks and transforms the ingest pipeline runs, and what they may see.

A check judges one object and returns None to let it pass, or a
:class:`~hub.common.problems.Problem` to refuse it (the ingest pipeline puts ``str(problem)``, its
message, in the status); a transform changes an accepted object before it is stored (the hub's
countersignature). The policies are in :mod:`hub.services.ingest.policy` and
:mod:`hub.services.ingest.signatures`.

A reason goes to the submitter's status resource and to the audit trail, so a check returns a
problem whose message repeats no submitted value that may be personal data: a problem that
quotes one (``quotes_value``) is returned as ``problem.without_value()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hub.common.problems import Problem
from hub.services.access.auth import Principal
from hub.signing.batch import BatchVerifier
from hub.store.records import Collection

__all__ = ["CheckContext", "ObjectCheck", "ObjectTransform"]


@dataclass(frozen=True)
class CheckContext:
    """What a per-object check may look at."""

    principal: Principal
    collection: Collection
    now_us: int
    cache: dict[str, Any] = field(default_factory=dict)  # per-submission memo for the checks
    #: An anonymous report published by the hub (:mod:`hub.services.anonymity`): its objects
    #: carry the hub's attestation instead of their submitter's signature, checked before.
    attested: bool = False
    #: Ids of marking definitions of this envelope that passed every check (judged first).
    accepted_markings: set[str] = field(default_factory=set)
    #: The same definitions by id, for the objects' audiences (:mod:`hub.services.access.markings`).
    accepted_definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Verifies the submission's signatures in worker processes before each object is judged
    #: (a federation pull passes one); None: each signature is verified as its object is judged.
    verifier: BatchVerifier | None = None


#: A per-object check: returns the problem that refuses the object, or None to let it pass.
#: Checks never change the object; :data:`ObjectTransform` does that, after every check passed.
#: A check may also have a ``prepare(objects, ctx)`` method, called once with the submission's
#: objects before any is judged (the signature check starts their verifications there).
ObjectCheck = Callable[[dict[str, Any], CheckContext], Problem | None]
#: A transformation of an accepted object before it is stored (e.g. the hub's countersignature).
ObjectTransform = Callable[[dict[str, Any], CheckContext], dict[str, Any]]
