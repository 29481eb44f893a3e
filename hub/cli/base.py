"""What every command shares: the ``abusehub`` group, the lazily built services, error
handling and output helpers.

Exit codes: 0 done; 1 the command ran and failed (no such party, a refused file, ...); 2 the
command could not start: a bad option or configuration, no hub home, a database that is missing,
unreachable, or not at this code's schema (every start-up error of ``serve`` too).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from hub.common.errors import ConfigError, HubError, InvalidValue
from hub.common.timestamps import parse_timestamp_us
from hub.config import CONFIG_FILE, HubConfig, load_config
from hub.services.hub import Hub


class Context:
    """Lazily built configuration and services for one command."""

    def __init__(self, home: str | None) -> None:
        self.home = home
        self._config: HubConfig | None = None
        self._hub: Hub | None = None

    @property
    def config(self) -> HubConfig:
        if self._config is None:
            self._config = load_config(self.home)
        return self._config

    def require_home(self) -> HubConfig:
        """The configuration of an existing hub home; :class:`ConfigError` when there is none."""
        cfg = self.config
        if not cfg.database_url and not (cfg.home / CONFIG_FILE).exists():
            raise ConfigError(f"{cfg.home} is not a hub home: run 'abusehub --home {cfg.home} init' first")
        return cfg

    @property
    def hub(self) -> Hub:
        """The hub of this home, on a database at this code's schema. Commands never create or
        migrate a database: one that is missing or behind is one line naming the command to run
        (``init``, ``migrate``) and exit 2."""
        if self._hub is None:
            from hub.services.operations.runtime import open_current_hub

            self._hub = open_current_hub(self.require_home())
        return self._hub

    def use(self, hub: Hub) -> Hub:
        """Make ``hub`` (opened by ``init``, ``migrate`` or ``demo``) this command's hub."""
        self._hub = hub
        return hub


pass_ctx = click.make_pass_decorator(Context)


class HubGroup(click.Group):
    """The ``abusehub`` group: imports a command's module only when that command is looked up,
    and turns every :class:`HubError` into one line on stderr and a non-zero exit.

    Commands are named in a table (:meth:`add_lazy_commands`) rather than imported up front:
    ``abusehub serve`` is the master its server workers are forked from, and every command
    module it imported would be memory they all hold and never run."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Command name -> (module, attribute) of every command added by name, loaded or not.
        self.lazy_commands: dict[str, tuple[str, str]] = {}

    def add_lazy_commands(self, table: Mapping[str, tuple[str, str]]) -> None:
        """Add the commands of ``table`` (name -> (module, attribute)), imported when looked up."""
        self.lazy_commands.update(table)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, sorted as click sorts them (the order of ``--help``)."""
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, its module imported on first use; None for no such command."""
        command = self.commands.get(cmd_name)
        if command is None and cmd_name in self.lazy_commands:
            command = self._load(cmd_name)
        return command

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        """As click resolves it; for a name that is no command, with every command loaded first,
        so that click's error suggests the names near it as it did for commands added up front."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            if self.commands.keys() >= self.lazy_commands.keys():
                raise
            for name in self.lazy_commands:
                self.get_command(ctx, name)
            return super().resolve_command(ctx, args)

    def _load(self, name: str) -> click.Command:
        """Import the command ``name`` from its module and keep it on the group."""
        module, attribute = self.lazy_commands[name]
        command = getattr(importlib.import_module(module), attribute, None)
        if not isinstance(command, click.Command) or command.name != name:
            raise TypeError(f"{module}.{attribute} is not the click command {name!r} the table names")
        self.add_command(command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:  # the command could not start: exit 2, as for a bad option
            click.echo(f"abusehub: {exc.description}", err=True)
            sys.exit(2)
        except HubError as exc:
            click.echo(f"abusehub: {exc.description}", err=True)
            sys.exit(1)


@click.group(cls=HubGroup)
@click.option("--home", envvar="HUB_HOME", default=None, metavar="DIR",
              help="The hub home (config hub.toml and database). Default: $HUB_HOME or ./var/hub.")
@click.version_option(package_name="abusehub")
@click.pass_context
def main(ctx: click.Context, home: str | None) -> None:
    """abusehub: a TAXII 2.1 hub for signed reports of abused IaaS accounts."""
    # What the hub writes (its database, keys, backups) is its owner's alone; files meant for
    # others (blocklists) set their mode explicitly.
    os.umask(0o077)
    ctx.obj = Context(home)




def emit(as_json: bool, data: Any, text: str) -> None:
    """Print ``data`` as indented JSON with ``--json``, else ``text``."""
    click.echo(json.dumps(data, indent=2) if as_json else text)


def read_json(path: str) -> Any:
    """The JSON document in ``path``; :class:`HubError` naming the file otherwise."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise HubError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise HubError(f"{path} is not JSON: {exc}") from None


def timestamp_option(value: str | None, name: str) -> int | None:
    """A STIX timestamp option in microseconds (None when not given)."""
    if value is None:
        return None
    try:
        return parse_timestamp_us(value, name)
    except InvalidValue as exc:
        raise HubError(str(exc)) from None
