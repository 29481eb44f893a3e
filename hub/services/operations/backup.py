"""Backups of one hub, and restoring one into a new home: ``abusehub backup`` / ``restore``.

A backup is ONE gzip-compressed tar archive, created with mode 0600 (it holds the hub's private
signing key, the pseudonym key and every other secret the hub reads), holding:

- ``MANIFEST.json``, first: the archive format, the hub's identity id and signing key id, the
  schema revision, the database kind, and the SHA-256 and size of every other member;
- the database: ``hub.db``, a consistent copy of a SQLite database made through SQLite's online
  backup API (writers may go on meanwhile), or ``database.sql``, a ``pg_dump`` of a PostgreSQL
  database (both made by the store's tools, :mod:`hub.store.dumps`, without the browser
  sessions' rows);
- every file a hub needs to start again: ``hub-signing-key.pem``, ``pseudonym-keys.json``
  (without it new reports stop matching old ones), ``hub.toml``, every file a setting names
  (each setting of the configuration whose name ends in ``_file``, such as ``[metrics]
  token_file`` and ``[web] secret_key_file``), and the peers' credentials in ``federation/``.
  A file the configuration names inside the home keeps its place (``metrics.token``); a file
  named by a path outside the home is carried as ``outside-home/<setting>`` with the path it
  came from in the manifest. A named file that does not exist makes the backup fail with one
  line naming the setting, except the web pages' cookie key, which the hub makes on first use.

Restoring checks everything before writing anything: an archive cut short, a member whose
checksum does not match, a backup of another hub into a home that already belongs to one, a
home with a database, or (PostgreSQL) a database that is not empty is refused with one line
saying which, and nothing is written: not even the home folder. It never overwrites a database,
nor a file that differs. A PostgreSQL dump is loaded with ``psql`` into the empty database given
to ``restore`` (in one transaction) and the restored ``hub.toml`` names that database; a SQLite
backup becomes ``hub.db`` in the home. Nothing is written outside the home: a file that lived
outside it is restored under ``outside-home/`` and the restore says the one command that puts
it back where the configuration looks for it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import tarfile
import tempfile
import time
import tomllib
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import orjson

from hub.common.errors import ConfigError, Conflict, HubError
from hub.common.files import fsync_directory
from hub.common.timestamps import format_timestamp_us
from hub.config import CONFIG_FILE, HubConfig, load_config
from hub.pseudonyms.keyfile import KEYRING_FILE
from hub.services.hub import Hub
from hub.services.keys import HUB_KEY_FILE, HUB_PARTY
from hub.signing import KeyFormatError, SigningKey
from hub.store.dialect import shown_url
from hub.store.dumps import DumpError, copy_sqlite, dump_postgres, libpq_target, load_postgres, sqlite_path
from hub.store.ops import head_revision

FORMAT = "abusehub-backup"
FORMAT_VERSION = 2
#: Version 1 archives (the database, the two key files and hub.toml) are still restored.
READABLE_VERSIONS = (1, 2)
MANIFEST = "MANIFEST.json"
SQLITE_MEMBER = "hub.db"
POSTGRES_MEMBER = "database.sql"
#: The home's files a backup carries under these names whatever the configuration says.
HOME_FILES = (HUB_KEY_FILE, KEYRING_FILE, CONFIG_FILE)
#: Where a file the configuration names outside the home is kept, in the archive and the home.
OUTSIDE_HOME = "outside-home"
#: Settings naming a file the hub makes itself when it is missing: a backup without it is whole.
MADE_ON_FIRST_USE = frozenset({"web.secret_key_file"})
_DATABASES = (SQLITE_MEMBER, POSTGRES_MEMBER)
_BLOCK = 1 << 20


class BackupError(HubError):
    """A backup or restore that cannot be done; the description says why, in one line."""


@contextmanager
def _database_tool() -> Iterator[None]:
    """The store's database tools failing (:class:`hub.store.dumps.DumpError`): a
    :class:`BackupError` with the same line."""
    try:
        yield
    except DumpError as exc:
        raise BackupError(exc.description) from None


@dataclass(frozen=True)
class Manifest:
    """What an archive says about itself."""

    hub_identity: str
    hub_key_id: str
    schema_revision: str
    database: str  # "sqlite" or "postgresql"
    created: str
    #: member name: {sha256, size}, and for a file a setting names, {setting} and (outside the
    #: home) the {path} it was read from.
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

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
            if doc.get("version") not in READABLE_VERSIONS:
                raise BackupError(f"{archive}: backup format version {doc.get('version')!r} is not "
                                  f"supported (this hub reads versions "
                                  f"{', '.join(map(str, READABLE_VERSIONS))})")
            files = doc["files"]
            if not isinstance(files, dict) or not all(
                    isinstance(v, dict) and isinstance(v.get("sha256"), str) and isinstance(v.get("size"), int)
                    and all(isinstance(v.get(k, ""), str) for k in ("setting", "path"))
                    for v in files.values()):
                raise ValueError("files")
            manifest = cls(hub_identity=str(doc["hub"]["identity"]), hub_key_id=str(doc["hub"]["key_id"]),
                           schema_revision=str(doc["schema_revision"]), database=str(doc["database"]),
                           created=str(doc["created"]), files=files)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            raise BackupError(f"{archive}: {MANIFEST} is not an abusehub backup manifest") from None
        if manifest.database not in ("sqlite", "postgresql"):
            raise BackupError(f"{archive}: {MANIFEST} names an unknown database kind {manifest.database!r}")
        for name in files:
            if not _safe_member(name):
                raise BackupError(f"{archive}: {MANIFEST} lists {name!r}, which is not a file of a hub home")
        return manifest


@dataclass(frozen=True)
class RestoreOutcome:
    """What a restore wrote, and what the operator still has to do."""

    manifest: Manifest
    home: Path
    written: list[str]
    notes: list[str]
    #: Where a PostgreSQL dump was loaded (the URL without its password); "" for SQLite.
    database: str = ""


# -- the files a home needs ----------------------------------------------------------------

def file_settings(config: HubConfig) -> list[tuple[str, str]]:
    """Every setting of ``config`` that names a file the hub reads (each field, of the [hub]
    table or another, whose name ends in ``_file``), with its value: ``("metrics.token_file",
    "metrics.token")``. Empty settings are left out."""
    found: list[tuple[str, str]] = []
    for f in fields(config):
        value = getattr(config, f.name)
        if is_dataclass(value):
            for sub in fields(value):
                named = getattr(value, sub.name)
                if sub.name.endswith("_file") and isinstance(named, str) and named.strip():
                    found.append((f"{f.name}.{sub.name}", named))
        elif f.name.endswith("_file") and isinstance(value, str) and value.strip():
            found.append((f.name, value))
    return found


def setting_path(home: Path, value: str) -> Path:
    """The file a setting names, as the hub finds it: an absolute path, or one relative to the
    home."""
    path = Path(value)
    return path if path.is_absolute() else home / path


def _member_of_setting(setting: str, value: str) -> tuple[str, bool]:
    """The archive member of the file ``setting`` names: its place in the home, or (for a file
    outside the home) ``outside-home/<setting>``; and whether it is outside."""
    if not Path(value).is_absolute():
        inside = Path(os.path.normpath(value)).as_posix()
        if _safe_member(inside):
            return inside, False
    return f"{OUTSIDE_HOME}/{setting}", True


def _safe_member(name: str) -> bool:
    """Whether ``name`` may be a member (and so a file in the home): a relative path without
    '..', not a database's journal or write-ahead log."""
    if not name or name.startswith("/") or "\\" in name or "\0" in name:
        return False
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return False
    return not (name != SQLITE_MEMBER and name.startswith(SQLITE_MEMBER))


