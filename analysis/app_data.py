"""The dashboard's data layer: data sets, the workspace folder, and page-ready frames.

No Streamlit here (analysis/ never imports it): `app_pages/_data.py` wraps these functions in
`st.cache_data`, and the pages only render what comes back. Everything is keyed by a `Dataset`,
which names its files by kind; its `fingerprint` changes whenever a file is added or replaced, so
the caches above never serve an old answer after an upload.

Data sets:

* the demo incident (`data/demo`, analysed as of `demo_as_of()`),
* workspace data sets: folders under ``<cache dir>/workspace/<name>/`` with one subfolder per kind
  (``certs``, ``crls``, ``revocations``, ``compromised``, ``report``, ``corpus``). The cache dir is
  env ``CA_INCIDENTS_CACHE``, else the platform's user cache directory for ``ca-incidents``.

Upload names are reduced to a safe base name (`safe_filename`) and every write is checked to stay
inside its data set's folder (`save_upload`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import uploads
from .demo import DEMO_CORPUS_AS_OF, demo_as_of, demo_paths
from .errors import InputError, Problem
from .formats import format_time, short_source
from .uploads import safe_filename

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
# Bulk data sets can be large; everything else on the pages is small.
MAX_TIMELINE_KEYS = 40


# --- where things live ------------------------------------------------------------------------


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


# --- data sets --------------------------------------------------------------------------------


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
    from .incidents import DEFAULT_DEMO_CORPUS  # noqa: PLC0415 - optional module

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


# --- uploads ----------------------------------------------------------------------------------


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


# --- key reuse --------------------------------------------------------------------------------


def load_inputs(dataset: Dataset):
    """A data set's key-reuse inputs (certificates, revocations, compromised keys), read once."""
    from .inputs import load_keyreuse_inputs

    return load_keyreuse_inputs(
        dataset.files("certs"),
        dataset.files("crls"),
        dataset.files("revocations"),
        dataset.files("compromised"),
    )


def analyse(dataset: Dataset, scope: str = "global", as_of: str | None = None, inputs=None):
    """Run the key-reuse rules on a data set (as of the data set's time); `inputs` from
    `load_inputs` when already read."""
    inputs = inputs if inputs is not None else load_inputs(dataset)
    return inputs.analyse(scope=scope, as_of=as_of or dataset.as_of)


FIGURES = (
    ("issuances_with_compromised_keys", "Certificates on compromised keys"),
    ("violating_issuances", "Issued after compromise"),
    ("compromised_keys", "Compromised keys"),
    ("revocation_delays", "Revoked late (> 24 h)"),
    ("remaining_valid", "Remaining valid"),
    ("distinct_certificates", "Certificates loaded"),
)


def _are(n: int) -> str:
    return "is" if n == 1 else "are"


def _n(n: int, word: str) -> str:
    return plural(n, word)


def overview(findings, refused: Iterable[Mapping] = ()) -> dict:
    """Figures, a plain-language sentence, notes and problems for the Overview page; `refused`
    uploads (`refused_uploads`) are listed among the problems first."""
    s = findings.summary
    as_of = format_time(findings.as_of) if findings.as_of is not None else None
    if s["issuances"] == 0:
        sentence = "No certificates are loaded in this data set: add some on the Data page."
    elif s["compromised_keys"] == 0:
        sentence = (
            f"Of {_n(s['issuances'], 'issuance')} on {_n(s['distinct_keys'], 'key')}, none is on a key known to be "
            "compromised (no keyCompromise revocation and no listed key matches). "
            "Load CRLs or a compromised-keys list on the Data page if this is unexpected."
        )
    else:
        sentence = (
            f"{plural(s['compromised_keys'], 'key')} {_are(s['compromised_keys'])} on record as compromised (a "
            f"keyCompromise revocation or a compromised-keys list). "
            f"{plural(s['issuances_with_compromised_keys'], 'certificate')} "
            f"{'carries' if s['issuances_with_compromised_keys'] == 1 else 'carry'} "
            f"{'that key' if s['compromised_keys'] == 1 else 'those keys'}, "
            f"{s['violating_issuances']:,} of them issued after the key's compromise time; "
            f"{s['revocation_delays']:,} {'was' if s['revocation_delays'] == 1 else 'were'} revoked more than "
            f"24 hours after {'it' if s['revocation_delays'] == 1 else 'they'} should have been, and "
            f"{s['remaining_valid']:,} {'was' if s['remaining_valid'] == 1 else 'were'} still valid as of {as_of}. "
            "These are leads for review, not verdicts: a keyCompromise reason does not prove the CA was "
            "told through its own problem-reporting procedure."
        )
    return {
        "figures": [(label, int(s[k]), k) for k, label in FIGURES],
        "summary": dict(s),
        "sentence": sentence,
        "as_of": as_of,
        "notes": list(findings.notes),
        "problems": [dict(r) for r in refused] + [p.to_dict() for p in findings.problems],
        "listed_without": list(findings.listed_keys_without_certificates),
    }


