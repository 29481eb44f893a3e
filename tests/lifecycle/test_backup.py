"""Backups and restores: one archive (mode 0600) with a manifest, holding the database and every
file the home needs to start; refused when truncated, altered, from another hub into a home that
has one, or over an existing database, and a refused restore writes nothing.

The in-process tests back up the seeded hub on every store backend (SQLite through its backup
API, PostgreSQL through pg_dump), restore SQLite archives, and load a PostgreSQL archive into a
throwaway database. The slow tests back a real hub up with the command line while it serves,
restore it into a new home (SQLite, and PostgreSQL into a new database after the old one is
dropped) and serve it again with a real server.
"""

from __future__ import annotations

import hashlib
import io
import json
import shlex
import shutil
import stat
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
from sqlalchemy.engine import make_url

from hub.common.errors import Conflict
from hub.config import DEFAULT_CONFIG_TEXT, HubConfig, load_config
from hub.services.operations.backup import (
    MANIFEST,
    BackupError,
    BackupService,
    file_settings,
    restore,
    set_database_url,
)
from hub.store.ops import head_revision
from hub.store.sql import SqlStore
from tests.factories import indicator
from tests.harness import (
    POSTGRES_URL,
    TEST_TOML,
    HubUnderTest,
    _postgres_available,
    open_test_store,
    run_cli,
    start_server,
    stop_server,
)

TAXII = "application/taxii+json;version=2.1"
TOKEN = "m" * 40  # a metrics bearer token


def _post(h: HubUnderTest, party: str, objects: list[dict[str, Any]], alias: str = "reports") -> None:
    r = h.http.post(h.collection_url(alias, "objects"), data=orjson.dumps({"objects": objects}),
                      headers={"Content-Type": TAXII, **h.auth(party)})
    assert r.json["success_count"] == len(objects)


@pytest.fixture
def backed_up(seeded: HubUnderTest, tmp_path: Path) -> tuple[HubUnderTest, Path]:
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


def _pg_url(database: str) -> str:
    """The test server's URL for ``database``."""
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


@contextmanager
def throwaway_databases(*names: str) -> Iterator[list[str]]:
    """New, empty PostgreSQL databases on the test server (their URLs), dropped afterwards."""
    if not _postgres_available():
        pytest.skip(f"PostgreSQL not available at {POSTGRES_URL}")
    import psycopg

    admin = POSTGRES_URL.replace("postgresql+psycopg", "postgresql")
    made = [f"abusehub_restore_{uuid.uuid4().hex[:10]}_{name}" for name in names]
    with psycopg.connect(admin, autocommit=True) as conn:
        for db in made:
            conn.execute(f'CREATE DATABASE "{db}"')
    try:
        yield [_pg_url(db) for db in made]
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for db in made:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _drop_database(url: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{make_url(url).database}" WITH (FORCE)')


def _tables(url: str) -> list[str]:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        return [r[0] for r in conn.execute("SELECT schemaname || '.' || tablename FROM pg_tables "
                                           "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")]


def _one_line_refusal(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    """``proc`` failed with exit 1 and one line on stderr holding ``words``, no traceback."""
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("abusehub: "), proc.stderr
    for word in words:
        assert word in lines[0], proc.stderr


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])],
                         indirect=True)  # pg_dump: a process
