"""Federation: ``abusehub peer ...``, ``link ...``, ``federate`` and ``quarantine ...``.

Peer secrets are read from files and kept under the hub home (mode 0600); no command prints one.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from hub.cli.base import Context, emit, pass_ctx
from hub.common.timestamps import format_timestamp_us
from hub.services.admin import TLP_NAMES
from hub.services.federation import DEFAULT_DEADLINE, Credentials


def _when(us: int | None) -> str | None:
    return format_timestamp_us(us) if us is not None else None


# -- peers ------------------------------------------------------------------------------------


@click.group()
def peer() -> None:
    """Peer hubs this hub pulls from and pushes to."""


@peer.command("add")
@click.argument("name")
@click.option("--url", required=True, help="The peer's TAXII 2.1 API root, e.g. https://hub.example/api/.")
@click.option("--token-file", type=click.Path(dir_okay=False), default=None,
              help="A file holding the token the peer issued to this hub.")
@click.option("--basic-auth-file", type=click.Path(dir_okay=False), default=None,
              help="A file holding user:password for HTTP Basic (servers such as medallion).")
@click.option("--cert", type=click.Path(dir_okay=False, exists=True), default=None,
              help="A client certificate (PEM) the peer knows this hub by.")
@click.option("--key", type=click.Path(dir_okay=False, exists=True), default=None,
              help="The client certificate's private key (PEM).")
@click.option("--no-check", is_flag=True, help="Do not check now that the URL and credentials work.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def peer_add(c: Context, name: str, url: str, token_file: str | None, basic_auth_file: str | None,
             cert: str | None, key: str | None, no_check: bool, as_json: bool) -> None:
    """Add a peer (also a party of kind peer); its secrets are kept under the home, mode 0600."""
    given = [token_file is not None, basic_auth_file is not None, bool(cert or key)]
    if sum(given) != 1 or (given[2] and not (cert and key)):
        raise click.UsageError("give one of --token-file, --basic-auth-file, or --cert and --key")
    from hub.client.http import read_token

    if token_file is not None:
        credentials = Credentials(token=read_token(None, token_file))
    elif basic_auth_file is not None:
        credentials = Credentials(basic=read_token(None, basic_auth_file))
    else:
        credentials = Credentials(cert=Path(str(cert)), key=Path(str(key)))
    p = c.hub.federation.peers.add(name, url, credentials, check=not no_check)
    pinned = c.hub.federation.peers.identities(name)
    emit(as_json, _peer_data(p, pinned),
         f"peer {p.name} at {p.url} ({p.auth}{', not checked' if no_check else ''}); "
         f"pinned identities: {', '.join(pinned)}")


def _peer_data(p: Any, pinned: list[str]) -> dict[str, Any]:
    return {"name": p.name, "url": p.url, "auth": p.auth, "created": _when(p.created_us), "identities": pinned}


@peer.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def peer_list(c: Context, as_json: bool) -> None:
    """List peers (never their secrets)."""
    peers = c.hub.federation.peers
    data = [_peer_data(p, peers.identities(p.name)) for p in peers.all()]
    emit(as_json, data, "\n".join(f"{d['name']:20} {d['url']}  {d['auth']}  {len(d['identities'])} pinned "
                                  "identities" for d in data) or "no peers")


@peer.command("remove")
@click.argument("name")
@pass_ctx
def peer_remove(c: Context, name: str) -> None:
    """Remove a peer with its links, pinned identities, quarantine and secret files (its party stays)."""
    c.hub.federation.peers.remove(name)
    click.echo(f"removed peer {name}")


@peer.command("map-identity")
@click.argument("name")
@click.argument("identity_id")
@pass_ctx
def peer_map_identity(c: Context, name: str, identity_id: str) -> None:
    """Pin an identity to a peer: its keys are taken from this peer's key set only."""
    added = c.hub.federation.peers.map_identity(name, identity_id)
    click.echo(f"{identity_id} {'pinned to' if added else 'was already pinned to'} {name}")


@peer.command("import-keys")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def peer_import_keys(c: Context, name: str, as_json: bool) -> None:
    """Import the peer's published keys (GET <api root>/keys/) of the identities pinned to it;
    every other key is ignored and reported."""
    r = c.hub.federation.import_keys(name)
    lines = [f"added {k}" for k in r.added] + [f"known {k}" for k in r.unchanged]
    lines += [f"ignored {k} ({identity}): {why}" for k, identity, why in r.ignored]
    emit(as_json, {"peer": name, "added": r.added, "unchanged": r.unchanged,
                   "ignored": [{"kid": k, "identity": i, "reason": w} for k, i, w in r.ignored]},
         "\n".join(lines) or "the peer publishes no keys")


