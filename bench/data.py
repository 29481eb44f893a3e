"""Deterministic STIX 2.1 data for the benchmark.

Three kinds, generated from a seed so that every run (and every server) gets the same bytes:

``indicators``
    Plain STIX 2.1 ``indicator`` objects (pattern ``[ipv4-addr:value = '…']``), about 600 bytes
    each once serialised.

``reports``
    Abuse reports shaped like the hub's own (see ``hub/stix/report.py``): per report an
    ``identity`` (the provider), a ``user-account`` (``account_type`` "cloud-iaas") carrying the
    IaaS-account property-extension, an ``ipv4-addr``, an ``infrastructure``, an ``indicator``,
    three ``relationship`` objects and a ``report`` whose ``object_refs`` name the rest: 9 objects
    per report. ``objects("reports", n)`` returns exactly ``n`` objects: the last report is cut
    short when ``n`` is not a multiple of 9 (a benchmark only counts objects).

``signed``
    The ``indicators``, each signed by the benchmark provider (:func:`sign`, docs/SIGNING.md): the
    signer's identity goes into ``created_by_ref`` and an Ed25519 signature into the hub's
    signature property-extension, about 1 KB per object. The key is derived from the seed
    (:func:`bench_key`), so its public JWK is the same on every run; the benchmark signs with the
    identity of the party the hub under test created, after starting it (the submitter's cost,
    outside the timing). ``objects("signed", n)`` signs as :data:`BENCH_IDENTITY`.

Every identity is distinct (one provider per report), so no object in a data set is a second copy
of another and a server that keeps one row per object version stores exactly ``n``.

The hub validates every object on ingest, refuses markings it does not know and personal data in
clear: :func:`check_sample` holds generated data to the same rules (the hub's own validator,
markings check and personal-data scan; signatures verified with the key when given), and the
benchmark refuses to run on data that fails it. :func:`invalid_probes` are the opposite: objects
that pass the STIX basics but that a full STIX 2.1 validator must refuse.

Check data by hand::

    .venv/bin/python -m bench.data --kind reports --n 18 --check
    .venv/bin/python -m bench.data --kind signed --n 500 --check --stix2
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import random
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID as IAAS_EXTENSION_ID
from hub.stix.markings import TLP2_IDS

if TYPE_CHECKING:
    from hub.signing import SigningKey, VerifyKey

KINDS = ("indicators", "reports", "signed")
#: Kinds made by signing the objects of another kind: signed kind -> the kind it signs.
SIGNED_KINDS = {"signed": "indicators"}

TLP_AMBER = TLP2_IDS["amber"]
TLP_CLEAR = TLP2_IDS["clear"]
#: The most restrictive TLP the benchmark's collections allow (``abusehub collection add``'s
#: default); generated data stays at or below it.
MAX_TLP = "amber"
#: The identity ``objects("signed", n)`` signs as when no hub party is at hand.
BENCH_IDENTITY = "identity--" + str(uuid.uuid5(uuid.NAMESPACE_URL, "https://abusehub.invalid/bench/provider"))
# STIX 2.1 section 2.9: SCO ids are UUIDv5 in this namespace over the canonical JSON of the
# id-contributing properties.
_SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
_BASE_TIME = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)
OBJECTS_PER_REPORT = 9


def _ts(dt: datetime) -> str:
    """STIX timestamp with millisecond precision."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _sco_id(sco_type: str, contributing: dict[str, Any]) -> str:
    canon = json.dumps(contributing, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{sco_type}--{uuid.uuid5(_SCO_NAMESPACE, canon)}"


def _ipv4(rng: random.Random) -> str:
    # Documentation and public-looking ranges alike; uniqueness comes from the index anyway.
    return f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _pseudonym(rng: random.Random) -> str:
    return "hmac-sha256:k1:" + hashlib.sha256(rng.getrandbits(256).to_bytes(32, "big")).hexdigest()


def indicator(rng: random.Random, i: int, created_by: str | None = None,
              markings: list[str] | None = None) -> dict[str, Any]:
    """One plain indicator (about 600 bytes serialised)."""
    when = _BASE_TIME + timedelta(seconds=i)
    ip = _ipv4(rng)
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{_uuid4(rng)}",
        "created": _ts(when),
        "modified": _ts(when),
        "name": f"Command-and-control address {i}",
        "description": (
            "Address observed serving command-and-control traffic from a rented IaaS instance; "
            f"reported by benchmark generator, sequence {i:08d}."
        ),
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '{ip}']",
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": _ts(when),
        "valid_until": _ts(when + timedelta(days=90)),
        "confidence": 80,
        "labels": ["iaas-abuse", "benchmark"],
    }
    if created_by:
        obj["created_by_ref"] = created_by
    if markings:
        obj["object_marking_refs"] = list(markings)
    return obj


