"""A provider's bulk pseudonymisation with ``abusehub notice match`` against a served hub, and its
cache: the first run has every value evaluated in a few large requests (the party's raised
allowance sizes them), a second run evaluates nothing, and after a change only the new or
changed values are evaluated. What the hub evaluated is counted from its audit trail, not from
what the command says."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import HubUnderTest

pytestmark = pytest.mark.slow

ACCOUNTS = 400
TOML = "[pseudonyms]\nper_minute = 600\naccept_raw_values = false\n"


@pytest.fixture(scope="module")
def h(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubUnderTest]:
    with HubUnderTest.served(tmp_path_factory.mktemp("bulk") / "hub", toml=TOML, parties={"bulk": "provider"},
                             grants={}) as served:
        served.cli("party", "edit", "bulk", "--pseudonyms-per-minute", "100000")
        yield served


def _luhn(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return digits + str((10 - total % 10) % 10)


def _write(path: Path, n: int, moved: frozenset[int] = frozenset()) -> None:
    rows = ["account_id,country,email,phone,payment_instrument"]
    rows += [f"acct-{i:05d},DE,{'moved' if i in moved else 'user'}{i}@bulk.example,+49 30 2{i:07d},"
             f"{_luhn(f'4{i:014d}')}" for i in range(n)]
    path.write_text("\n".join(rows) + "\n")


def _audit(h: HubUnderTest) -> list[int]:
    """The element count of each ``pseudonyms/evaluate`` request party bulk made, in order."""
    with h.services() as hub:
        return [int(r.data["count"]) for r in hub.store.iter_audit()
                if r.party == "bulk" and r.data.get("endpoint") == "pseudonyms/evaluate"]


def _audit_once_written(h: HubUnderTest, total: int) -> list[int]:
    """The counts once they add up to ``total`` (the workers write read records within a second
    or so), or whatever they are after 20 s."""
    deadline = time.monotonic() + 20
    while sum(counts := _audit(h)) < total and time.monotonic() < deadline:
        time.sleep(0.3)
    return counts


def _match(h: HubUnderTest, folder: Path) -> int:
    """``abusehub notice match`` of the account file against the hub; the values it says it had
    pseudonymised now."""
    done = h.cli("notice", "match", "--accounts", str(folder / "accounts.csv"), "--notices",
                 str(folder / "notices.jsonl"), "--as", h.identities["bulk"], "--url", h.url,
                 "--token-file", str(h.token_file("bulk")))
    found = re.search(r"(\d+) value\(s\) pseudonymised now", done.stderr)
    assert found is not None, done.stderr
    return int(found.group(1))


def test_a_second_run_evaluates_nothing_and_a_third_only_what_changed(h: HubUnderTest, tmp_path: Path) -> None:
    (tmp_path / "notices.jsonl").write_text("")
    _write(tmp_path / "accounts.csv", ACCOUNTS)
    values = ACCOUNTS * 4  # the account id, the e-mail address, the phone number, the card

    assert _match(h, tmp_path) == values
    first = _audit_once_written(h, values)
    # In few requests: the first of at most 100 (before the hub has stated the allowance), then
    # as large as the allowance and the hub's cap allow; not a request per 100 values.
    assert sum(first) == values and first[0] <= 100 and len(first) <= 3, first

    # All cached: the hub evaluates nothing more.
    assert _match(h, tmp_path) == 0
    time.sleep(2)  # what a request would have written by now
    assert _audit(h) == first

    # Seven accounts change their e-mail address and three accounts are new: 7 + 3 x 4 values.
    moved = frozenset({3, 50, 51, 99, 200, 301, 399})
    _write(tmp_path / "accounts.csv", ACCOUNTS + 3, moved)
    assert _match(h, tmp_path) == 7 + 3 * 4
    third = _audit_once_written(h, values + 19)
    assert third[:len(first)] == first and sum(third[len(first):]) == 19
