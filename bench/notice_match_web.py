"""Matching a provider's account file against the notices in force, in a real browser: the
provider's wait on the matching page, measured in Chromium.

A hub on SQLite is served on 127.0.0.1 (werkzeug in a thread, as the browser tests do; the
pseudonym allowance raised with ``[pseudonyms] per_minute`` so that it does not pace the first
run) and driven by Debian's Chromium through chromedriver (Selenium; nothing downloads a
browser). An agency issues ``--notices`` special measures (jurisdictions, a reseller, IP ranges,
domains); a provider's CSV of ``--accounts`` accounts (each with an e-mail address, a country, an
address and a domain) is given to the page's file input, and the time until the results are on
the page is measured:

- **first run**: every row read and normalised, the account ids and e-mail addresses blinded,
  evaluated by the hub (100 per request) and unblinded, the proofs checked, the pseudonyms stored
  in the browser's IndexedDB, the accounts matched;
- **cached run**: the same file again: every pseudonym from the browser's cache, nothing sent.

Run::

    .venv/bin/python -m bench.notice_match_web --accounts 10000 --notices 100
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.web_filing import CHROMEDRIVER, CHROMIUM, _driver, _free_port
from hub.client.notices import issue_notice
from hub.client.taxii import TaxiiClient
from hub.config import load_config
from hub.server import create_app
from hub.services.hub import Hub
from hub.signing import SigningKey
from hub.stix.notice_facts import NoticeFacts
from hub.store.sql import SqlStore

_COUNTRIES = ("DE", "FR", "US", "KP", "IR", "NL", "GB", "JP")


def _accounts_csv(path: Path, n: int) -> None:
    lines = ["account_id,country,reseller_name,reseller_country,email,ips,domains"]
    for i in range(n):
        lines.append(f"acct-{i:07d},{_COUNTRIES[i % len(_COUNTRIES)]},{'Resell Co' if i % 50 == 0 else ''},"
                     f"{'CN' if i % 50 == 0 else ''},user{i}@example.com,198.51.{i // 256 % 256}.{i % 256},"
                     f"host{i % 5000}.example.net")
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000, help="rows of the account file")
    parser.add_argument("--notices", type=int, default=100, help="special measures in force")
    args = parser.parse_args(argv)
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        print("needs Debian's chromium and chromium-driver", file=sys.stderr)
        return 2
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait
    from werkzeug.serving import make_server

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "hub.toml").write_text("[web]\nsecure_cookies = false\n[pseudonyms]\nper_minute = 1000000\n")
        store = SqlStore(f"sqlite:///{home / 'hub.db'}")
        hub = Hub(load_config(home, environ={}), store)
        hub.prepare()
        gov, gov_token = hub.admin.add_party("gov", "agency")
        _, token = hub.admin.add_party("bench", "provider")
        col = hub.admin.add_collection("Notices", alias="notices")
        for name in ("gov", "bench"):
            hub.admin.grant(name, col.id, True, True)
        key = SigningKey.generate()
        hub.keys.add("gov", key.public_key.to_jwk())
        app = create_app(hub.config, hub)
        port = _free_port()
        server = make_server("127.0.0.1", port, app, threaded=True)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{port}"
        with TaxiiClient(base + "/api/", gov_token) as client:
            for i in range(args.notices):
                facts = NoticeFacts.from_mapping({
                    "issuer_identity_id": gov.identity_id, "notice_kind": "special-measure",
                    "title": f"Measure {i}", "legal_reference": f"Order {i}", "measures": ["restrict"],
                    "jurisdictions": [_COUNTRIES[3 + i % 2]], "resellers": [{"name": "Resell Co", "country": "CN"}],
                    "ip_ranges": [f"198.51.{i % 256}.0/24"], "domains": [f"host{i}.example.net"],
                    "effective_from": datetime.now(UTC) - timedelta(days=1)})
                _, outcome = issue_notice(client, col.id, facts, key, gov.identity_id)
                if outcome.refused:
                    raise SystemExit(f"notice refused: {outcome.refused}")
        path = home / "accounts.csv"
        _accounts_csv(path, args.accounts)
        driver = _driver()
        wait = WebDriverWait(driver, 3600, poll_frequency=0.01)
        runs: list[float] = []
        counts = ""
        try:
            driver.get(base + "/web/signin")
            driver.find_element(By.ID, "token").send_keys(token)
            driver.find_element(By.CSS_SELECTOR, "#token-signin button[type=submit]").click()
            wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".signout")))
            for _ in range(2):
                driver.get(f"{base}/web/collections/{col.id}/notices/match")
                started = time.perf_counter()
                driver.find_element(By.ID, "accounts-file").send_keys(str(path))
                summary = wait.until(ec.presence_of_element_located((By.ID, "match-summary")))
                runs.append(time.perf_counter() - started)
                counts = (f"{summary.get_attribute('data-accounts')} accounts, "
                          f"{summary.get_attribute('data-evaluated')} values evaluated")
                print(f"run {len(runs)}: {runs[-1]:.1f} s ({counts})", file=sys.stderr)
        finally:
            driver.quit()
            server.shutdown()
            hub.close()
    print(f"| matching {args.accounts:,} accounts against {args.notices:,} notices in Chromium | s |")
    print("|---|---|")
    print(f"| first run (read, normalise, blind, evaluate, verify, cache, match) | {runs[0]:.1f} |")
    print(f"| cached run (the same file: pseudonyms from the browser, nothing sent) | {runs[1]:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
