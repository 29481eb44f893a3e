"""Deterministic STIX 2.1 data for the benchmark.

Two kinds, both generated from a seed so that every run (and every server) gets the same bytes:

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

Every identity is distinct (one provider per report), so no object in a data set is a second copy
of another and a server that keeps one row per object version stores exactly ``n``.

Check a sample by hand::

    .venv/bin/python -m bench.data --kind reports --n 18 --check
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

KINDS = ("indicators", "reports")

IAAS_EXTENSION_ID = "extension-definition--fb58b9f0-c9ba-4a99-b48f-608c6df23240"
TLP_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
# STIX 2.1 section 2.9: SCO ids are UUIDv5 in this namespace over the canonical JSON of the
# id-contributing properties.
_SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
_BASE_TIME = datetime(2026, 1, 5, 8, 0, 0, tzinfo=timezone.utc)
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


def objects(kind: str, n: int, seed: int = 2026) -> list[dict[str, Any]]:
    """Exactly ``n`` objects of ``kind``; the same ``(kind, n, seed)`` gives the same objects,
    and a smaller ``n`` gives a prefix of a larger one."""
    out: list[dict[str, Any]] = []
    for obj in _iter(kind, seed):
        if len(out) >= n:
            break
        out.append(obj)
    return out


def check_sample(objs: list[dict[str, Any]]) -> list[str]:
    """Parse every object with ``stix2`` (custom content allowed); return the problems found."""
    import stix2  # imported here: only needed for checking

    problems = []
    for obj in objs:
        try:
            stix2.parse(obj, allow_custom=True)
        except Exception as exc:  # noqa: BLE001 - report every kind of parse failure
            problems.append(f"{obj.get('id')}: {type(exc).__name__}: {exc}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kind", choices=KINDS, default="reports")
    ap.add_argument("--n", type=int, default=18)
    ap.add_argument("--check", action="store_true", help="parse each object with stix2")
    args = ap.parse_args(argv)
    objs = objects(args.kind, args.n)
    sizes = [len(json.dumps(o, separators=(",", ":"))) for o in objs]
    print(f"{len(objs)} {args.kind}: mean {sum(sizes) / len(sizes):.0f} bytes, "
          f"types {sorted({o['type'] for o in objs})}", file=sys.stderr)
    if args.check:
        problems = check_sample(objs)
        for p in problems:
            print(p, file=sys.stderr)
        print(f"stix2.parse: {len(objs) - len(problems)} ok, {len(problems)} failed", file=sys.stderr)
        return 1 if problems else 0
    json.dump(objs, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
