"""What every client tool does before its first request: the API root, the token, the session.

Shared by ``abusehub report new`` (:mod:`hub.cli.report` over :mod:`hub.client.hubapi`) and
``abusehub poll`` (:mod:`hub.cli.poll` over :mod:`hub.client.poll`), so that both read
``--url``, ``--token-file``/``--token`` and ``--unsafe-plain-http`` by the same rules:

- ``--url`` is the TAXII API root, an http(s) URL without credentials, query or fragment;
- plain ``http://`` is refused unless the hub is on this machine (or ``--unsafe-plain-http``);
- the token comes from a file holding exactly one token, else from ``--token`` / the
  ``ABUSEHUB_TOKEN`` environment variable;
- the session sends it as a Bearer token and ignores proxies and ``.netrc`` from the
  environment, so the token goes to the hub named on the command line and nowhere else.

Every problem is a :class:`~hub.client.errors.ClientError` with one line a person can act on;
no message contains the token.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import requests

from hub.client.errors import ClientError

__all__ = [
    "api_root",
    "check_transport",
    "is_loopback_url",
    "open_session",
    "read_token",
]


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
    """Refuse plain http to another machine unless ``--unsafe-plain-http`` was given.

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


def open_session(token: str) -> requests.Session:
    """A session that sends ``token`` as a Bearer token with every request."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    # Proxies and .netrc from the environment are not consulted: the token (and, for the
    # pseudonym request, raw personal values) go to the hub named on the command line only.
    session.trust_env = False
    return session