def test_the_archive_is_private_and_its_manifest_names_the_hub(backed_up: tuple[HubUnderTest, Path]) -> None:
    h, archive = backed_up
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    members = _members(archive)
    assert list(members)[0] == MANIFEST
    manifest = json.loads(members[MANIFEST])
    hub_party = h.hub.store.get_party("abusehub")
    assert manifest["hub"]["identity"] == hub_party.identity_id  # type: ignore[union-attr]
    assert manifest["schema_revision"] == h.hub.migrate()
    db = "hub.db" if h.hub.store.dialect == "sqlite" else "database.sql"  # type: ignore[attr-defined]
    # The web pages' cookie key too (made when the app was built): sessions survive a restore.
    assert set(manifest["files"]) == {db, "hub-signing-key.pem", "pseudonym-keys.json", "hub.toml",
                                      "web-secret.key"}
    for name in ("hub-signing-key.pem", "web-secret.key"):
        assert members[name] == (h.hub.config.home / name).read_bytes()
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == hashlib.sha256(members[name]).hexdigest()
    if db == "database.sql":
        assert b"CREATE TABLE" in members[db] and b"party_certificates" in members[db]
        # A PostgreSQL backup needs the database to load it into; without one, nothing is written.
        with pytest.raises(BackupError, match="holds a PostgreSQL database: give --database-url") as err:
            restore(archive, archive.parent / "pg-home" / "hub")
        assert "\n" not in str(err.value)
        assert not (archive.parent / "pg-home").exists()
    with pytest.raises(BackupError, match="exists"):
        BackupService(h.hub).backup(archive)
    assert [r.kind for r in h.hub.store.iter_audit()][-1] == "backup"


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.postgres
@pytest.mark.slow  # pg_dump and psql: processes
def test_a_postgresql_backup_is_loaded_into_an_empty_database_or_not_at_all(backed_up: tuple[HubUnderTest, Path],
                                                                           tmp_path: Path) -> None:
    h, archive = backed_up
    source = make_url(h.hub.store.url)  # type: ignore[attr-defined]
    with throwaway_databases("target", "other") as (target, other):
        # The same search_path as the hub's (its schema), in a new database.
        url = make_url(target).set(query=source.query).render_as_string(hide_password=False)
        outcome = restore(archive, tmp_path / "restored", url)
        assert outcome.database == url and outcome.notes == []
        assert "database.sql" not in outcome.written and not (tmp_path / "restored" / "database.sql").exists()
        assert load_config(tmp_path / "restored", environ={}).database_url == url
        restored = SqlStore(url)
        try:
            col = h.hub.store.get_collection("reports")
            from hub.store.records import ObjectFilter

            flt = ObjectFilter(versions=("all",))
            assert (restored.query_objects(col.pk, flt, None, 100)  # type: ignore[union-attr]
                    == h.hub.store.query_objects(col.pk, flt, None, 100))  # type: ignore[union-attr]
            assert restored.get_party("alice") == h.hub.store.get_party("alice")
        finally:
            restored.close()
        loaded = _tables(url)
        # A database that is not empty: refused, nothing loaded, no home made.
        with pytest.raises(BackupError, match="already has tables") as err:
            restore(archive, tmp_path / "again" / "hub", url)
        assert "\n" not in str(err.value) and not (tmp_path / "again").exists()
        assert _tables(url) == loaded
        # A URL whose connections would not see the dump's schema: refused in the same transaction.
        with pytest.raises(BackupError, match="not in the schema this URL uses") as err:
            restore(archive, tmp_path / "elsewhere", other)
        assert "nothing was loaded" in str(err.value) and not (tmp_path / "elsewhere").exists()
        assert _tables(other) == []
        with pytest.raises(BackupError, match="PostgreSQL URL"):
            restore(archive, tmp_path / "sqlite-url", "sqlite:///somewhere.db")
        assert not (tmp_path / "sqlite-url").exists()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_restore_into_a_new_home_gives_the_same_objects(backed_up: tuple[HubUnderTest, Path], tmp_path: Path) -> None:
    h, archive = backed_up
    outcome = restore(archive, tmp_path / "new", environ={})
    assert set(outcome.written) == {"hub.db", "hub-signing-key.pem", "pseudonym-keys.json", "hub.toml",
                                    "web-secret.key"}
    assert outcome.notes == []
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
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
    with pytest.raises(BackupError, match="--database-url is for PostgreSQL backups"):
        restore(archive, tmp_path / "pg", _pg_url("anything"))
    assert not (tmp_path / "pg").exists()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_restore_refuses_a_truncated_archive_and_writes_nothing(backed_up: tuple[HubUnderTest, Path],
                                                                tmp_path: Path) -> None:
    _, archive = backed_up
    data = archive.read_bytes()
    for cut in (len(data) - 4, len(data) // 2, 20):
        short = tmp_path / f"short-{cut}.tar.gz"
        short.write_bytes(data[:cut])
        with pytest.raises(BackupError, match="truncated") as err:
            restore(short, tmp_path / f"home-{cut}" / "hub")
        assert "\n" not in str(err.value)
        assert not (tmp_path / f"home-{cut}").exists()  # not even the folder
    # An existing (empty) home is left as it was: no staging folder either.
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BackupError, match="truncated"):
        restore(tmp_path / f"short-{len(data) // 2}.tar.gz", empty)
    assert list(empty.iterdir()) == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_restore_refuses_a_member_that_does_not_match_its_checksum(backed_up: tuple[HubUnderTest, Path],
                                                                    tmp_path: Path) -> None:
    _, archive = backed_up
    altered = tmp_path / "altered.tar.gz"
    _rewrite(archive, altered, {"hub.toml": b"[hub]\ntitle = 'not the same'\n"})
    with pytest.raises(BackupError, match="checksum mismatch for hub.toml"):
        restore(altered, tmp_path / "fresh-home")
    assert not (tmp_path / "fresh-home").exists()
    not_ours = tmp_path / "other.tar.gz"
    with tarfile.open(not_ours, "w:gz") as tar:
        info = tarfile.TarInfo("etc/passwd")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(BackupError, match="MANIFEST.json is missing"):
        restore(not_ours, tmp_path / "fresh-home")
    # A manifest that names a file outside the home: refused before anything is unpacked.
    manifest = json.loads(_members(archive)[MANIFEST])
    manifest["files"]["../escaped"] = {"sha256": "0" * 64, "size": 0}
    escaping = tmp_path / "escaping.tar.gz"
    _rewrite(archive, escaping, {MANIFEST: json.dumps(manifest).encode()})
    with pytest.raises(BackupError, match="not a file of a hub home"):
        restore(escaping, tmp_path / "fresh-home")
    assert not (tmp_path / "fresh-home").exists() and not (tmp_path / "escaped").exists()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_restore_refuses_another_hubs_home_and_an_existing_database(backed_up: tuple[HubUnderTest, Path],
                                                                     tmp_path: Path) -> None:
    h, archive = backed_up
    other = tmp_path / "other-home"
    other.mkdir()
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
    # A home that is a file: one line.
    plain = tmp_path / "plain-file"
    plain.write_text("x")
    with pytest.raises(BackupError, match="is not a folder"):
        restore(archive, plain)


