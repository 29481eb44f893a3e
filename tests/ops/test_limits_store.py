"""The shared counters in the database (hub.store.ops), on every backend: failed-authentication
windows and token buckets behave the same for every process that opens the database."""

from __future__ import annotations

import threading

import pytest

from hub.store.ops import window_start
from hub.store.sql import SqlStore

WINDOW = 300_000_000  # 5 minutes, in microseconds
T0 = 1_795_000_000_000_000 - 1_795_000_000_000_000 % WINDOW  # the start of a window


def test_failures_count_per_key_within_a_window(store: SqlStore) -> None:
    assert store.auth_failure_counts(["a", "b"], WINDOW, T0) == {"a": 0, "b": 0}
    assert store.add_auth_failure(["a", "b"], WINDOW, T0 + 1) == {"a": 1, "b": 1}
    assert store.add_auth_failure(["a"], WINDOW, T0 + 2) == {"a": 2}
    assert store.auth_failure_counts(["a", "b", "c"], WINDOW, T0 + 3) == {"a": 2, "b": 1, "c": 0}


def test_a_new_window_starts_from_zero_and_old_windows_are_purged(store: SqlStore) -> None:
    store.add_auth_failure(["a"], WINDOW, T0)
    assert store.auth_failure_counts(["a"], WINDOW, T0 + WINDOW) == {"a": 0}
    assert store.add_auth_failure(["a"], WINDOW, T0 + WINDOW) == {"a": 1}
    # Two windows later the first one's row is deleted on the way.
    store.add_auth_failure(["b"], WINDOW, T0 + 2 * WINDOW)
    from hub.store.ops import auth_failures

    with store.engine.connect() as conn:
        starts = {r.window_start_us for r in conn.execute(auth_failures.select())}
    assert T0 not in starts and window_start(WINDOW, T0 + 2 * WINDOW) in starts


def test_a_token_bucket_gives_its_capacity_then_refills(store: SqlStore) -> None:
    # 10 tokens, one per second.
    assert store.take_tokens("p:1", 7, 10, 1.0, T0) == 0.0
    assert store.take_tokens("p:1", 3, 10, 1.0, T0) == 0.0
    wait = store.take_tokens("p:1", 2, 10, 1.0, T0)
    assert wait == pytest.approx(2.0)
    # The refusal took nothing: two seconds later exactly two can be taken.
    assert store.take_tokens("p:1", 2, 10, 1.0, T0 + 2_000_000) == 0.0
    assert store.take_tokens("p:1", 1, 10, 1.0, T0 + 2_000_000) > 0
    # Another key has its own full bucket; a bucket never fills beyond its capacity.
    assert store.take_tokens("p:2", 10, 10, 1.0, T0) == 0.0
    assert store.take_tokens("p:1", 11, 10, 1.0, T0 + 3600_000_000) == pytest.approx(1.0)


def test_concurrent_takers_never_overdraw_a_bucket(store: SqlStore) -> None:
    """Two stores on one database (as two worker processes have) and several threads each:
    together they get exactly the bucket's capacity."""
    other = SqlStore(store.url)
    granted: list[int] = []
    lock = threading.Lock()

    def take(s: SqlStore) -> None:
        for _ in range(10):
            if s.take_tokens("shared", 1, 25, 1e-9, T0) == 0.0:
                with lock:
                    granted.append(1)

    threads = [threading.Thread(target=take, args=(s,)) for s in (store, other, store, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert len(granted) == 25


def test_schema_revisions_name_the_database_and_the_code(store: SqlStore) -> None:
    current, head = store.schema_revisions()
    assert current == head and head
    store.ping()
