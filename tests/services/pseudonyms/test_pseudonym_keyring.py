"""The pseudonym keyring file: one first key however many processes start at once; rotation."""

from __future__ import annotations

import json
import multiprocessing
import stat
from pathlib import Path

from hub.pseudonyms import KEYRING_FILE, create_keyring_file
from hub.services.hub import Hub

WORKERS = 8


def _race(home: str, barrier: multiprocessing.synchronize.Barrier, out: multiprocessing.Queue) -> None:
    from hub.config import load_config
    from hub.services.pseudonyms import PseudonymService

    barrier.wait()
    # The first request of a fresh server process: keyring() creates the file if it is missing.
    created = create_keyring_file(Path(home) / KEYRING_FILE)
    cfg = load_config(home, environ={})
    svc = PseudonymService(None, None, None, cfg.home, 600, None)  # type: ignore[arg-type]
    out.put((created, svc.keyring().pseudonym("email", "first@example.org")))


def test_concurrent_first_use_agrees_on_one_key(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=_race, args=(str(tmp_path), barrier, out)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert sum(created for created, _ in results) == 1  # first writer wins, nobody replaces it
    assert len({pseudonym for _, pseudonym in results}) == 1  # every process keys with it
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert stat.S_IMODE((tmp_path / KEYRING_FILE).stat().st_mode) == 0o600


def test_rotation_adds_a_version_and_is_audited_without_the_key(hub: Hub) -> None:
    svc = hub.pseudonyms
    assert svc.ensure_keyring() is True and svc.ensure_keyring() is False
    old = svc.keyring().pseudonym("phone", "+14155552671")
    version, versions = svc.rotate()
    assert versions[0] == version and len(versions) == 2
    ring = svc.keyring()
    assert ring.current_version == version
    assert ring.pseudonym("phone", "+14155552671") != old
    assert old in ring.pseudonyms_all_versions("phone", "+1 415 555 2671")
    secrets = json.loads(svc.path.read_text())["keys"].values()
    audit = [r for r in hub.store.iter_audit() if r.kind.startswith("pseudonym.")]
    assert [r.kind for r in audit] == ["pseudonym.key.create", "pseudonym.key.rotate"]
    text = json.dumps([r.data for r in audit])
    assert all(s not in text for s in secrets)
    assert "k1" in text and version in text
