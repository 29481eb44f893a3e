"""Collections, grants and retention: ``abusehub collection ...``, ``grant``, ``revoke``,
``grants list``, ``retention run``."""

from __future__ import annotations

from typing import Any

import click

from hub.cli.base import Context, emit, pass_ctx
from hub.services.admin import TLP_NAMES


@click.group()
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
@click.option("--anonymous-submissions", is_flag=True,
              help="Accept reports filed anonymously (docs/ANONYMITY.md).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def collection_add(c: Context, title: str, collection_id: str | None, alias: str | None, description: str,
                   max_tlp: str, require_signatures: bool, countersign: bool, allow_personal_data: bool,
                   anonymous_submissions: bool, as_json: bool) -> None:
    """Add a collection."""
    col = c.hub.admin.add_collection(title, description=description, alias=alias,
                                     collection_id=collection_id, max_tlp=max_tlp,
                                     require_signatures=require_signatures, countersign=countersign,
                                     allow_personal_data=allow_personal_data)
    if anonymous_submissions:
        c.hub.anonymous.set_allowed(col.id, True)
    emit(as_json, _collection_data(col, anonymous=anonymous_submissions), f"collection {col.id} {col.title!r}")


def _collection_data(col: Any, max_age_days: int | None = None, anonymous: bool = False) -> dict[str, Any]:
    return {"id": col.id, "title": col.title, "alias": col.alias, "description": col.description,
            "max_tlp": col.max_tlp, "require_signatures": col.require_signatures,
            "countersign": col.countersign, "allow_personal_data": col.allow_personal_data,
            "anonymous_submissions": anonymous, "max_age_days": max_age_days}


@collection.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def collection_list(c: Context, as_json: bool) -> None:
    """List collections with their policies."""
    admin = c.hub.admin
    cols = admin.list_collections()
    ages = {col.id: admin.max_age_days(col.id) for col in cols}
    anonymous = {col.id: c.hub.anonymous.allowed(col.id) for col in cols}
    text = "\n".join(f"{col.id}  {col.title!r}  max TLP {col.max_tlp}"
                     f"{'  signatures required' if col.require_signatures else ''}"
                     f"{'  anonymous submissions' if anonymous[col.id] else ''}"
                     f"{f'  kept {ages[col.id]} days' if ages[col.id] else ''}" for col in cols)
    emit(as_json, [_collection_data(col, ages[col.id], anonymous[col.id]) for col in cols],
         text or "no collections")


@collection.command("edit")
@click.argument("collection_id", metavar="ID")
@click.option("--title", default=None)
@click.option("--description", default=None)
@click.option("--max-tlp", type=click.Choice(TLP_NAMES + ("white",), case_sensitive=False), default=None,
              help="The most restrictive TLP the collection may carry.")
@click.option("--require-signatures/--no-require-signatures", default=None,
              help="Refuse objects not signed by their submitter (or stop refusing them).")
@click.option("--countersign/--no-countersign", default=None, help="The hub countersigns what it accepts.")
@click.option("--allow-personal-data/--no-allow-personal-data", default=None,
              help="Do not refuse personal data in clear (unsafe), or refuse it again.")
@click.option("--anonymous-submissions/--no-anonymous-submissions", default=None,
              help="Accept reports filed anonymously (docs/ANONYMITY.md), or stop accepting them.")
@click.option("--max-age-days", type=int, default=None, metavar="N",
              help="Keep versions N days after they were added; 'retention run' deletes older ones.")
@click.option("--keep-forever", is_flag=True, help="Clear --max-age-days: keep everything.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def collection_edit(c: Context, collection_id: str, title: str | None, description: str | None,
                    max_tlp: str | None, require_signatures: bool | None, countersign: bool | None,
                    allow_personal_data: bool | None, anonymous_submissions: bool | None,
                    max_age_days: int | None, keep_forever: bool, as_json: bool) -> None:
    """Change a collection's title, description or policy (only what is given).

    A policy applies to what is submitted from now on; what is stored stays as it is.
    """
    admin = c.hub.admin
    col = admin.edit_collection(collection_id, title=title, description=description, max_tlp=max_tlp,
                                require_signatures=require_signatures, countersign=countersign,
                                allow_personal_data=allow_personal_data, max_age_days=max_age_days,
                                keep_forever=keep_forever)
    if anonymous_submissions is not None:
        c.hub.anonymous.set_allowed(col.id, anonymous_submissions)
    age = admin.max_age_days(col.id)
    anonymous = c.hub.anonymous.allowed(col.id)
    emit(as_json, _collection_data(col, age, anonymous),
         f"collection {col.id} {col.title!r}: max TLP {col.max_tlp}, "
         f"signatures {'required' if col.require_signatures else 'optional'}, "
         f"countersign {'on' if col.countersign else 'off'}, "
         f"personal data {'allowed' if col.allow_personal_data else 'refused'}, "
         f"anonymous submissions {'accepted' if anonymous else 'refused'}, "
         f"{f'kept {age} days' if age else 'kept forever'}")


