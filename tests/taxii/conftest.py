"""The black-box tier of the TAXII tests: the seeded test hub (:data:`tests.harness.PARTIES` and
``GRANTS``) served on loopback by a real two-worker ``abusehub serve``.

Tests using ``server`` start processes and are marked ``slow``; the in-process fixtures
(``app``, ``client``, ``seeded``, ``shared_hub``, ``hub_factory``) live in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness import HubUnderTest


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubUnderTest]:
    """A seeded real server for the module."""
    with HubUnderTest.served(tmp_path_factory.mktemp("hub")) as running:
        yield running
