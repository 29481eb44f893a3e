"""Service-level fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.config import HubConfig
from hub.services.hub import Hub
from hub.store.sql import SqlStore
from tests.harness import FrozenClock


@pytest.fixture
def hub(config: HubConfig, store: SqlStore, clock: FrozenClock) -> Iterator[Hub]:
    """The services over each backend; buffered audit records are written before the store goes."""
    h = Hub(config, store, clock)
    yield h
    h.audit.close()