# -- checksums -----------------------------------------------------------------------------

def _sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(_BLOCK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# -- backup --------------------------------------------------------------------------------

class BackupService:
    """Backs one hub up into an archive, and restores an archive into a new home."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def backup(self, target: Path) -> Manifest:
        """Write the hub's backup archive to ``target`` (created 0600; refused if it exists)."""
        hub = self.hub
        if target.exists() or target.is_symlink():
            raise BackupError(f"{target} exists: a backup never replaces a file; choose a new name")
        if not target.parent.is_dir():
            raise BackupError(f"cannot write {target}: the folder {target.parent} does not exist")
        party = hub.store.get_party(HUB_PARTY)
        key_path = hub.config.home / HUB_KEY_FILE
        if party is None or not key_path.exists():
            raise BackupError(f"{hub.config.home} has no hub key yet: run 'abusehub init' first")
        try:
            key_id = SigningKey.from_pem(key_path.read_bytes()).key_id
        except (KeyFormatError, ValueError, OSError) as exc:
            raise BackupError(f"cannot read the hub's signing key {key_path}: {exc}") from None
        # Every file first, so that a missing one is found before the database is copied.
        files = self._home_files()
        # The database the hub has open (the store's own URL), not a guess.
        url = hub.store.url
        try:
            with tempfile.TemporaryDirectory(prefix=".abusehub-backup.", dir=target.parent) as tmp:
                if url.startswith("sqlite"):
                    kind, member, db = "sqlite", SQLITE_MEMBER, Path(tmp) / SQLITE_MEMBER
                    with _database_tool():
                        revision = copy_sqlite(sqlite_path(url), db)
                else:
                    kind, member, db = "postgresql", POSTGRES_MEMBER, Path(tmp) / POSTGRES_MEMBER
                    with _database_tool():
                        dump_postgres(url, db)
                    revision = hub.store.schema_revisions()[0] or ""
                if not revision:
                    raise BackupError("the database has no hub schema: there is no hub to back up")
                digest, size = _sha256_file(db)
                entries: dict[str, dict[str, Any]] = {member: {"sha256": digest, "size": size}}
                for name, (data, extra) in files.items():
                    entries[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), **extra}
                manifest = Manifest(hub_identity=party.identity_id, hub_key_id=key_id,
                                    schema_revision=revision, database=kind,
                                    created=format_timestamp_us(hub.clock()), files=entries)
                self._write_archive(target, manifest, db, member, {n: d for n, (d, _) in files.items()})
        except OSError as exc:
            raise BackupError(f"cannot write {target}: {exc.strerror or exc}") from None
        hub.audit.record("backup", "", file=target.name, database=kind, schema_revision=revision,
                         files=sorted(entries))
        return manifest

    def _home_files(self) -> dict[str, tuple[bytes, dict[str, str]]]:
        """Every file of the home a hub needs to start, by member name: its content, and what
        the manifest says of it besides its checksum (the setting naming it, the path it came
        from when outside the home). :class:`BackupError` names a named file that is missing."""
        config = self.hub.config
        home = config.home
        files: dict[str, tuple[bytes, dict[str, str]]] = {}

        def read(path: Path, what: str) -> bytes:
            try:
                return path.read_bytes()
            except OSError as exc:
                raise BackupError(f"cannot read {path} ({what}): {exc.strerror}") from None

        for name in HOME_FILES:
            if (home / name).exists():
                files[name] = (read(home / name, name), {})
        for setting, value in file_settings(config):
            member, outside = _member_of_setting(setting, value)
            path = setting_path(home, value)
            if member in files or member in _DATABASES:
                continue
            if not path.is_file():
                if setting in MADE_ON_FIRST_USE and not path.exists():
                    continue  # the hub makes it when it first needs it
                state = "is not a file" if path.exists() else "does not exist"
                raise BackupError(f"{setting} names {path}, which {state}: a hub restored from this "
                                  "backup could not start; create it or clear the setting, then back up again")
            extra = {"setting": setting, **({"path": str(path.absolute())} if outside else {})}
            files[member] = (read(path, setting), extra)
        folder = self.hub.federation.peers.folder
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                member = path.relative_to(home).as_posix() if path.is_relative_to(home) else ""
                if path.is_file() and _safe_member(member) and member not in files:
                    files[member] = (read(path, "a peer's credentials"), {})
        return files

    @staticmethod
    def _write_archive(target: Path, manifest: Manifest, db: Path, db_member: str,
                       files: dict[str, bytes]) -> None:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw:
                with tarfile.open(fileobj=raw, mode="w:gz") as tar:
                    data = manifest.to_json()
                    tar.addfile(_member(MANIFEST, len(data)), io.BytesIO(data))
                    with db.open("rb") as f:
                        tar.addfile(_member(db_member, manifest.files[db_member]["size"]), f)
                    for name, content in files.items():
                        tar.addfile(_member(name, len(content)), io.BytesIO(content))
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


