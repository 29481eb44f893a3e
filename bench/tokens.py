"""Benchmark of submission tokens (the token mode of anonymous filing): what a token costs the hub
and the provider, and what a redemption adds to a filing.

Usage (from /work/main)::

    .venv/bin/python -m bench.tokens                 # 200 tokens, SQLite, in-process
    .venv/bin/python -m bench.tokens --store postgres --tokens 500

Measured, each on one core of this machine:

- the primitives (:mod:`hub.anonymity.tokens`): a client's token request (Blind), the issuer's
  BlindSign (blinded, with its s^e = m check), the client's Finalize (with its PSS check), and the
  origin's check of a token (one RSA-PSS verification): median per token;
- through the hub's HTTP API in-process (:class:`tests.harness.HubUnderTest`): issuance of a
  batch of ``--batch`` tokens (``POST anonymity/tokens/``, the database count and the audit record
  included), per token; and the hub's whole check of a redeemed token before the filing
  (:meth:`hub.services.anonymity.tokens.TokenService.check_token`: decode, key, verification, the
  spent-token lookup), median.

Printed: one line per figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hub.anonymity import blindrsa
from hub.anonymity.tokens import TokenChallenge, TokenIssuer, begin_issuance, finalize_token, verify_token
from hub.client.http import HttpSession
from hub.client.tokens import fetch_directory, fetch_tokens, read_directory
from tests.harness import TEST_TOML, HubUnderTest


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def primitives(count: int) -> None:
    private = blindrsa.PrivateKey.generate(2048)
    issuer = TokenIssuer(private)
    challenge = TokenChallenge(issuer_name="bench.example").encode()
    blind, sign, final, check = [], [], [], []
    for _ in range(count):
        t0 = time.perf_counter()
        request, state = begin_issuance(issuer.public, challenge)
        t1 = time.perf_counter()
        response = issuer.issue(request.encode())
        t2 = time.perf_counter()
        token = finalize_token(state, response)
        t3 = time.perf_counter()
        verify_token(issuer.public, token.encode(), challenge)
        t4 = time.perf_counter()
        blind.append(t1 - t0)
        sign.append(t2 - t1)
        final.append(t3 - t2)
        check.append(t4 - t3)
    print(f"client token request (Blind), median        {_median_ms(blind):8.3f} ms")
    print(f"issuer BlindSign (blinded, checked), median  {_median_ms(sign):8.3f} ms")
    print(f"client Finalize (PSS-verified), median       {_median_ms(final):8.3f} ms")
    print(f"origin token verification, median           {_median_ms(check):8.3f} ms")


def through_the_hub(store: str, count: int, batch: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        toml = TEST_TOML + f"[anonymity]\ntokens_per_epoch = {count + batch}\n"
        with HubUnderTest.build(home, backend=store, toml=toml, parties={"alice": "provider"}, grants={}) as hut:
            with HttpSession(hut.url, transport=hut.transport()) as anonymous:
                key = read_directory(fetch_directory(anonymous, f"{anonymous.api}anonymity/token-keys/"))
            tokens = []
            t0 = time.perf_counter()
            with HttpSession(hut.url, hut.tokens["alice"], transport=hut.transport()) as http:
                while len(tokens) < count:
                    tokens += fetch_tokens(http, key, min(batch, count - len(tokens)))
            issued = time.perf_counter() - t0
            checks = []
            for stored in tokens:
                t1 = time.perf_counter()
                hut.hub.tokens.check_token(stored.token)
                checks.append(time.perf_counter() - t1)
    print(f"issuance through the API ({store}, batches of {batch}), per token "
          f"{issued / count * 1000:8.3f} ms (client's Blind and Finalize included)")
    print(f"the hub's check of a redeemed token ({store}), median {_median_ms(checks):8.3f} ms "
          "(decode, key, one RSA verification, spent-token lookup)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args(argv)
    primitives(args.tokens)
    through_the_hub(args.store, args.tokens, args.batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
