"""``abusehub escrow keygen`` and ``escrow open``, in-process: they run without a hub home (the
oversight key is kept off the hub), keygen writes a 0600 private key and never overwrites, and
open prints the record sealed to that key or one clear refusal."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner, Result

from hub.anonymity.escrow import EscrowRecord, OversightPublicKey, seal
from hub.cli import main

RECORD = EscrowRecord("acme-cloud", "identity--6b1f3c43-0b51-4c5e-9b57-2f2d1f0c9a11",
                      "report--0f9c8e2a-55b7-4d3c-8d8e-2c7a1e6f3b21", "sha256:" + "cd" * 32,
                      "2026-12-07T18:30:00Z")


def _run(tmp: Path, *args: str, stdin: str | None = None) -> Result:
    # a --home that does not exist: neither command may need one
    return CliRunner().invoke(main, ["--home", str(tmp / "no-hub-here"), "escrow", *args], input=stdin,
                              env={"HUB_DATABASE_URL": ""})


def _keygen(tmp: Path, *extra: str, stdin: str | None = None) -> tuple[Path, Path]:
    private, public = tmp / "oversight.pem", tmp / "oversight.pub.pem"
    result = _run(tmp, "keygen", "--private", str(private), "--public", str(public), *extra, stdin=stdin)
    assert result.exit_code == 0, result.output
    return private, public


def _sealed_file(tmp: Path, public: Path) -> Path:
    sealed = seal(RECORD, OversightPublicKey.from_pem(public.read_bytes()), hub="hub.example")
    path = tmp / "record.json"
    path.write_text(json.dumps(sealed), encoding="utf-8")
    return path


def test_keygen_then_open(tmp_path: Path) -> None:
    private, public = _keygen(tmp_path)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    assert b"PRIVATE KEY" in private.read_bytes() and b"PRIVATE" not in public.read_bytes()
    assert not (tmp_path / "no-hub-here").exists()

    result = _run(tmp_path, "open", "--key", str(private), str(_sealed_file(tmp_path, public)))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "report_id": RECORD.report_id, "report_hash": RECORD.report_hash, "submitter": "acme-cloud",
        "identity_id": RECORD.identity_id, "time": RECORD.time, "hub": "hub.example"}


def test_open_reads_standard_input(tmp_path: Path) -> None:
    private, public = _keygen(tmp_path)
    text = _sealed_file(tmp_path, public).read_text(encoding="utf-8")
    result = _run(tmp_path, "open", "--key", str(private), "-", stdin=text)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["submitter"] == "acme-cloud"


def test_keygen_never_overwrites(tmp_path: Path) -> None:
    private, public = _keygen(tmp_path)
    before = private.read_bytes()
    result = _run(tmp_path, "keygen", "--private", str(private), "--public", str(tmp_path / "other.pem"))
    assert result.exit_code == 1 and "refusing to overwrite" in result.output
    assert private.read_bytes() == before and not (tmp_path / "other.pem").exists()


def test_a_passphrase_protected_key(tmp_path: Path) -> None:
    private, public = _keygen(tmp_path, "--passphrase", stdin="s3cret\ns3cret\n")
    assert b"ENCRYPTED PRIVATE KEY" in private.read_bytes()
    record = _sealed_file(tmp_path, public)
    result = _run(tmp_path, "open", "--key", str(private), str(record), stdin="s3cret\n")
    assert result.exit_code == 0, result.output
    assert '"submitter": "acme-cloud"' in result.output
    wrong = _run(tmp_path, "open", "--key", str(private), str(record), stdin="nope\n")
    assert wrong.exit_code == 1 and "wrong passphrase" in wrong.output


def test_open_refuses_another_key_and_bad_records(tmp_path: Path) -> None:
    _, public = _keygen(tmp_path)
    record = _sealed_file(tmp_path, public)
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other_private, _ = _keygen(other_dir)
    result = _run(tmp_path, "open", "--key", str(other_private), str(record))
    assert result.exit_code == 1
    assert "sealed to another oversight key" in result.output and "acme" not in result.output

    junk = tmp_path / "junk.json"
    junk.write_text("not json", encoding="utf-8")
    result = _run(tmp_path, "open", "--key", str(other_private), str(junk))
    assert result.exit_code == 1 and "not a sealed escrow record" in result.output
