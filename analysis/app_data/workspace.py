"""Files into a workspace data set: uploads sorted by content, refusals kept, the bug list merged."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd

from .. import uploads
from ..errors import InputError
from ..formats import format_time
from ..uploads import safe_filename
from .datasets import KINDS, Dataset, workspace_dir


def save_upload(dataset: Dataset, name: str, data: bytes, kind: str | None = None) -> Path:
    """Store an uploaded file in its kind's folder of a workspace data set; returns the path.

    The kind comes from the content (`uploads.classify_upload`), or is checked against it when
    given; what is none of the accepted kinds raises InputError with the loader's reason (and is
    recorded, see `refused_uploads`). The name is reduced with `safe_filename` and given the
    suffix the loaders expect; nothing is written through a symbolic link. A bug list goes to
    ``corpus/bugs.json`` (merged by bug id with the one already there).
    """
    if dataset.folder is None:
        raise InputError(str(name), None, "the demo data set is read-only: create a workspace data set first")
    if kind is not None and kind not in KINDS:
        raise InputError(str(name), None, f"unknown kind {kind!r}")
    root = Path(dataset.folder)
    uploads.check_folder(root, workspace_dir(), str(name))
    got = uploads.check_as(kind, name, data) if kind else uploads.classify_upload(name, data)
    if got.refused:
        record_refusal(dataset, name, got.reason)
        raise InputError(str(name), None, got.reason)
    if got.kind == "corpus":
        return merge_bug_list(root, _bugs_of(data, name))
    base = safe_filename(name)
    if (
        got.suffix
        and Path(base).suffix.lower() != got.suffix
        and not (got.suffix == ".der" and Path(base).suffix.lower() in (".cer", ".crt", ".der", ".key"))
    ):
        base += got.suffix
    target = uploads.write_inside(root, (got.kind, base), data, name=str(name), workspace=workspace_dir())
    forget_refusal(dataset, name)
    return target


REFUSED_FILE = ".refused.json"


def refused_uploads(dataset: Dataset) -> list[dict]:
    """Uploads refused for this data set (input, position, reason), oldest first."""
    if dataset.folder is None:
        return []
    path = Path(dataset.folder) / REFUSED_FILE
    if path.is_symlink() or not path.is_file():
        return []
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return []
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _write_refused(dataset: Dataset, rows: list[dict]) -> None:
    body = (json.dumps(rows[-200:], ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    uploads.write_inside(
        Path(dataset.folder), (REFUSED_FILE,), body, name=REFUSED_FILE, workspace=workspace_dir()
    )


def record_refusal(dataset: Dataset, name: str, reason: str) -> None:
    rows = [r for r in refused_uploads(dataset) if r.get("input") != name]
    rows.append({"input": str(name), "position": None, "reason": f"upload refused: {reason}"})
    _write_refused(dataset, rows)


def forget_refusal(dataset: Dataset, name: str) -> None:
    rows = refused_uploads(dataset)
    if any(r.get("input") == name for r in rows):
        _write_refused(dataset, [r for r in rows if r.get("input") != name])


def clear_refusals(dataset: Dataset) -> None:
    if dataset.folder is not None and refused_uploads(dataset):
        _write_refused(dataset, [])


def _bugs_of(data: bytes, name: str) -> list[dict]:
    try:
        obj = json.loads(data.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(str(name), None, f"not a JSON bug list: {exc}") from exc
    bugs = obj.get("bugs") if isinstance(obj, dict) else obj
    if not isinstance(bugs, list) or not all(isinstance(b, dict) and "id" in b for b in bugs):
        raise InputError(
            str(name), None, 'expected {"bugs": [{"id": ...}, ...]} as Bugzilla\'s search answers'
        )
    for n, b in enumerate(bugs, 1):
        if isinstance(b["id"], bool) or not re.fullmatch(r"\d{1,12}", str(b["id"]).strip()):
            raise InputError(str(name), f"bug {n}", f"id {b['id']!r} is not a bug number")
    return bugs


def merge_bug_list(folder: Path, bugs: list[dict]) -> Path:
    """Merge bug records into ``folder/corpus/bugs.json`` by id (new records win)."""
    path = folder / "corpus" / "bugs.json"
    old: list[dict] = []
    if path.is_file() and not path.is_symlink():
        try:
            old = json.loads(path.read_text(encoding="utf-8")).get("bugs", [])
        except (ValueError, AttributeError):
            old = []
    by_id = {int(b["id"]): b for b in old if "id" in b}
    by_id.update({int(b["id"]): b for b in bugs})
    body = json.dumps({"bugs": [by_id[k] for k in sorted(by_id)]}, indent=1) + "\n"
    return uploads.write_inside(
        folder, ("corpus", "bugs.json"), body.encode("utf-8"), name="bugs.json", workspace=folder.parent
    )


def workspace_files(dataset: Dataset) -> pd.DataFrame:
    """The files of a workspace data set: kind, file, size (KiB), modified (UTC)."""
    rows = []
    if dataset.folder:
        root = Path(dataset.folder)
        for f in sorted(root.rglob("*")):
            if f.is_file() and not f.name.startswith("."):
                st = f.stat()
                rows.append(
                    {
                        "Kind": f.relative_to(root).parts[0],
                        "File": str(f.relative_to(root)),
                        "Size (KiB)": round(st.st_size / 1024, 1),
                        "Modified (UTC)": format_time(dt.datetime.fromtimestamp(st.st_mtime, dt.UTC)),
                    }
                )
    return pd.DataFrame(rows, columns=["Kind", "File", "Size (KiB)", "Modified (UTC)"])
