"""The client's HTTP rules: the API root, the token, the transport, retries and error answers.

Shared by everything that talks to a hub (:class:`hub.client.taxii.TaxiiClient`, the poller,
the report service, key fetching), so they all follow the same rules:

- the API root is an http(s) URL without credentials, query or fragment (:func:`api_root`);
- plain ``http://`` is refused unless the server is on this machine, or the caller says so
  (:func:`check_transport`; the command line's ``--unsafe-plain-http``);
- the token comes from a file holding exactly one token, else from a value (:func:`read_token`);
- :class:`HttpSession` sends it as a Bearer token only to URLs under the API root it was
  made for, never follows redirects, ignores proxies, ``.netrc`` and CA settings from the
  environment, and asks again after 429/503 as :mod:`hub.client.retry` says.

The HTTP transport is an argument (an :class:`httpx.BaseTransport`; default a normal
:class:`httpx.HTTPTransport`), so a test or a federation link can put a hub's WSGI app behind
the same client with :class:`httpx.WSGITransport`.

Every problem is a :class:`~hub.client.errors.ClientError` with one line a person can act on;
no message contains the token or a request body.
"""

from __future__ import annotations

import ipaddress
import random
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from hub.client.errors import (
    AccessDenied,
    AuthenticationFailed,
    Busy,
    ClientError,
    ConnectionFailed,
    HubRefused,
    NotTaxii,
    Redirected,
    ResourceNotFound,
)
from hub.client.retry import RETRY_STATUSES, RetryNotice, RetryPolicy, parse_retry_after

__all__ = [
    "API_ROOT_HINT",
    "DEFAULT_TIMEOUT",
    "Call",
    "HttpSession",
    "ResponseTooLarge",
    "api_root",
    "check_transport",
    "is_loopback_url",
    "read_token",
]

#: Seconds for connecting, reading an answer, sending a body, waiting for a pooled connection.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=60.0, pool=10.0)
#: Added to a message when an answer suggests the URL is not a TAXII API root.
API_ROOT_HINT = "is --url the API root (e.g. https://hub.example/api/)?"
_USER_AGENT = "abusehub-client"


def api_root(url: str) -> str:
    """The API root URL with exactly one trailing slash.

    Refuses what is not an http(s) URL with a host, and URLs carrying credentials (the token is
    given separately) or a query or fragment (an API root has neither).
    """
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ClientError(f"--url {url!r} is not an http(s) URL of a TAXII API root "
                          "(e.g. https://hub.example/api/)")
    if "@" in parts.netloc:
        raise ClientError("--url must not carry credentials: give the token with --token-file "
                          "(or --token, or ABUSEHUB_TOKEN)")
    if parts.query or parts.fragment:
        raise ClientError(f"--url {parts.scheme}://{parts.netloc}{parts.path} must be the API root "
                          "itself, without a query or fragment")
    return text.rstrip("/") + "/"


