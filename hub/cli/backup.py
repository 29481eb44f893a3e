"""Backups: ``abusehub backup FILE`` and ``abusehub restore FILE --home NEWHOME``."""

from __future__ import annotations

from pathlib import Path

import click

from hub.cli.base import Context, emit, pass_ctx


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def backup(c: Context, file: str, as_json: bool) -> None:
    """Back the hub up into one archive FILE (tar.gz, mode 0600; never replaces a file).

    It holds a consistent copy of the database (SQLite) or a pg_dump (PostgreSQL), the hub's
    signing key, the pseudonym key, hub.toml, every file a setting names ([metrics]
    token_file, [web] secret_key_file...; one outside the home too) and the peers'
    credentials, with a manifest of checksums. A named file that is missing fails the backup.
    Keep the archive as secret as the keys it holds.

    The database may be at an older schema than this abusehub's (the upgrade is: back up, stop,
    migrate): it is backed up as it is, never migrated, and the archive says which revision it
    holds.
    """
    from hub.services.operations.backup import BackupService
    from hub.services.operations.runtime import open_hub_to_back_up

    hub, behind = open_hub_to_back_up(c.require_home())
    m = BackupService(c.use(hub)).backup(Path(file))
    emit(as_json, {"file": file, "hub": m.hub_identity, "key_id": m.hub_key_id,
                   "schema_revision": m.schema_revision, "database": m.database, "files": m.files},
         f"wrote {file}: hub {m.hub_identity}, schema revision {m.schema_revision}, "
         f"{m.database} database, files {', '.join(sorted(m.files))}")
    if behind and not as_json:
        click.echo(f"next: {behind}")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--home", "new_home", required=True, type=click.Path(),
              help="The home to restore into: new, empty, or holding only this hub's files.")
@click.option("--database-url", default=None, metavar="URL",
              help="For a PostgreSQL backup: an empty database to load it into (with psql); the "
                   "restored hub.toml names it. A password is better left to PGPASSWORD or ~/.pgpass.")
@pass_ctx
def restore(c: Context, file: str, new_home: str, database_url: str | None) -> None:
    """Restore a backup archive FILE into a new hub home, ready for 'serve'.

    Refuses a truncated or altered archive, a backup of another hub into a home that belongs to
    one, a home that already has a database, and (PostgreSQL) a database that is not empty;
    nothing is written, not even the home folder, unless every check passes. Files that lived
    outside the home are restored under outside-home/ in it, with the command that puts each
    back where hub.toml looks for it.
    """
    from hub.services.operations.backup import restore as run

    outcome = run(Path(file), Path(new_home), database_url)
    m = outcome.manifest
    loaded = f"; database loaded into {outcome.database}" if outcome.database else ""
    click.echo(f"restored hub {m.hub_identity} (schema revision {m.schema_revision}) into "
               f"{outcome.home}: {', '.join(outcome.written) or 'nothing new to write'}{loaded}")
    for note in outcome.notes:
        click.echo(f"next: {note}")
