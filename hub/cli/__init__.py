"""The ``abusehub`` command line: one module per command group. Each command parses its
arguments, calls a service (or the client library) and prints; none holds rules of its own.

Every command is a plain ``click`` command or group in its module, registered on ``main`` in
:data:`COMMANDS` here and nowhere else, so this table is the whole command line. A command's
module is imported only when that command is looked up (:class:`hub.cli.base.HubGroup`):
``abusehub serve``, the master its server workers are forked from, imports no other command
and none of the client library behind them. Errors become one readable line and a non-zero exit.
"""

from __future__ import annotations

from hub.cli.base import main

#: Every command: its name -> (the module that defines it, the command's name in that module).
COMMANDS: dict[str, tuple[str, str]] = {
    # the hub's home and its server
    "init": ("hub.cli.server", "init"),
    "migrate": ("hub.cli.server", "migrate"),
    "serve": ("hub.cli.server", "serve"),
    "demo": ("hub.cli.server", "demo"),
    "backup": ("hub.cli.backup", "backup"),
    "restore": ("hub.cli.backup", "restore"),
    # parties, collections and what they may do
    "party": ("hub.cli.parties", "party"),
    "collection": ("hub.cli.collections", "collection"),
    "grant": ("hub.cli.collections", "grant"),
    "revoke": ("hub.cli.collections", "revoke"),
    "grants": ("hub.cli.collections", "grants"),
    "retention": ("hub.cli.collections", "retention"),
    "markings": ("hub.cli.markings", "markings"),
    # keys, signatures, pseudonyms and the audit trail
    "key": ("hub.cli.signatures", "key"),
    "sign": ("hub.cli.signatures", "sign"),
    "verify": ("hub.cli.signatures", "verify"),
    "pseudonym": ("hub.cli.pseudonyms", "pseudonym"),
    "audit": ("hub.cli.audit", "audit"),
    "escrow": ("hub.cli.escrow", "escrow"),
    "token": ("hub.cli.tokens", "token"),
    # federation with other hubs
    "peer": ("hub.cli.federation", "peer"),
    "link": ("hub.cli.federation", "link"),
    "federate": ("hub.cli.federation", "federate"),
    "quarantine": ("hub.cli.federation", "quarantine"),
    # the parties' own tools
    "poll": ("hub.cli.poll", "poll"),
    "export": ("hub.cli.poll", "export"),
    "report": ("hub.cli.report", "report"),
    "notice": ("hub.cli.notices", "notice"),
}

main.add_lazy_commands(COMMANDS)

__all__ = ["COMMANDS", "main"]
