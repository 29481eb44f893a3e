"""Backups and restores: one archive (mode 0600) with a manifest, refused when truncated,
altered, from another hub into a home that has one, or over an existing database.

The in-process tests back up the seeded hub on every store backend (SQLite through its backup
API, PostgreSQL through pg_dump) and restore SQLite archives. The slow test backs a real hub up
with the command line, restores it into a new home and serves it with a real server.
"""

from __future__ import annotations

import io
import json
import shutil
import stat
import tarfile
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from hub.common.errors import Conflict
from hub.services.backup import MANIFEST, BackupError, BackupService, restore
from hub.store.sql import SqlStore
from tests.conftest import HubApp, run_cli, start_server, stop_server
from tests.factories import indicator

TAXII = "application/taxii+json;version=2.1"


def _post(h: HubApp, party: str, objects: list[dict[str, Any]], alias: str = "reports") -> None:
    r = h.client.post(h.collection_url(alias, "objects"), data=orjson.dumps({"objects": objects}),
                      headers={"Content-Type": TAXII, **h.auth(party)})
    assert r.json["success_count"] == len(objects)


@pytest.fixture
def backed_up(seeded: HubApp, tmp_path: Path) -> tuple[HubApp, Path]:
    """The seeded hub, prepared (keys) and holding objects, and its backup archive."""
    seeded.hub.prepare()
    _post(seeded, "alice", [indicator() for _ in range(3)])
    archive = tmp_path / "backup.tar.gz"
    BackupService(seeded.hub).backup(archive)
    return seeded, archive


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]


