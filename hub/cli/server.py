"""Setting a hub up and running it: ``init``, ``migrate``, ``serve``, ``demo``."""

from __future__ import annotations

from pathlib import Path

import click

from hub.cli.base import Context, main, pass_ctx
from hub.config import CONFIG_FILE, DEFAULT_CONFIG_TEXT, load_config


@main.command()
@pass_ctx
def init(c: Context) -> None:
    """Create a hub home: a config file and an up-to-date database."""
    home = Path(c.home or load_config().home)
    home.mkdir(parents=True, exist_ok=True)
    cfg_path = home / CONFIG_FILE
    if not cfg_path.exists():
        cfg_path.write_text(DEFAULT_CONFIG_TEXT, encoding="utf-8")
        click.echo(f"wrote {cfg_path}")
    c.home = str(home)
    revision, key_id, keyring_created = c.hub.prepare()
    click.echo(f"database ready at schema revision {revision}: {c.config.effective_database_url}")
    click.echo(f"hub signing key {key_id} registered and published at <api root>/keys/")
    if keyring_created:
        click.echo(f"wrote the pseudonym key {c.hub.pseudonyms.path} (keep it secret, back it up)")


@main.command()
@pass_ctx
def migrate(c: Context) -> None:
    """Bring the database schema up to date (never drops data)."""
    click.echo(f"schema revision {c.hub.migrate()}")


@main.command()
@click.option("--host", default=None, help="Address to listen on (config server.host).")
@click.option("--port", type=int, default=None, help="Port (config server.port).")
@click.option("--workers", type=int, default=None, help="Worker processes (config server.workers).")
@click.option("--threads", type=int, default=None, help="Threads per worker (config server.threads).")
@pass_ctx
def serve(c: Context, host: str | None, port: int | None, workers: int | None, threads: int | None) -> None:
    """Serve TAXII 2.1 with gunicorn until stopped."""
    from hub.server.gunicorn import serve as run

    # Not c.hub: that would migrate. serve checks the port, the database and the schema (one
    # line each when they fail; an old schema asks for 'abusehub migrate'), then makes the hub
    # key and the pseudonym keyring once, before the workers start.
    c.require_home()
    s = c.config.server
    run(c.config, host or s.host, port if port is not None else s.port, workers or s.workers,
        threads or s.threads)


@main.command()
@click.option("--port", type=int, default=None, help="Port (default: config server.port, 6100).")
@click.option("--no-serve", is_flag=True, help="Set up and print the examples, but do not serve.")
@pass_ctx
def demo(c: Context, port: int | None, no_serve: bool) -> None:
    """Set up a demo hub (once), print fresh tokens and working examples, and serve it."""
    from hub.services.demo import prepare_demo

    home = Path(c.home or load_config().home)
    if not (home / CONFIG_FILE).exists():
        home.mkdir(parents=True, exist_ok=True)
        (home / CONFIG_FILE).write_text(DEFAULT_CONFIG_TEXT, encoding="utf-8")
    c.home = str(home)
    s = c.config.server
    port = port if port is not None else s.port
    click.echo(prepare_demo(c.hub, s.host, port))
    if not no_serve:
        from hub.server.gunicorn import serve as run

        run(c.config, s.host, port, s.workers, s.threads)

