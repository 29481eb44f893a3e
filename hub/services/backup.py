"""Backups of one hub, and restoring one into a new home: ``abusehub backup`` / ``restore``.

A backup is ONE gzip-compressed tar archive, created with mode 0600 (it holds the hub's private
signing key and the pseudonym key), holding:

- ``MANIFEST.json``, first: the archive format, the hub's identity id and signing key id, the
  schema revision, the database kind, and the SHA-256 and size of every other member;
- the database: ``hub.db``, a consistent copy of a SQLite database made through SQLite's online
  backup API (writers may go on meanwhile), or ``database.sql``, a ``pg_dump`` of a PostgreSQL
  database;
- the files of the home that a hub cannot be rebuilt without: ``hub-signing-key.pem``,
  ``pseudonym-keys.json`` (without it new reports stop matching old ones) and ``hub.toml``.

Restoring checks everything before writing anything: an archive cut short, a member whose
checksum does not match, or a backup of another hub into a home that already belongs to one is
refused with one line saying which. It never overwrites a database, nor a file that differs.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.engine import make_url

from hub.common.errors import Conflict, HubError
from hub.common.files import fsync_directory
from hub.common.timestamps import format_timestamp_us
from hub.config import CONFIG_FILE
from hub.pseudonyms.keyfile import KEYRING_FILE
from hub.services.hub import Hub
from hub.services.keys import HUB_KEY_FILE, HUB_PARTY
from hub.signing import KeyFormatError, SigningKey

FORMAT = "abusehub-backup"
FORMAT_VERSION = 1
MANIFEST = "MANIFEST.json"
SQLITE_MEMBER = "hub.db"
POSTGRES_MEMBER = "database.sql"
#: The home's files a backup carries besides the database, in archive order.
HOME_FILES = (HUB_KEY_FILE, KEYRING_FILE, CONFIG_FILE)
_MEMBERS = frozenset({SQLITE_MEMBER, POSTGRES_MEMBER, *HOME_FILES})
_BLOCK = 1 << 20


class BackupError(HubError):
    """A backup or restore that cannot be done; the description says why, in one line."""


@dataclass(frozen=True)
class Manifest:
    """What an archive says about itself."""

    hub_identity: str
    hub_key_id: str
    schema_revision: str
    database: str  # "sqlite" or "postgresql"
    created: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # name: {sha256, size}

    def to_json(self) -> bytes:
        """The manifest as the archive stores it."""
        return orjson.dumps({"format": FORMAT, "version": FORMAT_VERSION, "created": self.created,
                             "hub": {"identity": self.hub_identity, "key_id": self.hub_key_id},
                             "schema_revision": self.schema_revision, "database": self.database,
                             "files": self.files}, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)

    @classmethod
    def from_json(cls, data: bytes, archive: str) -> Manifest:
        """The manifest in ``data``; :class:`BackupError` when it is not an abusehub manifest."""
        try:
            doc = orjson.loads(data)
            if doc.get("format") != FORMAT:
                raise ValueError("format")
            if doc.get("version") != FORMAT_VERSION:
                raise BackupError(f"{archive}: backup format version {doc.get('version')!r} is not "
                                  f"supported (this hub reads version {FORMAT_VERSION})")
            files = doc["files"]
            if not isinstance(files, dict) or not all(
                    isinstance(v, dict) and isinstance(v.get("sha256"), str) and isinstance(v.get("size"), int)
                    for v in files.values()):
                raise ValueError("files")
            return cls(hub_identity=str(doc["hub"]["identity"]), hub_key_id=str(doc["hub"]["key_id"]),
                       schema_revision=str(doc["schema_revision"]), database=str(doc["database"]),
                       created=str(doc["created"]), files=files)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            raise BackupError(f"{archive}: {MANIFEST} is not an abusehub backup manifest") from None


@dataclass(frozen=True)
class RestoreOutcome:
    """What a restore wrote, and what the operator still has to do."""

    manifest: Manifest
    home: Path
    written: list[str]
    notes: list[str]


def _sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(_BLOCK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("the hub's SQLite database is in memory: there is nothing to back up")
    return Path(database)


def _copy_sqlite(source: Path, target: Path) -> str:
    """A consistent copy of the SQLite database ``source`` at ``target`` (SQLite's online backup
    API: pages copied while writers go on, restarted if they change); its schema revision."""
    if not source.exists():
        raise BackupError(f"the database {source} does not exist")
    # Read-only, by a URI that escapes whatever the path holds ('?', '#', spaces).
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            # The copy must stand alone: one file, no write-ahead log beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
            row = dst.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            dst.close()
    finally:
        src.close()
    return str(row[0]) if row else ""


def _dump_postgres(url: str, target: Path) -> None:
    """``pg_dump`` of the hub's PostgreSQL database (its schema only, when the URL chooses one
    with ``options=-csearch_path=...``) into ``target``."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump is not on PATH: install the PostgreSQL client tools (Debian: "
                          "apt-get install postgresql-client) to back up a PostgreSQL hub")
    parsed = make_url(url)
    args = [pg_dump, "--format=plain", "--no-owner", "--no-privileges", f"--file={target}"]
    options = parsed.query.get("options")
    for option in ([options] if isinstance(options, str) else list(options or ())):
        for part in option.split():
            if part.startswith("-csearch_path="):
                args.append(f"--schema={part.split('=', 1)[1]}")
    # The password goes through the environment, never the command line (which 'ps' shows).
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", query={}, password=None)
    args.append(f"--dbname={plain.render_as_string(hide_password=False)}")
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=3600)
    if proc.returncode != 0:
        # pg_dump's own message names the problem; the URL (and any password) is not repeated.
        lines = proc.stderr.strip().splitlines()
        raise BackupError(f"pg_dump failed: {lines[-1] if lines else 'exit status ' + str(proc.returncode)}")


