"""What a running server adds to a hub, and the one rule for opening a hub's database.

**Schema changes.** ``init`` (and, in the container, ``serve --init-if-empty``) creates the schema
and the hub's keys in a database that has none; ``migrate`` is the only way to bring a schema
that is behind the code up to date; ``backup`` reads a schema at head or behind (the upgrade
backs up before it migrates); everything else (``serve``, every admin command) opens a database
only when its schema is exactly this code's head revision, and otherwise stops with one line
saying which command to run; so does a database whose schema is at head but whose objects stored
before markings were enforced were never classified (``migrate`` does that after the schema, and
``init`` on a new database). Nothing but creating a schema makes a SQLite file. Each rule is one
function here: :func:`open_current_hub`, :func:`open_hub_to_migrate`, :func:`open_hub_to_back_up`,
:func:`initialise_hub`; their errors are :class:`~hub.common.errors.ConfigError` (exit 2).

**Start-up.** :func:`check_database` is what ``abusehub serve`` asks before it starts any
worker, and :func:`check_worker_files` reads, once, every file a worker reads when it boots (the
``/metrics`` token, the web pages' key), so that each problem is one line instead of every
worker failing. :func:`check_keys` refuses a hub whose database is initialised but whose signing
key or pseudonym keyring file is missing: made anew, it would silently change the hub, so only
``init`` on an empty database, or ``init --new-keys`` on purpose, makes one.
:func:`secure_home` keeps the home's files private.

**Serving.** :func:`install` wires a :class:`~hub.services.metrics.Metrics` and the
failed-authentication throttle into a hub's services (the server does this for each app it
builds). :func:`readiness_problem` is what ``/readyz`` asks.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from hub.common.errors import ConfigError, HubError
from hub.common.files import create_once
from hub.config import HubConfig
from hub.services.access.limits import AuthThrottle
from hub.services.access.markings import classification_problem
from hub.services.clock import Clock, system_clock
from hub.services.hub import Hub, open_hub
from hub.services.keys import HUB_KEY_FILE
from hub.services.metrics import Metrics
from hub.store.dialect import FileIdentity, sqlite_file
from hub.store.dialect import shown_url as shown_database_url
from hub.store.ops import OpsStore, known_revisions

__all__ = ["NEW_KEYS_COMMAND", "Initialised", "check_database", "check_keys", "check_worker_files", "database_file",
           "initialise_hub", "install", "keys_problem", "metrics_token", "missing_keys", "open_current_hub",
           "open_hub_to_back_up", "open_hub_to_migrate", "readiness_problem", "schema_problem", "secure_home",
           "shown_database_url", "web_secret_key"]

log = logging.getLogger("abusehub.runtime")

#: Files of the home that hold secrets or the database, kept readable by the owner alone.
PRIVATE_FILES = ("hub.db", "hub.db-wal", "hub.db-shm", "hub.db-journal", HUB_KEY_FILE,
                 "pseudonym-keys.json", "pseudonym-keys.lock")

#: The shortest token ``[metrics] token_file`` may hold.
METRICS_TOKEN_MIN = 16


def install(hub: Hub, metrics: Metrics) -> None:
    """Report ``hub``'s events to ``metrics`` and throttle failed authentications as
    configured (``[limits]``), counted in the hub's database."""
    limits = hub.config.limits
    hub.access.metrics = metrics
    hub.access.throttle = AuthThrottle(hub.store, hub.clock, limits.auth_failures,
                                       limits.auth_window_seconds, metrics,
                                       spool=AuthThrottle.spooled_in(hub.config.home / "auth-spool"))
    hub.ingest.metrics = metrics
    hub.pseudonyms.limiter.metrics = metrics


def _first_line(exc: BaseException) -> str:
    """The driver's own first line about a failure (SQLAlchemy appends a background link)."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


# -- the schema -----------------------------------------------------------------------------

def schema_problem(store: OpsStore) -> str | None:
    """What is wrong with the database's schema for this code, or None when it is at head."""
    current, head = store.schema_revisions()
    if current is None:
        return "the database has no hub schema: run 'abusehub init'"
    if current == head:
        return None
    if current not in known_revisions():
        return (f"the database schema is at revision {current}, which this abusehub (schema {head}) does "
                "not know: a newer abusehub migrated it; run that one")
    return (f"the database schema is at revision {current} but this abusehub needs {head}: "
            "run 'abusehub migrate'")


def readiness_problem(hub: Hub) -> str | None:
    """Why ``hub`` cannot serve now (its database file is not the one it opened, the database
    does not answer, or its schema is not the code's head revision), or None when it can."""
    store = hub.store
    try:
        store.ping()
        return schema_problem(store)
    except HubError as exc:  # the store's own words (a database file moved or replaced)
        return exc.description
    except Exception as exc:  # any other failure of the database means: not ready
        log.warning("readiness: the database does not answer: %s", _first_line(exc))
        return "the database does not answer"


