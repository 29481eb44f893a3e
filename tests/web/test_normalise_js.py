"""The browser's normalisation gives byte for byte what the hub's gives.

hub/web/static/js/normalise.js (with the vendored libphonenumber.js) is run under node over a
corpus, and every result, normalised value or error message, must equal
:func:`hub.pseudonyms.normalise.normalise`'s:

- names and addresses: every code point this Python has assigned, in a short string (and for
  addresses followed by combining marks), every unassigned one of planes 0 to 3 (which a newer
  browser may know), and random mixed strings of the characters where Unicode gets tricky;
- e-mails: every assigned code point in the local part and in the domain (IDNA 2003), a list of
  internationalised domains and address shapes, and random mixed addresses;
- phones: phonenumbers' example number of every supported region and type written in several
  ways (international, national with the default region, E.164, RFC 3966, with spaces, dashes,
  parentheses, prefixes), invalid variants, number writings of other scripts, vanity letters,
  extensions, RFC 3966 parameters, and random phone-like text;
- payment instruments: cards of 11 to 20 digits (valid and invalid Luhn) in several writings,
  IBANs (valid, invalid), and every assigned code point where the kind tells a card, an IBAN and
  neither apart;
- provider accounts, with every whitespace of either language around them; non-strings; unknown
  kinds.

The page refuses a few values that Python accepts (see normalise.js); the test allows such a
refusal only where a predicate computed here says that value is of the refused class. Starts node
and runs over about two million values: slow.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import shutil
import stringprep
import subprocess
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from hub.pseudonyms.kinds import PSEUDONYM_KINDS, provider_account_value
from hub.pseudonyms.normalise import InvalidPersonalValue, normalise
from tests.web.chromium import MISSING, have_chromium, start_chromium

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
#: The Unicode version the tables of normalise.js were generated from.
_TABLES_UNICODE = re.search(r'unicode: "([0-9.]+)"',
                            (ROOT / "hub/web/static/js/normalise.js").read_text(encoding="utf-8"))
if _TABLES_UNICODE is None or _TABLES_UNICODE.group(1) != unicodedata.unidata_version:
    # Python's normalisation follows the interpreter's Unicode version: the page's tables hold
    # one version, and the hub's Python clients must run one with the same (docs/WEB.md).
    pytest.skip(f"normalise.js holds the tables of Unicode {_TABLES_UNICODE and _TABLES_UNICODE.group(1)}, "
                f"this Python has {unicodedata.unidata_version}: regenerate them with "
                "python tools/gen_normalise_tables.py to compare", allow_module_level=True)
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

VENDOR = ROOT / "hub/web/static/vendor"
Case = tuple[str, Any, str | None]
Result = tuple[str, str]

#: The version of libphonenumber's metadata in the vendored bundle (its banner says so).
BUNDLE_METADATA_RE = re.compile(r"metadata of Google's libphonenumber ([0-9.]+)")

#: Values where the two phone libraries disagree with the same metadata, with the reason:
#: (value, region) -> (Python's result, the page's result, why). Empty: none is known.
KNOWN_PHONE_DIFFERENCES: dict[tuple[str, str | None], tuple[Result, Result, str]] = {}

REFUSED_NEWER = "email: the domain has a character newer than IDNA 2003 (Unicode 3.2) that this page cannot convert as the hub does"


def python_result(kind: str, value: Any, region: str | None) -> Result:
    try:
        return ("ok", normalise(kind, value, default_region=region))
    except InvalidPersonalValue as e:
        return ("err", e.description)
    except ValueError as e:
        return ("err", str(e))


def _chars(assigned: bool) -> Iterator[str]:
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if (unicodedata.category(c) != "Cn") == assigned:
            yield c


@cache
def assigned() -> list[str]:
    """Every code point this Python has assigned (no surrogates)."""
    return list(_chars(True))


@cache
def unassigned() -> list[str]:
    """The code points of planes 0 to 3 this Python has not assigned (a browser may have)."""
    return [c for c in _chars(False) if ord(c) < 0x40000]

# Characters where normalisation gets tricky: combining marks of several classes, case oddities,
# final sigma and its context, Python-only and JS-only whitespace, apostrophes, punctuation,
# compatibility forms, Hangul, bidi, characters newer than this Python, ignorable ones.
TRICKY = (list("aAzZ09 .,;:-'\"@+#()[]/\\_~") +
          ["\u0301", "\u0327", "\u0316", "\u1dfa", "\u0345", "\u0307", "\u0308", "\u05b0", "\u0e38",
           "\u00df", "\u1e9e", "\u0130", "\u0131", "\u017f", "\u212a", "\u01c5", "\u1f88", "\u0390",
           "\u03a3", "\u03c2", "\u03c3", "\u00b7", "\u0387", "\u02b0", "\u1d2c", "\u13a0", "\uab70",
           "\ufb00", "\ufb01", "\u2160", "\u2488", "\u2024", "\u3002", "\uff0e", "\uff21", "\uff41",
           "\uff10", "\u0661", "\u06f1", "\u0966", "\u00b2", "\u2460", "\u00bd", "\u1100", "\u1161",
           "\u11a8", "\uac00", "\u05d0", "\u0627", "\u200c", "\u200d", "\u00ad", "\u200b", "\u2060",
           "\ufeff", "\u180e", "\x1c", "\x1f", "\x85", "\xa0", "\u1680", "\u2028", "\u3000", "\t",
           "\n", "\r", "\x0b", "\u2019", "\u2018", "\u02bc", "\u00b4", "`", "\u00a1", "\u2014",
           "\u3001", "\U0001e030", "\U0001e08f", "\U00011f00", "\U00010781", "\U0001d400",
           "\U00020000", "\U0002f868", "\u1b06", "\u1b05", "\u1b35", "\u0d7a", "\u0f77", "\u2126",
           "\u00c5", "\u212b", "\u0344", "\u0958", "\u2adc", "\u0340", "\u0f73", "\ufe63", "\u2474"])


def _random_text(rng: random.Random, alphabet: list[str], n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, n)))


def text_cases() -> list[Case]:
    cases: list[Case] = []
    for c in assigned():
        cases.append(("name", f"x{c}Y", None))
        cases.append(("address", f"{c}\u0327\u0301 {c}", None))
    for c in unassigned():
        cases.append(("name", f"A{c}\u0301", None))
    rng = random.Random(1)
    pool = TRICKY + rng.sample(assigned(), 400)
    for _ in range(20000):
        cases.append((rng.choice(("name", "address")), _random_text(rng, pool, 12), None))
    cases += [("name", "", None), ("name", "   ", None), ("address", "12 Main St.,Springfield", None),
              ("name", "O'Brien", None), ("name", "ΟΔΥΣΣΕΥΣ", None), ("name", "Straße \u1e9e", None)]
    return cases


IDN_DOMAINS = [
    "bücher.example", "BÜCHER.EXAMPLE", "straße.de", "STRASSE.de", "ΣΊΣΥΦΟΣ.gr", "ςσ.gr", "пример.рф",
    "例え.テスト", "مثال.إختبار", "דוגמה.טעסט", "mañana.com", "xn--bcher-kva.example", "ü.xn--abc",
    "xn--ü.de", "XN--ü.de", "a\u200db.de", "a\u200cb.de", "ｅｘａｍｐｌｅ。com", "ß.ß", "ς.gr",
    "\u0644\u0661.com", "\u05d0\u05d1\u05d21.com", "a\u05d0.com", "\u05d0a\u05d0.com", "\u05d0\u05d1.com",
    "\u0627\u0644\u0639\u0631\u0628\u064a\u0629.com", "☃.net", "\u2488.com", "a\u2024b.com", "\u00adhello.com",
    "\u3002.com", "ü..com", "ü.com.", "ü.com\u3002", "ü.com\uff61", "ü" + "a" * 57 + ".com",
    "ü" + "a" * 58 + ".com", "ü" + "a" * 70 + ".com", "\ufb01le.com", "℡.com", "İstanbul.com.tr",
    "\u0130.tr", "ǅ.com", "\U0001d400bc.com", "\u1e9e.de", "한국.kr", "ไทย.th", "भारत.in", "\u0d7a.in",
    "\u1b06.id", "\U0001e030.ru", "\u0f77.bt", "\U0002f868.cn", "a\u0301.com", "\u0301a.com", "a b.com",
    "a_b.ü", "ü.c", "ü.co_m", "\ufffd.com", "\ue000.com", "\U000e0001.com", "\u2ff0.cn", "\u0340.com",
    "ü.\u0661\u0662", "1ü.com", "ü-.com", "-ü.com", "ü--a.com", "a" * 63 + ".ü.com", "ü\u3002\u3002com",
    "\u0660.com", "\u06dd.com", "\u200e.com", "\u202e.com", "\ufeffü.com", "\u180eü.com", "\u0221.com",
]

EMAIL_SHAPES = [
    "a@b", "@b.com", "a@", "a@@b.com", "a b@c.com", '"a"@b.com', "a@b.c", "a@-b.com", "a@b-.com",
    "a@b.com.", "a@b.com..", "a@b.com\n.", "a@b.com\n", "a@ü.com\n.", "A@B.COM", "a+tag@b.com",
    "Alice+Tag@Example.COM", "x" * 64 + "@b.com", "x" * 65 + "@b.com", "a@" + "b" * 63 + ".com",
    "a@" + "b" * 64 + ".com", "a@" + ".".join(["b" * 60] * 4) + ".com", "a@" + ".".join(["b" * 61] * 4) + ".c0",
    "a@b.co_m", "a@[1.2.3.4]", "a@b..com", " a@b.com\u3000", "a@b.com\u200b", "\x1ca@b.com\x85",
    "\ufeffa@b.com", "ΑΣ@x.gr", "ΑΣ.Σ@x.gr", "Σ@x.gr", "AΣ'@x.gr", "İ@x.com", "a\u0301@x.com",
    "a@b@c.com", "a(b)@c.com", "a\\b@c.com", "a@b.123", "a@b.c-m", "a@1.2", "\u00e9@\u00e9.fr",
    "e\u0301@e\u0301.fr", "\U0001e030@x.com", "a@x.\U0001e030", "ﬀ@ﬀ.com", "a.b@c.com", "a..b@c.com",
]


def email_cases() -> list[Case]:
    cases: list[Case] = []
    for c in assigned():
        cases.append(("email", f"a{c}b@example.com", None))
        cases.append(("email", f"x@a{c}b.example", None))
    for d in IDN_DOMAINS:
        for local in ("user", "User+Tag"):
            cases.append(("email", f"{local}@{d}", None))
    cases += [("email", s, None) for s in EMAIL_SHAPES]
    rng = random.Random(2)
    local_pool = TRICKY + list("abcxyz.+-_")
    domain_pool = [c for c in TRICKY if c not in "@"] + list("abcxyz-..") + ["ü", "é", "ß", "\u05d0", "\u0627", "日"]
    for _ in range(20000):
        local = _random_text(rng, local_pool, 6) or "a"
        labels = [_random_text(rng, domain_pool, 6) for _ in range(rng.randint(1, 3))]
        cases.append(("email", f"{local}@{'.'.join(labels)}.{rng.choice(['com', 'de', 'ü', 'xn--p1ai'])}", None))
    return cases


PHONE_TYPES = [PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
               PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST, PhoneNumberType.VOIP,
               PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.PAGER, PhoneNumberType.UAN,
               PhoneNumberType.VOICEMAIL]

FULLWIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")

PHONE_SPECIALS: list[tuple[str, str | None]] = [
    ("1-800-FLOWERS", "US"), ("+1 800 FLOWERS", None), ("1800 MICROSOFT", "US"), ("0800 FLOWERS", "GB"),
    ("Tel: +44 20 7946 0958", None), ("+44 (0) 20 7946 0958", None), ("+44 20 7946 0958 ext. 123", None),
    ("+44 20 7946 0958 x123", None), ("+44 20 7946 0958 #123", None), ("+1 650 253 0000 ext\u00f3n 5", None),
    ("+1 650 253 0000 доб 5", None), ("+1 650 253 0000 ДОБ 5", None), ("+1 650 253 0000 anexo 5", None),
    ("+1 650 253 0000 ＥＸＴ 5", None), ("+1 650 253 0000 int 5", None), ("+1 650 253 0000 ,,5", None),
    ("+1 650 253 0000 ;5", None), ("+1 650 253 0000 - 503#", None), ("+1 650 253 0000 Ext. 5", None),
    ("tel:+1-650-253-0000;ext=123", None), ("tel:253-0000;phone-context=+1-650", None),
    ("tel:253-0000;phone-context=example.com", "US"), ("tel:253-0000;phone-context=", "US"),
    ("tel:253-0000;phone-context=+", "US"), ("tel:253-0000;phone-context=a.b-c.", "US"),
    ("tel:253-0000;phone-context=1a.com", "US"), ("tel:+1-650-253-0000;isub=12345", None),
    ("253-0000;phone-context=+1-650;foo=bar", None), ("+1 650 253 0000/x2303", None),
    ("+1 650 253 0000\\ x2303", None), ("+1 ⁶⁵⁰ 253 0000", None), ("+1 ①650 253 0000", None),
    ("0044 20 7946 0958", "GB"), ("011 44 20 7946 0958", "US"), ("+0044 20 7946 0958", "GB"),
    ("+0044 20 7946 0958", "gb"), ("+011 44 20 7946 0958", "US"), ("+44 20 7946 0958", "gb"),
    ("++44 20 7946 0958", None), ("+ 44 20 7946 0958", None), ("+＋44 20 7946 0958", None),
    ("abc", "US"), ("", "US"), ("+", None), ("12", "US"), ("1", "US"), ("1 2", "US"), ("+12", None),
    ("+123", None), ("1" * 251, "US"), ("+1" + "2" * 249, None), ("+1 650 253 0000\n", None),
    ("+1 650 253 0000 x", None), ("+1 650 CALL NOW", None), ("1-800-FLOWERı", "US"),
    ("1 800 ſTORE", "US"), ("1-800-FLO\nWERS", "US"), ("+1 650 253 0000 ☎", None), ("☎ +1 650 253 0000", None),
    ("+1 650 253 0000_", None), ("+1 650 253 0000#", None), ("(650) 253-0000", None),
    ("650 253 0000", "ZZ"), ("650 253 0000", ""), ("650 253 0000", "us"), ("650 253 0000", "001"),
    ("+800 1234 5678", None), ("+979 1 234 5678", None), ("+882 13 456 7890", None), ("+999 123 4567", None),
    ("+0 123 4567", "US"), ("00", "FR"), ("0012", "FR"), ("00123", "FR"), ("0001", "FR"), ("011", "US"),
    ("01144", "US"), ("011 4", "US"), ("+00 12", "FR"), ("+011 1", "US"), ("020 7946 0958", "GB"), ("07400 123456", "GB"), ("02 1234 5678", "IT"),
    ("+39 02 1234 5678", None), ("+39 312 345 6789", None), ("8 (800) 555-35-35", "RU"),
    ("+7 800 555 35 35", None), ("15 1234 5678", "DE"), ("0049 15 1234 5678", "DE"), ("\u200e+1 650 253 0000", None),
    ("+1\u00a0650\u00a0253\u00a00000", None), ("+1\u2011650\u2011253\u20110000", None), ("+1.650.253.0000", None),
    ("+1 (650) 253-0000 (home)", None), ("+1 650 253 0000; x", None), ("+49 30 1234567 \u0661\u0662", None),
    ("\uff0b\uff11 \uff16\uff15\uff10 \uff12\uff15\uff13 \uff10\uff10\uff10\uff10", None),
]


def _phone_writings(ex: phonenumbers.PhoneNumber, region: str | None) -> list[tuple[str, str | None]]:
    cc = str(ex.country_code)
    nsn = phonenumbers.national_significant_number(ex)
    intl = phonenumbers.format_number(ex, PhoneNumberFormat.INTERNATIONAL)
    out: list[tuple[str, str | None]] = [
        (intl, None), (phonenumbers.format_number(ex, PhoneNumberFormat.E164), None),
        (phonenumbers.format_number(ex, PhoneNumberFormat.RFC3966), None),
        (intl.replace(" ", "-"), None), (intl.translate(FULLWIDTH), None), (intl.translate(ARABIC_INDIC), None),
        ("+" + cc + " " + nsn[:-2], None), ("+" + cc + nsn + "12", None), (" +" + cc + " (" + nsn[:3] + ") " + nsn[3:], None),
    ]
    if region is not None:
        national = phonenumbers.format_number(ex, PhoneNumberFormat.NATIONAL)
        out += [
            (national, region), (nsn, region), (cc + nsn, region), ("00" + cc + nsn, region),
            (national.replace(" ", "-"), region), ("(" + nsn[:3] + ") " + nsn[3:], region),
            (national.translate(DEVANAGARI), region), (nsn[:-1], region), (nsn + "0", region),
            (national, None), (national, region.lower()), (intl, region), ("Phone: " + national + " !", region),
        ]
    return out


def phone_cases() -> list[Case]:
    pairs: list[tuple[str, str | None]] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for numtype in PHONE_TYPES:
            ex = phonenumbers.example_number_for_type(region, numtype)
            if ex is not None:
                pairs += _phone_writings(ex, region)
    for cc in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        ex = phonenumbers.example_number_for_non_geo_entity(cc)
        if ex is not None:
            pairs += _phone_writings(ex, None)
    pairs += PHONE_SPECIALS
    rng = random.Random(3)
    alphabet = (list("0123456789" * 4) + list("+ -().,;#*/\\~xXeEtTnN") + ["tel:", ";ext=", ";phone-context=",
                ";isub=", "ext.", "доб", "\u00a0", "\u3000", "\u2010", "\uff0b", "\uff11", "\u0663", "\u06f5",
                "\u0969", "\u00b2", "\u2461", "_", "\n", "a", "Z", "\u0131", "\u017f", "\u00f3", "\u0301"])
    regions = [None, "US", "GB", "DE", "FR", "IT", "BR", "AR", "MX", "IN", "CN", "JP", "RU", "AU", "gb", "ZZ"]
    for _ in range(20000):
        pairs.append((_random_text(rng, alphabet, 22), rng.choice(regions)))
    return [("phone", value, region) for value, region in pairs]


def _luhn_complete(body: str) -> str:
    for check in "0123456789":
        total = 0
        for i, ch in enumerate(reversed(body + check)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return body + check
    raise AssertionError("unreachable")


def _iban(country: str, bban: str) -> str:
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def payment_cases() -> list[Case]:
    rng = random.Random(4)
    values: list[str] = []
    for length in range(11, 21):
        for _ in range(3):
            card = _luhn_complete("".join(rng.choice("0123456789") for _ in range(length - 1)))
            bad = card[:-1] + str((int(card[-1]) + 1) % 10)
            groups = " ".join(card[i:i + 4] for i in range(0, len(card), 4))
            values += [card, bad, groups, groups.replace(" ", "-"), groups.replace(" ", "\u00a0"),
                       groups.replace(" ", "\u3000"), groups.replace(" ", "."), groups.replace(" ", "\t"),
                       " " + card + "\n", card.translate(FULLWIDTH), card.translate(ARABIC_INDIC),
                       card.replace("1", "\u00b9"), card.replace("1", "\u2460"), groups.replace(" ", "--"),
                       groups.replace(" ", "\u2010")]
    for country in ("DE", "GB", "FR", "NL", "IT", "ES", "CH", "NO", "MT", "LC", "SE", "PL"):
        for length in (7, 11, 14, 18, 22, 26, 30, 31):
            iban = _iban(country, "".join(rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(length)))
            spaced = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
            values += [iban, iban.lower(), spaced, spaced.lower(), iban[:-1] + ("0" if iban[-1] != "0" else "1"),
                       iban.translate(FULLWIDTH), iban[:2] + "X" + iban[3:]]
    values += ["DE89 3704 0044 0532 0130 00", "ıt60x0542811101000000123456", "ßE89370400440532013000",
               "ÄÄ12345678901234567", "DE٣٣370400440532013000", "", " ", "-", "A", "AB", "AB1", "12",
               "4111 1111 1111 1111 ", "ﬀ89370400440532013000", "DE89 3704 0044 0532 0130 00\u200b"]
    cases: list[Case] = [("payment_instrument", v, None) for v in values]
    for c in assigned():
        cases.append(("payment_instrument", f"{c}E89370400440532013000", None))
        cases.append(("payment_instrument", f"DE{c}9 3704 0044 0532 0130 00", None))
    return cases


SPACES = [c for c in map(chr, range(0x3100)) if c.isspace()] + ["\u3000", "\ufeff", "\u200b", "\u180e", "\u2060"]


def account_cases() -> list[Case]:
    cases: list[Case] = [("provider_account", f"{s}acc 42{s}", None) for s in SPACES]
    cases += [("provider_account", v, None) for v in ("", " ", "\x1c\x85", "\ufeff", "42", "a/b", "ü ")]
    return cases


def odd_cases() -> list[Case]:
    cases: list[Case] = []
    for kind in PSEUDONYM_KINDS:
        values: list[Any] = [None, 5, 5.5, True, [], {}]
        for value in values:
            cases.append((kind, value, None))
    for kind in ("bogus", "", "Email", "it's", 'say "hi"', "a\\b"):
        cases.append((kind, "x", None))
    return cases


def refused_newer(value: str) -> bool:
    """Whether the page may refuse an e-mail address as having, in a domain label it converts, a
    character newer than Unicode 3.2 that has a decomposition (which Python's IDNA 2003 leaves)."""
    text = unicodedata.normalize("NFC", value.strip()).lower()
    _, sep, domain = text.rpartition("@")
    domain = domain.rstrip(".")
    if not sep or domain.isascii():
        return False
    old = unicodedata.ucd_3_2_0
    for label in re.split("[\u002e\u3002\uff0e\uff61]", domain):
        mapped = "".join(stringprep.map_table_b2(c) for c in label if not stringprep.in_table_b1(c))
        if any(unicodedata.category(c) != "Cn" and old.category(c) == "Cn" and unicodedata.decomposition(c)
               for c in mapped):
            return True
    return False


def run_node(cases: list[Case], accounts: list[tuple[str, str]], old_engine: bool = False) -> dict[str, Any]:
    payload = json.dumps({"cases": cases, "accounts": accounts, "oldEngine": old_engine})
    proc = subprocess.run(["node", str(ROOT / "tests/web/normalise_parity.js"), str(ROOT)], input=payload,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def compare(cases: list[Case], got: list[list[str]]) -> tuple[list[str], int]:
    """Differences between Python and the page (described, at most 20), and how many values the
    page refused as allowed."""
    problems: list[str] = []
    refused = 0
    for (kind, value, region), js in zip(cases, got, strict=True):
        want = python_result(kind, value, region)
        if tuple(js) == want:
            continue
        if kind == "email" and tuple(js) == ("err", REFUSED_NEWER) and refused_newer(value):
            refused += 1
            continue
        if kind == "phone" and (value, region) in KNOWN_PHONE_DIFFERENCES:
            known = KNOWN_PHONE_DIFFERENCES[(value, region)]
            if (want, tuple(js)) == (known[0], known[1]):
                continue
        if len(problems) < 20:
            problems.append(f"{kind} {value!r} region={region!r}: python {want!r}, page {tuple(js)!r}")
        else:
            problems.append("...")
            break
    return problems, refused


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[Case]]:
    return {"text": text_cases(), "email": email_cases(), "phone": phone_cases(),
            "payment_instrument": payment_cases(), "provider_account": account_cases(), "odd": odd_cases()}


ACCOUNTS = [("identity--7d3f6a4e-2b1c-4c8e-9f0a-1b2c3d4e5f60", f"{s}acc-{i}{s}") for i, s in enumerate(SPACES)]


@pytest.fixture(scope="module")
def node_results(corpus: dict[str, list[Case]]) -> dict[str, Any]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    cases = [case for part in corpus.values() for case in part]
    out = run_node(cases, ACCOUNTS)
    results = iter(out["results"])
    out["by_part"] = {name: [next(results) for _ in part] for name, part in corpus.items()}
    return out


@needs_node
@pytest.mark.parametrize("part", ["text", "email", "phone", "payment_instrument", "provider_account", "odd"])
def test_page_normalises_as_python(part: str, corpus: dict[str, list[Case]], node_results: dict[str, Any]) -> None:
    cases = corpus[part]
    problems, refused = compare(cases, node_results["by_part"][part])
    assert not problems, "\n".join(problems)
    if part == "email":
        # The refused class exists in the corpus, and is refused rather than changed.
        assert refused > 0


@needs_node
def test_known_phone_differences_still_differ(node_results: dict[str, Any]) -> None:
    """Each listed difference is still one (a fixed one is taken off the list), and Python's side
    is still what the list says."""
    for (value, region), (want, _, why) in KNOWN_PHONE_DIFFERENCES.items():
        assert python_result("phone", value, region) == want, why
    cases: list[Case] = [("phone", value, region) for value, region in KNOWN_PHONE_DIFFERENCES]
    if cases:
        got = run_node(cases, [])["results"]
        for (_, value, region), js in zip(cases, got, strict=True):
            assert tuple(js) == KNOWN_PHONE_DIFFERENCES[(value, region)][1], (value, region)


@needs_node
def test_provider_account_value_matches_python(node_results: dict[str, Any]) -> None:
    assert node_results["accounts"] == [provider_account_value(i, a) for i, a in ACCOUNTS]


@needs_node
def test_bundle_regions_and_metadata_are_pythons(node_results: dict[str, Any]) -> None:
    assert sorted(node_results["regions"]) == sorted(phonenumbers.SUPPORTED_REGIONS)
    banner = (VENDOR / "libphonenumber.js").read_text(encoding="utf-8")[:600]
    m = BUNDLE_METADATA_RE.search(banner)
    assert m, "the bundle's banner names no metadata version"
    assert m.group(1) == phonenumbers.__version__, (
        f"phonenumbers {phonenumbers.__version__} is installed, the vendored libphonenumber-js carries "
        f"metadata {m.group(1)}: install phonenumbers=={m.group(1)} or vendor the libphonenumber-js release "
        "with this metadata")


@needs_node
def test_page_refuses_unpaired_surrogates() -> None:
    """A lone surrogate has no UTF-8 form: the page refuses it (Python's str can hold one)."""
    cases: list[Case] = [(kind, value, "US") for kind in PSEUDONYM_KINDS
                         for value in ("a\ud800b@x.com", "\udc00 4111111111111111", "+1 650 253 0000 \ud83d")]
    got = run_node(cases, [])["results"]
    for (kind, _, _), js in zip(cases, got, strict=True):
        assert js == ["err", f"{kind}: holds an unpaired UTF-16 surrogate, which is not text"]


@needs_node
def test_a_browser_with_older_unicode_data_refuses_only_non_ascii() -> None:
    cases: list[Case] = [("name", "Zoë", None), ("name", "Zoe", None), ("email", "zoë@x.com", None),
                         ("email", "zoe@bücher.de", None), ("email", "Zoe@X.com", None),
                         ("payment_instrument", "４１１１ １１１１ １１１１ １１１１", None),
                         ("payment_instrument", "4111 1111 1111 1111", None), ("address", "12 Main St.", None),
                         ("phone", "+1 650 253 0000", None), ("phone", "+١ 650 253 0000", None),
                         ("provider_account", " ü ", None)]
    got = run_node(cases, [], old_engine=True)["results"]
    for (kind, value, region), js in zip(cases, got, strict=True):
        if value.isascii() or kind in ("phone", "provider_account"):
            assert tuple(js) == python_result(kind, value, region), value
        else:
            assert js == ["err", f"{kind}: this browser's Unicode data is older than the hub's (Unicode "
                                 f"{unicodedata.unidata_version}): use an up-to-date browser for values with "
                                 "characters outside ASCII"], value


@pytest.mark.skipif(not have_chromium(), reason=MISSING)
def test_chromium_normalises_as_python(corpus: dict[str, list[Case]]) -> None:
    """The same files in a real browser (its own JavaScript engine and Unicode data), over every
    fourth value of the corpus."""
    pytest.importorskip("selenium.webdriver")
    drv = start_chromium()
    try:
        drv.get("about:blank")
        for name in ("vendor/libphonenumber.js", "js/normalise.js"):  # as the page's classic scripts
            drv.execute_script("(0, eval)(arguments[0])", (ROOT / "hub/web/static" / name).read_text(encoding="utf-8"))
        for part, cases in corpus.items():
            sample = cases[::4]
            got: list[list[str]] = []
            for i in range(0, len(sample), 20000):
                got += drv.execute_script(
                    "return arguments[0].map(([kind, value, region]) => { try { return ['ok', "
                    "AbusehubNormalise.normalise(kind, value, region === null ? undefined : region)]; } "
                    "catch (e) { return ['err', e.message]; } });", sample[i:i + 20000])
            problems, _ = compare(sample, got)
            assert not problems, part + ":\n" + "\n".join(problems)
    finally:
        drv.quit()


def test_corpus_is_large() -> None:
    """The corpus reaches what the module docstring says (cheap to check without node)."""
    assert len(assigned()) > 280000 and len(unassigned()) > 50000
    assert len(phone_cases()) > 30000


def _generator() -> ModuleType:
    """tools/gen_normalise_tables.py, a script (tools/ is no package)."""
    spec = importlib.util.spec_from_file_location("gen_normalise_tables", ROOT / "tools/gen_normalise_tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_tables_are_current() -> None:
    """The tables in normalise.js are what this Python gives (regenerate with
    `.venv/bin/python tools/gen_normalise_tables.py` after a Python or phonenumbers change)."""
    gen_normalise_tables = _generator()
    committed = gen_normalise_tables.committed_block(gen_normalise_tables.TARGET.read_text(encoding="utf-8"))
    assert committed == gen_normalise_tables.block(), (
        "the generated tables of normalise.js are stale: run .venv/bin/python tools/gen_normalise_tables.py")