def _rewrite(archive: Path, target: Path, change: dict[str, bytes]) -> None:
    """``archive`` rebuilt at ``target`` with some members' content replaced, manifest kept."""
    with tarfile.open(target, "w:gz") as tar:
        for name, data in _members(archive).items():
            data = change.get(name, data)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_the_archive_is_private_and_its_manifest_names_the_hub(backed_up: tuple[HubApp, Path]) -> None:
    h, archive = backed_up
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    members = _members(archive)
    assert list(members)[0] == MANIFEST
    manifest = json.loads(members[MANIFEST])
    hub_party = h.hub.store.get_party("abusehub")
    assert manifest["hub"]["identity"] == hub_party.identity_id  # type: ignore[union-attr]
    assert manifest["schema_revision"] == h.hub.migrate()
    db = "hub.db" if h.hub.store.dialect == "sqlite" else "database.sql"  # type: ignore[attr-defined]
    assert set(manifest["files"]) == {db, "hub-signing-key.pem", "pseudonym-keys.json", "hub.toml"}
    assert members["hub-signing-key.pem"] == (h.hub.config.home / "hub-signing-key.pem").read_bytes()
    for name, entry in manifest["files"].items():
        import hashlib

        assert entry["sha256"] == hashlib.sha256(members[name]).hexdigest()
    if db == "database.sql":
        assert b"CREATE TABLE" in members[db] and b"party_certificates" in members[db]
        # Restored as a dump to load, with the steps to take; no database is touched.
        outcome = restore(archive, archive.parent / "pg-home")
        assert "database.sql" in outcome.written and "psql" in outcome.notes[0]
    with pytest.raises(BackupError, match="exists"):
        BackupService(h.hub).backup(archive)
    assert [r.kind for r in h.hub.store.iter_audit()][-1] == "backup"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_restore_into_a_new_home_gives_the_same_objects(backed_up: tuple[HubApp, Path], tmp_path: Path) -> None:
    h, archive = backed_up
    outcome = restore(archive, tmp_path / "new")
    assert set(outcome.written) == {"hub.db", "hub-signing-key.pem", "pseudonym-keys.json", "hub.toml"}
    for name in outcome.written:
        assert stat.S_IMODE((tmp_path / "new" / name).stat().st_mode) == 0o600
    restored = SqlStore(f"sqlite:///{tmp_path / 'new' / 'hub.db'}")
    try:
        col = h.hub.store.get_collection("reports")
        from hub.store.records import ObjectFilter

        flt = ObjectFilter(versions=("all",))
        assert (restored.query_objects(col.pk, flt, None, 100)  # type: ignore[union-attr]
                == h.hub.store.query_objects(col.pk, flt, None, 100))  # type: ignore[union-attr]
    finally:
        restored.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_restore_refuses_a_truncated_archive(backed_up: tuple[HubApp, Path], tmp_path: Path) -> None:
    _, archive = backed_up
    data = archive.read_bytes()
    for cut in (len(data) - 4, len(data) // 2, 20):
        short = tmp_path / f"short-{cut}.tar.gz"
        short.write_bytes(data[:cut])
        with pytest.raises(BackupError, match="truncated") as err:
            restore(short, tmp_path / f"home-{cut}")
        assert "\n" not in str(err.value)
        assert not any((tmp_path / f"home-{cut}").glob("*"))  # nothing written


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_restore_refuses_a_member_that_does_not_match_its_checksum(backed_up: tuple[HubApp, Path],
                                                                    tmp_path: Path) -> None:
    _, archive = backed_up
    altered = tmp_path / "altered.tar.gz"
    _rewrite(archive, altered, {"hub.toml": b"[hub]\ntitle = 'not the same'\n"})
    with pytest.raises(BackupError, match="checksum mismatch for hub.toml"):
        restore(altered, tmp_path / "fresh-home")
    assert not any((tmp_path / "fresh-home").glob("*"))
    not_ours = tmp_path / "other.tar.gz"
    with tarfile.open(not_ours, "w:gz") as tar:
        info = tarfile.TarInfo("etc/passwd")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(BackupError, match="MANIFEST.json is missing"):
        restore(not_ours, tmp_path / "fresh-home")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_restore_refuses_another_hubs_home_and_an_existing_database(backed_up: tuple[HubApp, Path],
                                                                     tmp_path: Path) -> None:
    h, archive = backed_up
    other = tmp_path / "other-home"
    run_home = other
    run_home.mkdir()
    from hub.signing import SigningKey

    (other / "hub-signing-key.pem").write_bytes(SigningKey.generate().to_pem())
    with pytest.raises(Conflict, match="backup of another hub") as err:
        restore(archive, other)
    assert "\n" not in str(err.value)
    assert sorted(p.name for p in other.iterdir()) == ["hub-signing-key.pem"]
    # The same hub's home with a database: never overwritten.
    same = tmp_path / "same"
    restore(archive, same)
    before = (same / "hub.db").read_bytes()
    with pytest.raises(Conflict, match="already has a database"):
        restore(archive, same)
    assert (same / "hub.db").read_bytes() == before
    # The hub's own files without a database (e.g. kept by configuration management): restored.
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(h.hub.config.home / "hub-signing-key.pem", partial)
    assert "hub.db" in restore(archive, partial).written


@pytest.mark.slow
def test_a_restored_hub_serves_the_same_objects_tokens_and_keys(tmp_path: Path) -> None:
    home, new_home = tmp_path / "hub", tmp_path / "restored"
    run_cli(home, "init")
    token = json.loads(run_cli(home, "party", "add", "acme", "--kind", "provider", "--json").stdout)["token"]
    col = json.loads(run_cli(home, "collection", "add", "Reports", "--alias", "reports", "--json").stdout)["id"]
    run_cli(home, "grant", "acme", col)
    auth = {"Authorization": f"Bearer {token}"}
    running = start_server(home)
    try:
        url = f"{running.api}/collections/{col}/objects/"
        sent = [indicator() for _ in range(4)]
        r = requests.post(url, data=orjson.dumps({"objects": sent}), headers={"Content-Type": TAXII, **auth},
                          timeout=30)
        assert r.json()["success_count"] == 4
        before = requests.get(url, headers=auth, timeout=30)
        keys_before = requests.get(running.api + "/keys/", timeout=30)
        assert before.status_code == 200 and len(before.json()["objects"]) == 4
        # A backup while the server runs: SQLite's backup API copies a consistent state.
        archive = tmp_path / "hub-backup.tar.gz"
        out = run_cli(home, "backup", str(archive))
        assert "schema revision" in out.stdout and token not in out.stdout + out.stderr
    finally:
        stop_server(running)
    restored = run_cli(tmp_path, "restore", str(archive), "--home", str(new_home))
    assert "restored hub identity--" in restored.stdout
    again = run_cli(tmp_path, "restore", str(archive), "--home", str(new_home), check=False)
    assert again.returncode == 1 and "already has a database" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    served = start_server(new_home)
    try:
        after = requests.get(f"{served.api}/collections/{col}/objects/", headers=auth, timeout=30)
        assert after.status_code == 200 and after.text == before.text
        for header in ("X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last"):
            assert after.headers[header] == before.headers[header]
        keys_after = requests.get(served.api + "/keys/", timeout=30)
        assert keys_after.text == keys_before.text and keys_after.json()["keys"]
        assert requests.get(f"{served.api}/collections/", headers={"Authorization": "Bearer ahub_wrong"},
                            timeout=30).status_code == 401
    finally:
        stop_server(served)
    assert (new_home / "pseudonym-keys.json").read_bytes() == (home / "pseudonym-keys.json").read_bytes()
