"""Figure cards: a label over a big number in a bordered box, the dashboard's headline counts.

Not `st.metric`: a cold browser loads st.metric's code (and its number-formatting library)
lazily, and on pages that also draw a chart the metrics were painted about 1 s after the rest
(`benchmarks/app_speed.py`: overview first paint 2.3 s, 1.3 s with these cards). Markdown's code
is in Streamlit's first bundle, so these paint with the page.
"""

from __future__ import annotations

import html
import re

_CARD = (
    '<div class="ca-figure" data-figure="{label}">'
    '<div style="font-size:0.875rem;opacity:0.8">{label}</div>'
    '<div class="ca-figure-value" style="font-size:2.25rem;line-height:1.25">{value}</div>'
    "</div>"
)
_PARSE = re.compile(r'data-figure="([^"]*)".*?class="ca-figure-value"[^>]*>(.*?)</div>', re.S)


def figure(where, label: str, value: str, help: str | None = None) -> None:  # noqa: A002 - Streamlit's name
    """One card in `where` (a column or container)."""
    box = where.container(border=True)
    box.markdown(
        _CARD.format(label=html.escape(label), value=html.escape(value)), unsafe_allow_html=True, help=help
    )


def parse(markdown: str) -> tuple[str, str] | None:
    """(label, value) of a card's markdown, for tests; None for other markdown."""
    m = _PARSE.search(markdown)
    return (html.unescape(m.group(1)), html.unescape(m.group(2))) if m else None
