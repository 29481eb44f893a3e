"""The Unicode tables of hub/web/static/js/normalise.js, derived from this Python.

hub/pseudonyms/normalise.py leans on Python's own Unicode data (str.casefold, str.lower,
str.upper, unicodedata.category, str.isspace, str.isalpha, str.isdigit, the ``\\d`` and ``\\w`` of
``re``, case-insensitive ``re`` matching, unicodedata.digit) and on its IDNA 2003 codec (stringprep
and the Unicode 3.2 normalisation of ``unicodedata.ucd_3_2_0``). A browser has other data, of
another Unicode version, so the browser's copy of the rules takes every table from here instead:
only NFC/NFKC itself is left to the browser (stable for assigned characters), for the characters
this Python has assigned.

    .venv/bin/python tools/gen_normalise_tables.py   # rewrites the generated block of normalise.js

tests/web/test_normalise_js.py fails while the committed block is not what this Python gives.
"""

from __future__ import annotations

import json
import re
import stringprep
import sys
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

import phonenumbers

from hub.pseudonyms.kinds import PSEUDONYM_KINDS

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "hub/web/static/js/normalise.js"
BEGIN = "  // BEGIN GENERATED TABLES (tools/gen_normalise_tables.py): do not edit by hand.\n"
END = "  // END GENERATED TABLES\n"

LIMIT = 0x110000

#: Characters of each Unicode version that a browser's normalisation must know: a browser whose
#: String.prototype.normalize gives these the forms this Python gives has at least this Python's
#: normalisation data. Python moving to a version not listed here stops the generator, so that
#: probes of that version get added.
ENGINE_PROBES: dict[str, list[str]] = {
    # U+10781 MODIFIER LETTER SUPERSCRIPT TRIANGULAR COLON (compatibility decomposition);
    # U+1DFA COMBINING DOT BELOW LEFT (combining class 218, reordered before U+0316's 220).
    "14.0.0": ["\U00010781", "a\u0316\u1dfa"],
    # U+1E030 MODIFIER LETTER CYRILLIC SMALL A (compatibility decomposition, 15.0).
    "15.0.0": ["\U00010781", "a\u0316\u1dfa", "\U0001e030"],
    # 15.1 added no character with a decomposition or a combining class.
    "15.1.0": ["\U00010781", "a\u0316\u1dfa", "\U0001e030"],
}

#: The letters in phonenumbers' case-insensitive patterns (extension labels, vanity letters).
PHONE_PATTERN_LETTERS = "abcdefghijklmnopqrstuvwxyz\u00f3\uff45\uff58\uff54\uff4e\uff49\u0434\u043e\u0431"


def _chars() -> Iterable[tuple[int, str]]:
    for cp in range(LIMIT):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        yield cp, chr(cp)


def ranges(pred: Callable[[str], bool]) -> list[tuple[int, int]]:
    """[start, end) ranges of the code points (no surrogates) where ``pred`` holds."""
    out: list[tuple[int, int]] = []
    start = -1
    for cp in range(LIMIT + 1):
        inside = cp < LIMIT and not 0xD800 <= cp <= 0xDFFF and pred(chr(cp))
        if inside and start < 0:
            start = cp
        elif not inside and start >= 0:
            out.append((start, cp))
            start = -1
    return out


def b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if n < 0:
        return "-" + b36(-n)
    s = ""
    while True:
        n, r = divmod(n, 36)
        s = digits[r] + s
        if n == 0:
            return s


def enc_ranges(rs: list[tuple[int, int]]) -> str:
    """``gap:length`` pairs in base 36, each gap counted from the end of the previous range."""
    prev = 0
    parts = []
    for start, end in rs:
        parts.append(f"{b36(start - prev)}:{b36(end - start)}")
        prev = end
    return ",".join(parts)


