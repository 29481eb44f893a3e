"""A seeded in-process hub whose collection "reports" accepts anonymous filings, with an
oversight key (its private half kept by the test, as the oversight body keeps it off the hub)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.anonymity.escrow import OversightPrivateKey
from hub.client.anonymous import AnonymousResult, file_anonymous_report, prepare_anonymous_report
from tests.factories import report_facts
from tests.harness import TEST_TOML, HubUnderTest


class AnonHub:
    """The hub under test, its oversight private key, and a way to file as a provider."""

    def __init__(self, hut: HubUnderTest, oversight: OversightPrivateKey) -> None:
        self.hut = hut
        self.oversight = oversight

    def facts(self, party: str, **extra: Any) -> Any:
        return report_facts(self.hut.identities[party], **extra)

    def prepare(self, party: str, **extra: Any) -> Any:
        client = self.hut.client(party)
        return prepare_anonymous_report(client, self.facts(party, **extra), self.hut.keys[party],
                                        self.hut.identities[party])

    def file(self, party: str, prepared: Any = None, collection: str = "reports", **extra: Any) -> AnonymousResult:
        prepared = prepared if prepared is not None else self.prepare(party, **extra)
        return file_anonymous_report(self.hut.client(party), self.hut.collections[collection], prepared)


def build_anon_hub(home: Path, backend: str, *, window: int = 0, **build: Any) -> tuple[HubUnderTest, OversightPrivateKey]:
    home.mkdir(parents=True, exist_ok=True)
    oversight = OversightPrivateKey.generate()
    (home / "oversight.pub.pem").write_bytes(oversight.public_key.to_pem())
    toml = (TEST_TOML + "[anonymity]\noversight_public_key_file = \"oversight.pub.pem\"\n"
            f"publish_window_seconds = {window}\n")
    hut = HubUnderTest.build(home, backend=backend, toml=toml, keys_for=("alice", "bob", "gov"), prepare=True,
                             **build)
    hut.hub.anonymous.set_allowed(hut.collections["reports"], True)
    return hut, oversight


@pytest.fixture
def anon(backend: str, tmp_path: Path) -> Iterator[AnonHub]:
    hut, oversight = build_anon_hub(tmp_path / "home", backend)
    with hut:
        yield AnonHub(hut, oversight)
