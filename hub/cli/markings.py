"""Audiences of the objects stored before markings were enforced: ``abusehub markings ...``.

``abusehub migrate`` classified them: TLP:AMBER and ACS markings took effect at once, while
objects marked TLP:RED or AMBER+STRICT (which every reader of their collection could read until
then) keep that audience until an operator applies the new one here.
"""

from __future__ import annotations

import click

from hub.cli.base import Context, emit, pass_ctx


@click.group()
def markings() -> None:
    """Who may read marked objects: the audiences waiting to be applied after an upgrade."""


@markings.command("status")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def markings_status(c: Context, as_json: bool) -> None:
    """How many stored object versions change audience when 'markings apply' runs."""
    pending = c.hub.markings.pending()
    emit(as_json, {"pending": pending},
         f"{pending} object version(s) change audience with 'abusehub markings apply': marked TLP:RED or "
         "AMBER+STRICT (or with markings the hub no longer accepts) before markings were enforced, every "
         "reader of their collection may read them until then" if pending else
         "no object version waits for its audience: every object is read as its markings say")


@markings.command("apply")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def markings_apply(c: Context, yes: bool, as_json: bool) -> None:
    """Give the object versions classified by the upgrade their audience under their markings:
    from then on only the readers their markings admit read them. Prints how many change first."""
    service = c.hub.markings
    pending = service.pending()
    if not pending:
        emit(as_json, {"pending": 0, "changed": 0}, "no object version waits for its audience; nothing changed")
        return
    if not as_json:
        click.echo(f"{pending} object version(s) change audience: only the readers their markings admit "
                   "will read them")
    if not yes:
        click.confirm("apply their audiences now?", abort=True)
    changed = service.apply()
    emit(as_json, {"pending": pending, "changed": changed}, f"applied: {changed} object version(s) changed audience")
