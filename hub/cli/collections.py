"""Collections and grants: ``abusehub collection ...``, ``grant``, ``revoke``."""

from __future__ import annotations

from typing import Any

import click

from hub.cli.base import Context, emit, main, pass_ctx
from hub.services.admin import TLP_NAMES


@main.group()
def collection() -> None:
    """Collections and their policies."""


@collection.command("add")
@click.argument("title")
@click.option("--id", "collection_id", default=None, help="A UUID (default: a new one).")
@click.option("--alias", default=None)
@click.option("--description", default="")
@click.option("--max-tlp", type=click.Choice(TLP_NAMES + ("white",), case_sensitive=False), default="amber",
              show_default=True, help="The most restrictive TLP the collection may carry.")
@click.option("--require-signatures", is_flag=True, help="Refuse objects not signed by their submitter.")
@click.option("--countersign", is_flag=True, help="The hub countersigns what it accepts.")
@click.option("--allow-personal-data", is_flag=True, help="Do not refuse personal data in clear (unsafe).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def collection_add(c: Context, title: str, collection_id: str | None, alias: str | None, description: str,
                   max_tlp: str, require_signatures: bool, countersign: bool, allow_personal_data: bool,
                   as_json: bool) -> None:
    """Add a collection."""
    col = c.hub.admin.add_collection(title, description=description, alias=alias,
                                     collection_id=collection_id, max_tlp=max_tlp,
                                     require_signatures=require_signatures, countersign=countersign,
                                     allow_personal_data=allow_personal_data)
    emit(as_json, _collection_data(col), f"collection {col.id} {col.title!r}")


def _collection_data(col: Any) -> dict[str, Any]:
    return {"id": col.id, "title": col.title, "alias": col.alias, "description": col.description,
            "max_tlp": col.max_tlp, "require_signatures": col.require_signatures,
            "countersign": col.countersign, "allow_personal_data": col.allow_personal_data}


@collection.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def collection_list(c: Context, as_json: bool) -> None:
    """List collections with their policies."""
    cols = c.hub.admin.list_collections()
    text = "\n".join(f"{col.id}  {col.title!r}  max TLP {col.max_tlp}"
                     f"{'  signatures required' if col.require_signatures else ''}" for col in cols)
    emit(as_json, [_collection_data(col) for col in cols], text or "no collections")


def _rights(read: bool, write: bool) -> tuple[bool, bool]:
    return (True, True) if not read and not write else (read, write)


@main.command()
@click.argument("party_name", metavar="PARTY")
@click.argument("collection_id", metavar="COLLECTION")
@click.option("--read", is_flag=True)
@click.option("--write", is_flag=True)
@pass_ctx
def grant(c: Context, party_name: str, collection_id: str, read: bool, write: bool) -> None:
    """Let PARTY read and/or write COLLECTION (both when neither flag is given)."""
    g = c.hub.admin.grant(party_name, collection_id, *_rights(read, write))
    click.echo(f"{party_name} on {collection_id}: read={g.can_read} write={g.can_write}")


@main.command()
@click.argument("party_name", metavar="PARTY")
@click.argument("collection_id", metavar="COLLECTION")
@click.option("--read", is_flag=True)
@click.option("--write", is_flag=True)
@pass_ctx
def revoke(c: Context, party_name: str, collection_id: str, read: bool, write: bool) -> None:
    """Take read and/or write on COLLECTION away from PARTY (both when neither flag is given)."""
    g = c.hub.admin.revoke(party_name, collection_id, *_rights(read, write))
    click.echo(f"{party_name} on {collection_id}: read={g.can_read} write={g.can_write}")


