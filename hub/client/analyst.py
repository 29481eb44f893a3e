"""The analyst's tool: ``abusehub report new``."""

from __future__ import annotations

import click


@click.group()
def report() -> None:
    """Reports of abused IaaS accounts."""
