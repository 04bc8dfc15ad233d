"""A bug's comments and report files -> one report, action items merged across the comments."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import InputError
from ..safety import load_json, read_input
from .action_items import _merge_tables
from .dates import _valid_date
from .document import _parse_text, gc_paused, parse_report
from .tables import _Table
from .vocabulary import _problem

# --- a bug's comments -------------------------------------------------------------------------


def classify_comment(report: Mapping) -> str:
    """A parsed comment's kind: preliminary / full / closure / update / mixed / other."""
    return report.get("kind") or "other"


def _comment_date(comment: Mapping) -> dt.date | None:
    t = comment.get("creation_time") or comment.get("time")
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", str(t or ""))
    return _valid_date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def parse_comments(comments: Iterable[Mapping]) -> dict:
    """A bug's comments (`[{"count", "text", "creation_time", ...}]`, Bugzilla REST order) -> report.

    Adds `comments`: `[{"count", "creation_time", "creator", "kind"}]` for every comment, and
    `comment` to each row, heading, count and problem. The merged report takes sections and fields
    from the comments in order (later wins), the timeline from the last comment that has one,
    action items from every table in order (later rows supersede earlier ones), and the closure
    summary from the last comment that has one. (The garbage collector is paused meanwhile: see
    `gc_paused`.)
    """
    with gc_paused():
        return _parse_comments(comments)


def _parse_comments(comments: Iterable[Mapping]) -> dict:
    """The work of `parse_comments`."""
    index: list[dict] = []
    merged_sections: dict[str, str] = {}
    merged_fields: dict[str, str] = {}
    outline: list[dict] = []
    timeline: list[dict] = []
    tables: list[tuple[_Table, int | None, str | None]] = []
    eras: list[str] = []
    filed: str | None = None
    root_causes: list[dict] = []
    closure: dict | None = None
    counts: list[dict] = []
    problems: list[dict] = []
    kinds: list[str] = []
    for pos, c in enumerate(comments):
        count = c.get("count", pos)
        count = int(count) if count is not None else pos
        text = c.get("text") or c.get("raw_text") or ""
        day = _comment_date(c)
        p = _parse_text(str(text), year=day.year if day else None, reference=day)
        kind = p.kind or "other"
        index.append(
            {
                "count": count,
                "creation_time": c.get("creation_time"),
                "creator": c.get("creator"),
                "kind": kind,
            }
        )
        if kind == "other":
            continue  # an ordinary comment: questions, answers, chatter
        kinds.extend(p.kinds or [kind])
        merged_sections.update(p.sections)
        merged_fields.update(p.fields)
        outline += [{**h, "comment": count} for h in p.outline]
        if p.timeline:
            timeline = [{**r, "comment": count} for r in p.timeline]
        day_s = day.isoformat() if day else None
        tables += [(t, count, day_s) for t in p.tables]
        if p.era:
            eras.append(p.era)
        if filed is None and day_s and kind in ("preliminary", "full", "mixed"):
            filed = day_s
        if p.root_causes:
            root_causes = [{**r, "comment": count} for r in p.root_causes]
        if p.closure is not None:
            closure = {**p.closure, "comment": count}
        counts += [{**x, "comment": count} for x in p.counts]
        problems += [{**x, "comment": count} for x in p.problems]
    items = _merge_tables(tables, problems)
    distinct = [k for k in ("preliminary", "full", "closure") if k in kinds]
    if len(distinct) > 1:
        kind = "mixed"
    elif distinct:
        kind = distinct[0]
    elif "update" in kinds:
        kind = "update"
    else:
        kind = None
        problems.append(
            _problem(
                "report.unrecognised",
                None,
                "No comment holds an incident report, closure summary or action items",
            )
        )
    return {
        "kind": kind,
        "era": eras[0] if eras else None,
        "parts": distinct,
        "filed": filed,
        "sections": merged_sections,
        "outline": outline,
        "fields": merged_fields,
        "timeline": timeline,
        "action_items": items,
        "root_causes": root_causes,
        "closure_summary": closure,
        "counts": counts,
        "problems": problems,
        "comments": index,
    }


def _comments_from_json(obj: object) -> list[dict] | None:
    """Bugzilla comment JSON in the shapes we meet: a list, {"comments": [...]}, the REST answer."""
    if isinstance(obj, list) and all(isinstance(c, dict) and "text" in c for c in obj):
        return obj
    if isinstance(obj, dict):
        if isinstance(obj.get("comments"), list):
            return _comments_from_json(obj["comments"])
        bugs = obj.get("bugs")
        if isinstance(bugs, dict) and len(bugs) == 1:
            inner = next(iter(bugs.values()))
            if isinstance(inner, dict):
                return _comments_from_json(inner.get("comments"))
    return None


# A report file larger than this is not read: the parser is linear (about 2 MB/s; 50 MB in
# seconds), so the cap is about memory and time, not the parser's shape.
MAX_REPORT_FILE_BYTES = 64 << 20


def load_report(path: str | Path, *, limit: int | None = None) -> dict:
    """Read a report file: text/markdown, or Bugzilla comments JSON (a list or the REST answer).

    Raises InputError naming the file when it is not a regular file (a FIFO, a device, a folder:
    never opened, so reading cannot block), cannot be read, is larger than `limit` bytes
    (default MAX_REPORT_FILE_BYTES), cannot be decoded, or is JSON nested too deeply to read.
    """
    label = str(path)
    data = read_input(path, MAX_REPORT_FILE_BYTES if limit is None else limit)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise InputError(label, None, "not a text file (neither UTF-8 nor Windows-1252)") from exc
    if "\x00" in text:
        raise InputError(label, None, "not a text file (contains NUL bytes)")
    stripped = text.lstrip()
    if stripped[:1] in "[{":
        try:
            comments = _comments_from_json(load_json(stripped))
        except json.JSONDecodeError:
            comments = None  # not JSON after all: a text that starts with a bracket
        except ValueError as exc:  # JSON too deep (or a number too long) for Python's parser
            reason = str(exc).removeprefix("JSON ")  # "JSON nested too deeply to read"
            raise InputError(label, None, f"not JSON: {reason}") from None
        if comments is not None:
            return parse_comments(comments)
    return parse_report(text)
