"""Fixtures of the client tests: hubs served in-process (:mod:`tests.client.inprocess`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.client.inprocess import InProcessHub, make_hub


class MakeHubs(Protocol):
    def __call__(self, name: str, parties: Mapping[str, str],
                 collections: Mapping[str, Mapping[str, tuple[bool, bool]]], **kwargs: Any) -> InProcessHub: ...


@pytest.fixture()
def make_hubs(tmp_path: Path) -> Iterator[MakeHubs]:
    """``make_hubs(name, parties, collections, **kwargs)``: independent in-process hubs, each
    in its own home under the test's folder, closed after the test (see :func:`make_hub`)."""
    made: list[InProcessHub] = []

    def factory(name: str, parties: Mapping[str, str],
                collections: Mapping[str, Mapping[str, tuple[bool, bool]]], **kwargs: Any) -> InProcessHub:
        h = make_hub(tmp_path / name, parties, collections, **kwargs)
        made.append(h)
        return h

    yield factory
    for h in made:
        h.close()


@pytest.fixture(scope="module")
def module_hubs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeHubs]:
    """:func:`make_hubs` for a whole test module: hubs whose tests each make their own
    collections (:meth:`InProcessHub.add_collection`), so the hub is set up once per module."""
    made: list[InProcessHub] = []

    def factory(name: str, parties: Mapping[str, str],
                collections: Mapping[str, Mapping[str, tuple[bool, bool]]], **kwargs: Any) -> InProcessHub:
        h = make_hub(tmp_path_factory.mktemp(name), parties, collections, **kwargs)
        made.append(h)
        return h

    yield factory
    for h in made:
        h.close()


class HubPerBackend:
    """One hub per store backend for a test module, made on first use with the same setup."""

    def __init__(self, make: MakeHubs, parties: Mapping[str, str], **kwargs: Any) -> None:
        self.make, self.parties, self.kwargs = make, parties, kwargs
        self.hubs: dict[str, InProcessHub] = {}

    def __call__(self, backend: str) -> InProcessHub:
        if backend not in self.hubs:
            self.hubs[backend] = self.make(f"hub-{backend}", self.parties, {}, backend=backend, **self.kwargs)
        return self.hubs[backend]
