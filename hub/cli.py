"""The ``abusehub`` command line: parses arguments, calls the services, prints.

It holds no rules of its own: everything it does goes through :class:`hub.services.hub.Hub`, the
same services the TAXII views use. Errors become one readable line and a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, TypeVar

import click

from hub.config import CONFIG_FILE, DEFAULT_CONFIG_TEXT, HubConfig, load_config
from hub.errors import ConfigError, HubError
from hub.pseudonym import PSEUDONYM_KINDS
from hub.services.admin import PARTY_KINDS, TLP_NAMES
from hub.services.hub import Hub, open_hub
from hub.stix.basics import format_timestamp_us

F = TypeVar("F", bound=Callable[..., Any])


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

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            cfg = self.config
            if not cfg.database_url and not (cfg.home / CONFIG_FILE).exists():
                raise ConfigError(f"{cfg.home} is not a hub home: run 'abusehub --home {cfg.home} init' first")
            self._hub = open_hub(cfg, migrate=True)
        return self._hub


pass_ctx = click.make_pass_decorator(Context)


def _emit(as_json: bool, data: Any, text: str) -> None:
    click.echo(json.dumps(data, indent=2) if as_json else text)


class HubGroup(click.Group):
    """Turns every :class:`HubError` into one line on stderr and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
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
    ctx.obj = Context(home)


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
    revision = c.hub.store.migrate()  # type: ignore[attr-defined]
    click.echo(f"database ready at schema revision {revision}: {c.config.effective_database_url}")
    if c.hub.pseudonyms.ensure_keyring():
        click.echo(f"wrote the pseudonym key {c.hub.pseudonyms.path} (keep it secret, back it up)")


@main.command()
@pass_ctx
def migrate(c: Context) -> None:
    """Bring the database schema up to date (never drops data)."""
    click.echo(f"schema revision {c.hub.store.migrate()}")  # type: ignore[attr-defined]


@main.command()
@click.option("--host", default=None, help="Address to listen on (config server.host).")
@click.option("--port", type=int, default=None, help="Port (config server.port).")
@click.option("--workers", type=int, default=None, help="Worker processes (config server.workers).")
@click.option("--threads", type=int, default=None, help="Threads per worker (config server.threads).")
@pass_ctx
def serve(c: Context, host: str | None, port: int | None, workers: int | None, threads: int | None) -> None:
    """Serve TAXII 2.1 with gunicorn until stopped."""
    from hub.serve import serve as run

    c.hub.pseudonyms.ensure_keyring()  # migrate, and make the key once, before the workers start
    s = c.config.server
    run(c.config, host or s.host, port if port is not None else s.port, workers or s.workers,
        threads or s.threads)


@main.group()
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
    _emit(as_json, {"name": p.name, "kind": p.kind, "identity": p.identity_id, "operator": p.operator,
                    "token": issued.token, "token_id": issued.id},
          f"party {p.name} ({p.kind}) identity {p.identity_id}\n"
          f"token id: {issued.id}\n"
          f"token (shown once, keep it safe): {issued.token}")


