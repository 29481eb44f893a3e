"""The black-box tier of the TAXII tests: a real ``abusehub serve`` on loopback, seeded with
the parties, collections and grants of :data:`tests.conftest.PARTIES` and ``GRANTS``.

Tests using ``server`` start processes and are marked ``slow``; the in-process fixtures
(``app``, ``client``, ``seeded``, ``shared_hub``, ``hub_factory``) live in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import load_config
from hub.services.operations.runtime import initialise_hub
from tests.conftest import GRANTS, PARTIES, TEST_TOML, RunningHub, seed_hub, start_server, stop_server

__all__ = ["GRANTS", "PARTIES", "seed"]


def seed(home: Path, *, toml: str | None = None, parties: dict[str, str] | None = None,
         grants: dict[str, dict[str, tuple[bool, bool]]] | None = None) -> RunningHub:
    """A hub home with ``parties`` (name: kind) and collections with ``grants`` (alias: party:
    (read, write)), served on loopback by a real two-worker server. ``toml`` replaces the test
    hub.toml (small pages, 64 KiB bodies)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "hub.toml").write_text(TEST_TOML if toml is None else toml)
    hub, _made = initialise_hub(load_config(home, environ={}))  # what 'abusehub init' does
    seeded = seed_hub(hub, parties, grants)
    hub.close()
    running = start_server(home)
    running.tokens, running.identities, running.collections = seeded.tokens, seeded.identities, seeded.collections
    return running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """A seeded real server for the module."""
    running = seed(tmp_path_factory.mktemp("hub"))
    yield running
    stop_server(running)
