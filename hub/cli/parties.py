"""Parties, their API tokens and their registered signing keys: ``abusehub party ...``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from hub.cli.base import Context, emit, pass_ctx, read_json, timestamp_option
from hub.common.errors import HubError
from hub.common.timestamps import format_timestamp_us
from hub.services.admin import CLEARABLE, PARTY_KINDS
from hub.stix.sharing import ENTITY_TYPES, SHAREABILITY


@click.group()
def party() -> None:
    """Parties: providers, agencies, peer hubs."""


@party.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(PARTY_KINDS), required=True)
@click.option("--operator", is_flag=True, help="May see every status and administer the hub.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def party_add(c: Context, name: str, kind: str, operator: bool, as_json: bool) -> None:
    """Add a party; prints its first API token, which is not shown again, and the token's id."""
    p, issued = c.hub.admin.add_party_with_token(name, kind, operator)
    emit(as_json, {"name": p.name, "kind": p.kind, "identity": p.identity_id, "operator": p.operator,
                    "token": issued.token, "token_id": issued.id},
          f"party {p.name} ({p.kind}) identity {p.identity_id}\n"
          f"token id: {issued.id}\n"
          f"token (shown once, keep it safe): {issued.token}")


@party.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def party_list(c: Context, as_json: bool) -> None:
    """List parties (never their tokens), with the attributes markings are judged against."""
    admin = c.hub.admin
    parties = admin.list_parties()
    states = {p.name: _state(admin.state(p)) for p in parties}
    data = [{"name": p.name, "kind": p.kind, "identity": p.identity_id, "operator": p.operator,
             "created": format_timestamp_us(p.created_us), "state": states[p.name], **_attributes(p)}
            for p in parties]
    text = "\n".join(f"{p.name:24} {p.kind:9} {p.identity_id}{'  operator' if p.operator else ''}"
                     f"{'' if states[p.name] == 'active' else '  ' + states[p.name].upper()}"
                     f"\n{'':24} {_attributes_text(p)}"
                     for p in parties) or "no parties"
    emit(as_json, data, text)


def _attributes(p: Any) -> dict[str, Any]:
    """What markings are judged against, as ``party list --json`` shows it."""
    data: dict[str, Any] = {"organisation": p.organisation or p.identity_id, "country": p.country,
                            "entity": p.entity, "shareability": list(p.shareability),
                            "terms_accepted": p.terms_accepted,
                            "pseudonyms_per_minute": p.pseudonyms_per_minute}
    if p.kind == "peer":
        data.update(serves=list(p.serves), enforces_markings=p.enforces_markings)
    return data


def _attributes_text(p: Any) -> str:
    """The same, on one line of ``party list``."""
    parts = [f"organisation {p.organisation or p.identity_id}", f"country {p.country or '-'}",
             f"entity {p.entity or '-'}", f"shareability {','.join(p.shareability) or '-'}",
             f"terms {'accepted' if p.terms_accepted else 'not accepted'}",
             f"pseudonyms/min {p.pseudonyms_per_minute or 'hub default'}"]
    if p.kind == "peer":
        parts += [f"serves {','.join(p.serves) or '-'}",
                  "enforces markings" if p.enforces_markings else "does not enforce markings"]
    return "; ".join(parts)


@party.command("edit")
@click.argument("name")
@click.option("--organisation", default=None, metavar="ORG",
              help="The organisation the party belongs to (parties of one organisation share it), as "
                   "markings name it, e.g. USA.EXAMPLECLOUD. Until set, a party is an organisation of its own.")
@click.option("--country", default=None, metavar="CODE",
              help="Its country: GENC / ISO 3166-1 alpha-3, e.g. USA (ACS permitted_nationalities).")
@click.option("--entity", default=None, metavar="TYPE",
              help=f"Its ACS entity type: one of {', '.join(ENTITY_TYPES)}.")
@click.option("--shareability", multiple=True, metavar="CATEGORY",
              help=f"An ACS shareability category it belongs to, one of {', '.join(SHAREABILITY)} (repeat for "
                   "several; replaces the list).")
@click.option("--terms/--no-terms", "terms_accepted", default=None,
              help="Whether it accepted the programme's terms of use (ACS formal determination AIS).")
@click.option("--serves", multiple=True, metavar="IDENTITY",
              help="Peers: the identity id of a party the peer hub serves, so that TLP:RED naming it may "
                   "reach that hub (repeat for several; replaces the list).")
@click.option("--enforces-markings/--no-enforces-markings", "enforces_markings", default=None,
              help="Peers: whether the peer is a hub that enforces markings (only then does anything "
                   "but TLP:CLEAR/GREEN without ACS markings reach it).")
@click.option("--pseudonyms-per-minute", "pseudonyms_per_minute", default=None, metavar="N",
              help="Its own allowance of oblivious pseudonym evaluations a minute (1 to 1000000), in place "
                   "of the hub's [pseudonyms] per_minute: raise it for a provider's first bulk run, clear it "
                   "(--clear pseudonyms_per_minute) afterwards.")