# -- opening the database: the one rule ---------------------------------------------------------

def _no_database(config: HubConfig) -> str | None:
    """The line to print when the configured SQLite file does not exist; None when it does (or
    the database is PostgreSQL)."""
    try:
        file = sqlite_file(config.effective_database_url)
    except Exception:  # an unparsable URL: opening it says so
        return None
    if file is None or file.path.exists():
        return None
    if not config.database_url:
        return f"there is no database in {config.home}: run 'abusehub --home {config.home} init' first"
    return f"there is no database file {file.path}: run 'abusehub init' first"


def _open(config: HubConfig, clock: Clock, database_file: FileIdentity | None = None) -> Hub:
    """The hub's services on its database, which answers; :class:`ConfigError` otherwise."""
    url = config.effective_database_url
    try:
        hub = open_hub(config, clock=clock, database_file=database_file)
    except Exception as exc:
        raise ConfigError(f"cannot open the database {shown_database_url(url)}: {_first_line(exc)}") from None
    try:
        hub.store.ping()
    except HubError as exc:
        hub.close()
        raise ConfigError(exc.description) from None
    except Exception as exc:
        hub.close()
        raise ConfigError(f"cannot reach the database {shown_database_url(url)}: {_first_line(exc)}") from None
    return hub


def open_current_hub(config: HubConfig, *, clock: Clock = system_clock,
                     database_file: FileIdentity | None = None) -> Hub:
    """The hub's services on its database, which must exist, answer, and be at this code's head
    revision with the objects stored before markings were enforced classified (what ``migrate``
    does after the schema): what ``serve`` and every admin command open. Nothing is created or
    migrated; anything else is a :class:`ConfigError` naming the command to run."""
    missing = _no_database(config)
    if missing:
        raise ConfigError(missing)
    hub = _open(config, clock, database_file)
    try:
        problem = schema_problem(hub.store) or classification_problem(hub.store)
    except Exception:
        hub.close()
        raise
    if problem:
        hub.close()
        raise ConfigError(problem)
    return hub


def open_hub_to_migrate(config: HubConfig) -> tuple[Hub, str]:
    """The hub's services on its database for ``abusehub migrate``, and the schema revision it is
    at: the database must exist and hold a hub schema this code knows (at head or behind)."""
    return _open_known(config)


def open_hub_to_back_up(config: HubConfig) -> tuple[Hub, str | None]:
    """The hub's services on its database for ``abusehub backup`` alone, and what is wrong with
    its schema for this code (None when at head): the database must exist and hold a hub schema
    this code knows, at head or BEHIND it. The documented upgrade is "back up, stop, migrate",
    and the new code may be installed before the backup is taken; a backup only reads (and adds
    one audit record), and its archive records the revision it
    holds, which ``restore`` compares with its own. Nothing is created or migrated."""
    hub, _current = _open_known(config)
    try:
        return hub, schema_problem(hub.store)
    except BaseException:
        hub.close()
        raise


def _open_known(config: HubConfig) -> tuple[Hub, str]:
    """The hub's services on its database, which must exist and hold a hub schema this code
    knows (at head or behind), and the revision it is at."""
    missing = _no_database(config)
    if missing:
        raise ConfigError(missing)
    hub = _open(config, system_clock)
    try:
        store = hub.store
        current, _head = store.schema_revisions()
        if current is None or current not in known_revisions():
            raise ConfigError(schema_problem(store) or "the database has no hub schema")
    except BaseException:
        hub.close()
        raise
    return hub, current


@dataclass(frozen=True)
class Initialised:
    """What :func:`initialise_hub` did."""

    revision: str
    key_id: str
    schema_created: bool
    keyring_created: bool
    #: Whether the hub's signing key file was made now.
    key_created: bool = False


#: The command that makes a hub's missing key files on purpose (see :func:`missing_keys`).
NEW_KEYS_COMMAND = "init --new-keys"


def missing_keys(hub: Hub) -> list[tuple[str, Path]]:
    """The hub's key files that are not there (what each is, and where): the hub's signing key
    and the pseudonym keyring. On a hub whose database has its schema they were made with it, so
    a missing one was lost; made anew, it would silently change the hub (a new countersigning
    key; new pseudonyms that no longer match the reports filed before)."""
    files = [("the hub's signing key", hub.signer.path), ("the pseudonym keyring", hub.pseudonyms.path)]
    return [(what, path) for what, path in files if not path.exists()]


def keys_problem(hub: Hub) -> str | None:
    """The line that refuses to serve or initialise a hub whose key files are missing (naming
    each, and what to do), or None when both are there."""
    missing = missing_keys(hub)
    if not missing:
        return None
    named = " and ".join(f"{what} {path}" for what, path in missing)
    return (f"{named} {'is' if len(missing) == 1 else 'are'} missing although the database is initialised: "
            f"restore {'it' if len(missing) == 1 else 'them'} from the hub's backup; to start with new keys on "
            f"purpose (a new countersigning key; new reports no longer match old pseudonyms), run "
            f"'abusehub --home {hub.config.home} {NEW_KEYS_COMMAND}'")