# -- restore -------------------------------------------------------------------------------

def restore(archive: Path, home: Path, database_url: str | None = None,
            environ: Mapping[str, str] | None = None) -> RestoreOutcome:
    """Restore ``archive`` into ``home`` (a new or empty folder, or one holding only files of
    the same hub); a PostgreSQL backup is loaded into the empty database at ``database_url``.
    Every check is made before anything is written; a refusal writes nothing, not even the
    home folder. ``environ`` (default: this process's) is the environment the restored hub
    will be served with, for the notes on what is left to do."""
    name = str(archive)
    if not archive.is_file():
        raise BackupError(f"{name}: no such file" if not archive.exists() else f"{name}: not a file")
    _check_complete(archive)
    if home.exists() and not home.is_dir():
        raise BackupError(f"{home} exists and is not a folder: restore into a new home")
    anchor = home
    while not anchor.exists():
        anchor = anchor.parent
    try:
        staging = Path(tempfile.mkdtemp(prefix=".abusehub-restore.", dir=anchor))
    except OSError as exc:
        raise BackupError(f"cannot restore into {home}: cannot write in {anchor}: {exc.strerror}") from None
    try:
        try:
            manifest, staged = _unpack(archive, staging)
        except OSError as exc:
            raise BackupError(f"cannot restore into {home}: cannot write in {anchor}: {exc.strerror}") from None
        notes: list[str] = []
        dump = staged.pop(POSTGRES_MEMBER, None)
        if manifest.database == "postgresql":
            if not database_url:
                raise BackupError(f"{name} holds a PostgreSQL database: give --database-url with the URL of "
                                  "an empty database to load it into")
            with _database_tool():
                libpq_target(database_url)  # a URL that is not PostgreSQL's is refused here
            _configure_database(staged, staging, database_url, name, notes)
        else:
            if database_url:
                raise BackupError(f"{name} holds a SQLite database, restored as {SQLITE_MEMBER} in the "
                                  "home: --database-url is for PostgreSQL backups")
            _configure_database(staged, staging, "", name, notes)
        _check_home(manifest, staged, home, name)
        if dump is not None and database_url:
            with _database_tool():
                load_postgres(dump, database_url)
        written = _write_home(staged, home)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    notes += _left_to_do(manifest, home, database_url, environ)
    return RestoreOutcome(manifest, home, written, notes, shown_url(database_url) if database_url else "")


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
                if info.name not in manifest.files or not info.isfile() or info.name in staged:
                    raise BackupError(f"{name}: unexpected member {info.name!r}: not an abusehub backup")
                source = tar.extractfile(info)
                path = folder / "members" / info.name
                path.parent.mkdir(parents=True, exist_ok=True)
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
    kind = SQLITE_MEMBER if manifest.database == "sqlite" else POSTGRES_MEMBER
    if kind not in staged or ({SQLITE_MEMBER, POSTGRES_MEMBER} - {kind}) & set(staged):
        raise BackupError(f"{name}: the archive does not hold the {manifest.database} database its manifest names")
    return manifest, staged


