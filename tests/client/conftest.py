"""Fixtures of the client tests: in-process hubs under test (:class:`tests.harness.HubUnderTest`),
each reached by :class:`~hub.client.taxii.TaxiiClient` over :class:`httpx.WSGITransport`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.harness import HubUnderTest

#: The settings of a client test hub: small pages, so that paging shows with a few objects.
CLIENT_TOML = "[taxii]\ndefault_page_size = 5\nmax_page_size = 50\n"


class MakeHubs(Protocol):
    def __call__(self, name: str, parties: Mapping[str, str],
                 collections: Mapping[str, Mapping[str, tuple[bool, bool]]], **kwargs: Any) -> HubUnderTest: ...


def _maker(stack: ExitStack, home_of: Callable[[str], Path]) -> MakeHubs:
    def make(name: str, parties: Mapping[str, str],
             collections: Mapping[str, Mapping[str, tuple[bool, bool]]], **kwargs: Any) -> HubUnderTest:
        kwargs.setdefault("toml", CLIENT_TOML)
        return stack.enter_context(HubUnderTest.build(home_of(name), parties=parties, grants=collections, **kwargs))
    return make


@pytest.fixture()
def make_hubs(tmp_path: Path) -> Iterator[MakeHubs]:
    """``make_hubs(name, parties, collections, **kwargs)``: independent in-process hubs, each
    in its own home under the test's folder, closed after the test (the other arguments are
    those of :meth:`HubUnderTest.build`)."""
    with ExitStack() as stack:
        yield _maker(stack, lambda name: tmp_path / name)


@pytest.fixture(scope="module")
def module_hubs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeHubs]:
    """:func:`make_hubs` for a whole test module: hubs whose tests each make their own
    collections (:meth:`HubUnderTest.add_collection`), so the hub is set up once per module."""
    with ExitStack() as stack:
        yield _maker(stack, tmp_path_factory.mktemp)


class HubPerBackend:
    """One hub per store backend for a test module, made on first use with the same setup."""

    def __init__(self, make: MakeHubs, parties: Mapping[str, str], **kwargs: Any) -> None:
        self.make, self.parties, self.kwargs = make, parties, kwargs
        self.hubs: dict[str, HubUnderTest] = {}

    def __call__(self, backend: str) -> HubUnderTest:
        if backend not in self.hubs:
            self.hubs[backend] = self.make(f"hub-{backend}", self.parties, {}, backend=backend, **self.kwargs)
        return self.hubs[backend]
