"""Benchmark harness for abusehub: :mod:`bench.run` (the command), :mod:`bench.data` (generated
STIX 2.1 data), :mod:`bench.servers` (starting abusehub, medallion and OpenTAXII on loopback).

Run ``.venv/bin/python -m bench.run --help``.
"""
