"""The ``abusehub`` command line: one module per command group. Each command parses its
arguments, calls a service (or the client library) and prints; none holds rules of its own.

Errors become one readable line and a non-zero exit (:class:`hub.cli.base.HubGroup`).
"""

from __future__ import annotations

# Importing a module registers its commands on ``main``.
from hub.cli import audit, backup, collections, federation, parties, poll, pseudonyms, report, server, signatures  # noqa: F401
from hub.cli.base import main

main.add_command(poll.poll)
main.add_command(poll.export)
main.add_command(report.report)

__all__ = ["main"]
