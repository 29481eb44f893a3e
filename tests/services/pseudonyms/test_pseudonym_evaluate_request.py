"""The body of POST pseudonyms/evaluate is read into typed values before the service sees it
(:class:`hub.services.pseudonyms.EvaluateRequest`): elements decoded, the key version checked,
and the first thing wrong named as the endpoint always named it (the shape of the body, then the
key version, then each group, then the total, and only then each element's encoding)."""

from __future__ import annotations

from typing import Any

import pytest

from hub.common.canonical import b64url_encode
from hub.common.errors import BadRequest
from hub.services.access.auth import Principal
from hub.services.hub import Hub
from hub.services.pseudonyms import BlindedGroup, EvaluateRequest

VERSIONS = ("k2", "k1")
ELEMENT = bytes(range(32))


def test_the_service_receives_decoded_elements_and_the_version_asked_for() -> None:
    body = {"groups": [{"kind": "email", "blinded": [b64url_encode(ELEMENT)] * 2},
                       {"kind": "name", "blinded": [b64url_encode(ELEMENT[::-1])]}]}
    read = EvaluateRequest.from_json(body, VERSIONS)
    assert read == EvaluateRequest(None, (BlindedGroup("email", (ELEMENT, ELEMENT)),
                                          BlindedGroup("name", (ELEMENT[::-1],))))
    assert read.total == 3
    assert EvaluateRequest.from_json({**body, "key_version": "k1"}, VERSIONS).key_version == "k1"


@pytest.mark.parametrize(("body", "first"), [
    ({"key_version": "k9", "groups": "no"}, "key_version must be one of this hub's pseudonym key versions (k2, k1)"),
    ({"key_version": None, "groups": []}, "key_version must be one of"),
    ({"key_version": "k1", "groups": {}}, "'groups' must be a non-empty list"),
    ({"groups": [{"kind": "email", "blinded": ["!"]}, {"kind": "shoe-size", "blinded": ["AA"]}]},
     "groups[1].kind must be one of"),
    ({"groups": [{"kind": "email", "blinded": ["!"]}, {"kind": "email", "blinded": ["AA"]}]},
     "groups[1]: the kind email is given twice"),
    ({"groups": [{"kind": "email", "blinded": [1] * 2001}]}, "at most 2000 blinded elements per request, got 2001"),
    ({"groups": [{"kind": "email", "blinded": ["AA", 7]}]}, "groups[0].blinded[1] must be a base64url string"),
])
def test_the_first_thing_wrong_is_named(body: Any, first: str) -> None:
    with pytest.raises(BadRequest) as refused:
        EvaluateRequest.from_json(body, VERSIONS)
    assert first in refused.value.description


def test_the_service_refuses_a_version_it_does_not_have_before_counting(hub: Hub) -> None:
    party, _token = hub.admin.add_party("cloudco", "provider")
    wanted = EvaluateRequest("k9", (BlindedGroup("email", (ELEMENT,)),))
    with pytest.raises(BadRequest, match="key_version must be one of"):
        hub.pseudonyms.evaluate(Principal(party, {}), wanted)
    assert hub.pseudonyms.limiter.take(party.pk, int(hub.pseudonyms.limiter.capacity)) == 0  # nothing drawn
