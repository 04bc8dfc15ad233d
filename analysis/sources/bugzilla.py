"""Bugzilla REST (bugzilla.mozilla.org): one bug with its comments, attachments (base64 decoded
on request) and history, and the CA Certificate Compliance corpus search.

On disk, `write_bug_dir` keeps the REST shapes so anything that reads Bugzilla's answers reads
ours::

    DIR/<id>/bug.json          {"bugs": [bug]}                              GET /rest/bug/<id>
    DIR/<id>/comments.json     {"bugs": {"<id>": {"comments": [...]}}}     GET /rest/bug/<id>/comment
    DIR/<id>/history.json      {"bugs": [{"id", "alias", "history": [...]}]} GET /rest/bug/<id>/history
    DIR/<id>/attachments.json  {"bugs": {"<id>": [...]}} (data in base64)   GET /rest/bug/<id>/attachment
    DIR/<id>/attachments/<attachment id>-<file name>   each attachment decoded

and `write_bugs_file` writes the corpus as ``{"bugs": [...]}`` (the search answer's shape) plus a
``"ca_incidents"`` object with the watermark for the next incremental run.

An API key, if given, travels only in the ``X-BUGZILLA-API-KEY`` header: never in a URL, the cache
key, a log line or an error message.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
from pathlib import Path

from ..errors import Problem, UpstreamError
from ..formats import UTC, parse_time
from ..safety import confined, load_json, replace_file, safe_name, write_inside
from .http import Answer, InvalidAnswer, Session, UpstreamProblem, expect_json

COMPONENT = "CA Certificate Compliance"
CORPUS_FIELDS = (
    "id",
    "summary",
    "status",
    "resolution",
    "whiteboard",
    "creation_time",
    "last_change_time",
    "cf_last_resolved",
    "creator",
    "assigned_to",
)
PAGE_SIZE = 500
MAX_PAGES = 200  # a corpus search stops here (100,000 bugs at PAGE_SIZE; the real one has ~3,000)
API_KEY_HEADER = "X-BUGZILLA-API-KEY"


def _headers(api_key: str | None) -> dict[str, str]:
    return {API_KEY_HEADER: api_key} if api_key else {}


def _expect_rest(answer: Answer) -> None:
    expect_json(answer)
    data = answer.json()
    if not isinstance(data, dict):
        raise InvalidAnswer(f"expected a JSON object, got {type(data).__name__}", retry=False)
    if data.get("error"):
        raise InvalidAnswer(f"Bugzilla error {data.get('code')}: {data.get('message')}", retry=False)


def _get(session: Session, path: str, *, params=None, api_key: str | None = None, kind: str = "bug") -> dict:
    url = f"{session.base_url('bugzilla')}/rest/{path}"
    return session.get(url, params=params, kind=kind, headers=_headers(api_key), validate=_expect_rest).json()


def _bug_id(bug_id: object) -> int:
    text = str(bug_id).strip()
    if isinstance(bug_id, bool) or not (text.isascii() and text.isdigit()):
        raise ValueError(f"not a bug number: {bug_id!r}")
    n = int(text)
    if n <= 0:
        raise ValueError(f"not a bug number: {bug_id!r}")
    return n


def bug_number(value: object) -> int | None:
    """A bug or attachment id from an answer or a file as a positive int; None when it is not one."""
    try:
        return _bug_id(value)
    except ValueError:
        return None


def fetch_bug(session: Session, bug_id: int, *, api_key: str | None = None) -> dict:
    """The bug object (every field Bugzilla returns by default). Raises UpstreamError."""
    n = _bug_id(bug_id)
    data = _get(session, f"bug/{n}", api_key=api_key)
    bugs = data.get("bugs")
    if not isinstance(bugs, list) or not bugs or not isinstance(bugs[0], dict):
        raise UpstreamError(
            f"{session.base_url('bugzilla')}/rest/bug/{n}", 200, reason="no bug in the answer"
        )
    return bugs[0]


def fetch_comments(session: Session, bug_id: int, *, api_key: str | None = None) -> list[dict]:
    """The comments in order; count 0 is the description."""
    n = _bug_id(bug_id)
    data = _get(session, f"bug/{n}/comment", api_key=api_key)
    try:
        return list(data["bugs"][str(n)]["comments"])
    except (KeyError, TypeError):
        raise UpstreamError(
            f"{session.base_url('bugzilla')}/rest/bug/{n}/comment",
            200,
            reason="no comments object for the bug",
        ) from None


def fetch_attachments(
    session: Session, bug_id: int, *, api_key: str | None = None, include_data: bool = True
) -> list[dict]:
    """The attachments in REST shape (``data`` in base64 unless include_data=False)."""
    n = _bug_id(bug_id)
    params = None if include_data else {"exclude_fields": "data"}
    data = _get(session, f"bug/{n}/attachment", params=params, api_key=api_key)
    try:
        return list(data["bugs"][str(n)])
    except (KeyError, TypeError):
        raise UpstreamError(
            f"{session.base_url('bugzilla')}/rest/bug/{n}/attachment",
            200,
            reason="no attachment list for the bug",
        ) from None


def fetch_history(session: Session, bug_id: int, *, api_key: str | None = None) -> list[dict]:
    """The change history: [{when, who, changes: [{field_name, removed, added}]}]."""
    n = _bug_id(bug_id)
    data = _get(session, f"bug/{n}/history", api_key=api_key)
    for entry in data.get("bugs") or []:
        if isinstance(entry, dict) and bug_number(entry.get("id", n)) == n:
            return list(entry.get("history") or [])
    raise UpstreamError(
        f"{session.base_url('bugzilla')}/rest/bug/{n}/history", 200, reason="no history for the bug"
    )


def attachment_bytes(attachment: dict) -> bytes:
    """The decoded content of an attachment in REST shape. Raises ValueError when the data is
    missing, not base64, or not of the stated size."""
    data = attachment.get("data")
    if data is None:
        raise ValueError(f"attachment {attachment.get('id')} has no data (listed with exclude_fields=data?)")
    try:
        content = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"attachment {attachment.get('id')}: data is not base64 ({exc})") from None
    size = attachment.get("size")
    if isinstance(size, int) and size != len(content):
        raise ValueError(f"attachment {attachment.get('id')}: {len(content)} bytes decoded, size says {size}")
    return content


SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".tsv")
SPREADSHEET_TYPES = ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def is_spreadsheet(attachment: dict) -> bool:
    name = str(attachment.get("file_name") or "").lower()
    return name.endswith(SPREADSHEET_SUFFIXES) or attachment.get("content_type") in SPREADSHEET_TYPES


def attachment_spreadsheets(
    bundle: dict, *, issuer: str | None = None
) -> tuple[list[tuple[dict, object]], list[Problem]]:
    """The bug's xlsx/csv attachments (not obsolete), decoded and read by the incident-spreadsheet
    loader: [(attachment metadata, SpreadsheetResult)] and the attachments that could not be read."""
    from .spreadsheets import load_spreadsheet

    out, problems = [], []
    for att in bundle.get("attachments") or []:
        if att.get("is_obsolete") or not is_spreadsheet(att) or att.get("data") is None:
            continue
        label = f"bug {bundle.get('id')} attachment {att.get('id')} ({att.get('file_name')})"
        try:
            content = attachment_bytes(att)
        except ValueError as exc:
            problems.append(Problem(label, None, str(exc)))
            continue
        result = load_spreadsheet(content, source=label, issuer=issuer)
        out.append(({k: v for k, v in att.items() if k != "data"}, result))
        problems.extend(result.problems)
    return out, problems


def fetch_bug_bundle(
    session: Session, bug_id: int, *, api_key: str | None = None, include_data: bool = True
) -> tuple[dict, list[Problem]]:
    """Bug, comments, attachments and history of one bug: ``{"id", "bug", "comments",
    "attachments", "history"}``. A part that fails is left out (None) and reported as an
    UpstreamProblem; the other parts are still returned."""
    n = _bug_id(bug_id)
    bundle: dict = {"id": n, "bug": None, "comments": None, "attachments": None, "history": None}
    problems: list[Problem] = []
    parts = (
        ("bug", lambda: fetch_bug(session, n, api_key=api_key)),
        ("comments", lambda: fetch_comments(session, n, api_key=api_key)),
        ("attachments", lambda: fetch_attachments(session, n, api_key=api_key, include_data=include_data)),
        ("history", lambda: fetch_history(session, n, api_key=api_key)),
    )
    for name, call in parts:
        try:
            bundle[name] = call()
        except UpstreamError as exc:
            problems.append(UpstreamProblem.from_error(exc, f"bug {n} {name}"))
    return bundle, problems


def _write_json(path: Path, obj: object, *, confine: bool = True) -> None:
    """Write JSON atomically; `confine` (paths built from Bugzilla data) also follows no link."""
    text = json.dumps(obj, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if confine:
        write_inside(path.parent, path.name, text.encode("utf-8"))
        return
    replace_file(path, text.encode("utf-8"))


def write_bug_dir(bundle: dict, out_dir: str | os.PathLike) -> tuple[Path, list[Problem]]:
    """Write `bundle` (from `fetch_bug_bundle`) under ``out_dir/<id>/`` in the REST shapes (parts
    that are None are not written). Returns the folder and the attachments that could not be
    decoded or written. Every path is built from sanitised names and checked to stay in `out_dir`
    (a symlink inside it pointing elsewhere is refused too)."""
    n = _bug_id(bundle["id"])
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    folder = confined(out_dir, str(n))
    folder.mkdir(exist_ok=True)
    problems: list[Problem] = []
    if bundle.get("bug") is not None:
        _write_json(folder / "bug.json", {"bugs": [bundle["bug"]], "faults": []})
    if bundle.get("comments") is not None:
        _write_json(
            folder / "comments.json", {"bugs": {str(n): {"comments": bundle["comments"]}}, "comments": {}}
        )
    if bundle.get("history") is not None:
        alias = (bundle.get("bug") or {}).get("alias")
        _write_json(
            folder / "history.json", {"bugs": [{"id": n, "alias": alias, "history": bundle["history"]}]}
        )
    if bundle.get("attachments") is not None:
        _write_json(folder / "attachments.json", {"bugs": {str(n): bundle["attachments"]}, "attachments": {}})
        files = folder / "attachments"
        for att in bundle["attachments"]:
            if att.get("data") is None:
                continue
            try:
                content = attachment_bytes(att)
            except ValueError as exc:
                problems.append(
                    Problem(str(folder / "attachments.json"), f"attachment {att.get('id')}", str(exc))
                )
                continue
            name = f"{safe_name(att.get('id'), 'attachment')}-{safe_name(att.get('file_name'), 'attachment')}"
            try:
                files.mkdir(exist_ok=True)
                target = confined(folder, "attachments", name)
            except (ValueError, OSError) as exc:
                problems.append(
                    Problem(str(folder / "attachments.json"), f"attachment {att.get('id')!r}", str(exc))
                )
                continue
            write_inside(target.parent, target.name, content)
    return folder, problems


# --- the corpus ---------------------------------------------------------------------------------


def format_since(value: str | dt.datetime | dt.date) -> str:
    """A time or date as Bugzilla's search wants it: ``YYYY-MM-DDTHH:MM:SSZ`` (UTC)."""
    if isinstance(value, dt.datetime):
        when = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, dt.date):
        when = dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
    else:
        when = parse_time(str(value))
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def search_bugs(
    session: Session,
    *,
    since: str | dt.datetime | dt.date | None = None,
    component: str = COMPONENT,
    fields: tuple[str, ...] = CORPUS_FIELDS,
    page_size: int | None = None,
    api_key: str | None = None,
    progress: bool | None = None,
    max_pages: int | None = None,
) -> tuple[list[dict], list[Problem]]:
    """Every bug in `component` (any product: older ones were filed under NSS), ordered by id,
    paged with limit/offset (`page_size`, default PAGE_SIZE); with `since`, only bugs changed at or after it.

    Returns the bugs (each id once) and the problems: an UpstreamProblem when a page failed, when
    a page brought no bug not seen before (a server repeating itself) or after `max_pages` pages
    (default MAX_PAGES),
    in which case the bugs are the pages before it. A bug whose id is not a number is skipped and
    reported.
    """
    from tqdm import tqdm

    page_size = page_size or PAGE_SIZE
    max_pages = max_pages or MAX_PAGES
    params: dict[str, object] = {
        "component": component,
        "include_fields": ",".join(fields),
        "order": "bug_id",
        "limit": page_size,
    }
    if since is not None:
        params["last_change_time"] = format_since(since)
    bugs: dict[int, dict] = {}
    problems: list[Problem] = []
    offset = 0
    pages = 0
    base = session.base_url("bugzilla")
    bar = tqdm(desc="Bugzilla bugs", unit="bug", disable=None if progress is None else not progress)
    try:
        while True:
            if pages >= max_pages:
                problems.append(
                    UpstreamProblem(
                        base, f"offset {offset}", f"stopped after {pages} pages; the search did not end"
                    )
                )
                break
            pages += 1
            try:
                data = _get(
                    session, "bug", params={**params, "offset": offset}, api_key=api_key, kind="search"
                )
            except UpstreamError as exc:
                problems.append(UpstreamProblem.from_error(exc, f"offset {offset}"))
                break
            page = data.get("bugs")
            if not isinstance(page, list):
                problems.append(
                    UpstreamProblem(session.base_url("bugzilla"), f"offset {offset}", "no bugs list")
                )
                break
            if not page:
                break
            new = 0
            for k, bug in enumerate(page):
                n = bug_number(bug.get("id")) if isinstance(bug, dict) else None
                if n is None:
                    shown = bug.get("id") if isinstance(bug, dict) else bug
                    problems.append(
                        Problem(
                            base,
                            f"offset {offset + k}",
                            f"bug id {str(shown)[:40]!r} is not a number; skipped",
                        )
                    )
                    continue
                new += n not in bugs
                bugs[n] = bug
            if not new:
                problems.append(
                    UpstreamProblem(
                        base, f"offset {offset}", "the page repeats bugs already fetched; the search stopped"
                    )
                )
                break
            bar.update(len(page))
            offset += len(page)
    finally:
        bar.close()
    return [bugs[k] for k in sorted(bugs)], problems


