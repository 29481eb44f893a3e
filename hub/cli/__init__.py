"""The ``abusehub`` command line: one module per command group. Each command parses its
arguments, calls a service (or the client library) and prints; none holds rules of its own.

Every command is a plain ``click`` command or group in its module, registered on ``main`` here
and nowhere else, so this list is the whole command line. Errors become one readable line and a
non-zero exit (:class:`hub.cli.base.HubGroup`).
"""

from __future__ import annotations

from hub.cli import (
    audit,
    backup,
    collections,
    escrow,
    federation,
    markings,
    notices,
    parties,
    poll,
    pseudonyms,
    report,
    server,
    signatures,
    tokens,
)
from hub.cli.base import main

for command in (
    # the hub's home and its server
    server.init, server.migrate, server.serve, server.demo, backup.backup, backup.restore,
    # parties, collections and what they may do
    parties.party, collections.collection, collections.grant, collections.revoke, collections.grants,
    collections.retention, markings.markings,
    # keys, signatures, pseudonyms and the audit trail
    signatures.key, signatures.sign, signatures.verify, pseudonyms.pseudonym, audit.audit, escrow.escrow,
    tokens.token,
    # federation with other hubs
    federation.peer, federation.link, federation.federate, federation.quarantine,
    # the parties' own tools
    poll.poll, poll.export, report.report, notices.notice,
):
    main.add_command(command)

__all__ = ["main"]