@click.option("--clear", multiple=True, type=click.Choice(CLEARABLE),
              help="Unset an attribute (repeat for several).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def party_edit(c: Context, name: str, organisation: str | None, country: str | None, entity: str | None,
               shareability: tuple[str, ...], terms_accepted: bool | None, serves: tuple[str, ...],
               enforces_markings: bool | None, pseudonyms_per_minute: str | None, clear: tuple[str, ...],
               as_json: bool) -> None:
    """Set the attributes that markings are judged against, and the pseudonym allowance, for
    party NAME; what is not given stays. Which marked objects the party may read changes at once."""
    p = c.hub.admin.edit_party(name, organisation=organisation, country=country, entity=entity,
                               shareability=shareability or None, terms_accepted=terms_accepted,
                               serves=serves or None, enforces_markings=enforces_markings, clear=clear,
                               pseudonyms_per_minute=pseudonyms_per_minute)
    emit(as_json, {"name": p.name, "kind": p.kind, "identity": p.identity_id, **_attributes(p)},
         f"party {p.name}: {_attributes_text(p)}")


def _state(state: Any) -> str:
    if state.removed_us is not None:
        return "removed"
    return "disabled" if state.disabled_us is not None else "active"


@party.command("disable")
@click.argument("name")
@pass_ctx
def party_disable(c: Context, name: str) -> None:
    """Refuse the party's tokens and certificates from now on, on every server process.

    Nothing is deleted: 'party enable NAME' accepts them again.
    """
    changed = c.hub.admin.disable_party(name)
    click.echo(f"disabled {name}: its tokens and certificates are refused" if changed
               else f"{name} was already disabled; nothing changed")


@party.command("enable")
@click.argument("name")
@pass_ctx
def party_enable(c: Context, name: str) -> None:
    """Accept a disabled party's (unrevoked) tokens and certificates again."""
    changed = c.hub.admin.enable_party(name)
    click.echo(f"enabled {name}" if changed else f"{name} was not disabled; nothing changed")


@party.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def party_remove(c: Context, name: str, yes: bool) -> None:
    """Remove a party for good: revoke its tokens, delete its certificates and grants.

    What it submitted stays (objects, statuses, audit records naming it), and its name stays
    taken: 'party add' with the same name is refused, so the name never silently means
    someone else.
    """
    if not yes:
        click.confirm(f"remove party {name} for good (its objects stay)?", abort=True)
    r = c.hub.admin.remove_party(name)
    click.echo(f"removed {name}: {r.tokens_revoked} token(s) revoked, {r.certificates_removed} "
               f"certificate(s) removed, grants removed; its {r.objects_kept} object version(s) stay")


@party.group("cert")
def party_cert() -> None:
    """A party's client certificates (TLS client authentication through the proxy)."""


def _cert_data(rec: Any) -> dict[str, Any]:
    return {"fingerprint": rec.fingerprint, "subject": rec.subject,
            "not_after": format_timestamp_us(rec.not_after_us), "added": format_timestamp_us(rec.created_us)}


@party_cert.command("add")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def party_cert_add(c: Context, name: str, file: str, as_json: bool) -> None:
    """Register a client certificate (PEM FILE) for party NAME: its SHA-256 fingerprint, subject
    and expiry are kept; requests the proxy forwards with it act for NAME."""
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise HubError(f"cannot read {file}: {exc.strerror}") from None
    rec = c.hub.admin.add_certificate(name, data, file)
    emit(as_json, {**_cert_data(rec), "party": name},
         f"registered certificate {rec.fingerprint} for {name}\n"
         f"subject {rec.subject}, valid until {format_timestamp_us(rec.not_after_us)}")


@party_cert.command("list")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def party_cert_list(c: Context, name: str, as_json: bool) -> None:
    """List a party's client certificates."""
    recs = c.hub.admin.list_certificates(name)
    emit(as_json, [_cert_data(r) for r in recs],
         "\n".join(f"{r.fingerprint}  until {format_timestamp_us(r.not_after_us)}  {r.subject}" for r in recs)
         or f"no certificates for {name}")


@party_cert.command("remove")
@click.argument("name")
@click.argument("fingerprint")
@pass_ctx
def party_cert_remove(c: Context, name: str, fingerprint: str) -> None:
    """Stop accepting one of the party's certificates (FINGERPRINT: SHA-256, as 'cert list' shows)."""
    c.hub.admin.remove_certificate(name, fingerprint)
    click.echo(f"removed certificate {fingerprint} of {name}")


@party.command("token")
@click.argument("name")
@click.option("--label", default="", help="A note on what the new token is for.")
@click.option("--revoke", "revoke_id", type=int, default=None, metavar="ID",
              help="Revoke the token with this id (see 'party tokens NAME') instead; the party's "
                   "other tokens stay valid.")
