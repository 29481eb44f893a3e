"""The signature policy on ingest, and the hub's countersignature (docs/SIGNING.md, "What the hub enforces per collection").

In a collection with ``require_signatures``, each object must carry a valid signature by the
submitting party's registered key, and name that party in ``created_by_ref``. A peer hub may
relay objects created by others; then the creator's own signature must verify. Marking
definitions are neither checked nor countersigned: they are shared definitions, which the
signing library never signs (:func:`hub.signing.documents.sign_objects`), and an ACS 3.0
marking-definition may carry no extension but its own; the objects that reference one are
signed, their ``object_marking_refs`` included.

An anonymous report published by another hub carries that hub's attestation instead of its
submitter's signature (docs/SIGNING.md, "Attestations of anonymous reports"). Such an object is
taken from a peer hub that relays it when an attestation verifies under the key of a hub this
hub federates with: the identity of a party of kind ``peer`` (pinned to a peer, its keys imported
from that peer's key set, as for signed tombstones) or this hub's own. An attestation by any
other signer, or an attested object submitted by a party that is not a hub, is refused; the
hub's own anonymous reports skip the check (:attr:`CheckContext.attested`). An attested object
is not countersigned: it travels in its attested form alone.

Refusals are :class:`~hub.common.problems.Problem` values: ``not-signed``,
``malformed-signature``, ``not-the-submitter``, ``wrong-signer`` and ``bad-signature`` (a key
unknown, revoked or expired, or a signature that does not verify). Their messages repeat only
well-formed identity ids, key ids and timestamps, and the signing library's account of a
malformed signature extension unless that extension holds something that looks like personal
data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hub.common.ids import SCO_TYPES, is_stix_id
from hub.common.problems import Code, Problem
from hub.common.quoting import describe
from hub.services.ingest.checks import CheckContext, ObjectCheck, ObjectTransform
from hub.services.keys import HubSigner, KeyService
from hub.signing import (
    SIGNATURE_EXTENSION_ID,
    CanonicalizationError,
    KeySet,
    SignatureEntry,
    SignatureFormatError,
    VerifyKey,
    sign_object,
    signatures_of,
    signing_input,
)
from hub.signing.signatures import ATTESTATION_TYPE
from hub.stix.pii import find_pii
from hub.store.records import Party

_EXT_PATH = f"extensions[{SIGNATURE_EXTENSION_ID!r}]"
_MAX_DEPTH = 6


def _keyset(ctx: CheckContext, keys: KeyService) -> KeySet:
    # Loaded once per submission: a key revoked a moment ago is refused by the next request.
    ks = ctx.cache.get("keys")
    if ks is None:
        ks = ctx.cache["keys"] = keys.keyset()
    return ks


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    """Every string inside a JSON value, member names included."""
    if isinstance(value, str):
        yield value
    elif depth < _MAX_DEPTH and isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)
    elif depth < _MAX_DEPTH and isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, depth + 1)
            yield from _strings(item, depth + 1)


def _malformed(obj: dict[str, Any], exc: SignatureFormatError) -> Problem:
    """The signing library names the member at fault and may quote its value (a signer id, an
    algorithm): its account is told unless the extension holds obvious personal data."""
    ext = obj.get("extensions")
    body = ext.get(SIGNATURE_EXTENSION_ID) if isinstance(ext, dict) else None
    withheld = ("malformed signature: the signature extension does not have the required shape "
                "(the details quote a submitted value, so they are not shown here; "
                "`abusehub verify` tells them)")
    problem = Problem(Code.MALFORMED_SIGNATURE, f"malformed signature: {exc}", _EXT_PATH,
                      quotes_value=True, withheld=withheld)
    if any(find_pii(text) for text in _strings(body)):
        return problem.without_value()
    return problem


def _identity(value: Any) -> str:
    """An identity id as a message may show it: well-formed ids only."""
    return value if is_stix_id(value) else f"({describe(value)}, not an identity id)"


#: The type nobody signs (see the module text).
_DEFINITION = "marking-definition"
#: The kinds of party whose identity may attest: a peer hub, or this hub.
_HUB_KINDS = ("peer", "hub")


def _hubs(ctx: CheckContext, keys: KeyService) -> dict[str, str]:
    """identity id -> kind of every party here, read once per submission."""
    parties = ctx.cache.get("party kinds")
    if parties is None:
        parties = ctx.cache["party kinds"] = {p.identity_id: p.kind for p in keys.store.list_parties()}
    return parties


def _attested(obj: dict[str, Any], attestations: list[SignatureEntry], ctx: CheckContext,
              keys: KeyService) -> Problem | None:
    """The policy for an object that carries attestations (module text)."""
    if ctx.principal.party.kind != "peer":
        return Problem(Code.WRONG_SIGNER,
                       "attested by a hub: an attested object is taken only from a peer hub that relays it "
                       "(a submitter files anonymously through the anonymous endpoint)", _EXT_PATH)
    kinds = _hubs(ctx, keys)
    reasons = []
    for entry in attestations:
        kind = kinds.get(entry.signer)
        if kind is None:
            reasons.append(f"attested by {entry.signer}, which is not a hub this hub federates with "
                           "(pin the peer hub's identity and import its keys)")
        elif kind not in _HUB_KINDS:
            reasons.append(f"attested by {entry.signer}, a party of kind {kind} here, not a hub: "
                           "only a hub attests an anonymous report")
        else:
            reason = _keyset(ctx, keys).check(obj, entry, ctx.now_us, new_submission=True)
            if reason is None:
                return None
            reasons.append(reason)
    code = Code.BAD_SIGNATURE if any(kinds.get(e.signer) in _HUB_KINDS for e in attestations) else Code.WRONG_SIGNER
    return Problem(code, reasons[0], _EXT_PATH)


def _creator(obj: dict[str, Any], party: Party) -> Any:
    """Whose signature an object needs when ``party`` submits it (None: any registered party's)."""
    creator = obj.get("created_by_ref")
    if creator is None and obj.get("type") == "identity":
        creator = obj.get("id")  # an organisation's own identity object speaks for itself
    if obj.get("type") in SCO_TYPES and creator is None:
        # Cyber-observables have no created_by_ref (STIX 2.1 section 6): the signer vouches.
        creator = party.identity_id if party.kind != "peer" else None
    return creator


def _candidates(obj: dict[str, Any], ctx: CheckContext, keys: KeyService) -> Problem | list[SignatureEntry] | None:
    """The signatures of ``obj`` one of which must verify (by its submitter, or by its creator
    when a peer hub relays it), or the verdict without verifying any: None to pass (no
    signatures required here, a marking definition, the hub's own anonymous report), or the
    problem that refuses it (not signed, malformed, the wrong signer, an attestation's verdict)."""
    if not ctx.collection.require_signatures or obj.get("type") == _DEFINITION or ctx.attested:
        return None
    try:
        entries = signatures_of(obj)
    except SignatureFormatError as exc:
        return _malformed(obj, exc)
    if not entries:
        return Problem(Code.NOT_SIGNED,
                       "not signed: this collection requires each object to be signed by its submitter",
                       _EXT_PATH)
    attestations = [e for e in entries if e.type == ATTESTATION_TYPE]
    if attestations:
        return _attested(obj, attestations, ctx, keys)
    party = ctx.principal.party
    creator = _creator(obj, party)
    if party.kind == "peer" and creator != party.identity_id:
        # A relaying hub forwards what others created: their signature must verify.
        wanted, role = creator, "its creator"
        if creator is not None and not is_stix_id(creator, "identity"):
            return Problem(Code.INVALID_ID, "created_by_ref must be an identity id",
                           "created_by_ref")
    else:
        if creator != party.identity_id:
            return Problem(Code.NOT_THE_SUBMITTER,
                           f"created_by_ref {_identity(creator)} is not the submitter's identity "
                           f"{party.identity_id}: nobody may submit in another organisation's name",
                           "created_by_ref")
        wanted, role = party.identity_id, "the submitter"
    if wanted is None:
        # A relayed observable names no creator: a signature by any registered party must verify.
        return list(entries)
    candidates = [e for e in entries if e.signer == wanted]
    if not candidates:
        # Signers passed signatures_of: each is a well-formed identity id.
        signers = ", ".join(sorted({e.signer for e in entries}))
        return Problem(Code.WRONG_SIGNER, f"signer is not {role}: signed by {signers}, expected {wanted}",
                       _EXT_PATH)
    return candidates


class SignatureCheck:
    """The per-object check for collections whose policy requires signatures.

    With a :attr:`CheckContext.verifier` (a federation pull), :meth:`prepare` first starts the
    verification of every signature the check will want, in the verifier's processes, and the
    check then reads each verdict instead of verifying in this thread. Every rule is applied as
    without it (the key set's rules are judged here, object by object); a signature whose
    verdict is "does not verify" is verified again here, for the reason the status gives.
    """

    def __init__(self, keys: KeyService) -> None:
        self.keys = keys

    def prepare(self, objects: list[Any], ctx: CheckContext) -> None:
        """Start verifying the signatures the check will want of ``objects`` (with a verifier)."""
        if ctx.verifier is None or not ctx.collection.require_signatures or ctx.attested:
            return
        keyset = _keyset(ctx, self.keys)
        jobs: list[tuple[VerifyKey, bytes, bytes]] = []
        owners: list[tuple[dict[str, Any], SignatureEntry]] = []
        for obj in objects:
            if not isinstance(obj, dict) or obj.get("type") == _DEFINITION or _is_attested(obj):
                continue  # attestations are verified by the check itself (rare)
            try:
                wanted = _candidates(obj, ctx, self.keys)
            except Exception:  # judged again, and refused with its reason, by the check
                continue
            if not isinstance(wanted, list):
                continue
            for entry in wanted:
                published = keyset.keys.get(entry.key_id)
                if published is None or published.key.alg != entry.algorithm:
                    continue  # refused by the key set's rules, without verifying
                try:
                    data = signing_input(obj, entry)
                except (CanonicalizationError, SignatureFormatError):
                    continue
                jobs.append((published.key, entry.value, data))
                owners.append((obj, entry))
        if jobs:
            verdicts = ctx.verifier.verify(jobs)
            ctx.cache["verdicts"] = {(id(obj), entry): (obj, verdicts, i) for i, (obj, entry) in enumerate(owners)}

    def __call__(self, obj: dict[str, Any], ctx: CheckContext) -> Problem | None:
        wanted = _candidates(obj, ctx, self.keys)
        if not isinstance(wanted, list):
            return wanted
        keyset = _keyset(ctx, self.keys)
        reasons = []
        for entry in wanted:
            reason = keyset.check(obj, entry, ctx.now_us, new_submission=True, verified=_verdict(obj, entry, ctx))
            if reason is None:
                return None
            reasons.append(reason)
        # The key set's reasons name key ids, identities, parties and timestamps it holds.
        return Problem(Code.BAD_SIGNATURE, reasons[0], _EXT_PATH)


def _verdict(obj: dict[str, Any], entry: SignatureEntry, ctx: CheckContext) -> bool | None:
    """Whether the verifier found that ``entry`` of ``obj`` verifies (None: not asked). Only a
    verdict on this very object (not an equal one) and this entry counts."""
    found = ctx.cache.get("verdicts", {}).get((id(obj), entry))
    if found is None or found[0] is not obj:
        return None
    _obj, verdicts, index = found
    return bool(verdicts[index])


def make_signature_check(keys: KeyService) -> ObjectCheck:
    """The per-object check for collections whose policy requires signatures."""
    return SignatureCheck(keys)


def make_countersign(signer: HubSigner) -> ObjectTransform:
    """The transform that adds the hub's signature to what a countersigning collection accepts."""

    def countersign(obj: dict[str, Any], ctx: CheckContext) -> dict[str, Any]:
        if not ctx.collection.countersign or obj.get("type") == _DEFINITION or ctx.attested or _is_attested(obj):
            return obj  # an anonymous report carries the attestation of the hub it was filed at alone
        key, identity = signer.ensure()
        return sign_object(obj, key, identity)

    return countersign


def _is_attested(obj: dict[str, Any]) -> bool:
    """Whether ``obj`` carries an attestation entry (as written; the check judged it)."""
    ext = obj.get("extensions")
    body = ext.get(SIGNATURE_EXTENSION_ID) if isinstance(ext, dict) else None
    entries = body.get("signatures") if isinstance(body, dict) else None
    return isinstance(entries, list) and any(isinstance(e, dict) and e.get("type") == ATTESTATION_TYPE
                                             for e in entries)
