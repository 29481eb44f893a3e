"""Throughput of hub.stix.validator.validate on report objects (not a test; prints figures).

Run: .venv/bin/python tests/stix/bench_validator.py
Objects come from the corpus generator's valid builders in the proportions of an abuse report
(identity, user-account with the IaaS extension, ipv4/ipv6/domain/url, indicators, relationships,
report, sighting, marking). Every indicator pattern is unique, so the pattern cache never hits:
the figure is the cold-cache rate. For comparison it also times stix2-validator on a sample.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stix2validator import validate_instance  # noqa: E402
from test_validator_corpus import OASIS_OPTIONS, Gen  # noqa: E402

from hub.stix.patterns import parsed_pattern_errors  # noqa: E402
from hub.stix.validator import validate  # noqa: E402


def report_objects(n_reports: int) -> list[dict]:
    gen = Gen(7)
    objs: list[dict] = []
    for _ in range(n_reports):
        objs += [gen.identity(), gen.user_account(), gen.ipv4(), gen.ipv4(), gen.ipv6(),
                 gen.domain(), gen.url(), gen.indicator(), gen.indicator(), gen.infrastructure(),
                 gen.relationship(), gen.relationship(), gen.relationship(), gen.sighting(),
                 gen.tlp2_marking(), gen.report()]
    return objs


def main() -> None:
    objs = report_objects(600)
    parsed_pattern_errors.cache_clear()
    for obj in objs[:200]:
        assert not validate(obj), validate(obj)
    parsed_pattern_errors.cache_clear()
    start = time.perf_counter()
    for obj in objs:
        validate(obj)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    for obj in objs:
        validate(obj)
    warm = time.perf_counter() - start
    sample = objs[:300]
    start = time.perf_counter()
    for obj in sample:
        validate_instance(obj, OASIS_OPTIONS)
    oasis = time.perf_counter() - start
    print(f"{len(objs)} report objects, indicators {sum(o['type'] == 'indicator' for o in objs)}")
    print(f"hub validate, pattern cache cold: {len(objs) / cold:,.0f} objects/s")
    print(f"hub validate, pattern cache warm: {len(objs) / warm:,.0f} objects/s")
    print(f"stix2-validator (non-strict):     {len(sample) / oasis:,.0f} objects/s")


if __name__ == "__main__":
    main()