@collection.command("remove")
@click.argument("collection_id", metavar="ID")
@click.option("--purge", is_flag=True, help="Delete the objects it holds with it (audited with the count).")
@pass_ctx
def collection_remove(c: Context, collection_id: str, purge: bool) -> None:
    """Remove a collection with its grants. Refused while it holds objects, unless --purge."""
    col = c.hub.admin.collection(collection_id)
    count = c.hub.admin.remove_collection(collection_id, purge)
    click.echo(f"removed collection {col.id} {col.title!r}"
               + (f" and {count} object version(s)" if count else ""))


def _rights(read: bool, write: bool) -> tuple[bool, bool]:
    return (True, True) if not read and not write else (read, write)


@click.command()
@click.argument("party_name", metavar="PARTY")
@click.argument("collection_id", metavar="COLLECTION")
@click.option("--read", is_flag=True)
@click.option("--write", is_flag=True)
@pass_ctx
def grant(c: Context, party_name: str, collection_id: str, read: bool, write: bool) -> None:
    """Let PARTY read and/or write COLLECTION (both when neither flag is given)."""
    g = c.hub.admin.grant(party_name, collection_id, *_rights(read, write))
    click.echo(f"{party_name} on {collection_id}: read={g.can_read} write={g.can_write}")


@click.command()
@click.argument("party_name", metavar="PARTY")
@click.argument("collection_id", metavar="COLLECTION")
@click.option("--read", is_flag=True)
@click.option("--write", is_flag=True)
@pass_ctx
def revoke(c: Context, party_name: str, collection_id: str, read: bool, write: bool) -> None:
    """Take read and/or write on COLLECTION away from PARTY (both when neither flag is given)."""
    g = c.hub.admin.revoke(party_name, collection_id, *_rights(read, write))
    click.echo(f"{party_name} on {collection_id}: read={g.can_read} write={g.can_write}")




@click.group()
def grants() -> None:
    """Who may read and write which collection."""


@grants.command("list")
@click.option("--party", "party_name", default=None, metavar="P", help="Only this party's grants.")
@click.option("--collection", "collection_id", default=None, metavar="C",
              help="Only grants on this collection (id or alias).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def grants_list(c: Context, party_name: str | None, collection_id: str | None, as_json: bool) -> None:
    """List grants: party, collection, read, write."""
    rows = c.hub.admin.list_grants(party_name, collection_id)
    data = [{"party": r.party, "collection": r.collection_id, "title": r.collection_title,
             "read": r.can_read, "write": r.can_write} for r in rows]
    text = "\n".join(f"{r.party:24} {r.collection_id}  read={r.can_read} write={r.can_write}  "
                     f"{r.collection_title!r}" for r in rows)
    emit(as_json, data, text or "no grants")


@click.group()
def retention() -> None:
    """Retention: deleting versions older than their collection's --max-age-days."""


@retention.command("run")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def retention_run(c: Context, as_json: bool) -> None:
    """Delete, in every collection with a maximum age, the versions added longer ago than that.

    Idempotent; run it daily (deploy/abusehub-retention.timer). Each collection's run is audited.
    """
    from hub.common.timestamps import format_timestamp_us
    from hub.services.operations.retention import RetentionService

    outcomes = RetentionService.of(c.hub).run()
    data = [{"collection": o.collection_id, "max_age_days": o.max_age_days,
             "added_before": format_timestamp_us(o.cutoff_us), "purged": o.purged} for o in outcomes]
    text = "\n".join(f"{o.collection_id}: deleted {o.purged} version(s) added before "
                     f"{format_timestamp_us(o.cutoff_us)} (kept {o.max_age_days} days)" for o in outcomes)
    emit(as_json, data, text or "no collection has a maximum age: nothing to do")
