"""Fail when a function or method is more complex than the limit, as radon counts it.

    python tools/check_complexity.py                 # hub/, at most 25
    python tools/check_complexity.py --max 25 PATH…  # other paths or limit

Runs ``radon cc -j`` (cyclomatic complexity, radon's own counting: every ``if``, loop,
``except``, boolean operator, comprehension, ``assert``…) and reads each function, method and
nested function it reports; a class's total is not a function and does not count. Each offender
is printed as ``path:line name complexity``, and the exit status is 1. Exit status 2 when radon
cannot be run, fails, or reports no file at all: the check never passes without having counted.
``make lint`` runs it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

#: The most a function or method may count.
LIMIT = 25


def radon_blocks(paths: list[str]) -> dict[str, Any]:
    """``radon cc -j`` of ``paths``, every rank shown: ``{file: [block, ...] or {"error": ...}}``.

    Raises :class:`RuntimeError` with the reason when radon is missing, fails or prints nothing.
    """
    command = [sys.executable, "-m", "radon", "cc", "--json", "--min", "A", "--max", "F", *paths]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise RuntimeError(f"cannot run radon: {exc}") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"radon failed (exit status {done.returncode}): {reason} "
                           "(is radon installed? pip install -e '.[lint]')")
    try:
        report = json.loads(done.stdout)
    except ValueError:
        raise RuntimeError("radon printed no JSON report") from None
    if not isinstance(report, dict) or not report:
        raise RuntimeError(f"radon found no Python file under {' '.join(paths)}")
    return report


def functions(blocks: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every function, method and nested function among ``blocks``, once each (radon lists a
    class's methods both on their own and inside the class)."""
    seen: set[tuple[int, int, str]] = set()
    stack = list(blocks)
    while stack:
        block = stack.pop()
        stack.extend(block.get("methods", ()))
        stack.extend(block.get("closures", ()))
        if block.get("type") not in ("function", "method"):
            continue  # a class: its total is the sum of its methods, not one function
        key = (block["lineno"], block["col_offset"], block["name"])
        if key not in seen:
            seen.add(key)
            yield block


def offenders(report: dict[str, Any], limit: int) -> tuple[list[str], list[str]]:
    """The lines ``path:line name complexity`` of each function above ``limit``, in file and
    line order, and the files radon could not read."""
    found: list[tuple[str, int, str]] = []
    unread: list[str] = []
    for path, blocks in sorted(report.items()):
        if not isinstance(blocks, list):
            unread.append(f"{path}: radon could not read it: {blocks.get('error', blocks)}")
            continue
        for block in functions(blocks):
            if block["complexity"] > limit:
                name = f"{block['classname']}.{block['name']}" if block.get("classname") else block["name"]
                found.append((path, block["lineno"], f"{path}:{block['lineno']} {name} {block['complexity']}"))
    return [line for _path, _line, line in sorted(found)], unread


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=LIMIT, help=f"the most a function may count (default {LIMIT})")
    parser.add_argument("paths", nargs="*", default=["hub"], help="files or folders (default hub)")
    args = parser.parse_args(argv)
    try:
        report = radon_blocks(args.paths)
    except RuntimeError as exc:
        print(f"check_complexity: {exc}", file=sys.stderr)
        return 2
    found, unread = offenders(report, args.max)
    for line in unread + found:
        print(line)
    if unread:
        return 2
    if found:
        print(f"{len(found)} function(s) above cyclomatic complexity {args.max} (radon cc): split them",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
