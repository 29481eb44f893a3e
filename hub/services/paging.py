"""Stateless, opaque ``next`` tokens for keyset paging.

A token holds where the next page starts and a fingerprint of the query it belongs to. It needs
no server memory, so it works after a restart, on any worker, and repeating it repeats the page.
It grants nothing: a forged start position only selects objects the requester could already
select with ``added_after``, so the fingerprint guards against mistakes, not attackers.
"""

from __future__ import annotations

import base64
import hashlib

import orjson

from hub.common.errors import BadRequest

_VERSION = 1


def fingerprint(*parts: object) -> str:
    """A short digest of what defines a query (collection, endpoint, filters)."""
    return hashlib.blake2b(orjson.dumps(parts), digest_size=6).hexdigest()


def encode_next(key: int, fp: str) -> str:
    """The ``next`` token for a page that ended at ``key``."""
    raw = orjson.dumps([_VERSION, key, fp])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_next(token: str, fp: str) -> int:
    """Where the page named by ``token`` starts; :class:`BadRequest` naming the problem."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        version, key, token_fp = orjson.loads(raw)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise BadRequest("parameter 'next' is not a paging token issued by this server") from None
    if version != _VERSION or not isinstance(key, int) or not isinstance(token_fp, str):
        raise BadRequest("parameter 'next' is not a paging token issued by this server")
    if token_fp != fp:
        raise BadRequest("parameter 'next' belongs to a different query: repeat the filters of the first request")
    return key