# The one marker for "no value" in every table the pages show (not None, <NA>, nan or "").
EMPTY = "—"


def _utc_text(series: pd.Series) -> pd.Series:
    return series.map(lambda v: EMPTY if pd.isna(v) else format_time(v)).astype(object)


def _text(series: pd.Series) -> pd.Series:
    """Text with `EMPTY` for a missing value."""
    return series.map(
        lambda v: EMPTY if v is None or (not isinstance(v, str) and pd.isna(v)) or v == "" else str(v)
    )


def for_display(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as the pages show it, with `EMPTY` as the one marker for a missing value.

    Text columns: None, NaN, <NA> and "" become `EMPTY`. Whole-number columns with gaps become
    text (a nullable integer column would show "None" or "<NA>"). Yes/no columns with gaps become
    "yes" / "no" / `EMPTY`. Complete numeric and boolean columns are left for the page to format.
    """
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        missing = s.isna()
        if pd.api.types.is_bool_dtype(s) and not missing.any():
            continue
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            if not missing.any():
                continue
            out[col] = s.map(
                lambda v: EMPTY if pd.isna(v) else f"{int(v)}" if float(v).is_integer() else f"{v}"
            )
            continue
        values = s[~missing]
        if len(values) and all(isinstance(v, (bool, np.bool_)) for v in values):
            out[col] = s.map(
                lambda v: (
                    EMPTY
                    if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v))
                    else ("yes" if v else "no")
                )
            )
            continue
        out[col] = s.astype(object).map(
            lambda v: (
                EMPTY if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)) or v == "" else v
            )
        )
    return out


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 certificate``, ``2 certificates``, ``1,234 keys`` (`words` for irregular plurals)."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def _join_names(value: object) -> str:
    if value is None or isinstance(value, float):
        return ""
    if isinstance(value, str):
        return value
    return "; ".join(str(v) for v in list(value))


def key_table(findings, *, compromised_only: bool = False) -> pd.DataFrame:
    """One row per SPKI with readable column names (times as ISO UTC text)."""
    k = findings.keys
    if compromised_only and len(k):
        k = k[k["key_compromised"]]
    out = pd.DataFrame(
        {
            "SPKI SHA-256": k["spki_sha256"].astype(str),
            "Key type": _text(k["key_type"]),
            "Issuances": k["issuances"].astype(int),
            "Issued after compromise": k["issued_after_compromise"].astype(int),
            "Revoked late": k["revocation_delays"].astype(int),
            "Compromised at (UTC)": _utc_text(k["compromised_at"]),
            "Compromise source": _text(k["compromise_source"].map(short_source)),
            "First issued (UTC)": _utc_text(k["first_issued"]),
            "Last issued (UTC)": _utc_text(k["last_issued"]),
            "Issuers": _text(k["issuers"].map(_join_names)),
            "Compromised": k["key_compromised"].astype(bool),
        }
    )
    return out.reset_index(drop=True)


def key_choices(findings, *, compromised_only: bool = True, limit: int = 500) -> list[tuple[str, str]]:
    """(spki, label) for a key picker: compromised keys first, at most `limit`."""
    k = findings.keys
    if compromised_only:
        k = k[k["key_compromised"]]
    k = k.head(limit)
    return [
        (
            r.spki_sha256,
            f"{r.spki_sha256[:16]}… {r.key_type}: {plural(int(r.issuances), 'certificate')}, "
            f"{int(r.issued_after_compromise):,} after compromise",
        )
        for r in k.itertuples()
    ]


def key_certificates(findings, spki: str) -> pd.DataFrame:
    """The issuances of one key, oldest first, for the Keys page."""
    iss = findings.issuances
    sub = iss[iss["spki_sha256"] == spki].sort_values("issued_at", kind="stable")
    return pd.DataFrame(
        {
            "Serial": sub["serial"].astype(str),
            "crt.sh": _text(sub["crtsh_url"]),
            "Issued (UTC)": _utc_text(sub["issued_at"]),
            "Revoked (UTC)": _utc_text(sub["revoked_at"]).replace(EMPTY, "not revoked"),
            "Reason": _text(sub["revocation_reason"]),
            "After compromise": sub["violation"].astype(bool),
            "Revoked late": sub["revocation_delay"].astype(bool),
            "Still valid": sub["remaining_valid"].astype(bool),
            "Expires (UTC)": _utc_text(sub["not_after"]),
            "Subject CN": _text(sub["subject_cn"]),
            "Issue time from": _text(sub["issue_time_basis"]),
            "Issuer": _text(sub["issuer_dn"]),
        }
    ).reset_index(drop=True)


def violations_csv(findings) -> str:
    """The `keyreuse --format csv` text (the violations)."""
    from .commands.keyreuse import write_violations_csv

    buf = io.StringIO()
    write_violations_csv(findings, buf)
    return buf.getvalue()


def findings_json(findings) -> str:
    return json.dumps(findings.to_dict(), indent=1, ensure_ascii=False) + "\n"


# --- events (issuance, revocations, compromise, the report's timeline) ------------------------


def events(findings, report: Mapping | None = None, keys: Iterable[str] | None = None) -> pd.DataFrame:
    """`analysis.timeline.build_events`: the chosen keys' data events and the report's rows."""
    from .timeline import build_events

    return build_events(findings, report, keys=keys)


def events_table(ev: pd.DataFrame) -> pd.DataFrame:
    """The events frame with readable names (times as ISO UTC text), oldest first."""
    is_report = ev["kind"] == "report"
    stated = ev["stated"].astype("string").fillna("") + ev["inferred_year"].map(
        {True: " (year inferred)"}
    ).astype("string").fillna("")
    stated = _text(stated.astype(object).where(is_report, ""))
    return pd.DataFrame(
        {
            "When (UTC)": _utc_text(ev["time"]),
            "As stated": stated,
            "Source": is_report.map({True: "report", False: "data"}),
            "Event": ev["kind"].astype(str),
            "Key": _text(ev["key"].astype("string").str.slice(0, 12)),
            "Detail": _text(ev["text"]),
            "Certificate": _text(ev["certificate"]),
            "From": _text(ev["source"].map(short_source)),
        }
    ).reset_index(drop=True)


def report_zone(report: Mapping | None) -> str | None:
    """The zone the report's timeline is written in, from the offsets it states (or None)."""
    offsets = set()
    for r in (report or {}).get("timeline") or []:
        m = re.search(r"([+-]\d\d:\d\d)$", str(r.get("when") or ""))
        if m:
            offsets.add("UTC" + m.group(1) if m.group(1) != "+00:00" else "UTC")
    if len(offsets) == 1:
        return offsets.pop()
    if offsets:
        return ", ".join(sorted(offsets))
    return None


# --- the report ------------------------------------------------------------------------------


def load_dataset_report(dataset: Dataset) -> tuple[dict | None, str | None, list[str]]:
    """(parsed report, its text, problems) for the data set's first report file, or (None, None, [])."""
    from .reports import load_report

    files = dataset.files("report")
    if not files:
        return None, None, []
    path = files[0]
    try:
        report = load_report(path)
    except InputError as exc:
        return None, None, [str(exc)]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        text = None
    return report, text, []


# Which data figure a report's stated count is compared with, by measure and field wording.
_CLAIM_FIGURES = {
    "keys": ("compromised_keys", "Compromised keys"),
    "remaining_valid": ("remaining_valid", "Remaining valid"),
}


def claimed_vs_data(report: Mapping | None, summary: Mapping) -> pd.DataFrame:
    """Each count the report's text states beside the data's figure it most likely means.

    Fields of the template are matched by meaning ("Total number of certificates" = certificates
    on compromised keys; "remaining valid"); a count in free text is compared with the figures of
    the same measure and matched when one equals it. A mismatch is a lead, not an error.
    """
    cols = ["Line", "Stated", "Data value", "Agrees", "Data figure", "Measure", "In the text"]
    rows = []
    cert_figures = [
        ("issuances_with_compromised_keys", "Certificates on compromised keys"),
        ("violating_issuances", "Issued after compromise"),
        ("revocation_delays", "Revoked late"),
        ("remaining_valid", "Remaining valid"),
    ]
    for c in (report or {}).get("counts") or []:
        measure, value, fld = c.get("measure"), c.get("value"), (c.get("field") or "")
        if measure in _CLAIM_FIGURES:
            key, label = _CLAIM_FIGURES[measure]
        elif "total number of certificates" in fld.lower():
            key, label = cert_figures[0]
        elif measure == "certificates":
            match = [(k, lbl) for k, lbl in cert_figures if summary.get(k) == value]
            if not match and summary.get("compromised_keys") == value:
                match = [("compromised_keys", "Compromised keys")]
            key, label = match[0] if match else (None, "no figure with this value")
        else:
            key, label = None, "not compared"
        data_value = summary.get(key) if key else None
        rows.append(
            {
                "Line": c.get("source_line"),
                "Stated": value,
                "Measure": measure,
                "In the text": c.get("sentence"),
                "Data figure": label,
                "Data value": data_value,
                "Agrees": None if data_value is None else bool(data_value == value),
            }
        )
    out = pd.DataFrame(rows, columns=cols)
    out["Data value"] = out["Data value"].astype("Int64")
    return out


def action_items_table(report: Mapping | None) -> pd.DataFrame:
    cols = ["Action item", "Status", "Due", "Kind", "Root cause", "Evaluation", "Updated", "Line"]
    rows = [
        {
            "Action item": a.get("item"),
            "Kind": a.get("kind"),
            "Root cause": a.get("root_cause"),
            "Evaluation": a.get("evaluation"),
            "Due": a.get("due"),
            "Status": a.get("status"),
            "Updated": bool(a.get("updated")),
            "Line": a.get("source_line"),
        }
        for a in (report or {}).get("action_items") or []
    ]
    return pd.DataFrame(rows, columns=cols)


# --- the incident corpus ----------------------------------------------------------------------


@dataclass
class CorpusViews:
    """Everything the Incidents page shows, already computed."""

    bugs: pd.DataFrame
    summary: dict
    ttc: pd.DataFrame
    deadlines: pd.DataFrame | None
    problems: list[dict] = field(default_factory=list)


def load_corpus_views(dataset: Dataset, as_of: str | None = None) -> CorpusViews | None:
    """The data set's corpus (bugs.json + bug folders) with its views, or None when it has none."""
    from . import incidents

    dirs = dataset.files("corpus")
    if not dirs:
        return None
    d = dirs[0]
    corpus = incidents.load_corpus(d / "bugs.json", d)
    # The incident's analysis time is not the corpus's: the demo corpus has its own fixed day,
    # a fetched corpus is judged as of now.
    when = as_of or (DEMO_CORPUS_AS_OF if dataset.is_demo else None)
    summary = incidents.compute_summary(corpus, as_of=when)
    ttc = incidents.time_to_close(corpus.bugs, corpus.history)
    deadlines = None
    if corpus.comments is not None and not corpus.comments.empty:
        deadlines = incidents.compute_deadlines(corpus.bugs, corpus.comments, corpus.history, as_of=when)
    return CorpusViews(
        bugs=corpus.bugs,
        summary=summary,
        ttc=ttc,
        deadlines=deadlines,
        problems=[p.to_dict() for p in corpus.problems],
    )


def filter_bugs(
    bugs: pd.DataFrame,
    *,
    cas: Iterable[str] = (),
    tags: Iterable[str] = (),
    years: tuple[int, int] | None = None,
    status: str = "all",
) -> pd.DataFrame:
    """Bugs matching every filter given (a CA / tag filter matches any of the chosen ones)."""
    m = pd.Series(True, index=bugs.index)
    cas, tags = set(cas), set(tags)
    if cas:
        m &= bugs["cas"].map(lambda v: bool(cas & set(v if len(v) else ["unknown"])))
    if tags:
        m &= bugs["tags"].map(lambda v: bool(tags & set(v)))
    if years:
        m &= bugs["year"].between(years[0], years[1])
    if status == "open":
        m &= bugs["is_open"]
    elif status == "closed":
        m &= ~bugs["is_open"]
    return bugs[m]


def bug_table(bugs: pd.DataFrame, bugzilla_url: str = "https://bugzilla.mozilla.org") -> pd.DataFrame:
    """One row per bug: "Bug" is its Bugzilla link (the page shows the bug number as the link's
    text, never a bare "open"), "Status" has the resolution beside it ("RESOLVED FIXED")."""
    ids = bugs["id"].astype(int).astype(str)
    status = bugs["status"].fillna("").astype(str)
    if "resolution" in bugs.columns:
        status = (status + " " + bugs["resolution"].fillna("").astype(str)).str.strip()
    return pd.DataFrame(
        {
            "Bug": bugzilla_url + "/show_bug.cgi?id=" + ids,
            "Status": status.replace("", EMPTY),
            "Summary": bugs["summary"].fillna("").astype(str),
            "CA": bugs["cas"].map(lambda v: ", ".join(v) if len(v) else "unknown"),
            "Tags": bugs["tags"].map(lambda v: ", ".join(v) or EMPTY),
            "Created (UTC)": _utc_text(bugs["creation_time"]),
            "Resolved (UTC)": _utc_text(bugs["resolved_at"]),
        }
    ).reset_index(drop=True)


def problems_frame(problems: Iterable[Problem | Mapping]) -> pd.DataFrame:
    rows = [p.to_dict() if isinstance(p, Problem) else dict(p) for p in problems]
    return for_display(
        pd.DataFrame(
            [{"Input": r.get("input"), "Where": r.get("position"), "Reason": r.get("reason")} for r in rows],
            columns=["Input", "Where", "Reason"],
        )
    )


# --- drafting (closure summary, lint, appendix) -----------------------------------------------


def lint_table(report: Mapping | None, summary: Mapping | None = None) -> pd.DataFrame:
    """`drafting.lint_report` findings with readable names (errors first within a line)."""
    from .drafting import lint_report

    cols = ["Line", "Severity", "Code", "Message"]
    if report is None:
        return pd.DataFrame(columns=cols)
    rows = [
        {"Line": f.get("line"), "Severity": f["severity"], "Code": f["code"], "Message": f["message"]}
        for f in lint_report(report, summary)
    ]
    out = pd.DataFrame(rows, columns=cols)
    out["Line"] = out["Line"].astype("Int64")
    return out


def closure_draft(report: Mapping | None, summary: Mapping | None) -> dict:
    """The drafted closure summary: `draft` (the dict), `markdown`, `attestation`, `open_items`."""
    from .drafting import draft_closure_summary, to_closure_markdown

    draft = draft_closure_summary(report or {}, summary)
    return {
        "draft": draft,
        "markdown": to_closure_markdown(draft),
        "attestation": bool(draft.get("attestation")),
        "open_items": list(draft.get("open_items") or []),
    }


def lint_text(text: str, summary: Mapping | None = None) -> pd.DataFrame:
    """Lint an edited closure summary (or report) text as `report lint` would."""
    from .reports import parse_report

    return lint_table(parse_report(text or ""), summary)


def appendix_csv(findings) -> tuple[str, int]:
    """(appendix text, rows): the CCADB appendix of the certificates on compromised keys.

    Below 10,000 certificates it is the CSV; from 10,000 on, the crt.sh link list (guidelines).
    """
    from .drafting import to_appendix

    rows = findings.compromised_issuances()
    return to_appendix(rows, as_of=findings.as_of), int(len(rows))


def corpus_views_filtered(
    views: CorpusViews,
    *,
    cas: Iterable[str] = (),
    tags: Iterable[str] = (),
    years: tuple[int, int] | None = None,
    status: str = "all",
) -> dict:
    """Everything the Incidents page draws for a filter: metrics, chart specs and tables."""
    from . import charts, incidents

    sub = filter_bugs(views.bugs, cas=cas, tags=tags, years=years, status=status)
    ttc = views.ttc[views.ttc["id"].isin(sub["id"])]
    dl = views.deadlines[views.deadlines["bug_id"].isin(sub["id"])] if views.deadlines is not None else None
    share = None
    if dl is not None and len(dl):
        judged = dl[dl["outcome"].isin(["kept", "missed"])]
        share = float((judged["outcome"] == "kept").mean()) if len(judged) else None
    n_closed = int((~sub["is_open"]).sum())
    if not ttc.empty:
        median_reason = None
    elif n_closed == 0:
        median_reason = "no bug in this selection is closed"
    else:
        median_reason = (
            f"{_n(n_closed, 'closed bug')} but none with a resolution time the data gives "
            "(cf_last_resolved or the history), or only INVALID/DUPLICATE ones"
        )
    if dl is None or not len(dl):
        deadline_reason = (
            "deadlines are judged from comments, and no bug in this selection has its comments loaded"
        )
    elif share is None:
        deadline_reason = (
            "no rule could be judged kept or missed yet (all pending, not applicable or unknown)"
        )
    else:
        deadline_reason = None
    out = {
        "n": int(len(sub)),
        "open": int(sub["is_open"].sum()),
        "median_days": None if ttc.empty else float(ttc["days"].median()),
        "median_reason": median_reason,
        "deadline_share": share,
        "deadline_reason": deadline_reason,
        "has_deadlines": dl is not None and len(dl) > 0,
    }
    if sub.empty:
        return out
    out.update(
        {
            "year_spec": charts.bugs_per_year(incidents.counts_by_year(sub)).to_dict(),
            "ca_spec": charts.bugs_per_category(
                incidents.counts_by_ca(sub), "ca", title="Bugs per CA", label="CA"
            ).to_dict(),
            "tag_spec": charts.bugs_per_category(
                incidents.counts_by_tag(sub), "tag", title="Bugs per whiteboard tag", label="Tag"
            ).to_dict(),
            "ttc_spec": charts.time_to_close(ttc).to_dict(),
            "deadline_spec": charts.deadline_adherence(dl).to_dict() if out["has_deadlines"] else None,
            "deadlines": None
            if not out["has_deadlines"]
            else for_display(
                dl.rename(columns={"bug_id": "Bug", "rule": "Rule", "outcome": "Outcome", "detail": "Detail"})
            ),
            "bugs": for_display(bug_table(sub)),
        }
    )
    return out


def corpus_filters(views: CorpusViews) -> dict:
    """The filter choices (years, CAs, tags present in the corpus) and the time it is judged at."""
    bugs = views.bugs
    return {
        "as_of": views.summary.get("as_of"),
        "years": sorted(int(y) for y in bugs["year"].dropna().unique()),
        "cas": sorted({c for v in bugs["cas"] for c in (v if len(v) else ["unknown"])}, key=str.casefold),
        "tags": sorted({t for v in bugs["tags"] for t in v}),
    }


# --- fetching into a workspace data set -------------------------------------------------------


def _session(offline: bool = False):
    from .sources.http import Session

    urls = {"crtsh": os.environ.get("CRTSH_URL"), "bugzilla": os.environ.get("BUGZILLA_URL")}
    return Session(cache_dir=cache_dir(), urls={k: v for k, v in urls.items() if v}, offline=offline)


@dataclass
class FetchResult:
    """One fetched item: what was asked, how many files came, and what failed."""

    item: str
    saved: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def fetch_crtsh(
    dataset: Dataset,
    queries: Iterable[tuple[str, str]],
    progress=None,
    session=None,
    *,
    offline: bool = False,
) -> list[FetchResult]:
    """Search crt.sh (("spki", HEX) or ("domain", NAME)) and save every certificate under
    ``certs/crtsh/`` with its index. `progress(done, total, text)` is called as work goes on.
    `offline` answers from the HTTP cache only (a miss is that item's error)."""
    from .errors import UpstreamError
    from .sources import crtsh

    if dataset.folder is None:
        raise InputError("crt.sh", None, "the demo data set is read-only: create a workspace data set first")
    session = session or _session(offline)
    out_dir = Path(dataset.folder) / "certs" / "crtsh"
    queries = list(queries)
    results = []
    for i, (kind, value) in enumerate(queries):
        res = FetchResult(f"{kind} {value}")
        results.append(res)
        if progress:
            progress(i, len(queries), f"crt.sh search: {kind} {value}")
        try:
            if kind == "spki":
                rows, problems = crtsh.search_spki(session, value)
            else:
                rows, problems = crtsh.search_identity(session, value)
        except (ValueError, UpstreamError) as exc:
            res.errors.append(str(exc))
            continue
        res.errors += [str(p) for p in problems]
        items = []
        records = rows.drop_duplicates("crtsh_id").to_dict("records") if len(rows) else []
        for j, row in enumerate(records):
            if progress:
                progress(
                    i + (j + 1) / max(len(records), 1),
                    len(queries),
                    f"{kind} {value}: certificate {j + 1} of {len(records)}",
                )
            try:
                pem = crtsh.fetch_pem(session, row["crtsh_id"])
            except UpstreamError as exc:
                res.errors.append(f"crt.sh id {row['crtsh_id']}: {exc}")
                continue
            items.append((pem, crtsh.row_meta(row, crtsh.pem_url(session, row["crtsh_id"]))))
        if items:
            crtsh.save_certificates(out_dir, items, rows)
        res.saved = len(items)
    if progress:
        progress(len(queries), len(queries), "done")
    return results


def fetch_bugs(
    dataset: Dataset,
    ids: Iterable[int],
    *,
    as_report: bool = False,
    progress=None,
    session=None,
    api_key: str | None = None,
    offline: bool = False,
) -> list[FetchResult]:
    """Fetch bugs (bug, comments, attachments, history) into ``corpus/<id>/`` and the bug list;
    with `as_report`, the first bug's comments also become the data set's report. `api_key` (else
    env BUGZILLA_API_KEY, as for the CLI) goes in the X-BUGZILLA-API-KEY header only, never to
    disk; `offline` answers from the cache."""
    from .errors import UpstreamError
    from .sources import bugzilla

    if dataset.folder is None:
        raise InputError(
            "Bugzilla", None, "the demo data set is read-only: create a workspace data set first"
        )
    session = session or _session(offline)
    api_key = api_key or os.environ.get("BUGZILLA_API_KEY") or None
    folder = Path(dataset.folder)
    corpus = folder / "corpus"
    ids = list(ids)
    results = []
    for i, bug_id in enumerate(ids):
        res = FetchResult(f"bug {bug_id}")
        results.append(res)
        if progress:
            progress(i, len(ids), f"Bugzilla: bug {bug_id}")
        try:
            bundle, problems = bugzilla.fetch_bug_bundle(session, bug_id, api_key=api_key, include_data=False)
        except (ValueError, UpstreamError) as exc:
            res.errors.append(str(exc))
            continue
        res.errors += [str(p) for p in problems]
        if bundle.get("bug") is None and bundle.get("comments") is None:
            continue
        _, problems = bugzilla.write_bug_dir(bundle, corpus)
        res.errors += [str(p) for p in problems]
        res.saved = sum(bundle.get(k) is not None for k in ("bug", "comments", "attachments", "history"))
        if bundle.get("bug") is not None:
            merge_bug_list(folder, [bundle["bug"]])
        if as_report and bundle.get("comments") and i == 0:
            report_dir = folder / "report"
            report_dir.mkdir(exist_ok=True)
            for old in report_dir.glob("*"):
                old.unlink()
            (report_dir / f"bug-{int(bundle['id'])}-comments.json").write_text(
                json.dumps({"comments": bundle["comments"]}, ensure_ascii=False, indent=1), encoding="utf-8"
            )
    if progress:
        progress(len(ids), len(ids), "done")
    return results


def parse_bug_ids(text: str) -> list[int]:
    """Bug numbers from free text: ``1927384, 1927385`` or Bugzilla links."""
    ids = [int(m) for m in re.findall(r"(?:id=)?\b(\d{4,9})\b", text or "")]
    return list(dict.fromkeys(ids))


def parse_crtsh_queries(text: str) -> list[tuple[str, str]]:
    """One query a line: a 64-hex SPKI SHA-256 (colons allowed) or a domain name."""
    out = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        hexed = re.sub(r"[\s:]", "", line).lower()
        out.append(("spki", hexed) if re.fullmatch(r"[0-9a-f]{64}", hexed) else ("domain", line))
    return out
