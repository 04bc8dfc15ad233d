"""Formats shared by every module (design.md, Formats): serial numbers, times in output, zones.

This is the one zone table of the project.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

UTC = dt.UTC

# --- serial numbers -------------------------------------------------------------------------

_HEX_JUNK = re.compile(r"[\s:\-]")


def parse_serial(value: object, *, decimal: bool = False) -> int:
    """Parse a serial number written as hex (colons, spaces, upper case, leading 00, 0x) or an int.

    `decimal=True` reads digit-only strings as decimal (for columns that say so).
    Raises ValueError on anything else.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a serial number: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"negative serial number: {value}")
        return value
    if isinstance(value, float):
        raise ValueError(f"serial number given as a float ({value!r}); precision lost")
    if isinstance(value, (bytes, bytearray)):
        return int.from_bytes(value, "big")
    if value is None:
        raise ValueError("empty serial number")
    text = str(value).strip()
    if decimal:
        if not text.isdigit():
            raise ValueError(f"not a decimal serial number: {value!r}")
        return int(text)
    if text.lower().startswith("0x"):
        text = text[2:]
    text = _HEX_JUNK.sub("", text)
    if not text:
        raise ValueError("empty serial number")
    if not re.fullmatch(r"[0-9a-fA-F]+", text):
        raise ValueError(f"not a hexadecimal serial number: {value!r}")
    return int(text, 16)


def format_serial(n: int) -> str:
    """Lowercase hex of the integer, no colons, no leading zeros."""
    return format(n, "x")


def normalize_serial(value: object, *, decimal: bool = False) -> str:
    """Any accepted serial form -> the canonical hex string."""
    return format_serial(parse_serial(value, decimal=decimal))


# --- times ----------------------------------------------------------------------------------

TIME_DTYPE = "datetime64[us, UTC]"


def format_time(value: object) -> str | None:
    """ISO 8601 in UTC with +00:00, to the second; None for missing values."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        if pd.isna(value):
            return None
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(microsecond=0).isoformat()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=UTC).isoformat()
    raise TypeError(f"not a time: {value!r}")


def parse_time(text: str, *, default_zone: dt.tzinfo = UTC) -> dt.datetime:
    """Parse an ISO-ish time string; a value without a zone is taken in `default_zone`.

    Used for --as-of, CSV columns and crt.sh times (UTC without a zone).
    """
    s = str(text).strip()
    if not s:
        raise ValueError("empty time")
    s2 = s.replace("Z", "+00:00").replace("z", "+00:00")
    if s2.endswith(" UTC"):
        s2 = s2[:-4] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(s2)
    except ValueError:
        try:
            ts = pd.Timestamp(s)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a time: {text!r}") from exc
        if pd.isna(ts):
            raise ValueError(f"not a time: {text!r}") from None
        value = ts.to_pydatetime()
    if value.tzinfo is None:
        value = value.replace(tzinfo=default_zone)
    return value.astimezone(UTC)


def to_utc_series(values: object) -> pd.Series:
    """A list/Series of datetimes (naive = UTC) -> tz-aware UTC Series in the frames' dtype."""
    s = pd.Series(values, dtype="object")
    out = pd.to_datetime(s, utc=True, errors="raise", format="mixed") if len(s) else s
    return pd.Series(out, dtype=TIME_DTYPE) if len(s) else pd.Series([], dtype=TIME_DTYPE)


# --- zones ----------------------------------------------------------------------------------

# Abbreviations with one meaning. CST is ambiguous (China, US Central, Cuba) and handled apart.
ZONES: dict[str, dt.timedelta] = {
    "UTC": dt.timedelta(0),
    "GMT": dt.timedelta(0),
    "Z": dt.timedelta(0),
    "IST": dt.timedelta(hours=5, minutes=30),
    "JST": dt.timedelta(hours=9),
    "KST": dt.timedelta(hours=9),
    "CET": dt.timedelta(hours=1),
    "CEST": dt.timedelta(hours=2),
    "EET": dt.timedelta(hours=2),
    "EEST": dt.timedelta(hours=3),
    "EST": dt.timedelta(hours=-5),
    "EDT": dt.timedelta(hours=-4),
    "PST": dt.timedelta(hours=-8),
    "PDT": dt.timedelta(hours=-7),
}
CHINA = dt.timedelta(hours=8)
AMBIGUOUS_ZONES = {"CST"}
# Zones named by region: their offset depends on the date (daylight saving), except Arizona's,
# which stays at -07:00 all year. Keys are lower-case words as CAs write them.
REGION_ZONES: dict[str, str] = {
    "pacific time": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "eastern time": "America/New_York",
    "et": "America/New_York",
    "central european time": "Europe/Berlin",
    "arizona": "America/Phoenix",
    "arizona time": "America/Phoenix",
    "az time": "America/Phoenix",
    "az": "America/Phoenix",
    "mountain standard time": "America/Phoenix",
}

_OFFSET = re.compile(
    r"^(?:UTC|GMT)?\s*(?P<sign>[+\-\u2212])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?$", re.IGNORECASE
)


def parse_zone(text: str, *, context: str = "") -> dt.tzinfo:
    """A zone as CAs write it ("UTC", "UTC+8", "GMT+08:00", "+0800", "IST", "Beijing time").

    Region names ("Pacific Time", "PT", "AZ time") give an IANA zone whose offset follows the date.

    CST is China Standard Time only when `context` mentions China or Beijing; otherwise it is
    ambiguous and raises ValueError. Unknown names raise ValueError.
    """
    raw = text.strip().strip("()").strip()
    upper = raw.upper()
    region = REGION_ZONES.get(" ".join(raw.lower().split()))
    if region is not None:
        from zoneinfo import ZoneInfo

        return ZoneInfo(region)
    if upper in ZONES:
        return dt.timezone(ZONES[upper])
    if re.search(r"beijing|china", raw, re.IGNORECASE):
        return dt.timezone(CHINA)
    if upper in AMBIGUOUS_ZONES:
        if re.search(r"beijing|china", context, re.IGNORECASE):
            return dt.timezone(CHINA)
        raise ValueError(f"ambiguous time zone {raw!r} (China, US Central or Cuba?)")
    m = _OFFSET.match(raw.replace(" ", ""))
    if m:
        sign = -1 if m.group("sign") in "-\u2212" else 1
        hours, minutes = int(m.group("h")), int(m.group("m") or 0)
        if hours > 14 or minutes >= 60:
            raise ValueError(f"offset out of range: {raw!r}")
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    raise ValueError(f"unknown time zone {raw!r}")


def short_source(source: object) -> str:
    """A compromise or revocation source without its folders: ``crl:file.crl#CN=… serial 1a``.

    Output meant to be shared (CSV, tables) names inputs by file name, never by a local path."""
    text = "" if source is None or isinstance(source, float) else str(source)
    return re.sub(r"^(\w+:)?(?:[^#]*[/\\])?", lambda m: m.group(1) or "", text, count=1)