def report(rng: random.Random, i: int) -> list[dict[str, Any]]:
    """The 9 objects of one abuse report; the ``report`` object is last."""
    when = _BASE_TIME + timedelta(seconds=i)
    ts = _ts(when)
    provider = f"identity--{_uuid4(rng)}"
    markings = [TLP_AMBER]

    def sdo(obj_type: str) -> dict[str, Any]:
        return {
            "type": obj_type,
            "spec_version": "2.1",
            "id": f"{obj_type}--{_uuid4(rng)}",
            "created_by_ref": provider,
            "created": ts,
            "modified": ts,
            "object_marking_refs": list(markings),
        }

    ident = sdo("identity")
    ident["id"] = provider
    ident.update(name=f"Benchmark cloud provider {i:06d}", identity_class="organization")

    ip = _ipv4(rng)
    ipv4 = {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": _sco_id("ipv4-addr", {"value": ip}),
        "value": ip,
        "object_marking_refs": list(markings),
    }
    account_pseudonym = _pseudonym(rng)
    account = {
        "type": "user-account",
        "spec_version": "2.1",
        "id": _sco_id("user-account", {"account_type": "cloud-iaas", "user_id": account_pseudonym}),
        "account_type": "cloud-iaas",
        "user_id": account_pseudonym,
        "object_marking_refs": list(markings),
        "extensions": {
            IAAS_EXTENSION_ID: {
                "extension_type": "property-extension",
                "provider_ref": provider,
                "provider_account_pseudonym": account_pseudonym,
                "first_abuse_seen": _ts(when - timedelta(days=2)),
                "acquisition": "direct-signup",
                "kyc_status": "unverified",
                "declared_country": "RU",
                "abused_resource_refs": [ipv4["id"]],
                "abuse_types": ["command-and-control"],
                "action_taken": "suspended",
                "action_taken_at": ts,
                "confidence": 80,
                "pseudonyms": {"email": _pseudonym(rng)},
            }
        },
    }
    infra = sdo("infrastructure")
    infra.update(
        name=f"Abused IaaS account resources at benchmark provider {i:06d}",
        infrastructure_types=["command-and-control"],
        first_seen=_ts(when - timedelta(days=2)),
        confidence=80,
    )
    ind = sdo("indicator")
    ind.update(
        name="Abused IaaS resource (ipv4-addr)",
        indicator_types=["malicious-activity"],
        pattern=f"[ipv4-addr:value = '{ip}']",
        pattern_type="stix",
        pattern_version="2.1",
        valid_from=ts,
        valid_until=_ts(when + timedelta(days=90)),
        confidence=80,
    )

    def rel(rel_type: str, src: str, dst: str) -> dict[str, Any]:
        r = sdo("relationship")
        r.update(relationship_type=rel_type, source_ref=src, target_ref=dst)
        return r

    objs = [ident, account, ipv4, infra, ind,
            rel("indicates", ind["id"], infra["id"]),
            rel("consists-of", infra["id"], ipv4["id"]),
            rel("consists-of", infra["id"], account["id"])]
    rep = sdo("report")
    rep.update(
        name=f"Abused IaaS account reported by benchmark provider {i:06d}",
        description="Account used to run command-and-control servers; suspended.",
        report_types=["threat-report", "indicator"],
        published=ts,
        object_refs=[o["id"] for o in objs],
        confidence=80,
    )
    objs.append(rep)
    return objs