def test_every_setting_that_names_a_file_is_carried(tmp_path: Path) -> None:
    """The files a backup carries come from the configuration: every setting whose name ends
    in ``_file``. The only other setting naming a place is scratch space emptied at each start."""
    places: set[str] = set()
    values: dict[str, dict[str, str]] = {}
    for f in fields(HubConfig):
        section = getattr(load_config(tmp_path, environ={}), f.name)
        for sub in fields(section) if is_dataclass(section) else ():
            if sub.name.endswith(("_file", "_dir", "_path", "_folder")):
                places.add(f"{f.name}.{sub.name}")
            if sub.name.endswith("_file"):
                values.setdefault(f.name, {})[sub.name] = f"{f.name}-{sub.name}.x"
        if f.name.endswith(("_file", "_dir", "_path", "_folder")):
            places.add(f.name)
    (tmp_path / "hub.toml").write_text("".join(
        f"[{table}]\n" + "".join(f'{k} = "{v}"\n' for k, v in keys.items()) for table, keys in values.items()))
    carried = {setting for setting, _ in file_settings(load_config(tmp_path, environ={}))}
    assert carried == {p for p in places if p.endswith("_file")}
    assert {"metrics.token_file", "web.secret_key_file"} <= carried
    assert places - carried == {"metrics.multiproc_dir"}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_files_named_in_and_outside_the_home_and_peers_credentials_are_carried(backend: str,
                                                                              tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "web.key"
    toml = (TEST_TOML + '[metrics]\ntoken_file = "secrets/metrics.token"\n'
            f'[web]\nsecret_key_file = "{outside}"\n')
    folder = tmp_path / "src"
    (folder / "home" / "secrets").mkdir(parents=True)
    (folder / "home" / "secrets" / "metrics.token").write_text(TOKEN + "\n")
    with open_test_store(backend, folder) as store, HubUnderTest.build(folder / "home", store=store, toml=toml) as h:
        h.hub.prepare()
        from hub.services.federation.peers import Credentials

        h.hub.federation.peers.add("peer-a", "https://peer.example/api/", Credentials(token="peer-token-1"),
                                   check=False)
        assert outside.exists()  # made by the app, outside the home
        archive = tmp_path / "b.tar.gz"
        manifest = BackupService(h.hub).backup(archive)
        files = manifest.files
        assert files["secrets/metrics.token"]["setting"] == "metrics.token_file"
        assert "path" not in files["secrets/metrics.token"]
        assert files["outside-home/web.secret_key_file"] == {
            **files["outside-home/web.secret_key_file"], "setting": "web.secret_key_file", "path": str(outside)}
        assert "federation/peer-a.token" in files
        members = _members(archive)
        assert members["outside-home/web.secret_key_file"] == outside.read_bytes()
        assert members["federation/peer-a.token"] == b"peer-token-1\n"
        # Restored where the file still is (the same machine): nothing left to do.
        first = restore(archive, tmp_path / "one", environ={})
        assert first.notes == []
        assert (tmp_path / "one" / "secrets" / "metrics.token").read_text() == TOKEN + "\n"
        assert (tmp_path / "one" / "federation" / "peer-a.token").read_bytes() == b"peer-token-1\n"
        assert stat.S_IMODE((tmp_path / "one" / "secrets").stat().st_mode) == 0o700
        # Elsewhere: the copy is in the home, and restore says the one command that puts it back.
        kept = outside.read_bytes()
        outside.unlink()
        second = restore(archive, tmp_path / "two", environ={})
        copy = tmp_path / "two" / "outside-home" / "web.secret_key_file"
        assert copy.read_bytes() == kept
        assert second.notes == [f"web.secret_key_file names {outside}, outside the home: put the backed-up "
                                f"copy there before serving: install -D -m 0600 {copy} {outside}"]
        assert not outside.exists()  # restore writes nothing outside the home
        # A setting naming a file that is gone: the backup fails in one line, and leaves nothing.
        (folder / "home" / "secrets" / "metrics.token").unlink()
        with pytest.raises(BackupError, match=r"metrics.token_file names .*metrics.token, which does not "
                                              r"exist: a hub restored from this backup could not start") as err:
            BackupService(h.hub).backup(tmp_path / "c.tar.gz")
        assert "\n" not in str(err.value) and not (tmp_path / "c.tar.gz").exists()
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".abusehub")] == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_sqlite_database_url_naming_the_old_file_is_cleared(backend: str, tmp_path: Path) -> None:
    """A hub.toml that names its SQLite file explicitly would make the restored hub open the OLD
    file (still there when the backup is tried out on the same machine): restore clears it."""
    folder = tmp_path / "src"
    with open_test_store(backend, folder) as store, HubUnderTest.build(folder / "home", store=store) as h:
        h.hub.prepare()
        old = f"sqlite:///{folder / 'hub.db'}"
        (h.hub.config.home / "hub.toml").write_text(f'[hub]\ndatabase_url = "{old}"\n' + TEST_TOML)
        archive = tmp_path / "b.tar.gz"
        BackupService(h.hub).backup(archive)
    outcome = restore(archive, tmp_path / "new", environ={})
    assert any("cleared" in note for note in outcome.notes)
    restored = load_config(tmp_path / "new", environ={})
    assert restored.database_url == ""
    assert restored.effective_database_url == f"sqlite:///{(tmp_path / 'new' / 'hub.db').resolve()}"
    assert restored.taxii.max_page_size == 50  # the rest of the file is kept
    # The restored hub would still open another database when the environment says so: said.
    noted = restore(archive, tmp_path / "newer", environ={"HUB_DATABASE_URL": old})
    assert any("HUB_DATABASE_URL" in note for note in noted.notes)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_backup_of_an_older_schema_says_to_migrate(backend: str, tmp_path: Path) -> None:
    from tests.conftest import alembic_step

    folder = tmp_path / "src"
    with open_test_store(backend, folder) as store, HubUnderTest.build(folder / "home", store=store) as h:
        h.hub.prepare()
        alembic_step(h.hub.store, "-1", down=True)  # type: ignore[arg-type]
        older = h.hub.store.schema_revisions()[0]
        archive = tmp_path / "b.tar.gz"
        assert BackupService(h.hub).backup(archive).schema_revision == older
    outcome = restore(archive, tmp_path / "new", environ={})
    assert outcome.notes == [f"the backup's schema is at revision {older} and this abusehub's at "
                             f"{head_revision()}: run 'abusehub --home {tmp_path / 'new'} migrate' before serving"]