def check_keys(hub: Hub) -> None:
    """Raise :class:`ConfigError` (one line, :func:`keys_problem`) when a key file is missing."""
    problem = keys_problem(hub)
    if problem:
        raise ConfigError(problem)


def initialise_hub(config: HubConfig, *, clock: Clock = system_clock,
                   new_keys: bool = False) -> tuple[Hub, Initialised]:
    """What ``init`` (and ``serve --init-if-empty``, ``demo``) does to the database: on one with
    no hub schema (a SQLite file that does not exist yet included), create the schema and make
    the hub's key and the pseudonym keyring (keeping key files already there). On one at this
    code's head revision nothing is made: a missing key file is refused with one line
    (:func:`keys_problem`) unless ``new_keys`` (``init --new-keys``) says to make it anew. A
    database that is behind (or ahead) is refused with one line: only ``migrate`` changes a
    schema."""
    created = _no_database(config) is not None
    if created:
        try:
            hub = open_hub(config, clock=clock)
        except Exception as exc:
            url = shown_database_url(config.effective_database_url)
            raise ConfigError(f"cannot open the database {url}: {_first_line(exc)}") from None
    else:
        hub = _open(config, clock)
    try:
        if not created:
            current, _head = hub.store.schema_revisions()
            created = current is None
        if not created:
            problem = schema_problem(hub.store)
            if problem:
                raise ConfigError(problem)
            if not new_keys:
                check_keys(hub)
        revision = hub.migrate() if created else hub.store.schema_revisions()[0] or ""
        key_created = not hub.signer.path.exists()
        key_id = hub.signer.prepare()
        keyring_created = hub.pseudonyms.ensure_keyring()
    except BaseException:
        hub.close()
        raise
    return hub, Initialised(revision, key_id, created, keyring_created, key_created)


def check_database(config: HubConfig) -> None:
    """Raise :class:`ConfigError` (one line) unless the configured database exists, answers
    and its schema is at this code's head revision. Nothing is created or migrated."""
    open_current_hub(config).close()


def database_file(hub: Hub) -> FileIdentity | None:
    """The (device, inode) of the SQLite file ``hub`` serves (None for PostgreSQL): what a
    server's workers are given, so that they serve the file ``serve`` checked and no other."""
    return hub.store.database_file()


# -- what every worker reads, read once at start-up ---------------------------------------------

def _home_file(config: HubConfig, name: str) -> Path:
    return Path(name) if Path(name).is_absolute() else config.home / name


def metrics_token(config: HubConfig) -> str | None:
    """The bearer token ``/metrics`` asks for (``[metrics] token_file``), or None when none is
    set; :class:`ConfigError` (one line, never the token) when the file cannot be read or holds
    fewer than 16 characters."""
    name = config.metrics.token_file
    if not name:
        return None
    path = _home_file(config, name)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"metrics.token_file: cannot read {path}: {reason}") from None
    if len(token) < METRICS_TOKEN_MIN:
        raise ConfigError(f"metrics.token_file: {path} must hold a token of at least {METRICS_TOKEN_MIN} "
                          "characters")
    return token


def web_secret_key(config: HubConfig) -> bytes:
    """The key of the web pages (``[web] secret_key_file``), made (0600, first writer wins) when
    the file does not exist yet; :class:`ConfigError` (one line) when it cannot be made or read,
    or is empty."""
    path = _home_file(config, config.web.secret_key_file)
    try:
        if not path.exists():
            create_once(path, secrets.token_hex(32).encode("ascii"))
        key = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"web.secret_key_file: cannot make or read {path}: {exc.strerror}") from None
    if not key:
        raise ConfigError(f"web.secret_key_file: {path} is empty (delete it and a new key is made)")
    return key


def check_worker_files(config: HubConfig) -> None:
    """Read every file a server worker reads when it boots (the ``/metrics`` token when metrics
    are on, the web pages' key), once: a bad one is one :class:`ConfigError` at start-up, not a
    traceback in every worker."""
    if config.metrics.enabled:
        metrics_token(config)
    web_secret_key(config)


def secure_home(home: Path) -> None:
    """Make the home folder private (0700) and its database and key files owner-only (0600)."""
    if home.is_dir() and stat.S_IMODE(home.stat().st_mode) != 0o700:
        os.chmod(home, 0o700)
    for name in PRIVATE_FILES:
        path = home / name
        try:
            if stat.S_IMODE(path.stat().st_mode) & 0o077:
                os.chmod(path, 0o600)
        except FileNotFoundError:
            continue
