"""Figure cards: a label over a big number in a bordered box, the dashboard's headline counts.

Not `st.metric`, and plain markdown without HTML: on a cold browser Streamlit loads st.metric's
code (with its number-formatting library) and the raw-HTML markdown plugin lazily, and on pages
that also draw a chart those parts were painted up to 1 s after the rest of the page
(`benchmarks/app_speed.py`). Plain markdown's code is in Streamlit's first bundle.
"""

from __future__ import annotations

import re

_PARSE = re.compile(r"\A(?P<label>[^\n]+)\n\n## (?P<value>[^\n]+)\Z")


def _plain(text: str) -> str:
    # Figures and labels are ours, but keep markdown from reading them as markup.
    return re.sub(r"([\\`*_{}\[\]<>#|~$:])", r"\\\1", text)


def figure(where, label: str, value: str, help: str | None = None) -> None:  # noqa: A002 - Streamlit's name
    """One card in `where` (a column or container): the label, then the value as a heading."""
    where.container(border=True).markdown(f"{_plain(label)}\n\n## {_plain(value)}", help=help)


def parse(markdown: str) -> tuple[str, str] | None:
    """(label, value) of a card's markdown, for tests; None for other markdown."""
    m = _PARSE.match(markdown)
    if not m:
        return None
    unescape = lambda s: re.sub(r"\\(.)", r"\1", s)  # noqa: E731
    return unescape(m["label"]), unescape(m["value"])
