"""Action items: status and kind words, and items merged across the bug with their status history."""

from __future__ import annotations

import difflib
import functools
import re
from collections import Counter
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


@functools.lru_cache(maxsize=4096)  # status and kind cells repeat ("Ongoing", "Prevent"): one look-up
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


_KIND_RE = re.compile(r"\b(prevent|detect|mitigat)\w*", re.IGNORECASE)
_KIND_NAMES = {"p": "Prevent", "d": "Detect", "m": "Mitigate"}


@functools.lru_cache(maxsize=4096)
def normalise_kind(text: str | None) -> str | None:
    """Prevent / Detect / Mitigate (several joined by ", "), or None when none is named."""
    if not text:
        return None
    found = []
    for m in _KIND_RE.finditer(text):
        # by the first letter: IGNORECASE also matches "ı" (dotless i), which lower() keeps
        name = _KIND_NAMES[m.group(1)[0].lower()]
        if name not in found:
            found.append(name)
    return ", ".join(found) or None


def _item_key(item: Mapping) -> tuple[str | None, str]:
    text = item.get("item") or ""
    ident = item.get("_id")
    m = _ITEM_NUMBER.match(text)
    if not ident and m:
        ident = m.group(1)
        text = text[m.end() :]
    ident = _NON_DIGITS.sub("", ident or "") or None
    return ident, _key(text)


_ITEM_NUMBER = re.compile(r"^\s*(?:#|ai[-\s]?|item\s+)?(\d+)[.):\-\s]+", re.IGNORECASE)
_NON_DIGITS = re.compile(r"\D")


# Matching an update to an earlier item: by its number when both carry one, else by text. Fuzzy
# matching compares against a bounded number of items and characters, and a bug has a budget of
# comparisons in all, so a table repeated thousands of times stays linear: past the budget only
# exact text and number matches are made, and one problem says so.
_FUZZY_ITEMS = 300
_FUZZY_CHARS = 400
_SIMILAR = 0.85
_FUZZY_COMPARISONS = 100_000  # earlier items looked at, per bug
_FUZZY_RATIOS = 1_000  # full SequenceMatcher.ratio runs per bug (up to ~5 ms each on 400 chars)


