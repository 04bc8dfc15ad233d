"""The Makefile's install stamp: a changed analysis/_cder.c rebuilds the C accelerator (and only
that); a _cder.c that does not compile leaves no stale .so behind.

Runs the real Makefile in a scratch folder whose `.venv/bin/python` is a stub that logs how it was
called and, like setuptools, writes the .so only when asked to build a source that compiles.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SO = "analysis/_cder.cpython-311-x86_64-linux-gnu.so"
STUB = f"""#!/bin/sh
echo "$*" >> calls.log
case "$*" in
  *build_ext*) grep -q BROKEN analysis/_cder.c || echo fresh > {SO} ;;
esac
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    for name in ("pyproject.toml", "constraints.txt", "setup.py", "analysis/_cder.c"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(STUB)
    python.chmod(0o755)
    (tmp_path / SO).write_text("old\n")
    stamp = tmp_path / ".venv" / ".installed"
    stamp.write_text("")
    past = time.time() - 100
    for p in tmp_path.rglob("*"):
        os.utime(p, (past, past))
    os.utime(stamp, (past + 50, past + 50))  # installed after every source was written
    return tmp_path


def make(tree: Path) -> str:
    r = subprocess.run(["make", ".venv/.installed"], cwd=tree, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def calls(tree: Path) -> list[str]:
    log = tree / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_nothing_changed_nothing_runs(tree):
    assert "is up to date" in make(tree)
    assert calls(tree) == []


def test_a_changed_cder_c_rebuilds_only_the_extension(tree):
    (tree / "analysis/_cder.c").write_text("int changed;\n")  # now newer than the stamp
    make(tree)
    assert calls(tree) == ["setup.py -q build_ext --inplace --force"]  # no pip install
    assert (tree / SO).read_text() == "fresh\n"
    assert "is up to date" in make(tree)  # and the stamp now covers it


def test_a_cder_c_that_does_not_compile_leaves_no_stale_so(tree):
    (tree / "analysis/_cder.c").write_text("BROKEN\n")
    out = make(tree)
    assert not (tree / SO).exists()  # the old .so would not match the new source
    assert "pure-Python DER reader" in out


def test_a_changed_pyproject_reinstalls_then_builds(tree):
    (tree / "pyproject.toml").write_text("changed\n")
    make(tree)
    got = calls(tree)
    assert any("pip install" in c and "constraints.txt" in c for c in got)
    assert got[-1] == "setup.py -q build_ext --inplace --force"
