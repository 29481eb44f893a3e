"""Pseudonyms for a report filed on the web page: the same pseudonyms ``abusehub report new``
gets, made on the hub because the analyst typed the values into the hub's own form.

``report new`` blinds each normalised value on the provider's machine and the hub evaluates it
(RFC 9497 POPRF), so the hub never sees a value. A value typed into the hub's web form reaches
the hub anyway (in the body of one POST over TLS); the hub then evaluates the POPRF in clear
(RFC 9497 section 3.3.3, Evaluate), which gives the very output the blind evaluation gives, so a
report filed on the web correlates with reports filed from the command line. The values are
used for this one request: never stored, logged or echoed; problems name the field, not the
value. Each value counts against the party's pseudonym allowance, as on the TAXII endpoint, and
the audit trail records the count per kind.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.common.errors import BadRequest, TooManyRequests
from hub.services.auth import Principal
from hub.services.pseudonyms import MAX_VALUES_PER_REQUEST, PseudonymService


def web_pseudonyms(service: PseudonymService, principal: Principal,
                   values: Sequence[tuple[str, str]], labels: Sequence[str]) -> list[str]:
    """The current oblivious pseudonym (``poprf-r255:``) of each normalised ``(kind, value)``,
    in order; ``labels`` name each value in errors (e.g. ``personal.email``)."""
    if len(values) > MAX_VALUES_PER_REQUEST:
        raise BadRequest(f"at most {MAX_VALUES_PER_REQUEST} values per report")
    wait = service.limiter.take(principal.party.pk, len(values))
    if wait:
        seconds = int(wait) + 1
        raise TooManyRequests(f"too many pseudonym requests: try again in {seconds} s",
                              details={"retry_after": seconds})
    out = [service.make(kind, [value], [label], scheme="poprf")[0]["pseudonym"]
           for (kind, value), label in zip(values, labels, strict=True)]
    kinds: dict[str, int] = {}
    for kind, _ in values:
        kinds[kind] = kinds.get(kind, 0) + 1
    service.audit.record_read(principal.party.name, "", endpoint="web/pseudonyms", count=len(out),
                              kinds=kinds)
    return [str(p) for p in out]