def _configure_database(staged: dict[str, Path], staging: Path, database_url: str, archive: str,
                        notes: list[str]) -> None:
    """Make the restored hub.toml name the restored database: ``database_url`` (PostgreSQL), or
    the home's own hub.db (SQLite: a database_url naming another SQLite file is cleared)."""
    current = staged.get(CONFIG_FILE)
    text = ""
    if current is None and not database_url:
        return  # no hub.toml: the hub's defaults open hub.db in the home
    if current is not None:
        try:
            text = current.read_text(encoding="utf-8")
            doc = tomllib.loads(text)
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            if not database_url:
                return  # the note on the configuration says it does not load
            raise BackupError(f"{archive}: its hub.toml is not valid TOML ({exc}): it cannot be "
                              "pointed at the database") from None
        hub_table = doc.get("hub")
        named = hub_table.get("database_url", "") if isinstance(hub_table, dict) else ""
        if named == database_url:
            return
        if not database_url:
            notes.append(f"hub.toml named the database {shown_url(str(named))}: cleared, so that the restored "
                         f"hub opens the restored {SQLITE_MEMBER} in its home")
    new = set_database_url(text, database_url)
    if new is None:
        raise BackupError(f"{archive}: its hub.toml's [hub] table is written in a way restore cannot "
                          "edit: set database_url in it by hand after restoring, or restore without it")
    path = staging / "configured" / CONFIG_FILE
    path.parent.mkdir(exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(new.encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())
    staged[CONFIG_FILE] = path


_TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_-]+)\s*\]\s*(#.*)?$")
_ANY_TABLE = re.compile(r"^\s*\[")
_DATABASE_URL = re.compile(r"^\s*database_url\s*=")


def set_database_url(text: str, url: str) -> str | None:
    """``text`` (a hub.toml) with ``[hub] database_url`` set to ``url``, everything else (its
    comments too) kept; None when the file is written in a way this cannot edit safely (the
    result is checked by parsing it)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    line = f"database_url = {json.dumps(url, ensure_ascii=False)}\n"
    lines = (text if not text or text.endswith("\n") else text + "\n").splitlines(keepends=True)
    table, header, found = "", -1, -1
    for i, raw in enumerate(lines):
        m = _TABLE.match(raw)
        if m:
            table = m.group(1)
            header = i if table == "hub" and header < 0 else header
        elif _ANY_TABLE.match(raw):
            table = ""
        elif table == "hub" and _DATABASE_URL.match(raw):
            found = i
    if found >= 0:
        lines[found] = line
    elif header >= 0:
        lines.insert(header + 1, line)
    else:
        lines[:0] = ["[hub]\n", line, "\n"]
    new = "".join(lines)
    expected = dict(doc)
    hub_table = doc.get("hub")
    expected["hub"] = {**(hub_table if isinstance(hub_table, dict) else {}), "database_url": url}
    try:
        return new if tomllib.loads(new) == expected else None
    except tomllib.TOMLDecodeError:
        return None


def _check_home(manifest: Manifest, staged: dict[str, Path], home: Path, archive: str) -> None:
    """Refuse a home that belongs to another hub, holds a database, or holds a differing file."""
    key = home / HUB_KEY_FILE
    if key.exists():
        try:
            key_id = SigningKey.from_pem(key.read_bytes()).key_id
        except (KeyFormatError, ValueError, OSError):
            key_id = "(unreadable)"
        if key_id != manifest.hub_key_id:
            raise Conflict(f"{archive} is a backup of another hub (identity {manifest.hub_identity}, "
                           f"key {manifest.hub_key_id}) than the one in {home} (key {key_id}): "
                           "restore it into a new home")
    for db in _DATABASES:
        for suffix in ("", "-wal", "-shm", "-journal"):
            if (home / f"{db}{suffix}").exists():
                raise Conflict(f"{home} already has a database ({db}{suffix}): restore never overwrites "
                               "a database; restore into a new home")
    for member, path in staged.items():
        dest = home / member
        for parent in list(dest.relative_to(home).parents)[:-1]:
            if (home / parent).is_symlink() or ((home / parent).exists() and not (home / parent).is_dir()):
                raise Conflict(f"{home / parent} is not a folder, but the archive has {member} in it: "
                               "restore into a new home")
        if dest.exists() and (not dest.is_file() or _sha256_file(dest) != _sha256_file(path)):
            raise Conflict(f"{dest} exists and differs from the archive's: restore never "
                           "overwrites it; restore into a new home")


def _write_home(staged: dict[str, Path], home: Path) -> list[str]:
    """Link every staged file into ``home`` (made 0700 if new); never replaces a file."""
    written: list[str] = []
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        for member, path in staged.items():
            dest = home / member
            if dest.exists():  # the same content (checked above): nothing to write
                continue
            dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.link(path, dest)  # never replaces: fails if the name was taken meanwhile
            os.chmod(dest, 0o600)
            written.append(member)
            fsync_directory(dest.parent)
    except OSError as exc:
        raise BackupError(f"cannot restore into {home}: {exc.strerror or exc} "
                          f"(written so far: {', '.join(written) or 'nothing'})") from None
    fsync_directory(home)
    return written


def _left_to_do(manifest: Manifest, home: Path, database_url: str | None,
                environ: Mapping[str, str] | None) -> list[str]:
    """What the restored hub still lacks to start, as the configuration it will be served with
    (the restored hub.toml and ``environ``) says: the database it would open, files it names."""
    notes: list[str] = []
    head = head_revision()
    if manifest.schema_revision != head:
        notes.append(f"the backup's schema is at revision {manifest.schema_revision} and this abusehub's at "
                     f"{head}: run 'abusehub --home {home} migrate' before serving")
    try:
        config = load_config(home, environ)
    except ConfigError as exc:
        return [*notes, f"the restored configuration does not load: {'; '.join(exc.description.splitlines())}"]
    expected = database_url or f"sqlite:///{(home / SQLITE_MEMBER).resolve()}"
    if config.effective_database_url != expected:
        source = ("this environment's HUB_DATABASE_URL" if "HUB_DATABASE_URL" in (os.environ if environ is None
                                                                                  else environ)
                  else f"{home / CONFIG_FILE} (kept as it was)")
        notes.append(f"{source} makes the restored hub open {shown_url(config.effective_database_url)}, not the "
                     f"restored database {shown_url(expected)}: set it to the restored database")
    outside = {entry.get("setting"): member for member, entry in manifest.files.items()
               if member.startswith(f"{OUTSIDE_HOME}/")}
    for setting, value in file_settings(config):
        path = setting_path(home, value)
        copy = outside.get(setting)
        if path.exists() or (copy is None and setting in MADE_ON_FIRST_USE):
            continue
        if copy is not None and (home / copy).is_file():
            notes.append(f"{setting} names {path}, outside the home: put the backed-up copy there before "
                         f"serving: install -D -m 0600 {shlex.quote(str(home / copy))} {shlex.quote(str(path))}")
        else:
            notes.append(f"{setting} names {path}, which does not exist and is not in the backup: "
                         "create it before serving")
    return notes