def is_loopback_url(url: str) -> bool:
    """True if the URL's host is this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_transport(api: str, unsafe_plain_http: bool, exposed: str = "the token") -> None:
    """Refuse plain http to another machine unless ``unsafe_plain_http`` (``--unsafe-plain-http``).

    ``exposed`` says what would travel unencrypted, for the message.
    """
    if api.startswith("http://") and not is_loopback_url(api) and not unsafe_plain_http:
        raise ClientError(f"--url {api} is plain http to another machine: {exposed} would "
                          "travel unencrypted; use https (or --unsafe-plain-http)")


def read_token(token: str | None, token_file: str | None) -> str:
    """The API token: from ``token_file`` (one token in it) if given, else ``token``."""
    if token_file is not None:
        try:
            text = Path(token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ClientError(f"cannot read token file {token_file}: {reason}") from None
        if not text or len(text.split()) != 1:
            raise ClientError(f"token file {token_file} must hold one token")
        return text
    if token and token.strip():
        return token.strip()
    raise ClientError("no token: give --token-file FILE (or --token, or ABUSEHUB_TOKEN)")


@dataclass(frozen=True)
class Call:
    """How one request is named in messages.

    ``what`` names the operation ("polling collection X"); ``denied`` and ``missing``, when
    given, replace ``what`` for a 403 or 404 ("no read access to collection X"); ``subject``
    is what a 429 limits ("pseudonym requests"); ``expect`` what a good answer is ("a TAXII
    2.1 server"); ``hint`` is added when an error answer suggests a wrong URL.
    """

    what: str
    denied: str | None = None
    missing: str | None = None
    subject: str = "requests"
    expect: str = "a TAXII 2.1 server"
    hint: str | None = API_ROOT_HINT


class ResponseTooLarge(httpx.DecodingError):
    """Raised by a transport that stops reading an answer at a size limit (a federation link's
    ``[federation] max_response_bytes``); its message says so, naming the limit, and
    :meth:`HttpSession.request` passes it on as it is."""


def _connection_problem(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    text = str(exc)
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text \
            or "Temporary failure in name resolution" in text or "getaddrinfo" in text:
        return "host name not found"
    if "SSL" in text or "certificate" in text.lower():
        return "TLS failed"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return "the connection was closed"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    return type(exc).__name__


def _bare(url: httpx.URL | str) -> str:
    """The URL without its query (which may hold paging tokens or filters)."""
    parsed = httpx.URL(str(url))
    return str(parsed.copy_with(query=None, fragment=None))


def error_description(resp: httpx.Response) -> str | None:
    """The TAXII error body's ``description`` (section 3.6.1), one line, at most 300 characters;
    None when the body is not such an error."""
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return None
    if isinstance(body, dict) and isinstance(body.get("description"), str) and body["description"].strip():
        return " ".join(body["description"].split())[:300]
    return None


def _retry_after(resp: httpx.Response) -> float | None:
    """``Retry-After``, else the hub's error body ``details.retry_after``; None if neither."""
    header = parse_retry_after(resp.headers.get("Retry-After"))
    if header is not None:
        return header
    try:
        details = orjson.loads(resp.content).get("details") or {}
        return max(0.0, float(details["retry_after"]))
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        return None


def _busy_message(call: Call, status: int, why: str, asked: float | None = None,
                  retries: int = 0) -> str:
    state = f"rate-limiting {call.subject}" if status == 429 else "unavailable"
    if retries:
        state = f"still {state} after {retries} {'retry' if retries == 1 else 'retries'}"
    wait = f" and asks to wait {asked:.0f} s" if asked is not None else ""
    return f"{call.what}: the hub is {state}{wait} ({status}): {why}; try again later"


def refusal(resp: httpx.Response, call: Call) -> ClientError:
    """The error for a 3xx, 4xx or 5xx answer, named as ``call`` says."""
    status = resp.status_code
    url = _bare(resp.request.url)
    if 300 <= status < 400:
        location = resp.headers.get("Location")
        return Redirected(f"{call.what}: {url} redirects to {location or '(nowhere)'} ({status}); "
                          "redirects are not followed: use the URL it names",
                          status=status, location=location)
    described = error_description(resp)
    why = described or resp.reason_phrase or "no description"
    hint = f"; {call.hint}" if call.hint and not described else ""
    if status == 401:
        return AuthenticationFailed(f"{call.what}: the hub did not accept the token (401): {why}",
                                    status=status, reason=described)
    if status == 403:
        head = call.denied or f"{call.what}: not allowed"
        return AccessDenied(f"{head} (403): {why}", status=status, reason=described)
    if status == 404:
        head = call.missing or f"{call.what}: not found at {url}"
        return ResourceNotFound(f"{head} (404): {why}{hint}", status=status, reason=described)
    if status in RETRY_STATUSES:
        return Busy(_busy_message(call, status, why), status=status, reason=described,
                    retry_after=_retry_after(resp))
    return HubRefused(f"{call.what}: the hub answered {status}: {why}{hint}", status=status,
                      reason=described)


def not_taxii(resp: httpx.Response, call: Call) -> NotTaxii:
    """The error for a success answer that is not what was asked for."""
    content_type = resp.headers.get("Content-Type", "none")
    hint = f": {call.hint}" if call.hint else ""
    return NotTaxii(f"{call.what}: {_bare(resp.request.url)} did not answer as {call.expect} "
                    f"(Content-Type {content_type}){hint}")


def json_object(resp: httpx.Response, call: Call) -> dict[str, Any]:
    """The answer's body as a JSON object, or :class:`NotTaxii`."""
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        raise not_taxii(resp, call) from None
    if not isinstance(body, dict):
        raise not_taxii(resp, call)
    return body


class HttpSession:
    """HTTP to one API root: the token (Bearer) only there, no redirects, retries on 429/503.

    ``transport`` defaults to an :class:`httpx.HTTPTransport` checking TLS with ``verify``;
    pass an :class:`httpx.WSGITransport` to talk to an application in the same process.
    ``sleep`` and ``rng`` drive the waits between retries; ``on_retry`` hears of each wait.
    """

    def __init__(
        self,
        api: str,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        verify: ssl.SSLContext | str | bool = True,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        on_retry: Callable[[RetryNotice], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.api = api_root(api)
        parts = urlsplit(self.api)
        #: TAXII 2.1 section 4.1: the discovery resource is at /taxii2/ of the server.
        self.discovery_url = f"{parts.scheme}://{parts.netloc}/taxii2/"
        self._token = token
        self.retry = retry if retry is not None else RetryPolicy()
        self.on_retry = on_retry
        self.sleep = sleep
        self.rng = rng if rng is not None else random.Random()
        if transport is None:
            # Certificates are checked against ``verify`` (default: certifi's bundle), not
            # against SSL_CERT_FILE or similar variables: nothing from the environment.
            transport = httpx.HTTPTransport(verify=verify, trust_env=False)
        # trust_env=False: no proxy variables, no .netrc. follow_redirects=False: a redirect is
        # an error, so the token (and a pseudonym request's body) reaches the URL given only.
        self._client = httpx.Client(transport=transport, trust_env=False, follow_redirects=False,
                                    timeout=timeout, headers={"User-Agent": _USER_AGENT})

    def __repr__(self) -> str:  # never the token
        return f"HttpSession({self.api!r}, token={'set' if self._token else 'none'})"

    def close(self) -> None:
        """Close the connections (and the transport)."""
        self._client.close()

    def __enter__(self) -> HttpSession:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def request(
        self,
        method: str,
        url: str,
        call: Call,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> httpx.Response:
        """Send one request (again after 429/503, as the retry policy allows); returns a 2xx
        answer, or raises the :class:`ClientError` that names the problem.

        ``authenticated`` requests carry the token and must be under the API root (or be the
        server's discovery URL); the others (the public key set, possibly on another host) never
        carry it.
        """
        send_headers = dict(headers or {})
        if authenticated:
            if not (url.startswith(self.api) or url == self.discovery_url):
                raise ValueError("an authenticated request must go to the API root it was made for")
            if self._token:
                send_headers["Authorization"] = f"Bearer {self._token}"
        retries = 0
        while True:
            try:
                # A URL's own query is kept and ``params`` added to it (httpx replaces the query
                # with any ``params`` given, an empty list included).
                target = httpx.URL(url).copy_merge_params(list(params)) if params else url
                resp = self._client.request(method, target, content=content, headers=send_headers)
            except httpx.TransportError as exc:
                where = self.api if authenticated else _bare(url)
                raise ConnectionFailed(f"{call.what}: cannot reach the hub at {where} "
                                       f"({_connection_problem(exc)})") from None
            except httpx.InvalidURL:
                raise ClientError(f"{call.what}: {_bare(url)} is not a usable URL") from None
            except ResponseTooLarge as exc:
                raise ClientError(f"{call.what}: {exc}") from None
            except httpx.RequestError as exc:
                # Names the kind of failure only: never headers or bodies.
                raise ClientError(f"{call.what}: {type(exc).__name__} talking to {_bare(url)}") from None
            if resp.status_code < 300:
                return resp
            if resp.status_code not in RETRY_STATUSES:
                raise refusal(resp, call)
            told = _retry_after(resp)
            why = error_description(resp) or resp.reason_phrase or "no description"
            if told is not None and told > self.retry.max_retry_after:
                raise Busy(_busy_message(call, resp.status_code, why, told), status=resp.status_code,
                           reason=error_description(resp), retry_after=told)
            if retries >= self.retry.max_retries:
                raise Busy(_busy_message(call, resp.status_code, why, retries=retries),
                           status=resp.status_code, reason=error_description(resp), retry_after=told)
            wait = told if told is not None else self.retry.backoff_delay(retries, self.rng)
            retries += 1
            if self.on_retry is not None:
                self.on_retry(RetryNotice(call.what, resp.status_code, wait, retries,
                                          told is not None, call.subject))
            self.sleep(wait)
