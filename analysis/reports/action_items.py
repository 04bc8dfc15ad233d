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


# Matching an update to an earlier item: by its number when both carry one, else by text. Fuzzy
# matching compares against a bounded number of items and characters, so hostile tables stay linear.
_FUZZY_ITEMS = 300
_FUZZY_CHARS = 400
_SIMILAR = 0.85


def _match(
    items: list[dict], keys: dict[str, int], new: Mapping, ids: dict[str, int] | None = None
) -> tuple[int, dict] | None:
    """(index of the earlier item `new` updates, the match shown to users) or None. `keys` and
    `ids` index the items by text key and by number, so exact matches cost one lookup."""
    idn, kn = _item_key(new)
    if idn and ids is not None and idn in ids:
        old = items[ids[idn]]
        return ids[idn], {"by": "number", "score": 1.0, "item": old["item"]}
    if idn and new.get("_prose") and 1 <= int(idn) <= len(items):
        # "Action Item 2 is complete" about an unnumbered table: its second item
        old = items[int(idn) - 1]
        return int(idn) - 1, {"by": "number", "score": 1.0, "item": old["item"]}
    if not kn:
        return None
    if kn in keys:
        return keys[kn], {"by": "text", "score": 1.0, "item": items[keys[kn]]["item"]}
    if len(items) > _FUZZY_ITEMS:
        return None
    best: tuple[float, int] | None = None
    a = kn[:_FUZZY_CHARS]
    for i, old in enumerate(items):
        ido, ko = _item_key(old)
        if not ko or (idn and ido):
            continue
        b = ko[:_FUZZY_CHARS]
        if min(len(a), len(b)) >= 20 and (a.startswith(b) or b.startswith(a)):
            score = 0.95
        else:
            sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
            if sm.real_quick_ratio() < _SIMILAR or sm.quick_ratio() < _SIMILAR:
                continue
            score = sm.ratio()
        if score >= _SIMILAR and (best is None or score > best[0]):
            best = (score, i)
    if best is None:
        return None
    return best[1], {"by": "text", "score": round(best[0], 2), "item": items[best[1]]["item"]}


def _row_to_item(row: Mapping, problems: list[dict], comment: int | None) -> dict:
    status_text = row.get("status") or ""
    kind_text = row.get("kind") or ""
    if not status_text and normalise_kind(kind_text) is None and normalise_status(kind_text):
        status_text, kind_text = kind_text, ""  # a status word in the Kind column
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
        "kind": normalise_kind(kind_text),
        "root_cause": (row.get("root_cause") or "").strip() or None,
        "evaluation": (row.get("evaluation") or "").strip() or None,
        "due": None if due.lower() in _EMPTY_CELL else due,
        "status": status,
        "updated": False,
        "source_line": row["source_line"],
        "_id": row.get("id"),
        "_prose": bool(row.get("prose")),
    }
    if comment is not None:
        item["comment"] = comment
    return item


def _history_entry(item: Mapping, date: str | None, matched: dict | None) -> dict:
    return {
        "status": item["status"],
        "source_line": item["source_line"],
        "comment": item.get("comment"),
        "date": date,
        "matched": matched,
    }


def _merge_tables(
    tables: Iterable[tuple[_Table, int | None] | tuple[_Table, int | None, str | None]],
    problems: list[dict],
) -> list[dict]:
    """Rows of later tables update the earlier item they name (by number, else by text similarity;
    the match is kept in the item's history); new items are appended. Each item keeps the history
    of its statuses (line, comment, comment date) and its latest known status."""
    items: list[dict] = []
    keys: dict[str, int] = {}
    ids: dict[str, int] = {}
    first = True
    for entry in tables:
        table, comment = entry[0], entry[1]
        date = entry[2] if len(entry) > 2 else None  # type: ignore[misc]
        for row in table.rows:
            new = _row_to_item(row, problems, comment)
            hit = None if first else _match(items, keys, new, ids)
            if hit is None and new["_prose"]:
                continue  # a prose mention of an item we do not know: nothing to update
            if hit is None:
                new["history"] = [_history_entry(new, date, None)]
                items.append(new)
                ident, text_key = _item_key(new)
                keys.setdefault(text_key, len(items) - 1)
                if ident:
                    ids.setdefault(ident, len(items) - 1)
                continue
            i, matched = hit
            old = items[i]
            for k in ("kind", "root_cause", "evaluation", "due", "_id"):
                if new[k] is None:
                    new[k] = old[k]
            new["history"] = old["history"]  # appended in place: a thousand updates stay linear
            new["history"].append(_history_entry(new, date, matched))
            if new["status"] is None:
                new["status"] = old["status"]  # a row without a status does not erase the last one
            new["item"] = old["item"] if len(old["item"]) > len(new["item"]) else new["item"]
            new["updated"] = True
            items[i] = new
        if table.rows:
            first = False
    for item in items:
        del item["_id"]
        item.pop("_prose", None)
    return items