WATERMARK_KEY = "ca_incidents"


def read_bugs_file(
    path: str | os.PathLike, problems: list[Problem] | None = None
) -> tuple[list[dict], str | None]:
    """The bugs of a file written by `write_bugs_file` (or any ``{"bugs": [...]}``) and the time
    from which the next incremental search should start (None: fetch everything).

    Raises OSError or ValueError for a file that is not such an object; a bug whose id is not a
    number is left out and reported in `problems`."""
    data = load_json(Path(path).read_bytes())
    if not isinstance(data, dict) or not isinstance(data.get("bugs", []), list):
        raise ValueError('not a {"bugs": [...]} object')
    bugs = []
    for k, b in enumerate(data.get("bugs", [])):
        if isinstance(b, dict) and "id" in b:
            if bug_number(b["id"]) is None:
                if problems is not None:
                    problems.append(
                        Problem(
                            str(path),
                            f"bug {k + 1}",
                            f"bug id {str(b['id'])[:40]!r} is not a number; left out",
                        )
                    )
                continue
            bugs.append(b)
    meta = data.get(WATERMARK_KEY) or {}
    if not isinstance(meta, dict):
        meta = {}
    watermark = meta.get("watermark")
    if watermark is not None and not isinstance(watermark, str):
        raise ValueError(f"watermark {str(watermark)[:40]!r} is not a time")
    if watermark is None and bugs and WATERMARK_KEY not in data:
        times = [b.get("last_change_time") for b in bugs if isinstance(b.get("last_change_time"), str)]
        watermark = max(times) if times else None
    return bugs, watermark


def merge_bugs(old: list[dict], new: list[dict]) -> list[dict]:
    """Bugs by id, a newer answer replacing an older one; ordered by id."""
    by_id = {int(b["id"]): b for b in old}
    by_id.update({int(b["id"]): b for b in new})  # ids checked by search_bugs / read_bugs_file
    return [by_id[k] for k in sorted(by_id)]


def write_bugs_file(
    path: str | os.PathLike, bugs: list[dict], *, watermark: str | None, complete: bool
) -> Path:
    """Write ``{"bugs": [...], "ca_incidents": {"watermark", "complete"}}``. `watermark` is where
    the next incremental search starts: the latest last_change_time of a complete fetch, or the
    `since` of an incomplete one (so nothing on a failed page is skipped next time)."""
    p = Path(path)
    if p.parent and not p.parent.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
    # the user's own --out FILE: written where they asked, as before
    _write_json(
        p, {"bugs": bugs, WATERMARK_KEY: {"watermark": watermark, "complete": complete}}, confine=False
    )
    return p


def next_watermark(bugs: list[dict], since: str | None, complete: bool) -> str | None:
    if not complete:
        return since
    times = [b.get("last_change_time") for b in bugs if isinstance(b.get("last_change_time"), str)]
    return max(times) if times else since
