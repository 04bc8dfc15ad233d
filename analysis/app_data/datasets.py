"""Data sets: the demo incident and the workspace folders, found and named safely."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..demo import demo_as_of, demo_paths
from ..errors import InputError
from ..uploads import safe_filename

DEMO = "demo"

KINDS = ("certs", "crls", "revocations", "compromised", "report", "corpus")

KIND_LABELS = {
    "certs": "Certificates (PEM/DER)",
    "crls": "CRLs (DER/PEM)",
    "revocations": "Revocations (CSV or incident xlsx)",
    "compromised": "Compromised keys (CSV or key files)",
    "report": "Incident report (markdown, text, or Bugzilla comments JSON)",
    "corpus": "Bug corpus (bugs.json and <id>/ folders)",
}


def cache_dir() -> Path:
    """env CA_INCIDENTS_CACHE, else the user cache directory (as the command line uses)."""
    env = os.environ.get("CA_INCIDENTS_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("ca-incidents", appauthor=False))


def workspace_dir() -> Path:
    return cache_dir() / "workspace"


def safe_dataset_name(name: str) -> str:
    """A workspace data set's folder name (same rules as files; never ``demo``)."""
    base = safe_filename(name, default="")
    if not base:
        raise InputError(str(name), None, "a data set name needs letters or digits")
    if base.lower() == DEMO:
        raise InputError(str(name), None, "'demo' is the embedded incident; choose another name")
    return base


@dataclass(frozen=True)
class Dataset:
    """A data set the pages can show: files by kind, analysis time, and a cache fingerprint."""

    key: str  # "demo" or the workspace folder name
    label: str
    paths: tuple[tuple[str, tuple[str, ...]], ...]  # (kind, (path, ...)) for every kind
    as_of: str | None  # None = now
    fingerprint: str = ""
    folder: str | None = None  # workspace folder (None for the demo)

    def files(self, kind: str) -> list[Path]:
        return [Path(p) for p in dict(self.paths).get(kind, ())]

    @property
    def is_demo(self) -> bool:
        return self.key == DEMO


def _fingerprint(paths: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(set(paths)):
        files = [p] if p.is_file() else sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else []
        for f in files:
            try:
                st = f.stat()
            except OSError:
                continue
            h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def demo_dataset() -> Dataset:
    from ..incidents import DEFAULT_DEMO_CORPUS  # noqa: PLC0415 - optional module

    p = demo_paths()
    corpus = [DEFAULT_DEMO_CORPUS] if Path(DEFAULT_DEMO_CORPUS).is_dir() else []
    paths = {**{k: list(v) for k, v in p.items()}, "corpus": corpus}
    return Dataset(
        key=DEMO,
        label="Demo incident: Example Trust",
        paths=tuple((k, tuple(str(x) for x in paths.get(k, []))) for k in KINDS),
        as_of=demo_as_of(),
        fingerprint=_fingerprint([Path(x) for v in paths.values() for x in v]),
    )


def workspace_dataset(name: str) -> Dataset:
    folder = workspace_dir() / safe_dataset_name(name)
    paths: dict[str, list[Path]] = {}
    for kind in KINDS:
        sub = folder / kind
        if kind == "corpus":
            paths[kind] = [sub] if (sub / "bugs.json").is_file() else []
        elif kind in ("certs",):
            paths[kind] = [sub] if sub.is_dir() and any(sub.iterdir()) else []
        else:
            paths[kind] = (
                sorted(
                    f
                    for f in sub.glob("*")
                    if f.is_file() and not f.is_symlink() and not f.name.startswith(".")
                )
                if sub.is_dir() and not sub.is_symlink()
                else []
            )
    return Dataset(
        key=folder.name,
        label=f"Workspace: {folder.name}",
        paths=tuple((k, tuple(str(x) for x in paths[k])) for k in KINDS),
        as_of=None,
        fingerprint=_fingerprint([folder]),
        folder=str(folder),
    )


def list_datasets() -> list[str]:
    """``demo`` first, then the workspace folders by name."""
    ws = workspace_dir()
    names = (
        sorted(p.name for p in ws.iterdir() if p.is_dir() and not p.name.startswith("."))
        if ws.is_dir()
        else []
    )
    return [DEMO, *[n for n in names if n.lower() != DEMO]]


def get_dataset(key: str) -> Dataset:
    return demo_dataset() if key == DEMO else workspace_dataset(key)


def create_dataset(name: str) -> Dataset:
    folder = workspace_dir() / safe_dataset_name(name)
    folder.mkdir(parents=True, exist_ok=True)
    return workspace_dataset(folder.name)


def delete_dataset(key: str) -> int:
    """Remove a workspace data set's folder and everything in it; returns how many files went.

    Only an existing folder directly under the workspace is removed: the demo, a name that
    `safe_dataset_name` would change, or a symlink out of the workspace are refused."""
    import shutil

    ws = workspace_dir()
    if key == DEMO:
        raise InputError(key, None, "the demo data set is embedded and cannot be deleted")
    if safe_dataset_name(key) != key:
        raise InputError(key, None, "not a workspace data set name")
    folder = ws / key
    if folder.is_symlink() or not folder.is_dir() or folder.resolve().parent != ws.resolve():
        raise InputError(key, None, f"no such data set in the workspace {ws}")
    n = sum(1 for p in folder.rglob("*") if p.is_file())
    shutil.rmtree(folder)
    return n
