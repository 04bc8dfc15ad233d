"""Action items: status and kind words, and items merged across the bug with their status history."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

from .tables import _EMPTY_CELL, _Table
from .vocabulary import _key, _problem

# --- statuses and kinds -----------------------------------------------------------------------

_STATUS_WORDS = [
    (r"cancel+ed|cancel+ation|withdrawn|dropped|won'?t\s+do|not\s+pursued|abandoned", "Canceled"),
    (r"delayed|overdue|late", "Delayed"),
    (r"complete[d]?|done|finished|implemented|deployed|closed|resolved|fixed", "Complete"),
    (
        r"ongoing|in[\s-]progress|open|pending|planned|not\s+started|started|underway|scheduled|wip|"
        r"investigating|in\s+review",
        "Ongoing",
    ),
]
_STATUS_RE = re.compile(
    "|".join(rf"(?P<s{i}>\b(?:{pat})\b)" for i, (pat, _) in enumerate(_STATUS_WORDS)), re.IGNORECASE
)


def normalise_status(text: str | None) -> str | None:
    """Ongoing / Complete / Delayed / Canceled from what a CA wrote; the leftmost status word wins."""
    if not text:
        return None
    m = _STATUS_RE.search(text)
    if not m:
        return None
    for i, (_, name) in enumerate(_STATUS_WORDS):
        if m.group(f"s{i}"):
            return name
    return None  # pragma: no cover


def normalise_kind(text: str | None) -> str | None:
    """Prevent / Detect / Mitigate (several joined by ", "), or None when none is named."""
    if not text:
        return None
    found = []
    for m in re.finditer(r"\b(prevent|detect|mitigat)\w*", text, re.IGNORECASE):
        name = {"prevent": "Prevent", "detect": "Detect", "mitigat": "Mitigate"}[m.group(1).lower()]
        if name not in found:
            found.append(name)
    return ", ".join(found) or None


def _item_key(item: Mapping) -> tuple[str | None, str]:
    text = item.get("item") or ""
    ident = item.get("_id")
    m = re.match(r"^\s*(?:#|ai[-\s]?|item\s+)?(\d+)[.):\-\s]+", text, re.IGNORECASE)
    if not ident and m:
        ident = m.group(1)
        text = text[m.end() :]
    ident = re.sub(r"\D", "", ident or "") or None
    return ident, _key(text)


def _same_item(a: Mapping, b: Mapping) -> bool:
    ida, ka = _item_key(a)
    idb, kb = _item_key(b)
    if ida and idb:
        return ida == idb
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    if min(len(ka), len(kb)) >= 20 and (ka.startswith(kb) or kb.startswith(ka)):
        return True
    return difflib.SequenceMatcher(None, ka, kb).ratio() >= 0.85


def _row_to_item(row: Mapping, problems: list[dict], comment: int | None) -> dict:
    status_text = row.get("status") or ""
    status = normalise_status(status_text)
    if status_text and _key(status_text) and status is None and _key(status_text) not in _EMPTY_CELL:
        problems.append(
            _problem(
                "action_item.unknown_status",
                row["source_line"],
                f"Action item status {status_text!r} is not Ongoing, Complete, Delayed or Canceled",
            )
        )
    due = (row.get("due") or "").strip()
    item = {
        "item": row.get("item") or "",
        "kind": normalise_kind(row.get("kind")),
        "root_cause": (row.get("root_cause") or "").strip() or None,
        "evaluation": (row.get("evaluation") or "").strip() or None,
        "due": None if due.lower() in _EMPTY_CELL else due,
        "status": status,
        "updated": False,
        "source_line": row["source_line"],
        "_id": row.get("id"),
    }
    if comment is not None:
        item["comment"] = comment
    return item


def _merge_tables(tables: Iterable[tuple[_Table, int | None]], problems: list[dict]) -> list[dict]:
    """Rows of later tables supersede the earlier row for the same item; new items are appended."""
    items: list[dict] = []
    first = True
    for table, comment in tables:
        for row in table.rows:
            new = _row_to_item(row, problems, comment)
            if first:
                items.append(new)
                continue
            for i, old in enumerate(items):
                if _same_item(old, new):
                    for k in ("kind", "root_cause", "evaluation", "due"):
                        if new[k] is None:
                            new[k] = old[k]
                    new["updated"] = True
                    items[i] = new
                    break
            else:
                items.append(new)
        if table.rows:
            first = False
    for item in items:
        del item["_id"]
    return items