class BackupService:
    """Backs one hub up into an archive, and restores an archive into a new home."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def backup(self, target: Path) -> Manifest:
        """Write the hub's backup archive to ``target`` (created 0600; refused if it exists)."""
        hub = self.hub
        if target.exists():
            raise BackupError(f"{target} exists: a backup never replaces a file; choose a new name")
        party = hub.store.get_party(HUB_PARTY)
        key_path = hub.config.home / HUB_KEY_FILE
        if party is None or not key_path.exists():
            raise BackupError(f"{hub.config.home} has no hub key yet: run 'abusehub init' first")
        key_id = SigningKey.from_pem(key_path.read_bytes()).key_id
        # The database the hub has open (the store's own URL when it says so), not a guess.
        url = str(getattr(hub.store, "url", "") or hub.config.effective_database_url)
        with tempfile.TemporaryDirectory(prefix=".abusehub-backup.", dir=target.parent) as tmp:
            staged: list[tuple[str, Path]] = []
            if url.startswith("sqlite"):
                db = Path(tmp) / SQLITE_MEMBER
                revision = _copy_sqlite(_sqlite_path(url), db)
                staged.append((SQLITE_MEMBER, db))
                kind = "sqlite"
            else:
                db = Path(tmp) / POSTGRES_MEMBER
                _dump_postgres(url, db)
                revision = hub.migrate()
                staged.append((POSTGRES_MEMBER, db))
                kind = "postgresql"
            for name in HOME_FILES:
                path = hub.config.home / name
                if path.exists():
                    staged.append((name, path))
            files = {}
            for name, path in staged:
                digest, size = _sha256_file(path)
                files[name] = {"sha256": digest, "size": size}
            manifest = Manifest(hub_identity=party.identity_id, hub_key_id=key_id,
                                schema_revision=revision, database=kind,
                                created=format_timestamp_us(hub.clock()), files=files)
            self._write_archive(target, manifest, staged)
        hub.audit.record("backup", "", file=target.name, database=kind, schema_revision=revision,
                         files=sorted(files))
        return manifest

    @staticmethod
    def _write_archive(target: Path, manifest: Manifest, staged: list[tuple[str, Path]]) -> None:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw:
                with tarfile.open(fileobj=raw, mode="w:gz") as tar:
                    data = manifest.to_json()
                    tar.addfile(_member(MANIFEST, len(data)), io.BytesIO(data))
                    for name, path in staged:
                        with path.open("rb") as f:
                            tar.addfile(_member(name, manifest.files[name]["size"]), f)
                raw.flush()
                os.fsync(raw.fileno())
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        fsync_directory(target.parent)


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.type, info.mtime = size, 0o600, tarfile.REGTYPE, int(time.time())
    return info