@party.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def party_list(c: Context, as_json: bool) -> None:
    """List parties (never their tokens)."""
    parties = c.hub.admin.list_parties()
    data = [{"name": p.name, "kind": p.kind, "identity": p.identity_id, "operator": p.operator,
             "created": format_timestamp_us(p.created_us)} for p in parties]
    text = "\n".join(f"{p.name:24} {p.kind:9} {p.identity_id}{'  operator' if p.operator else ''}"
                     for p in parties) or "no parties"
    _emit(as_json, data, text)


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
        _emit(as_json, {"party": name, "revoked": count}, f"revoked {count} token(s) of {name}")
        return
    if revoke_id is not None:
        outcome = admin.revoke_token(name, revoke_id)
        rec = outcome.record
        revoked_at = format_timestamp_us(rec.revoked_us) if rec.revoked_us is not None else None
        text = (f"revoked token {rec.id} of {name} (label {rec.label!r}); its other tokens stay valid"
                if outcome.revoked_now else
                f"token {rec.id} of {name} was already revoked at {revoked_at}; nothing changed")
        _emit(as_json, {**_token_data(rec), "party": name, "revoked_now": outcome.revoked_now}, text)
        return
    issued = admin.issue(name, label)
    if as_json:
        _emit(True, {"id": issued.id, "party": name, "label": issued.label,
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
    lines = ["  ".join(col.ljust(w) for col, w in zip(row, widths)).rstrip() for row in rows]
    _emit(as_json, data, "\n".join(lines) if records else f"no tokens for {name}")


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
    _emit(as_json, _collection_data(col), f"collection {col.id} {col.title!r}")


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
    _emit(as_json, [_collection_data(col) for col in cols], text or "no collections")


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


@main.command()
@click.option("--port", type=int, default=None, help="Port (default: config server.port, 6100).")
@click.option("--no-serve", is_flag=True, help="Set up and print the examples, but do not serve.")
@pass_ctx
def demo(c: Context, port: int | None, no_serve: bool) -> None:
    """Set up a demo hub (once), print fresh tokens and working examples, and serve it."""
    from hub.demo import prepare_demo

    home = Path(c.home or load_config().home)
    if not (home / CONFIG_FILE).exists():
        home.mkdir(parents=True, exist_ok=True)
        (home / CONFIG_FILE).write_text(DEFAULT_CONFIG_TEXT, encoding="utf-8")
    c.home = str(home)
    s = c.config.server
    port = port if port is not None else s.port
    click.echo(prepare_demo(c.hub, s.host, port))
    if not no_serve:
        from hub.serve import serve as run

        run(c.config, s.host, port, s.workers, s.threads)


# -- keys, signing, verification, audit ---------------------------------------------------------

def _read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise HubError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise HubError(f"{path} is not JSON: {exc}") from None


def _timestamp_option(value: str | None, name: str) -> int | None:
    from hub.stix.basics import InvalidObject, parse_timestamp_us

    if value is None:
        return None
    try:
        return parse_timestamp_us(value, name)
    except InvalidObject as exc:
        raise HubError(str(exc)) from None


@main.group()
def key() -> None:
    """Signing keys on the analyst's side."""


@key.command("generate")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Private key file (PEM, mode 0600).")
@click.option("--alg", type=click.Choice(["Ed25519", "ES256"]), default="Ed25519", show_default=True)
def key_generate(out: str, alg: str) -> None:
    """Generate a private key into OUT and print its public JWK (to register with the hub)."""
    from hub.services.keys import write_private_key
    from hub.signing import SigningKey

    path = Path(out)
    if path.exists():
        raise HubError(f"{out} exists: refusing to overwrite a private key")
    k = SigningKey.generate(alg)
    write_private_key(path, k)
    click.echo(json.dumps(k.public_key.to_jwk(), indent=2))


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
    rec = c.hub.keys.add(name, _read_json(jwk_file), _timestamp_option(not_before, "--not-before"),
                         _timestamp_option(not_after, "--not-after"))
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
    _emit(as_json, [published_jwk(r) for r in recs], text or "no keys")


@party_key.command("revoke")
@click.argument("key_id")
@pass_ctx
def party_key_revoke(c: Context, key_id: str) -> None:
    """Revoke a key: new submissions signed with it are refused; what was accepted stays."""
    rec = c.hub.keys.revoke(key_id)
    click.echo(f"revoked key {key_id} of {rec.party_name} at {format_timestamp_us(rec.revoked_us or 0)}")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--key", "key_file", required=True, type=click.Path(exists=True, dir_okay=False), help="Private key (PEM).")
@click.option("--as", "as_party", required=True, help="The signing party: its identity id, or its name in this hub.")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="Write here (default: standard output).")
@pass_ctx
def sign(c: Context, file: str, key_file: str, as_party: str, out: str | None) -> None:
    """Sign every object of a bundle, envelope or JSON-lines FILE, setting created_by_ref."""
    from hub.signing import SigningKey
    from hub.signing.documents import dump_document, load_document, sign_objects

    if as_party.startswith("identity--"):
        identity = as_party
    else:
        identity = c.hub.admin.party(as_party).identity_id
    try:
        k = SigningKey.from_pem(Path(key_file).read_bytes())
    except ValueError as exc:
        raise HubError(f"{key_file}: {exc}") from None
    form, doc, objects = load_document(Path(file).read_bytes())
    data = dump_document(form, doc, sign_objects(objects, k, identity))
    if out:
        Path(out).write_bytes(data)
        click.echo(f"signed {len(objects)} objects as {identity} with key {k.key_id} into {out}", err=True)
    else:
        sys.stdout.buffer.write(data)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--keys", "keys_from", default=None,
              help="The published keys: a hub's keys URL (…/api/keys/) or a JWK set file. "
                   "Default: this hub's registry.")
