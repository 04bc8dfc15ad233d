"""How the pages show values: one empty marker, UTC text, plural forms."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..formats import format_time

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


def _are(n: int) -> str:
    return "is" if n == 1 else "are"


def _n(n: int, word: str) -> str:
    return plural(n, word)


def _join_names(value: object) -> str:
    if value is None or isinstance(value, float):
        return ""
    if isinstance(value, str):
        return value
    return "; ".join(str(v) for v in list(value))
