"""Tools for a provider's side of the hub: an incremental poller and a blocklist export.

``abusehub poll`` mirrors one TAXII 2.1 collection into a JSON-lines file with a cursor that
survives interruption at any point (:mod:`hub.client.poll`), optionally checking signatures
against a JWK set (:mod:`hub.client.verify`). ``abusehub export blocklist`` turns such a file into
the addresses and domains of the indicators current at a given time (:mod:`hub.client.blocklist`).
The click commands live in :mod:`hub.client.commands`.

These tools are TAXII clients: they talk to a hub (this one or any TAXII 2.1 server that sends
``X-TAXII-Date-Added-Last``) over HTTP and never touch a hub's database.
"""

from __future__ import annotations

from hub.client.blocklist import BlocklistResult, build_blocklist
from hub.client.cursor import Cursor, CursorError
from hub.client.errors import ClientError
from hub.client.poll import PollResult, poll_collection
from hub.client.verify import KeySet, VerifyTally

__all__ = [
    "BlocklistResult",
    "ClientError",
    "Cursor",
    "CursorError",
    "KeySet",
    "PollResult",
    "VerifyTally",
    "build_blocklist",
    "poll_collection",
]
