"""Blocklists from polled indicators: addresses and CIDR blocks, domain names, URLs, CSV.

:func:`build_blocklist` reads a JSON-lines file written by ``abusehub poll`` (or any file of
STIX objects, one per line) and keeps the indicators that are current at a moment ``at``:

- the latest version of each indicator id wins (greatest ``modified``), whatever the order of
  the lines; object versions listed in ``FILE.jsonl.failed`` (signature check failed while
  polling, :mod:`hub.client.verify`) are left out as if they had never arrived;
- that version must not be ``revoked``, and ``valid_from <= at < valid_until`` (no
  ``valid_until``: valid from ``valid_from`` on);
- its ``pattern_type`` is ``stix`` and its pattern is one the hub's report builder writes, or
  several of them joined by ``OR`` (inside one observation or between observations, with
  parentheses as needed)::

      [ipv4-addr:value = '198.51.100.7']        [ipv4-addr:value ISSUBSET '198.51.100.0/24']
      [ipv6-addr:value = '2001:db8::7']         [ipv6-addr:value ISSUBSET '2001:db8::/48']
      [domain-name:value = 'login.example']     [url:value = 'https://login.example/x']

  Any other pattern (AND, FOLLOWEDBY, qualifiers, other objects or operators, values that are
  not addresses, networks or host names) gives no entry: the indicator is counted as skipped,
  never half-used.

When a cursor sits next to the file, only the part it records is read (a poll running at the
same moment may be writing past it). Entries are normalised (addresses in canonical form, a
/32 or /128 as a plain address, domain names in lower case and punycode, without a final dot),
deduplicated and sorted: addresses numerically, names and URLs alphabetically.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from hub.client.cursor import default_cursor_path, load_cursor
from hub.client.errors import ClientError
from hub.client.verify import failed_path, read_failures, version_of
from hub.common.errors import InvalidValue
from hub.common.files import atomic_write
from hub.common.timestamps import format_timestamp_us, parse_timestamp_us

__all__ = [
    "CSV_COLUMNS",
    "ENTRY_TYPES",
    "LIST_FILES",
    "BlocklistResult",
    "Entry",
    "UnsupportedPattern",
    "build_blocklist",
    "pattern_entries",
    "render_csv",
    "render_plain",
    "write_blocklist",
]

#: The kinds of entry, in output order.
ENTRY_TYPES = ("ipv4-addr", "ipv6-addr", "domain-name", "url")
#: The file of each kind when ``--out`` is a directory (plain format).
LIST_FILES = {"ipv4-addr": "ipv4.txt", "ipv6-addr": "ipv6.txt", "domain-name": "domains.txt",
              "url": "urls.txt"}
#: The file written when ``--out`` is a directory (CSV format).
CSV_FILE = "blocklist.csv"
CSV_COLUMNS = ("type", "value", "indicator_id", "valid_until", "confidence", "created_by_ref")


class UnsupportedPattern(ValueError):
    """A pattern that cannot be turned into list entries; the message says why."""


# -- patterns ----------------------------------------------------------------------------------

# STIX patterning (STIX 2.1 section 9): a comparison of an object path with a string literal
# whose only escapes are \' and \\. Operators other than = and ISSUBSET are recognised so that
# the reason can name them.
_TOKEN_RE = re.compile(r"""
    \s*(?:
        (?P<punct>[\[\]()])
      | (?P<or>OR)(?![A-Za-z0-9_])
      | (?P<cmp>(?P<type>[a-z0-9-]+):(?P<path>[A-Za-z0-9_.\[\]*'-]+?)\s*
                (?P<op>!=|<=|>=|=|<|>|NOT\s+[A-Z]+|[A-Z]+)\s*
                '(?P<lit>(?:[^'\\]|\\['\\])*)')
    )""", re.VERBOSE)
_WORD_RE = re.compile(r"\s*(\S+?)(?=[\s\[\]()]|$)")
_UNESCAPE_RE = re.compile(r"\\(['\\])")
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_KEYWORDS = {"AND", "FOLLOWEDBY", "WITHIN", "REPEATS", "START", "STOP", "NOT"}


@dataclass(frozen=True)
class _Cmp:
    type: str
    path: str
    op: str
    literal: str


def _tokens(pattern: str) -> list[str | _Cmp]:
    out: list[str | _Cmp] = []
    i, end = 0, len(pattern.rstrip())
    while i < end:
        m = _TOKEN_RE.match(pattern, i)
        if m is None:
            word = _WORD_RE.match(pattern, i)
            token = word.group(1) if word else pattern[i:].strip()
            if token in _KEYWORDS:
                raise UnsupportedPattern(f"uses {token}")
            raise UnsupportedPattern(f"cannot read it at {token[:40]!r}")
        if m.group("punct"):
            out.append(m.group("punct"))
        elif m.group("or"):
            out.append("OR")
        else:
            literal = _UNESCAPE_RE.sub(r"\1", m.group("lit"))
            out.append(_Cmp(m.group("type"), m.group("path"), " ".join(m.group("op").split()), literal))
        i = m.end()
    return out


class _Parser:
    """OR-joined comparisons and observations, with brackets and parentheses, nothing else."""

    def __init__(self, tokens: list[str | _Cmp]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.found: list[_Cmp] = []

    def peek(self) -> str | _Cmp | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str) -> None:
        if self.peek() != expected:
            raise UnsupportedPattern("not a well-formed pattern")
        self.pos += 1

    def parse(self) -> list[_Cmp]:
        self.observations()
        if self.pos != len(self.tokens):
            raise UnsupportedPattern("not a well-formed pattern")
        return self.found

    def observations(self) -> None:
        self.observation()
        while self.peek() == "OR":
            self.pos += 1
            self.observation()

    def observation(self) -> None:
        token = self.peek()
        if token == "[":
            self.pos += 1
            self.comparisons()
            self.take("]")
        elif token == "(":
            self.pos += 1
            self.observations()
            self.take(")")
        else:
            raise UnsupportedPattern("not a well-formed pattern")

    def comparisons(self) -> None:
        self.comparison()
        while self.peek() == "OR":
            self.pos += 1
            self.comparison()

    def comparison(self) -> None:
        token = self.peek()
        if token == "(":
            self.pos += 1
            self.comparisons()
            self.take(")")
        elif isinstance(token, _Cmp):
            self.pos += 1
            self.found.append(token)
        else:
            raise UnsupportedPattern("not a well-formed pattern")


def _address(sco_type: str, literal: str, op: str) -> str:
    version = 4 if sco_type == "ipv4-addr" else 6
    try:
        net = ipaddress.ip_network(literal.strip(), strict=True)
    except ValueError:
        raise UnsupportedPattern(f"{sco_type} value {literal!r} is not an address or a network "
                                 "(host bits must be zero)") from None
    if net.version != version:
        raise UnsupportedPattern(f"{sco_type} value {literal!r} is an IPv{net.version} value")
    if op == "=" and "/" not in literal:
        return str(net.network_address)
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


def _domain(literal: str) -> str:
    name = literal.strip().rstrip(".").lower()
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsupportedPattern(f"domain-name value {literal!r} is not a host name") from None
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL_RE.match(label) for label in labels):
        raise UnsupportedPattern(f"domain-name value {literal!r} is not a host name")
    return name


def _url(literal: str) -> str:
    value = literal.strip()
    try:
        parts = urlsplit(value)
        scheme, host = parts.scheme, parts.hostname
    except ValueError:
        scheme, host = "", None
    if not scheme or not host or any(c.isspace() for c in value):
        raise UnsupportedPattern(f"url value {literal!r} is not a URL with a host")
    return value


def pattern_entries(pattern: str) -> list[tuple[str, str]]:
    """The ``(type, value)`` entries of a STIX pattern; :class:`UnsupportedPattern` if it has none.

    Every comparison of the pattern must be understood, or no entry is made.
    """
    if not isinstance(pattern, str) or not pattern.strip():
        raise UnsupportedPattern("no pattern")
    entries: list[tuple[str, str]] = []
    for cmp in _Parser(_tokens(pattern)).parse():
        if cmp.type not in ENTRY_TYPES or cmp.path != "value":
            raise UnsupportedPattern(f"compares {cmp.type}:{cmp.path}")
        if cmp.op == "ISSUBSET" and cmp.type in ("ipv4-addr", "ipv6-addr"):
            entries.append((cmp.type, _address(cmp.type, cmp.literal, cmp.op)))
        elif cmp.op != "=":
            raise UnsupportedPattern(f"uses {cmp.op} on {cmp.type}:value")
        elif cmp.type in ("ipv4-addr", "ipv6-addr"):
            entries.append((cmp.type, _address(cmp.type, cmp.literal, cmp.op)))
        elif cmp.type == "domain-name":
            entries.append((cmp.type, _domain(cmp.literal)))
        else:
            entries.append((cmp.type, _url(cmp.literal)))
    return entries


# -- building the list -------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One row of the blocklist."""

    type: str
    value: str
    indicator_id: str
    valid_until: str | None
    confidence: int | None
    created_by_ref: str | None

    def sort_key(self) -> tuple[Any, ...]:
        return (ENTRY_TYPES.index(self.type), _value_key(self.type, self.value), self.indicator_id)


def _value_key(entry_type: str, value: str) -> tuple[Any, ...]:
    if entry_type in ("ipv4-addr", "ipv6-addr"):
        net = ipaddress.ip_network(value)
        return (int(net.network_address), net.prefixlen)
    return (value,)


@dataclass
class BlocklistResult:
    """The current entries at ``at`` and what was left out, with counts for the summary."""

    at: str
    source: Path
    entries: list[Entry] = field(default_factory=list)
    lines: int = 0
    indicators: int = 0
    current: int = 0
    expired: int = 0
    not_yet_valid: int = 0
    revoked: int = 0
    failed_signature: int = 0
    malformed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored_bytes: int = 0

    def values(self, entry_type: str) -> list[str]:
        """The distinct values of one kind, in output order."""
        seen: dict[str, None] = {}
        for e in self.entries:
            if e.type == entry_type:
                seen.setdefault(e.value)
        return list(seen)

    def summary(self) -> str:
        counts = ", ".join(f"{t} {len(self.values(t))}" for t in ENTRY_TYPES)
        total = sum(len(self.values(t)) for t in ENTRY_TYPES)
        left_out = [(self.expired, "expired"), (self.not_yet_valid, "not yet valid"),
                    (self.revoked, "revoked"),
                    (self.failed_signature, "failed the signature check when polled"),
                    (self.malformed, "malformed"),
                    (len(self.skipped), "with a pattern that gives no list entry")]
        out = (f"blocklist at {self.at}: {total} entries ({counts}) from {self.current} current "
               f"indicators of {self.indicators}")
        parts = [f"{n} {what}" for n, what in left_out if n]
        if parts:
            out += "; left out: " + ", ".join(parts)
        if self.ignored_bytes:
            out += f"; {self.ignored_bytes} bytes past the cursor ignored (a poll was writing them)"
        return out


def _read_lines(path: Path) -> tuple[Iterator[tuple[int, bytes]], int]:
    """The lines of ``path`` up to its cursor's offset (all of it without a cursor)."""
    cursor = load_cursor(default_cursor_path(path))
    try:
        f = path.open("rb")
    except OSError as exc:
        raise ClientError(f"cannot read {path}: {exc.strerror}") from None
    size = os.fstat(f.fileno()).st_size
    limit = min(size, cursor.offset) if cursor is not None else size

    def lines() -> Iterator[tuple[int, bytes]]:
        with f:
            consumed = 0
            for number, line in enumerate(f, 1):  # binary: splits on b"\n" only
                if consumed >= limit:
                    return
                consumed += len(line)
                yield number, line
    return lines(), size - limit


def _timestamp(obj: dict[str, Any], name: str, required: bool) -> int | None:
    value = obj.get(name)
    if value is None and not required:
        return None
    return parse_timestamp_us(value, name)


def build_blocklist(path: str | os.PathLike[str], at: str | None = None,
                    failed: Path | None = None) -> BlocklistResult:
    """The blocklist of the indicators in ``path`` that are current at ``at`` (default: now).

    ``failed`` names the file of object versions whose signatures failed (default
    ``PATH.failed``, if it exists). Raises :class:`ClientError` naming the line of the first
    line that is not a JSON object.
    """
    source = Path(path)
    at_us = _at_us(at)
    result = BlocklistResult(at=format_timestamp_us(at_us), source=source)
    excluded = read_failures(failed if failed is not None else failed_path(source))
    latest = _latest_indicators(source, excluded, result)
    result.indicators = len(latest)
    rows: set[Entry] = set()
    for oid in sorted(latest):
        rows.update(_current_entries(oid, latest[oid], at_us, result))
    result.entries = sorted(rows, key=Entry.sort_key)
    return result


def _at_us(at: str | None) -> int:
    """``--at`` in microseconds since the epoch (now when not given)."""
    if at is None:
        import time

        return time.time_ns() // 1000
    try:
        return parse_timestamp_us(at, "--at")
    except InvalidValue as exc:
        raise ClientError(str(exc)) from None


def _latest_indicators(source: Path, excluded: set[tuple[str, str | None]],
                       result: BlocklistResult) -> dict[str, dict[str, Any]]:
    """The latest version of each indicator in ``source`` (by ``modified``, else ``created``),
    without the versions whose signatures failed; counts lines, malformed and failed ones."""
    lines, result.ignored_bytes = _read_lines(source)
    latest: dict[str, tuple[int, dict[str, Any]]] = {}
    for number, line in lines:
        result.lines += 1
        obj = _object_of(source, number, line)
        if obj is None or obj.get("type") != "indicator":
            continue
        oid = obj.get("id")
        if not isinstance(oid, str):
            result.malformed += 1
            continue
        if (oid, version_of(obj)) in excluded:
            result.failed_signature += 1
            continue
        try:
            version_us = _timestamp(obj, "modified", False) or _timestamp(obj, "created", True) or 0
        except InvalidValue:
            result.malformed += 1
            continue
        held = latest.get(oid)
        if held is None or version_us >= held[0]:
            latest[oid] = (version_us, obj)
    return {oid: obj for oid, (_v, obj) in latest.items()}


def _object_of(source: Path, number: int, line: bytes) -> dict[str, Any] | None:
    """The JSON object on a line (None for a blank line); :class:`ClientError` otherwise."""
    if not line.strip():
        return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ClientError(f"{source} line {number}: not JSON ({str(exc).split(':')[0]})") from None
    if not isinstance(obj, dict):
        raise ClientError(f"{source} line {number}: not a JSON object (a STIX object per line)")
    return obj


def _current_entries(oid: str, obj: dict[str, Any], at_us: int, result: BlocklistResult) -> list[Entry]:
    """The entries of an indicator that is current at ``at_us``; counts why others are left out."""
    if obj.get("revoked") is True:
        result.revoked += 1
        return []
    try:
        valid_from = _timestamp(obj, "valid_from", True)
        valid_until = _timestamp(obj, "valid_until", False)
    except InvalidValue:
        result.malformed += 1
        return []
    assert valid_from is not None
    if at_us < valid_from:
        result.not_yet_valid += 1
        return []
    if valid_until is not None and at_us >= valid_until:
        result.expired += 1
        return []
    result.current += 1
    if obj.get("pattern_type") != "stix":
        result.skipped.append((oid, f"pattern_type {obj.get('pattern_type')!r} is not 'stix'"))
        return []
    try:
        found = pattern_entries(obj.get("pattern"))  # type: ignore[arg-type]
    except UnsupportedPattern as exc:
        result.skipped.append((oid, str(exc)))
        return []
    confidence = obj.get("confidence")
    creator = obj.get("created_by_ref")
    return [Entry(entry_type, value, oid,
                  obj["valid_until"] if valid_until is not None else None,
                  confidence if isinstance(confidence, int) and not isinstance(confidence, bool) else None,
                  creator if isinstance(creator, str) else None)
            for entry_type, value in found]


# -- writing it --------------------------------------------------------------------------------


def render_plain(result: BlocklistResult, entry_type: str | None = None) -> str:
    """One kind as bare lines; or (``entry_type`` None) every kind in ``#``-headed sections."""
    if entry_type is not None:
        return "".join(v + "\n" for v in result.values(entry_type))
    out = [f"# abusehub blocklist at {result.at} from {result.source.name}\n"]
    for t in ENTRY_TYPES:
        values = result.values(t)
        out.append(f"# {t} ({len(values)})\n")
        out.extend(v + "\n" for v in values)
    return "".join(out)


def render_csv(result: BlocklistResult) -> str:
    """``type,value,indicator_id,valid_until,confidence,created_by_ref``, one row per entry."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in result.entries:
        writer.writerow([e.type, e.value, e.indicator_id, e.valid_until or "",
                         "" if e.confidence is None else e.confidence, e.created_by_ref or ""])
    return buf.getvalue()


def _replace(path: Path, text: str) -> None:
    """Write ``path`` atomically: a list reloaded at any moment is the old one or the new one."""
    try:
        atomic_write(path, text.encode("utf-8"), mode=0o644)
    except OSError as exc:
        raise ClientError(f"cannot write {path}: {exc.strerror}") from None


def write_blocklist(result: BlocklistResult, fmt: str, out: str | os.PathLike[str]) -> list[Path]:
    """Write the lists; returns the files written.

    ``out`` an existing directory: ``ipv4.txt``, ``ipv6.txt``, ``domains.txt`` and ``urls.txt``
    (plain; every file, even empty, so a list whose entries all expired is emptied), or
    ``blocklist.csv``. Otherwise ``out`` is one file: ``#``-headed sections, or the CSV.
    """
    if fmt not in ("plain", "csv"):
        raise ClientError(f"--format {fmt!r}: use plain or csv")
    target = Path(out)
    if target.is_dir():
        if fmt == "csv":
            written = [target / CSV_FILE]
            _replace(written[0], render_csv(result))
            return written
        written = []
        for t in ENTRY_TYPES:
            path = target / LIST_FILES[t]
            _replace(path, render_plain(result, t))
            written.append(path)
        return written
    if not target.parent.is_dir():
        raise ClientError(f"cannot write {target}: no directory {target.parent}")
    _replace(target, render_csv(result) if fmt == "csv" else render_plain(result))
    return [target]
