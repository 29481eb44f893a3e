"""The signature policy on ingest, and the hub's countersignature (SIGNING.md, "Rules").

In a collection with ``require_signatures``, each object must carry a valid signature by the
submitting party's registered key, and name that party in ``created_by_ref``. A peer hub may
relay objects created by others; then the creator's own signature must verify.
"""

from __future__ import annotations

from typing import Any

from hub.services.checks import CheckContext
from hub.services.keys import HubSigner, KeyService
from hub.signing import KeySet, SignatureFormatError, sign_object, signatures_of
from hub.stix.basics import SCO_TYPES


def _keyset(ctx: CheckContext, keys: KeyService) -> KeySet:
    # Loaded once per submission: a key revoked a moment ago is refused by the next request.
    ks = ctx.cache.get("keys")
    if ks is None:
        ks = ctx.cache["keys"] = keys.keyset()
    return ks


def make_signature_check(keys: KeyService):  # type: ignore[no-untyped-def]
    """The per-object check for collections whose policy requires signatures."""

    def check(obj: dict[str, Any], ctx: CheckContext) -> str | None:
        if not ctx.collection.require_signatures:
            return None
        try:
            entries = signatures_of(obj)
        except SignatureFormatError as exc:
            return f"malformed signature: {exc}"
        if not entries:
            return "not signed: this collection requires each object to be signed by its submitter"
        party = ctx.principal.party
        creator = obj.get("created_by_ref")
        if creator is None and obj.get("type") == "identity":
            creator = obj.get("id")  # an organisation's own identity object speaks for itself
        if obj.get("type") in SCO_TYPES and creator is None:
            # Cyber-observables have no created_by_ref (STIX 2.1 section 6): the signer vouches.
            creator = party.identity_id if party.kind != "peer" else None
        if party.kind == "peer" and creator != party.identity_id:
            # A relaying hub forwards what others created: their signature must verify.
            wanted, role = creator, "its creator"
            if creator is not None and not isinstance(creator, str):
                return "created_by_ref must be an identity id"
        else:
            if creator != party.identity_id:
                return (f"created_by_ref {creator!r} is not the submitter's identity {party.identity_id}: "
                        "nobody may submit in another organisation's name")
            wanted, role = party.identity_id, "the submitter"
        if wanted is None:
            # A relayed observable names no creator: a signature by any registered party must verify.
            wanted, role = "any registered party", "a registered party"
            candidates = list(entries)
        else:
            candidates = [e for e in entries if e.signer == wanted]
        if not candidates:
            signers = ", ".join(sorted({e.signer for e in entries}))
            return f"signer is not {role}: signed by {signers}, expected {wanted}"
        keyset = _keyset(ctx, keys)
        reasons = []
        for entry in candidates:
            reason = keyset.check(obj, entry, ctx.now_us, new_submission=True)
            if reason is None:
                return None
            reasons.append(reason)
        return reasons[0]

    return check


def make_countersign(signer: HubSigner):  # type: ignore[no-untyped-def]
    """The transform that adds the hub's signature to what a countersigning collection accepts."""

    def countersign(obj: dict[str, Any], ctx: CheckContext) -> dict[str, Any]:
        if not ctx.collection.countersign:
            return obj
        key, identity = signer.ensure()
        return sign_object(obj, key, identity)

    return countersign
