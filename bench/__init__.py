"""Benchmark harness for abusehub: :mod:`bench.run` (the command), :mod:`bench.data` (generated
STIX 2.1 data), :mod:`bench.servers` (starting abusehub, medallion and OpenTAXII on loopback),
:mod:`bench.compare` (the benchmark against two versions of the hub, by turns) and
:mod:`bench.markings` (what marking decisions cost a reader, a page and an upgrade).

Run ``.venv/bin/python -m bench.run --help``.
"""