# -- links ------------------------------------------------------------------------------------


@click.group()
def link() -> None:
    """What is pulled from or pushed to each peer."""


@link.command("add")
@click.argument("peer_name", metavar="PEER")
@click.option("--pull", "pull", default=None, metavar="REMOTE_COLLECTION", help="Pull this remote collection …")
@click.option("--into", "into", default=None, metavar="LOCAL_COLLECTION", help="… into this local one.")
@click.option("--push", "push", default=None, metavar="LOCAL_COLLECTION", help="Push this local collection …")
@click.option("--to", "to", default=None, metavar="REMOTE_COLLECTION", help="… to this remote one.")
@click.option("--types", default="", help="Only these STIX types, comma-separated.")
@click.option("--max-tlp", default=None, help=f"The TLP ceiling of the link: {', '.join(TLP_NAMES)}.")
@click.option("--no-check", is_flag=True, help="Do not check the remote collection now.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def link_add(c: Context, peer_name: str, pull: str | None, into: str | None, push: str | None, to: str | None,
             types: str, max_tlp: str | None, no_check: bool, as_json: bool) -> None:
    """Add a link: --pull REMOTE --into LOCAL, or --push LOCAL --to REMOTE."""
    if pull is not None and into is not None and push is None and to is None:
        direction, remote, local = "pull", pull, into
    elif push is not None and to is not None and pull is None and into is None:
        direction, remote, local = "push", to, push
    else:
        raise click.UsageError("give --pull REMOTE --into LOCAL, or --push LOCAL --to REMOTE")
    wanted = tuple(t.strip() for t in types.split(",") if t.strip())
    lk = c.hub.federation.peers.add_link(peer_name, direction, remote, local, types=wanted, max_tlp=max_tlp,
                                         check=not no_check)
    emit(as_json, _link_data(lk), f"link {lk.pk}: {_describe(lk)}")


def _describe(lk: Any) -> str:
    arrow = (f"pull {lk.peer_name}:{lk.remote_collection} -> {lk.collection_id}" if lk.direction == "pull"
             else f"push {lk.collection_id} -> {lk.peer_name}:{lk.remote_collection}")
    extra = (f" types {','.join(lk.types)}" if lk.types else "") + (f" max TLP {lk.max_tlp}" if lk.max_tlp else "")
    return arrow + extra


def _link_data(lk: Any) -> dict[str, Any]:
    return {"id": lk.pk, "peer": lk.peer_name, "direction": lk.direction, "remote": lk.remote_collection,
            "local": lk.collection_id, "types": list(lk.types), "max_tlp": lk.max_tlp, "cursor": lk.cursor,
            "last_success": _when(lk.last_success_us), "last_error": lk.last_error,
            "last_error_at": _when(lk.last_error_us)}


@link.command("list")
@click.option("--peer", "peer_name", default=None)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def link_list(c: Context, peer_name: str | None, as_json: bool) -> None:
    """List links."""
    links = c.hub.federation.peers.links(peer_name)
    emit(as_json, [_link_data(lk) for lk in links],
         "\n".join(f"{lk.pk:4}  {_describe(lk)}" for lk in links) or "no links")


@link.command("remove")
@click.argument("link_id", type=int)
@pass_ctx
def link_remove(c: Context, link_id: int) -> None:
    """Remove a link (its quarantined objects stay)."""
    c.hub.federation.peers.remove_link(link_id)
    click.echo(f"removed link {link_id}")


@link.command("status")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def link_status(c: Context, as_json: bool) -> None:
    """Per link: lag (objects, seconds since the last success), last success, last error, quarantined."""
    rows = c.hub.federation.status()
    data = [{**_link_data(s.link), "lag_objects": s.lag_objects, "lag_seconds": s.lag_seconds,
             "quarantined": s.quarantined} for s in rows]
    lines = []
    for s, d in zip(rows, data, strict=True):
        lag = "?" if s.lag_objects is None else str(s.lag_objects)
        secs = "never synced" if s.lag_seconds is None else f"{s.lag_seconds:.0f} s ago"
        lines.append(f"{s.link.pk:4}  {_describe(s.link)}\n      lag {lag} objects, last success {secs}"
                     f" ({d['last_success'] or '-'}), quarantined {s.quarantined}"
                     + (f"\n      last error at {d['last_error_at']}: {s.link.last_error}" if s.link.last_error
                        else ""))
    emit(as_json, data, "\n".join(lines) or "no links")