@pass_ctx
def verify(c: Context, file: str, keys_from: str | None) -> None:
    """Verify every signature in FILE; prints OK or FAILED per object; exits 1 on any failure."""
    import time

    from hub.signing import KeySet, KeyFormatError
    from hub.signing.documents import load_document, verify_objects

    try:
        if keys_from is None:
            keyset = c.hub.keys.keyset()
        elif keys_from.startswith(("http://", "https://")):
            import requests

            try:
                resp = requests.get(keys_from, timeout=30)
                resp.raise_for_status()
                keyset = KeySet.from_jwks(resp.json())
            except (requests.RequestException, ValueError) as exc:
                raise HubError(f"cannot fetch keys from {keys_from}: {exc}") from None
        else:
            keyset = KeySet.from_jwks(_read_json(keys_from))
    except KeyFormatError as exc:
        raise HubError(f"bad key set: {exc}") from None
    _, _, objects = load_document(Path(file).read_bytes())
    verdicts = verify_objects(objects, keyset, time.time_ns() // 1000)
    for v in verdicts:
        click.echo(f"OK      {v.id}  signed by {', '.join(v.signers)}" if v.ok else f"FAILED  {v.id}  {v.reason}")
    failed = sum(not v.ok for v in verdicts)
    click.echo(f"{len(verdicts) - failed} OK, {failed} FAILED", err=True)
    if failed:
        sys.exit(1)


@main.group()
def audit() -> None:
    """The tamper-evident audit trail."""


@audit.command("verify")
@pass_ctx
def audit_verify(c: Context) -> None:
    """Recompute the hash chain; name the first broken record; exit 1 if broken."""
    report = c.hub.audit.verify()
    if report.ok:
        click.echo(f"audit chain OK: {report.records} records, head {report.head}")
        return
    click.echo(f"audit chain BROKEN at record {report.broken_seq}: {report.reason} "
               f"({report.records} records verified before it)")
    sys.exit(1)


@audit.command("export")
@click.option("--since", default=None, help="Only records at or after this STIX timestamp.")
@pass_ctx
def audit_export(c: Context, since: str | None) -> None:
    """Print audit records as JSON lines."""
    for rec in c.hub.audit.export(_timestamp_option(since, "--since")):
        d = rec.as_json()
        d["at"] = format_timestamp_us(rec.at_us)
        click.echo(json.dumps(d, separators=(",", ":")))


# -- pseudonyms and correlation ---------------------------------------------------------------

@main.group()
def pseudonym() -> None:
    """Keyed pseudonyms of personal values, their key, and the reports they link."""


@pseudonym.command("make")
@click.option("--kind", type=click.Choice(PSEUDONYM_KINDS), required=True)
@click.option("--all-versions", is_flag=True, help="Print the pseudonym under every key version.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def pseudonym_make(c: Context, kind: str, all_versions: bool, as_json: bool) -> None:
    """Pseudonymise values read from standard input, one per line (never from arguments:
    those end up in shell history and process lists). Prints one pseudonym per line."""
    lines = [(n, line.strip()) for n, line in enumerate(sys.stdin.read().splitlines(), 1) if line.strip()]
    if not lines:
        raise HubError("no values on standard input (one per line)")
    made = c.hub.pseudonyms.make(kind, [v for _, v in lines], [f"line {n}" for n, _ in lines])
    text = "\n".join(" ".join(m["all_versions"]) if all_versions else m["pseudonym"] for m in made)
    _emit(as_json, made, text)


@pseudonym.command("rotate")
@pass_ctx
def pseudonym_rotate(c: Context) -> None:
    """Add a pseudonym key version and make it current (older versions still match)."""
    version, versions = c.hub.pseudonyms.rotate()
    click.echo(f"pseudonym key {version} is now current; kept for matching: "
               f"{', '.join(v for v in versions if v != version)}")


@pseudonym.command("correlate")
@click.argument("pseudonyms", nargs=-1, required=True, metavar="PSEUDONYM...")
@click.option("--as", "as_party", default=None, metavar="PARTY",
              help="Only the collections PARTY may read (default: every collection).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def pseudonym_correlate(c: Context, pseudonyms: tuple[str, ...], as_party: str | None, as_json: bool) -> None:
    """The reports that mention an account carrying any of PSEUDONYM..."""
    found = c.hub.pseudonyms.correlate_as_operator(list(pseudonyms), as_party)
    text = "\n".join(f"{x.pseudonym}  {x.collection}  {x.account}  {x.report}" for x in found)
    _emit(as_json, [x.as_json() for x in found], text or "no reports share these pseudonyms")


# -- the parties' tools: TAXII clients of a hub (hub.client) ------------------------------------

def _register_client_tools() -> None:
    from hub.client.analyst import report
    from hub.client.commands import export, poll

    for command in (poll, export, report):
        main.add_command(command)


_register_client_tools()
