"""The view in the address bar: data set, scope and each page's filters as query parameters, so a
reload keeps the view and a link shares it (`?dataset=bug-1927384&ca=Sectigo&years=2019-2024`).

A page calls `restore` before drawing its widgets (the URL fills their session state once per
session, values checked against the page's choices) and `publish` after (the widgets' values go
back into the URL; defaults are left out so links stay short).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import streamlit as st


def restore(flag: str, fields: dict[str, tuple[str, Callable[[list[str]], object]]]) -> None:
    """Once per session (`flag`), set session_state[key] = parse(values of `param`) for each
    `param: (key, parse)` present in the URL; `parse` returns None for a value it refuses."""
    if st.session_state.get(flag):
        return
    st.session_state[flag] = True
    for param, (key, parse) in fields.items():
        values = st.query_params.get_all(param)
        if not values:
            continue
        try:
            value = parse(values)
        except (ValueError, TypeError):
            value = None
        if value is not None:
            st.session_state[key] = value


def publish(params: dict[str, str | Iterable[str] | None]) -> None:
    """Write these parameters into the URL (None or empty removes one); others are kept."""
    for name, value in params.items():
        values = [value] if isinstance(value, str) else list(value or [])
        if not values:
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get_all(name) != values:
            st.query_params[name] = values if len(values) > 1 else values[0]


def one_of(choices: Iterable[str]) -> Callable[[list[str]], str | None]:
    allowed = list(choices)
    return lambda values: values[0] if values[0] in allowed else None


def some_of(choices: Iterable[str]) -> Callable[[list[str]], list[str] | None]:
    allowed = set(choices)

    def parse(values: list[str]) -> list[str] | None:
        kept = [v for v in dict.fromkeys(values) if v in allowed]
        return kept or None

    return parse


def year_range(years: list[int]) -> Callable[[list[str]], tuple[int, int] | None]:
    """``2019-2024`` clamped to the years present; None when there is no overlap."""

    def parse(values: list[str]) -> tuple[int, int] | None:
        lo_text, _, hi_text = values[0].partition("-")
        lo, hi = int(lo_text), int(hi_text or lo_text)
        lo, hi = max(min(lo, hi), years[0]), min(max(lo, hi), years[-1])
        return (lo, hi) if lo <= hi else None

    return parse