@click.option("--revoke-all", is_flag=True, help="Revoke every token of the party instead.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def party_token(c: Context, name: str, label: str, revoke_id: int | None, revoke_all: bool,
                as_json: bool) -> None:
    """Issue a new token for a party (old ones stay valid), or revoke one or all of them.

    A new token is printed alone on stdout, once; its id goes to stderr (both to stdout, as
    JSON, with --json). To rotate: issue a new token, move the client to it, then revoke the
    old one by id.
    """
    if revoke_id is not None and revoke_all:
        raise click.UsageError("give either --revoke ID or --revoke-all, not both")
    if label and (revoke_id is not None or revoke_all):
        raise click.UsageError("--label is for issuing a token, not for revoking")
    admin = c.hub.admin
    if revoke_all:
        count = admin.revoke_tokens(name)
        emit(as_json, {"party": name, "revoked": count}, f"revoked {count} token(s) of {name}")
        return
    if revoke_id is not None:
        outcome = admin.revoke_token(name, revoke_id)
        rec = outcome.record
        revoked_at = format_timestamp_us(rec.revoked_us) if rec.revoked_us is not None else None
        text = (f"revoked token {rec.id} of {name} (label {rec.label!r}); its other tokens stay valid"
                if outcome.revoked_now else
                f"token {rec.id} of {name} was already revoked at {revoked_at}; nothing changed")
        emit(as_json, {**_token_data(rec), "party": name, "revoked_now": outcome.revoked_now}, text)
        return
    issued = admin.issue(name, label)
    if as_json:
        emit(True, {"id": issued.id, "party": name, "label": issued.label,
                     "created": format_timestamp_us(issued.created_us), "token": issued.token}, "")
        return
    click.echo(issued.token)
    click.echo(f"issued token id {issued.id} for {name}"
               f"{f' (label {issued.label!r})' if issued.label else ''}; the token is printed once, "
               "on stdout", err=True)


def _token_data(rec: Any) -> dict[str, Any]:
    return {"id": rec.id, "label": rec.label, "created": format_timestamp_us(rec.created_us),
            "revoked": format_timestamp_us(rec.revoked_us) if rec.revoked_us is not None else None,
            "active": rec.revoked_us is None}


@party.command("tokens")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def party_tokens(c: Context, name: str, as_json: bool) -> None:
    """List a party's tokens by id, revoked ones included (never the tokens themselves)."""
    records = c.hub.admin.list_tokens(name)
    data = [_token_data(r) for r in records]
    rows = [("ID", "STATUS", "CREATED", "REVOKED", "LABEL")] + [
        (str(d["id"]), "active" if d["active"] else "revoked", d["created"], d["revoked"] or "-",
         d["label"]) for d in data]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(col.ljust(w) for col, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    emit(as_json, data, "\n".join(lines) if records else f"no tokens for {name}")


@party.group("key")
def party_key() -> None:
    """A party's registered public keys."""


@party_key.command("add")
@click.argument("name")
@click.argument("jwk_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--not-before", default=None, help="Valid from (STIX timestamp; default now).")
@click.option("--not-after", default=None, help="Valid until (STIX timestamp; default open-ended).")
@pass_ctx
def party_key_add(c: Context, name: str, jwk_file: str, not_before: str | None, not_after: str | None) -> None:
    """Register a public JWK for party NAME (a JWK with private parts is refused)."""
    rec = c.hub.keys.add(name, read_json(jwk_file), timestamp_option(not_before, "--not-before"),
                         timestamp_option(not_after, "--not-after"))
    click.echo(f"registered key {rec.key_id} ({rec.alg}) for {rec.party_name}")


@party_key.command("list")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def party_key_list(c: Context, name: str | None, as_json: bool) -> None:
    """List registered keys (all parties, or NAME's)."""
    from hub.services.keys import published_jwk

    recs = c.hub.keys.list(name)
    text = "\n".join(
        f"{r.key_id}  {r.alg:7} {r.party_name:16} from {format_timestamp_us(r.not_before_us)}"
        + (f" until {format_timestamp_us(r.not_after_us)}" if r.not_after_us else "")
        + (f"  REVOKED {format_timestamp_us(r.revoked_us)}" if r.revoked_us else "") for r in recs)
    emit(as_json, [published_jwk(r) for r in recs], text or "no keys")


@party_key.command("revoke")
@click.argument("key_id")
@pass_ctx
def party_key_revoke(c: Context, key_id: str) -> None:
    """Revoke a key: new submissions signed with it are refused; what was accepted stays. The
    hub's own countersigning key is refused, as on the operators' page."""
    c.hub.admin.check_key_revocable(key_id)
    rec = c.hub.keys.revoke(key_id)
    click.echo(f"revoked key {key_id} of {rec.party_name} at {format_timestamp_us(rec.revoked_us or 0)}")