def test_database_url_is_set_in_hub_toml_keeping_everything_else() -> None:
    url = "postgresql+psycopg://hub@db.example:5432/hub_restored"
    text = DEFAULT_CONFIG_TEXT
    new = set_database_url(text, url)
    assert new is not None and new.count("\n") == text.count("\n")
    assert [line for line in new.splitlines() if line not in text.splitlines()] == [f'database_url = "{url}"']
    assert set_database_url("[taxii]\nmax_page_size = 10\n", url) == \
        f'[hub]\ndatabase_url = "{url}"\n\n[taxii]\nmax_page_size = 10\n'
    assert set_database_url('[hub]\ntitle = "x"', url) == f'[hub]\ndatabase_url = "{url}"\ntitle = "x"\n'
    assert set_database_url("", url) == f'[hub]\ndatabase_url = "{url}"\n\n'
    # Written in a way a line edit cannot follow (a dotted key at the top): refused, not guessed.
    assert set_database_url('hub.database_url = "old"\n[taxii]\nmax_page_size = 10\n', url) is None
    assert set_database_url("not toml [", url) is None


@pytest.mark.slow
def test_a_restored_hub_starts_and_serves_the_same_objects_tokens_and_keys(backend: str, tmp_path: Path) -> None:
    """The documented procedure from a real server: back up while it serves, lose the machine
    (its home, its database, a secret kept outside the home), restore, serve."""
    home, new_home = tmp_path / "hub", tmp_path / "restored"
    home.mkdir()
    with throwaway_databases("source", "target") if backend == "postgres" else _nothing() as urls:
        if urls:
            source, target = urls
            token_path = tmp_path / "secrets" / "metrics.token"  # outside the home
            toml = f'[hub]\ndatabase_url = "{source}"\n[metrics]\ntoken_file = "{token_path}"\n'
        else:
            token_path = home / "metrics.token"
            toml = '[metrics]\ntoken_file = "metrics.token"\n'
        token_path.parent.mkdir(exist_ok=True)
        token_path.write_text(TOKEN + "\n")
        (home / "hub.toml").write_text(toml)
        run_cli(home, "init")
        token = json.loads(run_cli(home, "party", "add", "acme", "--kind", "provider", "--json").stdout)["token"]
        col = json.loads(run_cli(home, "collection", "add", "Reports", "--alias", "reports", "--json").stdout)["id"]
        run_cli(home, "grant", "acme", col)
        auth = {"Authorization": f"Bearer {token}"}
        metrics_auth = {"Authorization": f"Bearer {TOKEN}"}
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
            assert requests.get(running.base + "/metrics", headers=metrics_auth, timeout=30).status_code == 200
            # A backup while the server runs (SQLite's backup API, or pg_dump: a consistent state).
            archive = tmp_path / "hub-backup.tar.gz"
            out = run_cli(home, "backup", str(archive))
            assert "schema revision" in out.stdout and "web-secret.key" in out.stdout
            assert token not in out.stdout + out.stderr and TOKEN not in out.stdout + out.stderr
        finally:
            stop_server(running)
        kept = {name: (home / name).read_bytes() for name in ("pseudonym-keys.json", "web-secret.key")}
        # The old machine is gone: its home, its database, the secret kept outside the home.
        shutil.move(home, tmp_path / "gone")
        if urls:
            _drop_database(source)
            shutil.rmtree(token_path.parent)
        # Refused restores write nothing, not even the home folder, and say why in one line.
        short = tmp_path / "short.tar.gz"
        short.write_bytes(archive.read_bytes()[:-100])
        _one_line_refusal(run_cli(tmp_path, "restore", str(short), "--home", str(new_home), check=False),
                          "truncated")
        _one_line_refusal(run_cli(tmp_path, "restore", str(tmp_path / "missing.tar.gz"), "--home", str(new_home),
                                  check=False), "no such file")
        if urls:
            _one_line_refusal(run_cli(tmp_path, "restore", str(archive), "--home", str(new_home), check=False),
                              "holds a PostgreSQL database: give --database-url")
            extra = ["--database-url", target]
        else:
            _one_line_refusal(run_cli(tmp_path, "restore", str(archive), "--home", str(new_home),
                                      "--database-url", _pg_url("x"), check=False), "for PostgreSQL backups")
            extra = []
        assert not new_home.exists()
        restored = run_cli(tmp_path, "restore", str(archive), "--home", str(new_home), *extra)
        assert "restored hub identity--" in restored.stdout
        steps = [line for line in restored.stdout.splitlines() if line.startswith("next: ")]
        if urls:
            assert "database loaded into" in restored.stdout
            # The token lived outside the home: restore says the one command that puts it back.
            assert len(steps) == 1 and "metrics.token_file" in steps[0], restored.stdout
            subprocess.run(shlex.split(steps[0].split("before serving: ", 1)[1]), check=True)
            assert token_path.read_text() == TOKEN + "\n"
        else:
            assert steps == [], restored.stdout
        again = run_cli(tmp_path, "restore", str(archive), "--home", str(new_home), *extra, check=False)
        _one_line_refusal(again, "already has tables" if urls else "already has a database")
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
            assert requests.get(served.base + "/metrics", headers=metrics_auth, timeout=30).status_code == 200
            assert requests.get(served.base + "/metrics", timeout=30).status_code != 200
        finally:
            stop_server(served)
        for name, data in kept.items():
            assert (new_home / name).read_bytes() == data


