"""The few hub endpoints the analyst's tool calls, as small functions over a ``requests.Session``.

The session is passed in (it carries the ``Authorization`` header), so tests can hand in their
own. Every failure becomes a :class:`~hub.client.errors.ClientError` with one line a person can
act on: the hub's TAXII error ``description`` when there is one, never a traceback, never the
token, never a request body (the pseudonym request carries raw personal values).

Endpoints (TAXII 2.1 section 4 and 5, plus the hub's own pseudonym endpoint)::

    POST <api root>pseudonyms/                          raw values in, keyed pseudonyms out
    POST <api root>collections/<id>/objects/            an envelope in, a status resource out
    GET  <api root>status/<status id>/                  the status resource
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests

from hub.client.errors import ClientError

# Re-exported: the analyst's tool and its tests import them from here.
from hub.client.http import api_root, is_loopback_url, open_session
from hub.pseudonyms import PSEUDONYM_RE

__all__ = [
    "MAX_PSEUDONYMS_PER_REQUEST",
    "TAXII_21",
    "Outcome",
    "api_root",
    "follow_status",
    "is_loopback_url",
    "open_session",
    "pseudonymise",
    "read_outcome",
    "submit_objects",
]

#: TAXII 2.1 section 1.6.8: the media type of envelopes and status resources.
TAXII_21 = "application/taxii+json;version=2.1"
#: The pseudonym endpoint takes at most this many values per request.
MAX_PSEUDONYMS_PER_REQUEST = 100

_JSON = "application/json"
# Seconds for one HTTP exchange (connect, read); a hub that takes longer is treated as down.
_TIMEOUT = (10.0, 60.0)
# The longest Retry-After the tool waits for once; a longer one is reported to the analyst.
MAX_RETRY_AFTER = 60.0
_ALREADY_STORED = "already stored"

Sleep = Callable[[float], None]
Clock = Callable[[], float]


def _error_description(resp: requests.Response) -> str:
    """The TAXII error body's description (section 3.6.1), or a short reason."""
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("description"), str) and body["description"]:
        return " ".join(body["description"].split())
    return resp.reason or "no error description"


def _check(resp: requests.Response, what: str) -> None:
    status = resp.status_code
    if 300 <= status < 400:
        # Not followed: the token and the raw values go to the URL given, nowhere else.
        raise ClientError(f"{what}: the hub redirected {resp.url} to "
                          f"{resp.headers.get('Location', '?')}; give --url as the API root it names")
    if status < 400:
        return
    description = _error_description(resp)
    if status == 401:
        raise ClientError(f"{what}: the hub did not accept the token (401): {description}")
    if status == 403:
        raise ClientError(f"{what}: not allowed (403): {description}")
    if status == 404:
        raise ClientError(f"{what}: not found at {resp.url} (404): {description}")
    raise ClientError(f"{what}: the hub answered {status}: {description}")


def _send(session: requests.Session, method: str, url: str, what: str,
          **kwargs: Any) -> requests.Response:
    try:
        return session.request(method, url, timeout=_TIMEOUT, allow_redirects=False, **kwargs)
    except requests.ConnectionError:
        raise ClientError(f"{what}: cannot reach the hub at {url}") from None
    except requests.Timeout:
        raise ClientError(f"{what}: the hub at {url} did not answer in time") from None
    except requests.RequestException as exc:
        # The message of a RequestException names the URL at most, never headers or bodies.
        raise ClientError(f"{what}: {type(exc).__name__} talking to {url}") from None


def _json_body(resp: requests.Response, what: str) -> dict[str, Any]:
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        raise ClientError(f"{what}: the hub's answer is not JSON "
                          f"(is {resp.url} a TAXII API root?)") from None
    if not isinstance(body, dict):
        raise ClientError(f"{what}: the hub's answer is not a JSON object")
    return body


def _retry_after(resp: requests.Response) -> float | None:
    """Seconds to wait from ``Retry-After`` (RFC 9110 10.2.3, delay-seconds form), or from
    the error body's ``details.retry_after``; None when neither says."""
    header = resp.headers.get("Retry-After")
    if header is not None:
        try:
            return max(0.0, float(header.strip()))
        except ValueError:
            pass  # an HTTP date: fall back on the body
    try:
        details = orjson.loads(resp.content).get("details") or {}
        return max(0.0, float(details["retry_after"]))
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        return None


