"""The vendored browser code is what its README records: every file in hub/web/static/vendor (but
the README) has a row in the README's "SHA-256 of every file" table, and its bytes hash to it.

A file changed by hand, a rebuilt bundle that no longer matches its recorded build, or a file
added without a row fails here, naming the file.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

VENDOR = Path(__file__).resolve().parents[2] / "hub" / "web" / "static" / "vendor"
README = VENDOR / "README.md"
TABLE_HEADING = "## SHA-256 of every file"
ROW = re.compile(r"^\| `([^`/]+)` \| `([0-9a-f]{64})` \|$")


def recorded_sums(text: str) -> dict[str, str]:
    """The README's table of sums: file name to SHA-256 (hex), each file once."""
    _, found, table = text.partition(TABLE_HEADING + "\n")
    assert found, f"{README.name} has no '{TABLE_HEADING}' section"
    sums: dict[str, str] = {}
    for line in table.splitlines():
        if line.startswith("#"):
            break  # the next section
        m = ROW.match(line)
        if m:
            assert m.group(1) not in sums, f"{m.group(1)} has two rows"
            sums[m.group(1)] = m.group(2)
    return sums


def vendored_files() -> list[str]:
    return sorted(p.name for p in VENDOR.iterdir() if p.name != README.name)


def test_every_vendored_file_is_recorded() -> None:
    sums = recorded_sums(README.read_text(encoding="utf-8"))
    assert sorted(sums) == vendored_files(), "the rows and the files of vendor/ differ"
    assert all(p.is_file() for p in VENDOR.iterdir()), "vendor/ holds files only"


@pytest.mark.parametrize("name", vendored_files())
def test_vendored_file_matches_its_recorded_sha256(name: str) -> None:
    recorded = recorded_sums(README.read_text(encoding="utf-8")).get(name)
    assert recorded is not None, f"{name} has no row in {README.name}'s '{TABLE_HEADING}'"
    actual = hashlib.sha256((VENDOR / name).read_bytes()).hexdigest()
    assert actual == recorded, f"{name} hashes to {actual}, its recorded SHA-256 is {recorded}"