@contextmanager
def _nothing() -> Iterator[list[str]]:
    yield []


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])],
                         indirect=True)  # pg_dump: a process
def test_a_backup_carries_no_browser_sessions(seeded: HubUnderTest, backend: str, tmp_path: Path) -> None:
    """A session open when the backup was taken (and perhaps signed out of since) does not come
    back with a restore: the restored hub starts with everyone signed out."""
    seeded.hub.prepare()
    alice = seeded.hub.store.get_party("alice")
    assert alice is not None
    secret_hash = hashlib.sha256(b"a session id").hexdigest()
    assert seeded.hub.store.create_web_session(secret_hash, alice.pk, "0" * 64, None, 1)
    archive = tmp_path / "backup.tar.gz"
    BackupService(seeded.hub).backup(archive)
    assert seeded.hub.store.web_session(secret_hash) is not None  # the running hub keeps it
    members = _members(archive)
    if backend == "postgres":
        dump = members["database.sql"].decode()
        assert "web_sessions" in dump and secret_hash not in dump
        return
    restore(archive, tmp_path / "new", environ={})
    restored = SqlStore(f"sqlite:///{tmp_path / 'new' / 'hub.db'}")
    try:
        assert restored.web_session(secret_hash) is None
        assert restored.get_party("alice") == alice
    finally:
        restored.close()
