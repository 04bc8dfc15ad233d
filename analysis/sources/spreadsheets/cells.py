"""One cell and the values read from cells: zones written in text, HYPERLINK formulas, yes/no,
hashes, crt.sh links, dates, distinguished names and dNSName lists.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlparse

import pandas as pd

from ...formats import UTC, parse_zone
from ...names import NameParseError, common_name, parse_dn, to_rfc4514
from .synonyms import _norm

# --- zones in text --------------------------------------------------------------------------

_ZONE_OFFSET = re.compile(r"(?:UTC|GMT)\s*[+\-\u2212]\s*\d{1,2}(?::?\d{2})?", re.IGNORECASE)
_ZONE_ABBR = re.compile(
    r"(?<![A-Za-z])(?:UTC|GMT|IST|JST|KST|CEST|CET|EEST|EET|EST|EDT|PST|PDT|CST)(?![A-Za-z])"
)
_ZONE_BEIJING = re.compile(r"beijing\s*time|北京时间|北京時間|China Standard Time", re.IGNORECASE)


def _find_zone(text: str) -> tuple[dt.tzinfo | None, str | None, str | None]:
    """The first zone written in `text`: (zone, the token as written, error). Uses formats.parse_zone."""
    t = unicodedata.normalize("NFKC", text)
    for rx in (_ZONE_OFFSET, _ZONE_BEIJING, _ZONE_ABBR):
        m = rx.search(t)
        if m:
            token = m.group(0)
            arg = "Beijing time" if rx is _ZONE_BEIJING else token
            try:
                return parse_zone(arg, context=t), token, None
            except ValueError as exc:
                return None, token, str(exc)
    return None, None, None


# --- cells ----------------------------------------------------------------------------------


@dataclass
class _Cell:
    value: Any = None
    link: str | None = None

    def text(self) -> str:
        v = self.value
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return unicodedata.normalize("NFKC", str(v)).strip()

    def raw(self) -> str:
        """The text as written (for headers reported back to the user)."""
        return str(self.value).strip() if isinstance(self.value, str) else ""

    def empty(self) -> bool:
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())


_HYPERLINK = re.compile(
    r'^=\s*HYPERLINK\(\s*"(?P<url>[^"]*)"\s*(?:[,;]\s*(?:"(?P<text>[^"]*)"|(?P<num>[^)]*?)))?\s*\)\s*$',
    re.IGNORECASE,
)


def _formula_cell(formula: str) -> _Cell | None:
    m = _HYPERLINK.match(formula)
    if not m:
        return None
    url = m.group("url")
    shown = m.group("text")
    if shown is None:
        shown = (m.group("num") or "").strip() or url
    return _Cell(shown, url)


# --- value parsers --------------------------------------------------------------------------

_YES = {"yes", "y", "true", "1", "revoked", "是", "已吊销", "已撤销", "已注销", "吊销", "撤销", "x", "✓", "✔"}
_NO = {
    "no",
    "n",
    "false",
    "0",
    "planned",
    "delayed",
    "na",
    "notrevoked",
    "notyetrevoked",
    "pending",
    "expired",
    "否",
    "未吊销",
    "未撤销",
    "计划吊销",
    "待吊销",
    "已过期",
}


def _parse_yes_no(cell: _Cell) -> bool | None:
    v = cell.value
    if isinstance(v, bool):
        return v
    key = _norm(cell.text())
    if not key:
        return None
    if key in _YES:
        return True
    if key in _NO or key.startswith(("planned", "delayed", "notrevoked", "no")):
        return False
    if key.startswith(("yes", "revoked", "已吊销", "已撤销")):
        return True
    return None


def _parse_hash(text: str) -> str:
    t = text.strip()
    q = _crtsh_query(t)
    if q:
        for k in ("sha256", "q", "d"):
            if k in q and re.fullmatch(r"[0-9A-Fa-f]{64}", q[k]):
                return q[k].lower()
    h = re.sub(r"[\s:\-]", "", t)
    if h.lower().startswith("0x"):
        h = h[2:]
    if not re.fullmatch(r"[0-9A-Fa-f]{64}", h):
        raise ValueError(f"not a SHA-256 hash: {text!r}")
    return h.lower()


def _crtsh_query(text: str | None) -> dict[str, str] | None:
    if not text or "crt.sh" not in text.lower():
        return None
    t = text.strip()
    if not re.match(r"^[a-z]+://", t, re.IGNORECASE):
        t = "https://" + t
    try:
        u = urlparse(t)
    except ValueError:
        return None
    if not (u.hostname or "").lower().endswith("crt.sh"):
        return None
    return {k: v[0] for k, v in parse_qs(u.query).items() if v}


def _crtsh_id(cell: _Cell) -> int | None:
    """A crt.sh id from a link, a URL written in the cell, or a bare number in a crt.sh column."""
    for t in (cell.link, cell.text()):
        q = _crtsh_query(t)
        if q and re.fullmatch(r"\d+", q.get("id", "")):
            return int(q["id"])
        if q and re.fullmatch(r"\d+", q.get("d", "")):
            return int(q["d"])
    return None


_NUMERIC_DATE = re.compile(
    r"^(?P<y>\d{4})[-/.](?P<mo>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[T\s]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?)?"
    r"\s*(?P<off>Z|[+\-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_DMY_DATE = re.compile(
    r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4})"
    r"(?:[T\s]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?)?$"
)


_ISO_FAST = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+\-]\d{2}:\d{2})?$"
)


@lru_cache(maxsize=4096)
def _parse_date_text(text: str) -> tuple[dt.datetime, dt.tzinfo | None]:
    """Text -> (naive or aware datetime, zone written in the text). Raises ValueError."""
    if _ISO_FAST.match(text):
        return dt.datetime.fromisoformat(text), None
    s = unicodedata.normalize("NFKC", text).strip()
    s = re.sub(r"(\d)\s*年\s*(\d)", r"\1-\2", s)
    s = re.sub(r"(\d)\s*月\s*(\d)", r"\1-\2", s)
    s = re.sub(r"(\d)\s*日", r"\1 ", s)
    s = re.sub(r"(\d)\s*[时時点點]\s*(\d)", r"\1:\2", s)
    s = re.sub(r"(\d)\s*分\s*(\d)", r"\1:\2", s)
    s = re.sub(r"(\d)\s*[分秒]", r"\1", s)
    zone, token, err = _find_zone(s)
    if token:
        if err:
            raise ValueError(err)
        s = s.replace(token, " ")
        s = re.sub(r"\(\s*\)|（\s*）", " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    m = _NUMERIC_DATE.match(s)
    if m:
        value = dt.datetime(
            int(m["y"]),
            int(m["mo"]),
            int(m["d"]),
            int(m["h"] or 0),
            int(m["mi"] or 0),
            int(m["s"] or 0),
            int((m["f"] or "0")[:6].ljust(6, "0")),
        )
        off = m["off"]
        if off:
            if off.upper() == "Z":
                value = value.replace(tzinfo=UTC)
            else:
                value = value.replace(tzinfo=parse_zone(off))
        return value, zone
    m = _DMY_DATE.match(s)
    if m:
        a, b = int(m["a"]), int(m["b"])
        if a > 12 >= b:
            day, month = a, b
        elif b > 12 >= a or a == b:
            day, month = b, a
        else:
            raise ValueError(f"ambiguous date {text!r} (day/month or month/day?)")
        value = dt.datetime(int(m["y"]), month, day, int(m["h"] or 0), int(m["mi"] or 0), int(m["s"] or 0))
        return value, zone
    if re.search(r"[A-Za-z]{3}", s):
        try:
            ts = pd.Timestamp(s)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValueError(f"not a date: {text!r}") from exc
        if not pd.isna(ts):
            return ts.to_pydatetime(), zone
    raise ValueError(f"not a date: {text!r}")


@lru_cache(maxsize=1024)
def _normalise_issuer(text: str) -> str:
    """A DN in any written order -> RFC 4514 (least significant first); a bare CN as written."""
    t = re.sub(r"\s+", " ", text).strip()
    try:
        pairs = list(parse_dn(t))
    except NameParseError:
        return t
    types = [k for k, _ in pairs]
    most_significant_first = t.startswith("/") or (types[0] in ("c", "dc") and types[-1] not in ("c", "dc"))
    # to_rfc4514 takes the pairs most significant first
    return to_rfc4514(pairs if most_significant_first else list(reversed(pairs)))


def _subject(text: str) -> tuple[str | None, str | None]:
    t = re.sub(r"\s+", " ", text).strip()
    try:
        pairs = parse_dn(t)
    except NameParseError:
        return None, t
    dn = _normalise_issuer(t)
    cns = [v for k, v in pairs if k == "cn"]
    return dn, (common_name(t) if cns else None)


def _split_names(text: str) -> list[str]:
    t = re.sub(r"(?i)\bDNS(?:\s*Name)?\s*[:=]\s*", " ", text)
    return [n for n in re.split(r"[\s,;，；、]+", t) if n]
