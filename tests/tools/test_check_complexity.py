"""tools/check_complexity.py, the gate ``make lint`` runs: a function or method above cyclomatic
complexity 25 as radon counts it fails, one at 25 passes, a class's total does not count, and
the check never passes without radon having counted.

The first tests count with radon in this process (the blocks ``radon cc -j`` prints); the ones
marked slow run the script itself, and with it radon, as ``make lint`` does.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

radon_complexity = pytest.importorskip("radon.complexity", reason="radon comes with the lint extra (make lint)")
radon_tools = pytest.importorskip("radon.cli.tools", reason="radon comes with the lint extra (make lint)")

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools/check_complexity.py"


def _load() -> ModuleType:
    """tools/check_complexity.py, a script (tools/ is no package)."""
    spec = importlib.util.spec_from_file_location("check_complexity", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check = _load()


def function_of(complexity: int, name: str = "busy", indent: str = "") -> str:
    """A function radon counts at ``complexity``: 1, and 1 for each ``if``."""
    lines = [f"{indent}def {name}(x):"]
    lines += [f"{indent}    if x == {i}:\n{indent}        return {i}" for i in range(complexity - 1)]
    lines.append(f"{indent}    return -1")
    return "\n".join(lines) + "\n"


def report_of(files: dict[str, str]) -> dict[str, Any]:
    """What ``radon cc -j`` reports for ``files`` (path -> source), counted here."""
    return {path: [radon_tools.cc_to_dict(b) for b in radon_complexity.cc_visit(source)]
            for path, source in files.items()}


def test_the_synthetic_functions_count_as_meant() -> None:
    (block,) = radon_complexity.cc_visit(function_of(26))
    assert block.complexity == 26


def test_a_function_of_26_fails_and_one_of_25_passes() -> None:
    assert check.offenders(report_of({"hub/a.py": function_of(26)}), 25) == (["hub/a.py:1 busy 26"], [])
    assert check.offenders(report_of({"hub/a.py": function_of(25)}), 25) == ([], [])


def test_a_method_is_named_with_its_class_and_reported_once() -> None:
    source = "class Service:\n" + function_of(26, "evaluate", "    ")
    assert check.offenders(report_of({"hub/s.py": source}), 25) == (["hub/s.py:2 Service.evaluate 26"], [])


def test_a_class_total_does_not_count() -> None:
    """radon counts a class with a method of 20 and ten conditional expressions in its body above
    25 (the class's "average" includes its body): no function is above the limit."""
    source = "class Big:\n" + "".join(f"    a{i} = 1 if a else 2\n" for i in range(10)) + function_of(20, "m", "    ")
    report = report_of({"hub/big.py": source})
    assert any(b["type"] == "class" and b["complexity"] > 25 for b in report["hub/big.py"])
    assert check.offenders(report, 25) == ([], [])


def test_a_nested_function_counts_on_its_own() -> None:
    source = "def outer():\n" + function_of(26, "inner", "    ") + "    return inner\n"
    assert check.offenders(report_of({"hub/n.py": source}), 25) == (["hub/n.py:2 inner 26"], [])


def test_offenders_are_listed_by_file_and_line_and_unreadable_files_named() -> None:
    report = report_of({"hub/b.py": function_of(30, "late") + function_of(27, "later"),
                        "hub/a.py": function_of(26)})
    report["hub/c.py"] = {"error": "invalid syntax (<unknown>, line 1)"}
    found, unread = check.offenders(report, 25)
    assert found == ["hub/a.py:1 busy 26", "hub/b.py:1 late 30", "hub/b.py:61 later 27"]
    assert unread == ["hub/c.py: radon could not read it: invalid syntax (<unknown>, line 1)"]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=120, check=False)


@pytest.mark.slow
def test_the_script_fails_on_26_and_passes_at_25(tmp_path: Path) -> None:
    (tmp_path / "over.py").write_text(function_of(26), encoding="utf-8")
    (tmp_path / "at.py").write_text("class Fine:\n" + function_of(25, "m", "    "), encoding="utf-8")
    over = _run(str(tmp_path / "over.py"), str(tmp_path / "at.py"))
    assert over.returncode == 1, over.stderr
    assert over.stdout.splitlines() == [f"{tmp_path / 'over.py'}:1 busy 26"]
    at = _run(str(tmp_path / "at.py"))
    assert (at.returncode, at.stdout) == (0, ""), at.stderr


@pytest.mark.slow
def test_the_script_does_not_pass_without_radon(tmp_path: Path) -> None:
    """A radon that cannot be imported, or one that prints nothing: exit status 2, with why."""
    (tmp_path / "fine.py").write_text(function_of(2), encoding="utf-8")
    missing = tmp_path / "missing"
    (missing / "radon").mkdir(parents=True)
    (missing / "radon/__init__.py").write_text("raise ImportError('No module named radon')\n", encoding="utf-8")
    done = _run(str(tmp_path / "fine.py"), env={"PYTHONPATH": str(missing)})
    assert done.returncode == 2 and "radon failed" in done.stderr, done.stderr
    silent = tmp_path / "silent"
    (silent / "radon").mkdir(parents=True)
    (silent / "radon/__init__.py").write_text("", encoding="utf-8")
    (silent / "radon/__main__.py").write_text("", encoding="utf-8")
    done = _run(str(tmp_path / "fine.py"), env={"PYTHONPATH": str(silent)})
    assert done.returncode == 2 and "radon printed no JSON report" in done.stderr, done.stderr
    done = _run(str(tmp_path / "nothing-here"))
    assert done.returncode == 2 and "radon found no Python file" in done.stderr, done.stderr