def pseudonymise(
    session: requests.Session,
    api: str,
    values: Sequence[tuple[str, str]],
    *,
    sleep: Sleep = time.sleep,
    max_retry_after: float = MAX_RETRY_AFTER,
) -> list[str]:
    """The hub's pseudonyms of ``(kind, value)`` pairs, in the same order, in ONE request.

    On 429 the request is repeated once after ``Retry-After`` seconds (at most
    ``max_retry_after``). The values travel in the request body only; no message of this
    function contains one.
    """
    what = "pseudonymising through the hub"
    if not values:
        return []
    if len(values) > MAX_PSEUDONYMS_PER_REQUEST:
        raise ClientError(f"{what}: {len(values)} values, the hub takes at most "
                          f"{MAX_PSEUDONYMS_PER_REQUEST} per request")
    url = api + "pseudonyms/"
    body = orjson.dumps({"values": [{"kind": k, "value": v} for k, v in values]})
    headers = {"Content-Type": _JSON, "Accept": _JSON}
    resp = _send(session, "POST", url, what, data=body, headers=headers)
    if resp.status_code == 429:
        wait = _retry_after(resp)
        if wait is None or wait > max_retry_after:
            raise ClientError(f"{what}: the hub is rate-limiting pseudonym requests "
                              f"({_error_description(resp)}); try again later")
        sleep(wait)
        resp = _send(session, "POST", url, what, data=body, headers=headers)
        if resp.status_code == 429:
            raise ClientError(f"{what}: still rate-limited after waiting {wait:.0f} s "
                              f"({_error_description(resp)}); try again later")
    _check(resp, what)
    answer = _json_body(resp, what)
    items = answer.get("pseudonyms")
    if not isinstance(items, list) or len(items) != len(values):
        raise ClientError(f"{what}: the hub's answer does not hold one pseudonym per value")
    out = []
    for i, ((kind, _value), item) in enumerate(zip(values, items)):
        pseudonym = item.get("pseudonym") if isinstance(item, dict) else None
        if not isinstance(item, dict) or item.get("kind") != kind or not isinstance(pseudonym, str) \
                or not PSEUDONYM_RE.match(pseudonym):
            raise ClientError(f"{what}: the hub's answer for value {i} ({kind}) is not a "
                              "pseudonym of that kind")
        out.append(pseudonym)
    return out


def submit_objects(session: requests.Session, api: str, collection_id: str,
                   objects: list[dict[str, Any]]) -> dict[str, Any]:
    """POST ``objects`` in a TAXII envelope (section 5.4); returns the status resource."""
    what = f"submitting to collection {collection_id}"
    resp = _send(session, "POST", f"{api}collections/{collection_id}/objects/", what,
                 data=orjson.dumps({"objects": objects}),
                 headers={"Content-Type": TAXII_21, "Accept": TAXII_21})
    _check(resp, what)
    status = _json_body(resp, what)
    if not isinstance(status.get("id"), str) or not isinstance(status.get("status"), str):
        raise ClientError(f"{what}: the hub's answer is not a TAXII status resource")
    return status


def get_status(session: requests.Session, api: str, status_id: str) -> dict[str, Any]:
    """GET a status resource (TAXII 2.1 section 4.3)."""
    what = f"following status {status_id}"
    resp = _send(session, "GET", f"{api}status/{status_id}/", what, headers={"Accept": TAXII_21})
    _check(resp, what)
    return _json_body(resp, what)


def follow_status(
    session: requests.Session,
    api: str,
    status: dict[str, Any],
    *,
    timeout: float = 120.0,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
) -> dict[str, Any]:
    """Poll the status until it is ``complete`` or ``timeout`` seconds have passed; returns
    the last status seen (its ``status`` says which)."""
    deadline = clock() + timeout
    interval = 0.5
    while status.get("status") != "complete" and clock() < deadline:
        sleep(min(interval, max(0.0, deadline - clock())))
        interval = min(interval * 2, 5.0)
        status = get_status(session, api, str(status["id"]))
    return status


@dataclass(frozen=True)
class Outcome:
    """What a status resource says, by kind of answer."""

    status_id: str
    complete: bool
    stored: list[str] = field(default_factory=list)
    already_stored: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


def read_outcome(status: dict[str, Any]) -> Outcome:
    """Sort a status resource's entries into stored, already stored, refused and pending."""

    def entries(name: str) -> list[dict[str, Any]]:
        value = status.get(name)
        return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []

    outcome = Outcome(str(status.get("id", "")), status.get("status") == "complete")
    for e in entries("successes"):
        message = str(e.get("message") or "")
        target = outcome.already_stored if message.startswith(_ALREADY_STORED) else outcome.stored
        target.append(str(e.get("id")))
    for e in entries("failures"):
        outcome.refused.append((str(e.get("id")), " ".join(str(e.get("message") or "").split())))
    outcome.pending.extend(str(e.get("id")) for e in entries("pendings"))
    return outcome
