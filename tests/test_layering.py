"""Layering rules from HELPERS/design: the core never imports analysis.sources, and nothing under
analysis/ imports streamlit. Checked on the source (AST), so an import inside a function counts."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "analysis"
CORE_MODULES = ["certificates.py", "revocations.py", "keyreuse.py", "keys.py", "names.py", "der.py"]
CORE_PACKAGES = ["reports", "drafting"]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, source: str | None = None) -> set[str]:
    """Every module `path` imports, as absolute dotted names (relative imports resolved), at any
    depth of the file; `from X import y` counts both X and X.y (y may be a submodule)."""
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, filename=str(path))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in node.names)
    return found


def core_files() -> list[Path]:
    files = [ROOT / m for m in CORE_MODULES]
    for pkg in CORE_PACKAGES:
        files.extend(sorted((ROOT / pkg).rglob("*.py")))
    return files


def _is_sources(mod: str) -> bool:
    return mod == "analysis.sources" or mod.startswith("analysis.sources.")


def test_the_checker_resolves_relative_and_nested_imports():
    # a module at analysis/reports/_probe.py (never written): relative imports two levels up and
    # an import inside a function must both resolve to analysis.sources
    fake = ROOT / "reports" / "_probe.py"
    src = (
        "def f():\n"
        "    from ..sources.spreadsheets import load_spreadsheet\n"
        "from .. import sources\n"
        "import streamlit as st\n"
    )
    mods = imported_modules(fake, src)
    assert "analysis.sources.spreadsheets" in mods
    assert "analysis.sources" in mods
    assert "streamlit" in mods


def test_core_never_imports_sources():
    files = core_files()
    assert len(files) > len(CORE_MODULES) + len(CORE_PACKAGES)  # the packages' modules were found
    bad = {
        str(f.relative_to(ROOT.parent)): sorted(m for m in imported_modules(f) if _is_sources(m))
        for f in files
    }
    assert {f: m for f, m in bad.items() if m} == {}


def test_nothing_under_analysis_imports_streamlit():
    bad = {}
    for f in sorted(ROOT.rglob("*.py")):
        mods = [m for m in imported_modules(f) if m == "streamlit" or m.startswith("streamlit.")]
        if mods:
            bad[str(f.relative_to(ROOT.parent))] = mods
    assert bad == {}
