"""Stateless, opaque ``next`` tokens for keyset paging.

A token holds where the next page starts and a fingerprint of the query it belongs to. It needs
no server memory, so it works after a restart, on any worker, and repeating it repeats the page.
It grants nothing: a forged start position only selects objects the requester could already
select with ``added_after``, so the fingerprint guards against mistakes, not attackers. A forged
token must still never reach the database with a value the database cannot hold: the decoded
position is bounded to a signed 64-bit integer, the column type of both stores.
"""

from __future__ import annotations

import base64
import hashlib

import orjson

from hub.common.errors import BadRequest

_VERSION = 1
#: A token this server issues is about 40 characters; anything much longer is not one of them.
_MAX_TOKEN_LENGTH = 200
#: The page keys are BIGINT columns (SQLite INTEGER, PostgreSQL bigint): signed 64-bit.
_MIN_KEY, _MAX_KEY = -(2**63), 2**63 - 1
_NOT_OURS = "parameter 'next' is not a paging token issued by this server"


def fingerprint(*parts: object) -> str:
    """A short digest of what defines a query (collection, endpoint, filters)."""
    return hashlib.blake2b(orjson.dumps(parts), digest_size=6).hexdigest()


def encode_next(key: int, fp: str) -> str:
    """The ``next`` token for a page that ended at ``key``."""
    raw = orjson.dumps([_VERSION, key, fp])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_next(token: str, fp: str) -> int:
    """Where the page named by ``token`` starts; :class:`BadRequest` naming the problem."""
    if len(token) > _MAX_TOKEN_LENGTH:
        raise BadRequest(_NOT_OURS)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        version, key, token_fp = orjson.loads(raw)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise BadRequest(_NOT_OURS) from None
    # bool is an int in Python: a token holding ``true`` is not ours either.
    if (version != _VERSION or type(key) is not int or not isinstance(token_fp, str)
            or not _MIN_KEY <= key <= _MAX_KEY):
        raise BadRequest(_NOT_OURS)
    if token_fp != fp:
        raise BadRequest("parameter 'next' belongs to a different query: repeat the filters of the first request")
    return key
