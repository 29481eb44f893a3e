"""The provider's tools: ``abusehub poll`` and ``abusehub export``."""

from __future__ import annotations

import click


@click.command()
def poll() -> None:
    """Fetch new objects of a collection incrementally into a JSON-lines file."""
    raise click.ClickException("poll is not available in this build")


@click.group()
def export() -> None:
    """Export what was polled for other tools (firewalls, DNS filters)."""
