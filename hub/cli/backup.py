"""Backups: ``abusehub backup FILE`` and ``abusehub restore FILE --home NEWHOME``."""

from __future__ import annotations

from pathlib import Path

import click

from hub.cli.base import Context, emit, main, pass_ctx


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def backup(c: Context, file: str, as_json: bool) -> None:
    """Back the hub up into one archive FILE (tar.gz, mode 0600; never replaces a file).

    It holds a consistent copy of the database (SQLite) or a pg_dump (PostgreSQL), the hub's
    signing key, the pseudonym key and hub.toml, with a manifest of checksums. Keep it as
    secret as the keys it holds.
    """
    from hub.services.backup import BackupService

    m = BackupService(c.hub).backup(Path(file))
    emit(as_json, {"file": file, "hub": m.hub_identity, "key_id": m.hub_key_id,
                   "schema_revision": m.schema_revision, "database": m.database, "files": m.files},
         f"wrote {file}: hub {m.hub_identity}, schema revision {m.schema_revision}, "
         f"{m.database} database, files {', '.join(sorted(m.files))}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--home", "new_home", required=True, type=click.Path(file_okay=False),
              help="The home to restore into: new, empty, or holding only this hub's files.")
@pass_ctx
def restore(c: Context, file: str, new_home: str) -> None:
    """Restore a backup archive FILE into a new hub home.

    Refuses a truncated or altered archive, a backup of another hub into a home that belongs to
    one, and any home that already has a database; nothing is written unless every check passes.
    """
    from hub.services.backup import restore as run

    outcome = run(Path(file), Path(new_home))
    m = outcome.manifest
    click.echo(f"restored hub {m.hub_identity} (schema revision {m.schema_revision}) into "
               f"{outcome.home}: {', '.join(outcome.written) or 'nothing new to write'}")
    for note in outcome.notes:
        click.echo(f"next: {note}")
