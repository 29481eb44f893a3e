"""The keyring file holds a POPRF seed beside each HMAC secret: made together at creation and at
rotation (versions stay aligned), added to a file from before oblivious pseudonyms on first use."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from hub.common.errors import ConfigError
from hub.pseudonyms import KEYRING_FILE, KeyringFile, PseudonymBatch, PseudonymKeyring
from hub.pseudonyms.oprf import pseudonym_info


def _data(path: Path) -> dict[str, object]:
    data = json.loads(path.read_text())
    assert isinstance(data, dict)
    return data


def test_a_new_file_has_both_keys_of_k1_and_is_private(tmp_path: Path) -> None:
    f = KeyringFile(tmp_path / KEYRING_FILE)
    assert f.create() and not f.create()
    data = _data(f.path)
    assert data["current"] == "k1" and set(data["keys"]) == set(data["poprf"]) == {"k1"}  # type: ignore[arg-type]
    assert len(bytes.fromhex(data["poprf"]["k1"])) == 32  # type: ignore[index]
    assert stat.S_IMODE(os.stat(f.path).st_mode) == 0o600
    assert f.poprf().versions == f.keyring().versions == ("k1",)


def test_rotation_adds_both_and_keeps_older_versions(tmp_path: Path) -> None:
    f = KeyringFile(tmp_path / KEYRING_FILE)
    before = f.poprf().public_keys()["k1"]
    version, versions = f.rotate()
    assert (version, versions) == ("k2", ["k2", "k1"])
    assert f.poprf().versions == f.keyring().versions == ("k2", "k1")
    assert f.poprf().current_version == "k2"
    assert f.poprf().public_keys()["k1"] == before  # the old key still evaluates the same
    assert stat.S_IMODE(os.stat(f.path).st_mode) == 0o600


def test_an_old_file_gets_its_seeds_on_first_use_once(tmp_path: Path) -> None:
    path = tmp_path / KEYRING_FILE
    path.write_text(json.dumps({"current": "k2", "keys": {"k1": "11" * 32, "k2": "22" * 32}}))
    os.chmod(path, 0o600)
    readers = [KeyringFile(path) for _ in range(4)]
    keys: list[dict[str, bytes]] = []
    threads = [threading.Thread(target=lambda r=r: keys.append(r.poprf().public_keys())) for r in readers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Every reader (as several server processes would) ends with the same seeds: added once.
    assert len({tuple(sorted(k.items())) for k in keys}) == 1
    data = _data(path)
    assert set(data["poprf"]) == {"k1", "k2"} and data["keys"] == {"k1": "11" * 32, "k2": "22" * 32}  # type: ignore[arg-type]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert KeyringFile(path).poprf().public_keys() == keys[0]
    # The HMAC pseudonyms made before are unchanged.
    expected = PseudonymKeyring.from_secrets({"k1": "11" * 32, "k2": "22" * 32}, "k2")
    assert KeyringFile(path).keyring().pseudonym("email", "a@example.com") == \
        expected.pseudonym("email", "a@example.com")


def test_the_server_of_each_version_evaluates_what_the_provider_blinded(tmp_path: Path) -> None:
    f = KeyringFile(tmp_path / KEYRING_FILE)
    f.rotate()
    ring = f.poprf()
    for version in ring.versions:
        batch = PseudonymBatch("email", version, ["a@example.com"])
        evaluated, proof = ring.server(version).evaluate_batch(batch.blinded, pseudonym_info("email", version))
        (made,) = batch.finish(ring.public_keys()[version], evaluated, proof)
        assert made.startswith(f"poprf-r255:{version}:")


def test_a_bad_seed_names_the_version_not_the_seed(tmp_path: Path) -> None:
    path = tmp_path / KEYRING_FILE
    path.write_text(json.dumps({"current": "k1", "keys": {"k1": "11" * 32}, "poprf": {"k1": "zz" + "ab" * 31}}))
    with pytest.raises(ConfigError) as err:
        KeyringFile(path).poprf()
    assert "'k1'" in err.value.description and "ab" * 31 not in err.value.description