def enc_map(mapping: dict[int, str]) -> str:
    """Single code point mappings as runs ``start:count:stride:delta``; longer ones after ``|``
    as ``cp:cp1.cp2...``; all numbers in base 36."""
    singles = {cp: ord(m) - cp for cp, m in mapping.items() if len(m) == 1}
    multis = {cp: m for cp, m in mapping.items() if len(m) != 1}
    runs = []
    todo = sorted(singles)
    done: set[int] = set()
    for cp in todo:
        if cp in done:
            continue
        delta = singles[cp]
        best = (1, 1)
        for stride in (1, 2):
            n = 1
            while singles.get(cp + n * stride) == delta and cp + n * stride not in done:
                n += 1
            if n > best[0]:
                best = (n, stride)
        count, stride = best
        for i in range(count):
            done.add(cp + i * stride)
        runs.append(f"{b36(cp)}:{b36(count)}:{b36(stride)}:{b36(delta)}")
    multi = [f"{b36(cp)}:" + ".".join(b36(ord(c)) for c in m) for cp, m in sorted(multis.items())]
    return ",".join(runs) + "|" + ",".join(multi)


def char_map(fn: Callable[[str], str]) -> dict[int, str]:
    return {cp: fn(c) for cp, c in _chars() if fn(c) != c}


def digit_values() -> str:
    """Runs ``gap:length:first value`` of the code points with a unicodedata.digit value, the
    values rising by one inside a run."""
    runs: list[tuple[int, int, int]] = []
    for cp, c in _chars():
        v = unicodedata.digit(c, -1)
        if v < 0:
            continue
        if runs and runs[-1][0] + runs[-1][1] == cp and runs[-1][2] + runs[-1][1] == v:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1, runs[-1][2])
        else:
            runs.append((cp, 1, v))
    prev = 0
    parts = []
    for start, length, first in runs:
        parts.append(f"{b36(start - prev)}:{b36(length)}:{b36(first)}")
        prev = start + length
    return ",".join(parts)


def sigma_context() -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Python's own "case-ignorable" and "cased" sets, as str.lower uses them to choose between
    σ and ς (read back from str.lower itself: they are not exposed otherwise). "Cased" is only
    ever asked of characters that are not case-ignorable, so it is given for those."""
    def final(text: str) -> bool:
        return text.lower()[-1] == "\u03c2"

    def ignorable(c: str) -> bool:
        return final("A" + c + "\u03a3") and not final("1" + c + "\u03a3")

    def cased(c: str) -> bool:
        return final("1" + c + "\u03a3")

    return ranges(ignorable), ranges(cased)


def ignorecase_fold() -> dict[int, str]:
    """For each character that Python's case-insensitive ``re`` matches with one of the letters of
    phonenumbers' case-insensitive patterns (and is not that letter), the letter."""
    fold: dict[int, str] = {}
    for cp, c in _chars():
        if c not in PHONE_PATTERN_LETTERS and c.lower() == c and c.upper() == c and c.casefold() == c:
            continue  # uncased: matches only itself
        hits = [p for p in PHONE_PATTERN_LETTERS if p != c and re.fullmatch(re.escape(p), c, re.IGNORECASE)]
        if c in PHONE_PATTERN_LETTERS:
            assert not hits, (c, hits)
            continue
        if hits:
            assert len(hits) == 1 and cp < 0x10000, (hex(cp), hits)
            fold[cp] = hits[0]
    # The classes of the patterns fold the same way as their literals.
    for cp, c in _chars():
        want = fold.get(cp, c)
        assert bool(re.fullmatch("[A-Za-z]", c, re.IGNORECASE)) == ("a" <= want <= "z"), hex(cp)
        assert bool(re.fullmatch("[x\uff58]", c, re.IGNORECASE)) == (want in "x\uff58"), hex(cp)
    return fold


def nfkc_3_2() -> tuple[dict[int, str], list[tuple[int, int]]]:
    """How Python's IDNA 2003 normalisation (Unicode 3.2 with the corrections it carries) differs
    from this Python's NFKC: the characters of Unicode 3.2 whose form differs (replaced by their
    Unicode 3.2 form, a character without decomposition, before NFKC), and the characters newer
    than Unicode 3.2 that have a decomposition now (which the browser's NFKC would apply, and IDNA
    2003 does not know)."""
    old = unicodedata.ucd_3_2_0
    fix: dict[int, str] = {}
    newer: list[int] = []
    for cp, c in _chars():
        if unicodedata.category(c) == "Cn":
            continue
        if old.normalize("NFKC", c) == unicodedata.normalize("NFKC", c) and \
                old.decomposition(c) == unicodedata.decomposition(c):
            continue
        if old.category(c) != "Cn":
            repl = old.normalize("NFKC", c)
            assert len(repl) == 1 and unicodedata.normalize("NFKD", repl) == repl, hex(cp)
            fix[cp] = repl
        else:
            newer.append(cp)
    newer_set = set(newer)
    return fix, ranges(lambda c: ord(c) in newer_set)


