"""The audit trail: ``abusehub audit verify|export``."""

from __future__ import annotations

import json
import sys

import click

from hub.cli.base import Context, pass_ctx, timestamp_option
from hub.common.timestamps import format_timestamp_us


@click.group()
def audit() -> None:
    """The tamper-evident audit trail."""


@audit.command("verify")
@pass_ctx
def audit_verify(c: Context) -> None:
    """Recompute the hash chain; name the first broken record; exit 1 if broken."""
    report = c.hub.audit.verify()
    if report.ok:
        click.echo(f"audit chain OK: {report.records} records, head {report.head}")
        return
    click.echo(f"audit chain BROKEN at record {report.broken_seq}: {report.reason} "
               f"({report.records} records verified before it)")
    sys.exit(1)


@audit.command("export")
@click.option("--since", default=None, help="Only records at or after this STIX timestamp.")
@pass_ctx
def audit_export(c: Context, since: str | None) -> None:
    """Print audit records as JSON lines."""
    for rec in c.hub.audit.export(timestamp_option(since, "--since")):
        d = rec.as_json()
        d["at"] = format_timestamp_us(rec.at_us)
        click.echo(json.dumps(d, separators=(",", ":")))

