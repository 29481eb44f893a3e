"""The SQLite connections a hub opens (hub.store.dialect.make_engine): each in WAL mode, with
foreign keys on, and with a small page cache of its own (512 KiB), so that the connections a
worker's threads hold do not each keep 2 MiB of pages the operating system caches anyway."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hub.store.dialect import make_engine


def test_each_connection_is_set_up_as_the_hub_needs(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "hub.db").close()
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        with engine.connect() as conn:
            pragma = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                      for name in ("journal_mode", "foreign_keys", "busy_timeout", "cache_size")}
    finally:
        engine.dispose()
    assert pragma == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30000, "cache_size": -128}
