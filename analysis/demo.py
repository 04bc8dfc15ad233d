"""The embedded demo incident (data/demo): where its files are and the inputs it opens with."""

from __future__ import annotations

import json
from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
# The demo is analysed as of the day its report was closed, so "remaining valid" means what the
# report meant; pass --as-of to see it as of another time.
DEMO_AS_OF = "2024-11-01T00:00:00+00:00"
# The demo Bugzilla corpus runs to 2026; its deadlines are judged as of this fixed day so the demo
# reads the same whenever it is opened.
DEMO_CORPUS_AS_OF = "2026-03-15T00:00:00+00:00"


def demo_dir() -> Path:
    if not DEMO_DIR.is_dir():
        raise FileNotFoundError(f"the demo data folder {DEMO_DIR} is missing (run data/demo/build_demo.py)")
    return DEMO_DIR


def demo_paths() -> dict[str, list[Path]]:
    """Inputs of the demo incident by kind (certs, crls, revocations, compromised, report)."""
    d = demo_dir()
    out: dict[str, list[Path]] = {
        "certs": [d / "certs"] if (d / "certs").is_dir() else [],
        "crls": sorted((d / "crls").glob("*")) if (d / "crls").is_dir() else [],
        "revocations": [],
        "compromised": [],
        "report": [p for p in [d / "report.md"] if p.exists()],
    }
    return out


def demo_as_of() -> str:
    expected = DEMO_DIR / "expected.json"
    if expected.exists():
        try:
            value = json.loads(expected.read_text()).get("as_of")
            if value:
                return value
        except (ValueError, AttributeError):
            pass
    return DEMO_AS_OF