def restore(archive: Path, home: Path) -> RestoreOutcome:
    """Restore ``archive`` into ``home`` (a new or empty folder, or one holding only files of
    the same hub). Every check is made before anything is written; see the module's notes."""
    name = str(archive)
    if not archive.is_file():
        raise BackupError(f"{name}: no such file")
    _check_complete(archive)
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".abusehub-restore.", dir=home) as tmp:
        manifest, staged = _unpack(archive, Path(tmp))
        _check_home(manifest, staged, home, name)
        written: list[str] = []
        notes: list[str] = []
        for member, path in staged.items():
            dest = home / member
            if dest.exists():  # the same content (checked above): nothing to write
                continue
            os.link(path, dest)  # never replaces: fails if the name was taken meanwhile
            os.chmod(dest, 0o600)
            written.append(member)
        fsync_directory(home)
    if manifest.database == "postgresql":
        notes.append(f"load {home / POSTGRES_MEMBER} into an empty PostgreSQL database "
                     f"(psql -v ON_ERROR_STOP=1 -d DATABASE -f {home / POSTGRES_MEMBER}) and set "
                     "database_url in hub.toml or HUB_DATABASE_URL to it before serving")
    return RestoreOutcome(manifest, home, written, notes)


def _check_complete(archive: Path) -> None:
    """Read the whole gzip stream: a file cut short anywhere (its data or its trailer) fails."""
    try:
        with gzip.open(archive, "rb") as f:
            while f.read(_BLOCK):
                pass
    except EOFError:
        raise BackupError(f"{archive}: the archive is truncated (it ends before its end): "
                          "use a complete copy") from None
    except (OSError, zlib.error) as exc:
        raise BackupError(f"{archive}: not a readable backup archive ({exc})") from None


def _unpack(archive: Path, folder: Path) -> tuple[Manifest, dict[str, Path]]:
    """Every member of ``archive`` written to ``folder`` and checked against the manifest."""
    name = str(archive)
    manifest: Manifest | None = None
    staged: dict[str, Path] = {}
    digests: dict[str, tuple[str, int]] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for info in tar:
                if manifest is None:
                    if info.name != MANIFEST or not info.isfile():
                        raise BackupError(f"{name}: {MANIFEST} is missing: not an abusehub backup")
                    f = tar.extractfile(info)
                    manifest = Manifest.from_json(f.read() if f else b"", name)
                    continue
                if info.name not in _MEMBERS or not info.isfile() or info.name in staged:
                    raise BackupError(f"{name}: unexpected member {info.name!r}: not an abusehub backup")
                source = tar.extractfile(info)
                path = folder / info.name
                digest, size = hashlib.sha256(), 0
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    while source is not None and (chunk := source.read(_BLOCK)):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                staged[info.name] = path
                digests[info.name] = (digest.hexdigest(), size)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise BackupError(f"{name}: the archive is damaged or truncated ({exc})") from None
    if manifest is None:
        raise BackupError(f"{name}: the archive is empty: not an abusehub backup")
    for member, expected in manifest.files.items():
        if member not in digests:
            raise BackupError(f"{name}: {member} is listed in the manifest but missing from the archive")
        if digests[member] != (expected["sha256"], expected["size"]):
            raise BackupError(f"{name}: checksum mismatch for {member}: the archive was altered or damaged")
    extra = set(digests) - set(manifest.files)
    if extra:
        raise BackupError(f"{name}: {sorted(extra)[0]} is not listed in the manifest")
    if SQLITE_MEMBER not in staged and POSTGRES_MEMBER not in staged:
        raise BackupError(f"{name}: the archive holds no database")
    return manifest, staged


def _check_home(manifest: Manifest, staged: dict[str, Path], home: Path, archive: str) -> None:
    """Refuse a home that belongs to another hub, holds a database, or holds a differing file."""
    key = home / HUB_KEY_FILE
    if key.exists():
        try:
            key_id = SigningKey.from_pem(key.read_bytes()).key_id
        except (KeyFormatError, ValueError):
            key_id = "(unreadable)"
        if key_id != manifest.hub_key_id:
            raise Conflict(f"{archive} is a backup of another hub (identity {manifest.hub_identity}, "
                           f"key {manifest.hub_key_id}) than the one in {home} (key {key_id}): "
                           "restore it into a new home")
    for db in (SQLITE_MEMBER, POSTGRES_MEMBER):
        for suffix in ("", "-wal", "-shm"):
            if (home / f"{db}{suffix}").exists():
                raise Conflict(f"{home} already has a database ({db}{suffix}): restore never overwrites "
                               "a database; restore into a new home")
    for member, path in staged.items():
        dest = home / member
        if dest.exists() and _sha256_file(dest) != _sha256_file(path):
            raise Conflict(f"{home / member} exists and differs from the archive's: restore never "
                           "overwrites it; restore into a new home")

