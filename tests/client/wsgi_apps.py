"""Small real WSGI applications the client tests put behind :class:`httpx.WSGITransport`:
a scripted server (answers in order, records what it was sent) and middleware around a hub's
app that changes its answers the way other TAXII servers (or broken ones) would."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_REASONS = {200: "OK", 202: "Accepted", 302: "Found", 400: "Bad Request", 401: "Unauthorized",
            404: "Not Found", 429: "Too Many Requests", 503: "Service Unavailable"}


@dataclass
class Seen:
    """One request as the application received it."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes


def _seen(environ: dict[str, Any]) -> Seen:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    return Seen(environ["REQUEST_METHOD"], environ["PATH_INFO"],
                parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True), headers, body)


@dataclass
class Scripted:
    """Answers each request with the next ``(status, headers, body)`` of ``script`` (the last
    one again when the script runs out); keeps every request in ``seen``."""

    script: list[tuple[int, dict[str, str], bytes]]
    seen: list[Seen] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.seen.append(_seen(environ))
        status, headers, body = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        start_response(f"{status} {_REASONS.get(status, 'Status')}",
                       [*headers.items(), ("Content-Length", str(len(body)))])
        return [body]


@dataclass
class Rewriting:
    """Middleware: passes each request to ``app`` (after ``request`` may change the environ)
    and each answer's body through ``answer``; keeps every raw body it sent in ``bodies``."""

    app: WSGIApp
    answer: Callable[[bytes], bytes] = lambda body: body
    request: Callable[[dict[str, Any]], None] = lambda environ: None
    bodies: list[bytes] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.request(environ)
        self.seen.append(Seen(environ["REQUEST_METHOD"], environ["PATH_INFO"],
                              parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True), {}, b""))
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, headers

        body = b"".join(self.app(environ, capture))
        body = self.answer(body)
        self.bodies.append(body)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]


_NEXT = re.compile(rb'"next":"[^"]*",?')


def without_next(body: bytes) -> bytes:
    """The hub's envelope without its ``next`` member: a server that pages by date only."""
    return _NEXT.sub(b"", body, count=1)


def drop_query(*names: str) -> Callable[[dict[str, Any]], None]:
    """A request rewrite that removes query parameters (a server that ignores them)."""
    def rewrite(environ: dict[str, Any]) -> None:
        kept = [(k, v) for k, v in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
                if k not in names]
        from urllib.parse import urlencode

        environ["QUERY_STRING"] = urlencode(kept)
    return rewrite
