"""The sealed submitter records of anonymous reports.

The oversight body's side, ``escrow keygen`` and ``escrow open``, needs no hub home: both run
where the oversight private key is kept, off the hub. The hub's side, ``escrow sealed`` (print
the sealed record kept beside a report, to hand to the oversight) and ``escrow register``
(record in the audit trail an opening the oversight decided), runs on the hub's home.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from hub.anonymity.errors import EscrowError
from hub.anonymity.escrow import OversightPrivateKey, open_sealed
from hub.cli.base import Context, pass_ctx
from hub.client.tokens import submitter_record_problem
from hub.common.errors import HubError
from hub.signing import KeyFormatError, KeySet


@click.group()
def escrow() -> None:
    """The oversight key that opens sealed submitter records (kept off the hub)."""


def _create(path: Path, data: bytes, mode: int) -> None:
    """Write a new file ``path`` with ``mode``; never replaces one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise HubError(f"{path} exists: refusing to overwrite a key") from None
    except OSError as exc:
        raise HubError(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, mode)  # whatever the umask


@escrow.command("keygen")
@click.option("--private", "private_file", required=True, type=click.Path(dir_okay=False),
              help="The private key file to create (PKCS#8 PEM, mode 0600): keep it off the hub.")
@click.option("--public", "public_file", required=True, type=click.Path(dir_okay=False),
              help="The public key file to create (PEM), for the hub's configuration.")
@click.option("--passphrase", is_flag=True, help="Encrypt the private key with a passphrase (asked for twice).")
def keygen(private_file: str, public_file: str, passphrase: bool) -> None:
    """Make an oversight key pair (X25519) and print the public key's id."""
    private_path, public_path = Path(private_file), Path(public_file)
    for path in (private_path, public_path):
        if path.exists():
            raise HubError(f"{path} exists: refusing to overwrite a key")
    password = click.prompt("Passphrase", hide_input=True, confirmation_prompt=True).encode() if passphrase else None
    key = OversightPrivateKey.generate()
    _create(private_path, key.to_pem(password), 0o600)
    _create(public_path, key.public_key.to_pem(), 0o644)
    click.echo(f"oversight key {key.public_key.key_id}: private key {private_path} (mode 0600, keep it off the hub), "
               f"public key {public_path}")


@escrow.command("open")
@click.option("--key", "key_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The oversight private key (PEM).")
@click.option("--keys", "keys_file", type=click.Path(exists=True, dir_okay=False),
              help="The hub's published key set (what GET <api root>/keys/ answers, saved): a record "
                   "the submitter's client made (token mode) is checked against it.")
@click.argument("record", type=click.Path(dir_okay=False, allow_dash=True))
def open_record(key_file: str, keys_file: str | None, record: str) -> None:
    """Open the sealed record in RECORD (a file, or - for standard input) and print who filed
    the report, as JSON; with --keys, whether a record its submitter signed holds up."""
    keys = _key_set(Path(keys_file)) if keys_file else None
    pem = Path(key_file).read_bytes()
    password = (click.prompt("Passphrase", hide_input=True, err=True).encode()
                if OversightPrivateKey.needs_password(pem) else None)
    key = OversightPrivateKey.from_pem(pem, password)
    try:
        text = sys.stdin.read() if record == "-" else Path(record).read_text(encoding="utf-8")
        sealed = json.loads(text)
    except OSError as exc:
        raise HubError(f"cannot read {record}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError):
        raise EscrowError(f"{record} is not a sealed escrow record (not JSON)") from None
    opened = open_sealed(sealed, key)
    # A record its submitter's client made (the token mode) names the key it signed with and the
    # signature, for the oversight to check against the key registered to that identity.
    signed: dict[str, str] = {"key_id": opened.key_id, "signature": opened.signature} if opened.key_id else {}
    if opened.key_id:
        problem = submitter_record_problem(opened, keys) if keys is not None else None
        signed["signature_check"] = ("not checked: give --keys (the hub's key set)" if keys is None
                                     else f"does not hold up: {problem}" if problem else "holds up")
    click.echo(json.dumps({"report_id": opened.report_id, "report_hash": opened.report_hash,
                           "submitter": opened.submitter, "identity_id": opened.identity_id,
                           "time": opened.time, "hub": sealed["hub"], **signed}, indent=2))


def _key_set(path: Path) -> KeySet:
    """The key set saved in ``path``; a clear error when it is not one."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HubError(f"cannot read {path}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError):
        raise HubError(f"{path} is not a key set (not JSON)") from None
    try:
        return KeySet.from_jwks(doc)
    except KeyFormatError as exc:
        raise HubError(f"{path} is not a usable key set: {exc}") from None


@escrow.command("sealed")
@click.argument("report_id")
@pass_ctx
def sealed_record(c: Context, report_id: str) -> None:
    """Print the sealed submitter record of the anonymous report REPORT_ID (on the hub), for the
    oversight body to open with 'abusehub escrow open'."""
    click.echo(json.dumps(c.hub.anonymous.sealed_record(report_id), indent=2))


@escrow.command("register")
@click.argument("opened", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--reference", required=True,
              help="The oversight's reference for the decision to open (a case or decision number).")
@pass_ctx
def register(c: Context, opened: str, reference: str) -> None:
    """Register on the hub an opening the oversight made: OPENED is what 'abusehub escrow open'
    printed (a file, or - for standard input). Writes an audit record naming the report and the
    submitter the oversight states."""
    try:
        text = sys.stdin.read() if opened == "-" else Path(opened).read_text(encoding="utf-8")
        record = json.loads(text)
    except OSError as exc:
        raise HubError(f"cannot read {opened}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError):
        raise HubError(f"{opened} is not an opened record (not JSON)") from None
    if not isinstance(record, dict):
        raise HubError(f"{opened} is not an opened record (not a JSON object)")
    c.hub.anonymous.register_opening(record, reference)
    click.echo(f"registered the opening of {record['report_id']}'s submitter record (reference {reference.strip()})")