# -- the sync loop ----------------------------------------------------------------------------


@click.command("federate")
@click.option("--once", is_flag=True, help="One turn of every link, then exit (non-zero if any failed).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=None, metavar="SECONDS",
              help="Run until SIGTERM or SIGINT, one turn of every link every SECONDS.")
@click.option("--deadline", type=click.FloatRange(min=1), default=float(DEFAULT_DEADLINE), show_default=True,
              metavar="SECONDS", help="The longest turn of one link; past it the turn ends after its current "
                                      "page, and the link goes on in its next turn.")
@pass_ctx
def federate(c: Context, once: bool, interval: float | None, deadline: float) -> None:
    """Pull from and push to every peer along the links, each link in a thread of its own: a slow
    or hung peer holds up only its own links."""
    if once == (interval is not None):
        raise click.UsageError("give --once or --interval SECONDS")
    logging.basicConfig(level=c.config.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    fed = c.hub.federation
    fed.engine.deadline = deadline
    if once:
        results = fed.sync_once()
        for r in results:
            click.echo(f"link {r.link} ({r.direction} {r.peer}): "
                       + (f"error: {r.error}" if r.error else
                          f"{r.stored} stored, {r.already} already here, {r.quarantined} quarantined, "
                          f"{r.pushed} pushed, {r.refused_by_peer} refused by the peer"
                          + (f"; deletions: {r.tombstones} tombstone(s) taken, {r.removed} version(s) "
                             f"deleted here, {r.deleted_here} passed over as deleted, {r.deletes_sent} "
                             "DELETE(s) sent"
                             if r.tombstones or r.removed or r.deleted_here or r.deletes_sent else "")))
        if any(r.error for r in results):
            sys.exit(1)
        return
    assert interval is not None
    stop = threading.Event()

    def stopping(signum: int, _frame: Any) -> None:
        logging.getLogger("abusehub.federation").info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    click.echo(f"federating every {interval:g} s; SIGTERM or Ctrl-C stops within 2 s (a request still "
               "waiting for a peer is left, and made again next time)")
    left = fed.engine.run_forever(interval, stop)
    click.echo("federation stopped" + (f" ({left} link(s) left waiting for a peer)" if left else ""))
    if left:
        # Threads still wait for a peer: end now, without the interpreter's slow tear-down. Their
        # uncommitted work is rolled back by the database and done again by the next turn.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


# -- quarantine -------------------------------------------------------------------------------


@click.group()
def quarantine() -> None:
    """Objects from peers that were not accepted, held aside with the reason."""


def _held(q: Any, full: bool = False) -> dict[str, Any]:
    data = {"id": q.pk, "peer": q.peer_name, "collection": q.collection_id, "object": q.stix_id,
            "version": q.version, "reason": q.reason, "held_since": _when(q.created_us), "link": q.link_pk}
    if full:
        data["json"] = q.json_text
    return data


@quarantine.command("list")
@click.option("--peer", "peer_name", default=None)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def quarantine_list(c: Context, peer_name: str | None, as_json: bool) -> None:
    """List quarantined objects."""
    held = c.hub.federation.quarantined(peer_name)
    emit(as_json, [_held(q) for q in held],
         "\n".join(f"{q.pk:5}  {q.peer_name}  {q.stix_id} {q.version}: {q.reason}" for q in held)
         or "nothing quarantined")


@quarantine.command("show")
@click.argument("number", type=int)
@pass_ctx
def quarantine_show(c: Context, number: int) -> None:
    """Show one quarantined object: the reason, and the object's exact text."""
    q = c.hub.federation.quarantined_one(number)
    emit(True, _held(q, full=True), "")


@quarantine.command("release")
@click.argument("number", type=int)
@pass_ctx
def quarantine_release(c: Context, number: int) -> None:
    """Send a quarantined object through ingest again (e.g. after its signer's key was imported)."""
    r = c.hub.federation.release(number)
    if r.accepted:
        click.echo(f"released {r.record.stix_id} into {r.record.collection_id}")
    else:
        click.echo(f"still refused, kept in quarantine: {r.reason}", err=True)
        sys.exit(1)


@quarantine.command("drop")
@click.argument("number", type=int)
@pass_ctx
def quarantine_drop(c: Context, number: int) -> None:
    """Delete a quarantined object for good."""
    q = c.hub.federation.drop(number)
    click.echo(f"dropped {q.stix_id} from the quarantine")
