"""What a running server adds to a hub: shared limits, metrics, readiness and start-up checks.

:func:`install` wires a :class:`~hub.services.metrics.Metrics` and the failed-authentication
throttle into a hub's services (the server does this for each app it builds).
:func:`readiness_problem` is what ``/readyz`` asks; :func:`check_database` is what ``abusehub
serve`` asks before it starts any worker, so that an unreachable database or an old schema is
one clear line instead of every worker failing. :func:`secure_home` keeps the home's files
private.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from hub.common.errors import HubError
from hub.config import HubConfig
from hub.services.hub import Hub
from hub.services.keys import HUB_KEY_FILE
from hub.services.limits import AuthThrottle, ops_store
from hub.services.metrics import Metrics
from hub.store.ops import OpsStore

__all__ = ["check_database", "install", "readiness_problem", "secure_home"]

log = logging.getLogger("abusehub.runtime")

#: Files of the home that hold secrets or the database, kept readable by the owner alone.
PRIVATE_FILES = ("hub.db", "hub.db-wal", "hub.db-shm", "hub.db-journal", HUB_KEY_FILE,
                 "pseudonym-keys.json", "pseudonym-keys.lock")


def install(hub: Hub, metrics: Metrics) -> None:
    """Report ``hub``'s events to ``metrics`` and throttle failed authentications as
    configured (``[limits]``), counted in the hub's database."""
    limits = hub.config.limits
    hub.access.metrics = metrics
    hub.access.throttle = AuthThrottle(ops_store(hub.store), hub.clock, limits.auth_failures,
                                       limits.auth_window_seconds, metrics)
    hub.ingest.metrics = metrics
    hub.pseudonyms.limiter.metrics = metrics


def _first_line(exc: BaseException) -> str:
    """The driver's own first line about a failure (SQLAlchemy appends a background link)."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def schema_problem(store: OpsStore) -> str | None:
    """What is wrong with the database's schema for this code, or None when it is at head."""
    current, head = store.schema_revisions()
    if current is None:
        return "the database has no hub schema: run 'abusehub init' or 'abusehub migrate'"
    if current != head:
        return (f"the database schema is at revision {current} but this abusehub needs {head}: "
                "run 'abusehub migrate'")
    return None


def readiness_problem(hub: Hub) -> str | None:
    """Why ``hub`` cannot serve now (its database does not answer, or its schema is not the
    code's head revision), or None when it can."""
    store = ops_store(hub.store)
    try:
        store.ping()
        return schema_problem(store)
    except Exception as exc:  # any failure of the database means: not ready
        log.warning("readiness: the database does not answer: %s", _first_line(exc))
        return "the database does not answer"


def _shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown by its scheme only
        return url.split(":", 1)[0] + ":..."


def check_database(config: HubConfig) -> None:
    """Raise :class:`HubError` (one line) unless the configured database answers and its schema
    is at this code's head revision. Nothing is created or migrated."""
    from hub.store.sql import SqlStore

    url = config.effective_database_url
    if url.startswith("sqlite") and not config.database_url and not (config.home / "hub.db").exists():
        raise HubError(f"there is no database in {config.home}: run 'abusehub --home {config.home} init' first")
    try:
        store = SqlStore(url)
    except Exception as exc:
        raise HubError(f"cannot open the database {_shown_url(url)}: {_first_line(exc)}") from None
    try:
        try:
            store.ping()
        except Exception as exc:
            raise HubError(f"cannot reach the database {_shown_url(url)}: {_first_line(exc)}") from None
        problem = schema_problem(store)
        if problem:
            raise HubError(problem)
    finally:
        store.close()


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
