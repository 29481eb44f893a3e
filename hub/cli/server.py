"""Setting a hub up and running it: ``init``, ``migrate``, ``serve``, ``demo``.

One rule for the schema (:mod:`hub.services.operations.runtime`): ``init`` creates it (and the hub's keys)
in a database that has none, ``migrate`` is the only way to bring one that is behind up to date,
and everything else opens only a database at this code's schema. The container's
``serve --init-if-empty`` does what ``init`` does first, when the database has no schema.
"""

from __future__ import annotations

from pathlib import Path

import click

from hub.cli.base import Context, pass_ctx
from hub.config import CONFIG_FILE, DEFAULT_CONFIG_TEXT, load_config


def _make_home(c: Context) -> Path:
    """The home folder, made with a default ``hub.toml`` if it has none."""
    home = Path(c.home or load_config().home)
    home.mkdir(parents=True, exist_ok=True)
    cfg_path = home / CONFIG_FILE
    if not cfg_path.exists():
        cfg_path.write_text(DEFAULT_CONFIG_TEXT, encoding="utf-8")
        click.echo(f"wrote {cfg_path}")
    c.home = str(home)
    return home


def _initialise(c: Context, new_keys: bool = False) -> None:
    """``init``'s work on the database: the schema and the keys when there is none; on an
    initialised one, the keys that are missing only with ``new_keys``."""
    from hub.services.operations.runtime import initialise_hub, shown_database_url

    hub, done = initialise_hub(c.config, new_keys=new_keys)
    c.use(hub)
    made = "created" if done.schema_created else "ready"
    click.echo(f"database {made} at schema revision {done.revision}: "
               f"{shown_database_url(c.config.effective_database_url)}")
    click.echo(f"hub signing key {done.key_id} registered and published at <api root>/keys/")
    if done.key_created and not done.schema_created:
        click.echo(f"made a NEW hub signing key {hub.signer.path}: peers and parties that check the hub's "
                   "countersignatures must learn it (<api root>/keys/)")
    if done.keyring_created:
        click.echo(f"wrote the pseudonym key {hub.pseudonyms.path} (keep it secret, back it up)")
        if not done.schema_created:
            click.echo("the pseudonym key is NEW: reports filed from now on do not match the pseudonyms of "
                       "reports filed before")


@click.command()
@click.option("--new-keys", is_flag=True,
              help="On a hub whose database is initialised, make the hub's signing key and the pseudonym "
                   "keyring anew where their files are missing (instead of restoring them from a backup): "
                   "a new countersigning key, and pseudonyms that no longer match older reports.")
@pass_ctx
def init(c: Context, new_keys: bool) -> None:
    """Create a hub home: a config file, the database schema and the hub's keys.

    On a database that already has this code's schema nothing is made; a missing key file is
    refused (restore it from the backup, or make it anew on purpose with --new-keys). A database
    whose schema is behind is refused: run 'abusehub migrate'.
    """
    _make_home(c)
    _initialise(c, new_keys)


@click.command()
@pass_ctx
def migrate(c: Context) -> None:
    """Bring the database schema up to date (never drops data): the only way it changes.

    After the schema, the objects stored before markings were enforced are classified into
    their audiences, once (see 'abusehub markings status'). Stop the hub's servers first; back
    the hub up before.
    """
    from hub.services.operations.runtime import open_hub_to_migrate

    hub, before = open_hub_to_migrate(c.require_home())
    c.use(hub)
    revision, classified = hub.upgrade()
    click.echo(f"schema revision {revision}" + (f" (was {before})" if before != revision else " (already up to date)"))
    if classified is not None and classified.examined:
        click.echo(f"classified {classified.examined} marked object version(s): {classified.restricted} read "
                   f"under their markings now; {classified.pending} marked TLP:RED or AMBER+STRICT (or that "
                   "could not be judged) keep their audience until 'abusehub markings apply'")


@click.command()
@click.option("--host", default=None, help="Address to listen on (config server.host).")
@click.option("--port", type=int, default=None, help="Port (config server.port).")
@click.option("--workers", type=int, default=None, help="Worker processes (config server.workers).")
@click.option("--threads", type=int, default=None, help="Threads per worker (config server.threads).")
@click.option("--init-if-empty", is_flag=True,
              help="On a database with no hub schema, first do what 'init' does (the container's first "
                   "start). A database that is behind is still refused: run 'abusehub migrate'.")
@pass_ctx
def serve(c: Context, host: str | None, port: int | None, workers: int | None, threads: int | None,
          init_if_empty: bool) -> None:
    """Serve TAXII 2.1 with gunicorn until stopped.

    The database must be at this code's schema: an empty one asks for 'abusehub init' (or
    --init-if-empty), an old one for 'abusehub migrate'. The hub's signing key and pseudonym
    keyring must be there: a missing one is never made here (restore it, or 'abusehub init
    --new-keys'). Every start-up problem is one line and exit status 2.
    """
    from hub.server.gunicorn import serve as run

    if init_if_empty:
        # What 'init' does: the schema and keys on an empty database; on one at this code's
        # schema, nothing (a missing key is refused); one that is behind is refused (one line,
        # exit 2).
        _make_home(c)
        _initialise(c)
        c.hub.close()
    # serve checks the port, every file a worker reads, the database and its schema, and the
    # hub key and the pseudonym keyring (one line each when they fail), before the workers start.
    c.require_home()
    s = c.config.server
    run(c.config, host or s.host, port if port is not None else s.port, workers or s.workers,
        threads or s.threads)


@click.command()
@click.option("--port", type=int, default=None, help="Port (default: config server.port, 6100).")
@click.option("--no-serve", is_flag=True, help="Set up and print the examples, but do not serve.")
@pass_ctx
def demo(c: Context, port: int | None, no_serve: bool) -> None:
    """Set up a demo hub (once), print fresh tokens and working examples, and serve it."""
    from hub.services.operations.demo import prepare_demo
    from hub.services.operations.runtime import initialise_hub

    home = Path(c.home or load_config().home)
    if not (home / CONFIG_FILE).exists():
        home.mkdir(parents=True, exist_ok=True)
        (home / CONFIG_FILE).write_text(DEFAULT_CONFIG_TEXT, encoding="utf-8")
    c.home = str(home)
    s = c.config.server
    port = port if port is not None else s.port
    hub, _done = initialise_hub(c.config)
    click.echo(prepare_demo(c.use(hub), s.host, port))
    if not no_serve:
        from hub.server.gunicorn import serve as run

        hub.close()
        run(c.config, s.host, port, s.workers, s.threads)
