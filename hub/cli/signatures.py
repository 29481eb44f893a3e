"""Keys and signatures on the analyst's side: ``key generate``, ``sign``, ``verify``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from hub.cli.base import Context, pass_ctx, read_json
from hub.common.errors import HubError


@click.group()
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


@click.command()
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


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--keys", "keys_from", default=None,
              help="The published keys: a hub's keys URL (…/api/keys/) or a JWK set file. "
                   "Default: this hub's registry.")
@pass_ctx
def verify(c: Context, file: str, keys_from: str | None) -> None:
    """Verify every signature in FILE; prints OK or FAILED per object; exits 1 on any failure."""
    import time

    from hub.signing import KeyFormatError, KeySet
    from hub.signing.documents import load_document, verify_objects

    try:
        if keys_from is None:
            keyset = c.hub.keys.keyset()
        elif keys_from.startswith(("http://", "https://")):
            from hub.client.verify import KeySource

            # Fetched without any token, redirects not followed, nothing from the environment.
            keyset = KeySource(keys_from, hint="").get()
        else:
            keyset = KeySet.from_jwks(read_json(keys_from))
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

