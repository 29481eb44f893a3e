"""``abusehub export blocklist``: current indicators in, firewall and DNS-filter lists out.

The main case goes through the real pipeline: valid STIX posted to a hub on loopback (versions
out of order, a revocation, expired and future indicators), polled with ``abusehub poll``, then
exported, each tool as a subprocess. The pattern reader and the edge cases run in-process.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.client.blocklist import UnsupportedPattern, build_blocklist, pattern_entries
from hub.client.errors import ClientError
from hub.stix.validator import validate
from tests.client.polling_hub import (
    new_collection,
    post,
    run_hub,
    run_poll,
    start_poll_hub,
)
from tests.factories import identity, indicator, ipv4, ts
from tests.harness import HubUnderTest

AT = ts(0, day=5)  # 2026-01-05T00:00:00.000Z
CREATOR = "identity--0d3c8d44-8f4c-4a5e-9f0e-52c1a4f1e2b3"


def case(creator: str = CREATOR) -> dict[str, Any]:
    """Indicators covering every rule, by name; every object valid STIX 2.1."""
    def ind(pattern: str, **kw: Any) -> dict[str, Any]:
        kw.setdefault("pattern_version", "2.1")
        return indicator(created_by_ref=creator, pattern=pattern, **kw)

    c: dict[str, Any] = {
        "current": ind("[ipv4-addr:value = '198.51.100.7']", valid_until=ts(0, day=9), confidence=80),
        "open_ended": ind("[ipv4-addr:value = '9.9.9.9']"),
        "cidr4": ind("[ipv4-addr:value ISSUBSET '10.0.0.0/24']"),
        "v6": ind("[ipv6-addr:value = '2001:DB8::0007']"),
        "cidr6": ind("[ipv6-addr:value ISSUBSET '2001:db8:1::/48']"),
        "domain": ind("[domain-name:value = 'Login-Update.Example.']"),
        "url_or": ind("[url:value = 'https://login-update.example/verify?a=1,2'] OR "
                      "[domain-name:value = 'cdn.login-update.example']"),
        "same_value": ind("[ipv4-addr:value = '198.51.100.7']"),
        "expired": ind("[ipv4-addr:value = '203.0.113.1']", valid_until=ts(0, day=3)),
        "future": ind("[ipv4-addr:value = '203.0.113.2']", valid_from=ts(0, day=8)),
        "revoked_v1": ind("[ipv4-addr:value = '203.0.113.3']"),
        "old": ind("[ipv4-addr:value = '203.0.113.4']"),
        "renewed_v1": ind("[domain-name:value = 'renewed.example']", valid_until=ts(0, day=2)),
        "and": ind("[ipv4-addr:value = '203.0.113.6' AND domain-name:value = 'and.example']"),
        "snort": indicator(created_by_ref=creator, pattern_type="snort",
                           pattern='alert tcp any any -> 203.0.113.7 any (msg:"c2";)'),
    }
    c["revoked_v2"] = dict(c["revoked_v1"], modified=ts(10), revoked=True)
    c["new"] = dict(c["old"], modified=ts(20), pattern="[ipv4-addr:value = '203.0.113.5']")
    c["renewed_v2"] = dict(c["renewed_v1"], modified=ts(30), valid_until=ts(0, day=20))
    for obj in c.values():
        assert validate(obj) == [], (obj["id"], validate(obj))
    return c


# Newer versions first: the file's order must not decide which version wins.
ORDER = ["new", "revoked_v2", "renewed_v2", "current", "open_ended", "cidr4", "v6", "cidr6",
         "domain", "url_or", "same_value", "expired", "future", "revoked_v1", "old", "renewed_v1",
         "and", "snort"]

EXPECTED = {
    "ipv4.txt": "9.9.9.9\n10.0.0.0/24\n198.51.100.7\n203.0.113.5\n",
    "ipv6.txt": "2001:db8::7\n2001:db8:1::/48\n",
    "domains.txt": "cdn.login-update.example\nlogin-update.example\nrenewed.example\n",
    "urls.txt": "https://login-update.example/verify?a=1,2\n",
}


def write_jsonl(path: Path, objects: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in objects))
    return path


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubUnderTest]:
    with start_poll_hub(tmp_path_factory.mktemp("hub")) as running:
        yield running


@pytest.mark.slow  # runs the CLI as a subprocess
def test_polled_from_a_hub_then_exported(env: HubUnderTest, tmp_path: Path) -> None:
    alice = env.identities["alice"]
    c = case(alice)
    col = new_collection(env, "Blocklist")
    extras = [identity("Alice Cloud", alice), ipv4("198.51.100.7")]
    post(env, col, [c[name] for name in ORDER[:3]])  # new versions stored before the old ones
    post(env, col, [c[name] for name in ORDER[3:]] + extras)
    polled = tmp_path / "polled.jsonl"
    run_poll(env, col, polled, "--limit", "7")

    lists = tmp_path / "lists"
    lists.mkdir()
    proc = run_hub("export", "blocklist", "--in", str(polled), "--at", AT, "--out", str(lists))
    assert {p.name: p.read_text() for p in lists.iterdir()} == EXPECTED
    assert proc.stdout == ""
    summary = proc.stderr.strip()
    assert len(summary.splitlines()) == 1
    assert ("blocklist at 2026-01-05T00:00:00.000000Z: 10 entries (ipv4-addr 4, ipv6-addr 2, "
            "domain-name 3, url 1) from 12 current indicators of 15") in summary
    assert ("left out: 1 expired, 1 not yet valid, 1 revoked, "
            "2 with a pattern that gives no list entry") in summary

    proc = run_hub("export", "blocklist", "--in", str(polled), "--at", AT, "--format", "csv",
                   "--out", str(lists))
    rows = list(csv.reader(io.StringIO((lists / "blocklist.csv").read_text())))
    assert rows[0] == ["type", "value", "indicator_id", "valid_until", "confidence", "created_by_ref"]
    body = rows[1:]
    assert [r[:2] for r in body] == [
        ["ipv4-addr", "9.9.9.9"], ["ipv4-addr", "10.0.0.0/24"],
        ["ipv4-addr", "198.51.100.7"], ["ipv4-addr", "198.51.100.7"], ["ipv4-addr", "203.0.113.5"],
        ["ipv6-addr", "2001:db8::7"], ["ipv6-addr", "2001:db8:1::/48"],
        ["domain-name", "cdn.login-update.example"], ["domain-name", "login-update.example"],
        ["domain-name", "renewed.example"],
        ["url", "https://login-update.example/verify?a=1,2"],
    ]
    by_id = {r[2]: r for r in body}
    assert by_id[c["current"]["id"]] == ["ipv4-addr", "198.51.100.7", c["current"]["id"],
                                         ts(0, day=9), "80", alice]
    assert by_id[c["open_ended"]["id"]][3:5] == ["", ""]
    assert by_id[c["new"]["id"]][1] == "203.0.113.5"
    assert by_id[c["renewed_v2"]["id"]][3] == ts(0, day=20)
    body_ids = {r[2] for r in body}
    assert {r[2] for r in body if r[:2] == ["ipv4-addr", "198.51.100.7"]} == {c["current"]["id"],
                                                                              c["same_value"]["id"]}
    for name in ("expired", "future", "revoked_v1", "and", "snort"):
        assert c[name]["id"] not in body_ids, name

    # Later, the indicator that was valid until day 9 has expired; the renewed one has not.
    later = run_hub("export", "blocklist", "--in", str(polled), "--at", ts(0, day=10)).stdout
    assert "198.51.100.7\n" in later  # still listed by the same value's open-ended indicator
    assert "renewed.example" in later and "203.0.113.2" in later  # the future one is valid now


@pytest.mark.slow  # runs the CLI as a subprocess
def test_one_file_with_sections_and_standard_output(tmp_path: Path) -> None:
    c = case()
    src = write_jsonl(tmp_path / "in.jsonl", [c[n] for n in ORDER])
    out = tmp_path / "all.txt"
    run_hub("export", "blocklist", "--in", str(src), "--at", AT, "--out", str(out))
    text = out.read_text()
    assert text == run_hub("export", "blocklist", "--in", str(src), "--at", AT).stdout
    assert text.splitlines()[0] == f"# abusehub blocklist at 2026-01-05T00:00:00.000000Z from {src.name}"
    assert "\n# ipv4-addr (4)\n" + EXPECTED["ipv4.txt"] + "# ipv6-addr (2)\n" + EXPECTED["ipv6.txt"] \
        + "# domain-name (3)\n" + EXPECTED["domains.txt"] + "# url (1)\n" + EXPECTED["urls.txt"] in text
    csv_out = run_hub("export", "blocklist", "--in", str(src), "--at", AT, "--format", "csv").stdout
    assert csv_out.startswith("type,value,indicator_id,valid_until,confidence,created_by_ref\n")
    assert '"https://login-update.example/verify?a=1,2"' in csv_out  # quoted: it holds a comma


def test_output_is_deterministic_whatever_the_line_order(tmp_path: Path) -> None:
    c = case()
    objects = [c[n] for n in ORDER]
    results = set()
    for seed in range(4):
        shuffled = list(objects)
        random.Random(seed).shuffle(shuffled)
        src = write_jsonl(tmp_path / f"in{seed}.jsonl", shuffled)
        result = build_blocklist(src, AT)
        results.add((tuple(result.entries), result.expired, result.revoked, len(result.skipped)))
    assert len(results) == 1


@pytest.mark.slow  # runs the CLI as a subprocess
def test_nothing_current_empties_every_list(tmp_path: Path) -> None:
    c = case()
    src = write_jsonl(tmp_path / "in.jsonl", [c[n] for n in ORDER])
    lists = tmp_path / "lists"
    lists.mkdir()
    run_hub("export", "blocklist", "--in", str(src), "--at", AT, "--out", str(lists))
    assert (lists / "ipv4.txt").read_text()
    result = build_blocklist(src, "2025-01-01T00:00:00Z")
    assert result.entries == [] and result.not_yet_valid == 14 and result.revoked == 1
    proc = run_hub("export", "blocklist", "--in", str(src), "--at", "2025-01-01T00:00:00Z", "--out", str(lists))
    assert "0 entries" in proc.stderr
    assert {p.name: p.read_text() for p in lists.iterdir() if p.suffix == ".txt"} == {n: "" for n in EXPECTED}


def test_reads_only_what_the_cursor_records(tmp_path: Path) -> None:
    c = case()
    first, second = [c["current"]], [c["open_ended"]]
    src = write_jsonl(tmp_path / "polled.jsonl", first)
    offset = src.stat().st_size
    (tmp_path / "polled.jsonl.cursor").write_text(json.dumps(
        {"url": "https://hub.example/api/", "collection": "c", "types": [], "added_after": AT,
         "count": 1, "offset": offset}))
    with src.open("ab") as f:  # a poll is writing its next page right now
        f.write(orjson.dumps(second[0]) + b"\n" + b'{"type": "indic')
    result = build_blocklist(src, AT)
    assert [e.value for e in result.entries] == ["198.51.100.7"]
    assert result.ignored_bytes == src.stat().st_size - offset
    assert "bytes past the cursor ignored" in result.summary()


def test_failed_signatures_recorded_by_poll_are_left_out(tmp_path: Path) -> None:
    c = case()
    src = write_jsonl(tmp_path / "polled.jsonl", [c["old"], c["new"], c["current"]])
    (tmp_path / "polled.jsonl.failed").write_text(
        json.dumps({"id": c["new"]["id"], "version": c["new"]["modified"], "reason": "changed"}) + "\n"
        + json.dumps({"id": c["current"]["id"], "version": c["current"]["modified"], "reason": "x"}) + "\n"
        + '{"id": "indic')  # a record a crash cut short is ignored
    result = build_blocklist(src, AT)
    # The tampered newer version does not count: the version before it does.
    assert [e.value for e in result.entries] == ["203.0.113.4"]
    assert result.failed_signature == 2


@pytest.mark.slow  # runs the CLI as a subprocess
def test_bad_input_is_one_line_and_non_zero(tmp_path: Path) -> None:
    c = case()
    missing = tmp_path / "nope.jsonl"
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_bytes(orjson.dumps(c["current"]) + b"\n\n{not json}\n")
    not_object = tmp_path / "list.jsonl"
    not_object.write_bytes(orjson.dumps(c["current"]) + b"\n[1, 2]\n")
    good = write_jsonl(tmp_path / "good.jsonl", [c["current"]])
    for args, fragment in [
        (("--in", str(missing)), f"cannot read {missing}: No such file or directory"),
        (("--in", str(bad_json)), f"{bad_json} line 3: not JSON"),
        (("--in", str(not_object)), f"{not_object} line 2: not a JSON object"),
        (("--in", str(good), "--at", "tomorrow"), "--at is not a STIX timestamp"),
        (("--in", str(good), "--out", str(tmp_path / "no" / "such" / "dir.txt")), "no directory"),
    ]:
        proc = run_hub("export", "blocklist", *args, check=False)
        assert proc.returncode == 1, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert lines[0].startswith("abusehub: ") and fragment in lines[0], lines[0]


@pytest.mark.parametrize(("pattern", "entries"), [
    pytest.param("[ipv4-addr:value = '198.51.100.7']", [("ipv4-addr", "198.51.100.7")], id="ipv4"),
    pytest.param("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", [("ipv4-addr", "198.51.100.0/24")], id="cidr4"),
    pytest.param("[ipv4-addr:value = '198.51.100.0/24']", [("ipv4-addr", "198.51.100.0/24")], id="cidr4-eq"),
    pytest.param("[ipv4-addr:value = '198.51.100.7/32']", [("ipv4-addr", "198.51.100.7")], id="slash32"),
    pytest.param("[ipv6-addr:value = '2001:DB8:0::1']", [("ipv6-addr", "2001:db8::1")], id="ipv6"),
    pytest.param("[ipv6-addr:value ISSUBSET '2001:db8::/32']", [("ipv6-addr", "2001:db8::/32")], id="cidr6"),
    pytest.param("[domain-name:value = 'Evil.Example.']", [("domain-name", "evil.example")], id="domain"),
    pytest.param("[domain-name:value = 'bücher.example']", [("domain-name", "xn--bcher-kva.example")], id="idn"),
    pytest.param("[url:value = 'https://evil.example/a?b=\\'c\\'']", [("url", "https://evil.example/a?b='c'")],
                 id="url-escapes"),
    pytest.param("[ipv4-addr:value = '192.0.2.1' OR ipv6-addr:value = '2001:db8::2']",
                 [("ipv4-addr", "192.0.2.1"), ("ipv6-addr", "2001:db8::2")], id="or-inside"),
    pytest.param("([domain-name:value = 'a.example'] OR [url:value = 'http://b.example/']) OR "
                 "[ipv4-addr:value='192.0.2.9']",
                 [("domain-name", "a.example"), ("url", "http://b.example/"), ("ipv4-addr", "192.0.2.9")],
                 id="or-between"),
])
def test_patterns_turned_into_entries(pattern: str, entries: list[tuple[str, str]]) -> None:
    assert pattern_entries(pattern) == entries


@pytest.mark.parametrize(("pattern", "reason"), [
    pytest.param("[ipv4-addr:value = '192.0.2.1' AND domain-name:value = 'a.example']", "uses AND", id="and"),
    pytest.param("[ipv4-addr:value = '192.0.2.1'] FOLLOWEDBY [ipv4-addr:value = '192.0.2.2']",
                 "uses FOLLOWEDBY", id="followedby"),
    pytest.param("[ipv4-addr:value = '192.0.2.1'] WITHIN 300 SECONDS", "uses WITHIN", id="qualifier"),
    pytest.param("[ipv4-addr:value != '192.0.2.1']", "uses !=", id="not-equal"),
    pytest.param("[domain-name:value LIKE '%.example']", "uses LIKE", id="like"),
    pytest.param("[domain-name:value ISSUBSET 'a.example']", "uses ISSUBSET", id="issubset-domain"),
    pytest.param("[file:hashes.'SHA-256' = 'aa']", "compares file:hashes", id="file-hash"),
    pytest.param("[email-addr:value = 'a@b.example']", "compares email-addr:value", id="email"),
    pytest.param("[ipv4-addr:value = '192.0.2.1/24']", "host bits", id="host-bits"),
    pytest.param("[ipv4-addr:value = '2001:db8::1']", "is an IPv6 value", id="wrong-family"),
    pytest.param("[url:value = 'no host here']", "not a URL with a host", id="bad-url"),
    pytest.param("[domain-name:value = 'bad_name.example']", "not a host name", id="bad-domain"),
    pytest.param("[ipv4-addr:value = '192.0.2.1'", "not a well-formed pattern", id="unclosed"),
    pytest.param("ipv4-addr:value = '192.0.2.1'", "not a well-formed pattern", id="no-brackets"),
    pytest.param("", "no pattern", id="empty"),
])
def test_patterns_skipped_with_a_reason(pattern: str, reason: str) -> None:
    with pytest.raises(UnsupportedPattern) as info:
        pattern_entries(pattern)
    assert reason in str(info.value)


def test_build_blocklist_rejects_a_bad_at(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [case()["current"]])
    with pytest.raises(ClientError, match="--at"):
        build_blocklist(src, "2026-01-05")