def tables() -> dict[str, object]:
    version = unicodedata.unidata_version
    if version not in ENGINE_PROBES:
        sys.exit(f"no browser probes for Unicode {version}: add characters new in {version} with a "
                 "decomposition or a combining class to ENGINE_PROBES")
    space_re = re.compile(r"\s")
    word_re = re.compile(r"\w")
    decimal_re = re.compile(r"\d")
    for _, c in _chars():
        assert bool(space_re.fullmatch(c)) == c.isspace()
    ignorable, cased = sigma_context()
    fix, newer = nfkc_3_2()
    prohibited = (stringprep.in_table_c12, stringprep.in_table_c22, stringprep.in_table_c3,
                  stringprep.in_table_c4, stringprep.in_table_c5, stringprep.in_table_c6,
                  stringprep.in_table_c7, stringprep.in_table_c8, stringprep.in_table_c9)
    b2 = {cp: stringprep.map_table_b2(c) for cp, c in _chars() if stringprep.map_table_b2(c) != c}
    return {
        "unicode": version,
        "probes": [[p, unicodedata.normalize("NFKC", p)] for p in ENGINE_PROBES[version]],
        "kinds": list(PSEUDONYM_KINDS),
        "assigned": enc_ranges(ranges(lambda c: unicodedata.category(c) != "Cn")),
        "punct": enc_ranges(ranges(lambda c: unicodedata.category(c)[0] == "P")),
        "space": enc_ranges(ranges(str.isspace)),
        "alpha": enc_ranges(ranges(str.isalpha)),
        "isdigit": enc_ranges(ranges(str.isdigit)),
        "decimal": enc_ranges(ranges(lambda c: bool(decimal_re.fullmatch(c)))),
        "word": enc_ranges(ranges(lambda c: bool(word_re.fullmatch(c)))),
        "digitValue": digit_values(),
        "caseIgnorable": enc_ranges(ignorable),
        "cased": enc_ranges(cased),
        "lower": enc_map(char_map(str.lower)),
        "upper": enc_map(char_map(str.upper)),
        "casefold": enc_map(char_map(str.casefold)),
        "ignorecase": enc_map(ignorecase_fold()),
        "idnaB1": enc_ranges(ranges(stringprep.in_table_b1)),
        "idnaB2": enc_map(b2),
        "idnaProhibited": enc_ranges(ranges(lambda c: any(f(c) for f in prohibited))),
        "idnaRandAL": enc_ranges(ranges(stringprep.in_table_d1)),
        "idnaL": enc_ranges(ranges(stringprep.in_table_d2)),
        "idnaFix": enc_map(fix),
        "idnaNewer": enc_ranges(newer),
        "phoneRegions": sorted(phonenumbers.SUPPORTED_REGIONS),
    }


def block() -> str:
    """The generated block of normalise.js, as this Python gives it."""
    data = tables()
    lines = [BEGIN,
             f"  // Python {sys.version_info.major}.{sys.version_info.minor}, Unicode {data['unicode']}.\n",
             "  const TABLES = {\n"]
    for key, value in data.items():
        lines.append(f"    {key}: {json.dumps(value, ensure_ascii=True)},\n")
    lines += ["  };\n", END]
    return "".join(lines)


def committed_block(text: str) -> str:
    start = text.index(BEGIN)
    end = text.index(END, start) + len(END)
    return text[start:end]


def main() -> None:
    text = TARGET.read_text(encoding="utf-8")
    new = text.replace(committed_block(text), block())
    if new != text:
        TARGET.write_text(new, encoding="utf-8")
        print(f"rewrote the tables of {TARGET.relative_to(ROOT)}")
    else:
        print("the tables are up to date")


if __name__ == "__main__":
    main()