class _Matcher:
    """The items merged so far, indexed by text key and by number, with what fuzzy matching needs
    of each item computed once (its key, length and character counts) and the bug's budget."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        self.keys: dict[str, int] = {}
        self.ids: dict[str, int] = {}
        self._fuzzy: list[tuple[str | None, str, Counter | None]] = []  # per item: (id, key[:400], counts)
        self.comparisons = 0
        self.ratios = 0
        self.exhausted = False

    def add(self, item: dict, key: tuple[str | None, str]) -> None:
        """Append `item`, whose `_item_key` is `key`."""
        ident, text_key = key
        self.items.append(item)
        self._fuzzy.append((ident, text_key[:_FUZZY_CHARS], None))
        self.keys.setdefault(text_key, len(self.items) - 1)
        if ident:
            self.ids.setdefault(ident, len(self.items) - 1)

    def replace(self, i: int, item: dict, key: tuple[str | None, str]) -> None:
        """Item `i` is now `item` (an update of it), whose `_item_key` is `key`."""
        self.items[i] = item
        self._fuzzy[i] = (key[0], key[1][:_FUZZY_CHARS], None)

    def match(self, new: Mapping, key: tuple[str | None, str]) -> tuple[int, dict] | None:
        """(index of the earlier item `new` updates, the match shown to users) or None; `key` is
        `_item_key(new)`. Sets `exhausted` when a similar-text pass was needed but the bug's budget
        is used up."""
        items = self.items
        idn, kn = key
        if idn and idn in self.ids:
            old = items[self.ids[idn]]
            return self.ids[idn], {"by": "number", "score": 1.0, "item": old["item"]}
        if idn and new.get("_prose") and 1 <= int(idn) <= len(items):
            # "Action Item 2 is complete" about an unnumbered table: its second item
            old = items[int(idn) - 1]
            return int(idn) - 1, {"by": "number", "score": 1.0, "item": old["item"]}
        if not kn:
            return None
        if kn in self.keys:
            i = self.keys[kn]
            return i, {"by": "text", "score": 1.0, "item": items[i]["item"]}
        if len(items) > _FUZZY_ITEMS:
            return None
        if (
            self.exhausted
            or self.comparisons + len(items) > _FUZZY_COMPARISONS
            or self.ratios >= _FUZZY_RATIOS
        ):
            self.exhausted = True
            return None
        self.comparisons += len(items)
        return self._fuzzy_match(idn, kn[:_FUZZY_CHARS])

    def _fuzzy_match(self, idn: str | None, a: str) -> tuple[int, dict] | None:
        # Cheapest test first; the length and character-count tests are difflib's own upper bounds
        # (real_quick_ratio, quick_ratio), computed from values kept per item, so they never reject
        # a pair that ratio() would accept.
        best: tuple[float, int] | None = None
        la = len(a)
        counts_a: Counter | None = None
        for i, (ido, b, counts_b) in enumerate(self._fuzzy):
            if not b or (idn and ido):
                continue
            lb = len(b)
            if min(la, lb) >= 20 and (a.startswith(b) or b.startswith(a)):
                score = 0.95
            else:
                if 2.0 * min(la, lb) / (la + lb) < _SIMILAR:
                    continue
                if counts_a is None:
                    counts_a = Counter(a)
                if counts_b is None:
                    counts_b = Counter(b)
                    self._fuzzy[i] = (ido, b, counts_b)
                common = sum(min(n, counts_b[c]) for c, n in counts_a.items() if c in counts_b)
                if 2.0 * common / (la + lb) < _SIMILAR:
                    continue
                self.ratios += 1
                score = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
            if score >= _SIMILAR and (best is None or score > best[0]):
                best = (score, i)
        if best is None:
            return None
        return best[1], {"by": "text", "score": round(best[0], 2), "item": self.items[best[1]]["item"]}


def _row_to_item(row: Mapping, problems: list[dict], comment: int | None) -> dict:
    status_text = row.get("status") or ""
    kind_text = row.get("kind") or ""
    if not status_text and normalise_kind(kind_text) is None and normalise_status(kind_text):
        status_text, kind_text = kind_text, ""  # a status word in the Kind column
    status = normalise_status(status_text)
    if status is None and status_text and _key(status_text) and _key(status_text) not in _EMPTY_CELL:
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


def _budget_problem(row: Mapping, matcher: _Matcher) -> dict:
    problem = _problem(
        "action_item.match_budget",
        row["source_line"],
        f"Action items: similar-text matching stopped here, its budget for one bug used up "
        f"({matcher.comparisons:,} of {_FUZZY_COMPARISONS:,} comparisons, {matcher.ratios:,} of "
        f"{_FUZZY_RATIOS:,} similarity scores); later rows update an earlier item only when they "
        "name it by number or by the same text",
    )
    if row.get("comment") is not None:
        problem["comment"] = row["comment"]
    return problem


def _merge_tables(
    tables: Iterable[tuple[_Table, int | None] | tuple[_Table, int | None, str | None]],
    problems: list[dict],
) -> list[dict]:
    """Rows of later tables update the earlier item they name (by number, else by text similarity;
    the match is kept in the item's history); new items are appended. Each item keeps the history
    of its statuses (line, comment, comment date) and its latest known status."""
    matcher = _Matcher()
    budget_said = False
    items = matcher.items
    first = True
    for entry in tables:
        table, comment = entry[0], entry[1]
        date = entry[2] if len(entry) > 2 else None  # type: ignore[misc]
        for row in table.rows:
            new = _row_to_item(row, problems, comment)
            key = _item_key(new)
            hit = None if first else matcher.match(new, key)
            if matcher.exhausted and not budget_said:
                budget_said = True
                problems.append(_budget_problem(new, matcher))
            if hit is None and new["_prose"]:
                continue  # a prose mention of an item we do not know: nothing to update
            if hit is None:
                new["history"] = [_history_entry(new, date, None)]
                matcher.add(new, key)
                continue
            i, matched = hit
            old = items[i]
            keyed = (new["item"], new["_id"])  # what `key` was computed from
            for k in ("kind", "root_cause", "evaluation", "due", "_id"):
                if new[k] is None:
                    new[k] = old[k]
            new["history"] = old["history"]  # appended in place: a thousand updates stay linear
            new["history"].append(_history_entry(new, date, matched))
            if new["status"] is None:
                new["status"] = old["status"]  # a row without a status does not erase the last one
            new["item"] = old["item"] if len(old["item"]) > len(new["item"]) else new["item"]
            new["updated"] = True
            if (new["item"], new["_id"]) != keyed:
                key = _item_key(new)
            matcher.replace(i, new, key)
        if table.rows:
            first = False
    for item in items:
        del item["_id"]
        item.pop("_prose", None)
    return items