def bench_key(seed: int = 2026) -> SigningKey:
    """The benchmark provider's Ed25519 key, derived from ``seed`` (the same key on every run)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from hub.signing import SigningKey

    raw = hashlib.sha256(f"abusehub-bench-provider-key:{seed}".encode()).digest()
    return SigningKey(Ed25519PrivateKey.from_private_bytes(raw))


def sign(objs: list[dict[str, Any]], key: SigningKey, identity: str,
         signed_at: datetime | None = None) -> list[dict[str, Any]]:
    """Sign every object as ``identity`` with ``key`` (``hub.signing.documents.sign_objects``:
    ``created_by_ref`` is set to ``identity``); ``signed_at`` defaults to now."""
    from hub.signing.documents import sign_objects

    return sign_objects(objs, key, identity, signed_at or datetime.now(UTC))


def unsigned_kind(kind: str) -> str:
    """The kind whose objects ``kind`` is made of (itself, unless it is a signed kind)."""
    return SIGNED_KINDS.get(kind, kind)


def _iter(kind: str, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(f"{kind}:{seed}")
    i = 0
    while True:
        if kind == "indicators":
            yield indicator(rng, i)
        elif kind == "reports":
            yield from report(rng, i)
        else:
            raise ValueError(f"unknown data kind {kind!r} (known: {', '.join(KINDS)})")
        i += 1


def objects(kind: str, n: int, seed: int = 2026, *, key: SigningKey | None = None,
            identity: str = BENCH_IDENTITY, signed_at: datetime | None = None) -> list[dict[str, Any]]:
    """Exactly ``n`` objects of ``kind``; the same ``(kind, n, seed)`` gives the same objects,
    and a smaller ``n`` gives a prefix of a larger one (for a signed kind: the same objects
    before signing; ``key`` defaults to :func:`bench_key`, ``signed_at`` to now)."""
    if kind in SIGNED_KINDS:
        return sign(objects(SIGNED_KINDS[kind], n, seed), key or bench_key(seed), identity, signed_at)
    out: list[dict[str, Any]] = []
    for obj in _iter(kind, seed):
        if len(out) >= n:
            break
        out.append(obj)
    return out


def check_sample(objs: list[dict[str, Any]], *, verify_key: VerifyKey | None = None,
                 max_tlp: str = MAX_TLP, stix2_parse: bool = False) -> list[str]:
    """Hold ``objs`` to what the hub checks on ingest; return the problems found (empty: none).

    Per object: the hub's full STIX 2.1 validator (``hub.stix.validator.validate``), its
    personal-data scan (``hub.stix.pii.scan_object`` must find nothing), markings (TLP only, at
    most ``max_tlp``: ``hub.stix.markings.check_markings`` with no other marking known). Across
    the list: no ``(id, version)`` twice. With ``verify_key`` (a ``hub.signing.VerifyKey``):
    every object carries a signature made with that key by the identity in its
    ``created_by_ref``, and it verifies. With ``stix2_parse``: ``stix2.parse`` (custom content
    allowed) accepts every object too (slow: about 0.5 ms per object).
    """
    from hub.signing import SigningError, signatures_of, verify_entry
    from hub.stix.markings import check_markings, tlp_level
    from hub.stix.pii import scan_object
    from hub.stix.validator import validate

    max_level = tlp_level(max_tlp)
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for i, obj in enumerate(objs):
        oid = str(obj.get("id", f"(object {i})")) if isinstance(obj, dict) else f"(object {i})"
        if not isinstance(obj, dict):
            problems.append(f"{oid}: not a JSON object")
            continue
        for err in validate(obj):
            problems.append(f"{oid}: invalid STIX 2.1: {err}")
        for reason in scan_object(obj):
            problems.append(f"{oid}: personal data: {reason}")
        reason = check_markings(obj, max_level)
        if reason:
            problems.append(f"{oid}: markings: {reason}")
        version = (oid, str(obj.get("modified") or obj.get("created") or ""))
        if version in seen:
            problems.append(f"{oid}: the same object version appears twice")
        seen.add(version)
        if verify_key is not None:
            try:
                entries = [e for e in signatures_of(obj) if e.key_id == verify_key.key_id]
                if not entries:
                    problems.append(f"{oid}: no signature by key {verify_key.key_id}")
                for entry in entries:
                    creator = obj.get("created_by_ref", obj.get("id") if obj.get("type") == "identity" else None)
                    if creator is not None and entry.signer != creator:
                        problems.append(f"{oid}: signed by {entry.signer}, created by {creator}")
                    verify_entry(obj, entry, verify_key)
            except SigningError as exc:
                problems.append(f"{oid}: signature: {exc}")
    if stix2_parse:
        import stix2  # imported here: only needed for this check

        for obj in objs:
            try:
                stix2.parse(obj, allow_custom=True)
            except Exception as exc:  # noqa: BLE001 - report every kind of parse failure
                problems.append(f"{obj.get('id')}: stix2.parse: {type(exc).__name__}: {exc}")
    return problems


class DataInvalid(RuntimeError):
    """Generated data fails :func:`check_sample`: the benchmark's fault, not a server's."""


def require_valid(objs: list[dict[str, Any]], what: str, *, verify_key: VerifyKey | None = None) -> None:
    """:func:`check_sample`, raising :class:`DataInvalid` with the first problems found."""
    problems = check_sample(objs, verify_key=verify_key)
    if problems:
        shown = "\n  ".join(problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise DataInvalid(f"{len(problems)} problem(s) in the generated {what} (a server validating "
                          f"on ingest would refuse them; fix bench/data.py):\n  {shown}{more}")


def invalid_probes(seed: int = 2026) -> list[tuple[str, dict[str, Any]]]:
    """Objects a full STIX 2.1 validator must refuse, each passing the basics (id, type,
    spec_version, created/modified) so that a server checking only those refuses none:
    ``(what is wrong, object)``, one indicator each, distinct ids."""
    rng = random.Random(f"probes:{seed}")

    def base() -> dict[str, Any]:
        obj = indicator(rng, 0)
        obj["name"] = "Benchmark validation probe"
        return obj

    probes: list[tuple[str, dict[str, Any]]] = []
    obj = base()
    for prop in ("pattern", "pattern_type", "valid_from"):
        del obj[prop]
    probes.append(("an indicator without its required pattern, pattern_type and valid_from", obj))
    obj = base()
    obj["pattern"] = obj["pattern"][:-1]
    probes.append(("an indicator whose STIX pattern does not parse (no closing bracket)", obj))
    obj = base()
    obj["valid_until"] = "2025-01-01T00:00:00.000Z"
    probes.append(("an indicator whose valid_until is before its valid_from", obj))
    obj = base()
    obj["confidence"] = 250
    probes.append(("an indicator with confidence 250 (the range is 0 to 100)", obj))
    obj = base()
    obj["created_by_ref"] = "not-an-identifier"
    probes.append(("an indicator whose created_by_ref is not an identifier", obj))
    return [(what, copy.deepcopy(o)) for what, o in probes]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--kind", choices=KINDS, default="reports")
    ap.add_argument("--n", type=int, default=18)
    ap.add_argument("--check", action="store_true",
                    help="hold each object to the hub's ingest checks (check_sample) instead of printing")
    ap.add_argument("--stix2", action="store_true", help="with --check: stix2.parse each object too")
    args = ap.parse_args(argv)
    key = bench_key()
    objs = objects(args.kind, args.n, key=key)
    sizes = [len(json.dumps(o, separators=(",", ":"))) for o in objs]
    print(f"{len(objs)} {args.kind}: mean {sum(sizes) / len(sizes):.0f} bytes, "
          f"types {sorted({o['type'] for o in objs})}", file=sys.stderr)
    if args.check:
        verify = key.public_key if args.kind in SIGNED_KINDS else None
        problems = check_sample(objs, verify_key=verify, stix2_parse=args.stix2)
        for p in problems:
            print(p, file=sys.stderr)
        print(f"{len(objs)} objects checked, {len(problems)} problem(s)", file=sys.stderr)
        return 1 if problems else 0
    json.dump(objs, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
