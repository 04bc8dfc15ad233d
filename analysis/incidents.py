"""Bugzilla CA compliance corpus -> per-CA, per-tag and per-year views, time to close, deadlines.

Inputs
======

**Bug list.** The Bugzilla REST search answer, ``{"bugs": [{...}, ...]}`` (a bare list is accepted
too), as ``ca-incidents fetch bugs --out FILE`` writes it. Each record needs ``id``, ``summary``,
``status`` and ``creation_time``; ``resolution``, ``whiteboard``, ``creator`` (an e-mail address),
``creator_domain`` (the domain alone, as in the WebPKI Observatory dump), ``assigned_to``,
``cf_last_resolved`` and ``last_change_time`` are used when present. A record without a required
field, or with a time that does not parse, is skipped and reported (file and ``bugs[i]``).

**Corpus directory** (the layout ``ca-incidents fetch bug ID --out DIR`` writes; one folder per bug,
each file the server's JSON body as received, UTF-8; any file may be absent)::

    DIR/bugs.json              optional: a bug list as above (the search answer)
    DIR/<id>/bug.json          GET /rest/bug/<id>              {"bugs": [{...one bug...}]}
    DIR/<id>/comments.json     GET /rest/bug/<id>/comment      {"bugs": {"<id>": {"comments": [
                                   {"id", "count", "text", "creator", "creation_time",
                                    "is_markdown", ...}]}}}      (count 0 is the description)
    DIR/<id>/history.json      GET /rest/bug/<id>/history      {"bugs": [{"id": <id>, "history": [
                                   {"when", "who", "changes": [{"field_name", "removed",
                                    "added"}]}]}]}
    DIR/<id>/attachments.json  GET /rest/bug/<id>/attachment?exclude_fields=data
                                   {"bugs": {"<id>": [{"id", "file_name", "content_type", "size",
                                    "is_obsolete", "creation_time", "creator", ...}]}}

``<id>`` is the decimal bug number. ``bug.json`` fills fields the bug list lacks (``assigned_to``,
``cf_last_resolved``, ``creator``) without overriding it. A file that is an HTML page, truncated or
otherwise not JSON, or of the wrong shape, is reported with its path and position and skipped; the
rest of the corpus is used.

Parsing rules
=============

* **CA of a bug** (:func:`parse_title_ca`): the title's prefix before the first ``:`` or `` - ``
  (also en/em dash), whichever comes first, after leading ``[tags]``; a colon followed by ``/`` (a URL)
  does not count. A prefix longer than 80 characters or 8 words is not a CA name. The prefix is
  looked up case-folded (whitespace collapsed) in the alias table (:data:`CA_ALIASES`, extendable);
  if the whole prefix is not there and it contains ``/``, each part is a CA of its own (looked up
  the same way), so ``by_ca`` may sum past ``total``. Titles without a prefix count under
  ``unknown``. Names not in the table are grouped case-insensitively and shown in their most common
  spelling.
* **Whiteboard** (:func:`normalize_whiteboard`): ``[...]`` groups are tags, lower-cased, with runs of
  spaces and underscores turned into ``-`` (``[disclosure failure]`` = ``disclosure-failure``,
  ``[ca compliance]`` = ``ca-compliance``), then looked up in :data:`TAG_ALIASES`. A word ending in
  ``]`` whose ``[`` was lost (``audit-finding]``) is a tag too. Placeholders (``[__-misissuance]``,
  ``[??]``, ``[<category>]``) go to ``placeholders``; ``[close on DATE]`` to ``close_on``; "Next update
  DATE" (bracketed or not) to ``next_update``. Accepted date forms: ``2026-02-28``, ``2026/02/28``,
  ``2023-Oct-27``, ``31-Oct-2023``, ``2 October 2023``, ``Oct 2, 2023``, ``23.2.2024`` (day first),
  and ``3/14/2024`` or ``14-3-2024`` when one number is over 12. ``3-1-2023`` is ambiguous and is
  reported, not guessed. Whatever else is left is ``whiteboard_text``.
* **Open** = status not RESOLVED / VERIFIED / CLOSED. **Year** = creation year (UTC).
* **Self-reported** (``reporter``): ``third_party`` when tagged ``[external]`` (or
  ``[reporter-external]``); else ``self`` when the creator's domain belongs to one of the bug's CAs
  (:data:`CA_DOMAINS`, or a domain label equal to the CA's name squashed to letters and digits, or to
  one of its distinctive words, or starting with such a word of 5+ letters), or equals the domain of
  the assignee (CA bugs are assigned to the CA's representative; ``nobody@mozilla.org`` and webmail do
  not count); else ``third_party`` when the creator's domain is known (webmail included); else
  unknown (no domain, a disabled account, or a CA we cannot name with no assignee).
* **Resolved at**: ``cf_last_resolved`` when present, else the last change of ``status`` from an open
  to a closed value in the history. Neither -> unknown (time to close is then null, with a note).

CCADB deadlines (guidelines 3.x), judged only for bugs whose comments are loaded
===============================================================================

A bug resolved INVALID or DUPLICATE is not an incident: every rule is ``not_applicable``. Bug
creation is the clock's start (the CA's awareness time is not in the data; it can only be earlier).

* **The CA's comments**: the comment's creator domain belongs to one of the bug's CAs (as above), or
  the creator is the assignee (or shares a non-webmail domain with them), or the bug is self-reported
  and the creator is the bug's creator. If the bug's CA is unknown and there is no assignee, the CA's
  comments cannot be told apart and the rules are ``unknown``.
* **Reports** are recognised from the text (:func:`classify_report_text`): a heading line
  "Preliminary Incident Report"; "Full Incident Report", a line that is just "Incident Report", four of
  the section headings (Summary, Impact, Timeline, Root Cause Analysis, Lessons Learned, Action Items)
  on lines of their own, or Mozilla's older questionnaire ("How your CA first became aware ...") ->
  full report; "Report Closure Summary" / "Incident Report Closure Summary" headings or the phrase
  "request its closure" -> closure summary.
* ``first_response_72h``: the CA's first comment (the description counts) within 72 h of creation.
* ``full_report_14d``: the CA's first full report within 14 days of creation.
* ``updates_7d``: from the CA's first comment until resolution, the CA's first closure summary, or
  the analysis time for open bugs, no gap between CA comments longer than 7 days -- unless a "Next
  update" date in the whiteboard during the gap's first 7 days allowed longer (until the end of that
  day, UTC). The whiteboard's past values come from the history; without history, the current
  whiteboard's date applies to the last gap only. A closed bug without a known resolution time ends
  at its last comment.
* ``closure_summary``: for bugs resolved FIXED on or after 2025-03-01 (guidelines 3.0 introduced the
  closure summary), a CA closure summary posted before the resolution time.

Outcomes are ``kept``, ``missed``, ``pending`` (the deadline has not passed and the CA has not acted
yet), ``not_applicable`` and ``unknown``; a rule's share is kept / (kept + missed). Not judged: the
7-day answer to questions, the 3-day update after an Action Item change, and the 3-day cadence of
revocation-delay bugs (the data does not say when a question was asked or an action item changed).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError, Problem
from .formats import TIME_DTYPE, UTC, format_time

__all__ = [
    "CA_ALIASES",
    "CA_DOMAINS",
    "CLOSED_STATUSES",
    "DEFAULT_DEMO_CORPUS",
    "RULES",
    "TAG_ALIASES",
    "Corpus",
    "Whiteboard",
    "classify_report_text",
    "compute_deadlines",
    "compute_summary",
    "counts_by_ca",
    "counts_by_tag",
    "counts_by_year",
    "domain_matches_ca",
    "load_bugs",
    "load_comments",
    "load_corpus",
    "load_history",
    "normalize_tag",
    "normalize_whiteboard",
    "parse_loose_date",
    "parse_title_ca",
    "related_incidents",
    "resolution_times",
    "time_to_close",
    "time_to_close_by_year",
]

DEFAULT_DEMO_CORPUS = Path(__file__).resolve().parents[1] / "data" / "demo" / "corpus"

CLOSED_STATUSES = frozenset({"RESOLVED", "VERIFIED", "CLOSED"})
NOT_INCIDENT_RESOLUTIONS = frozenset({"INVALID", "DUPLICATE"})
CLOSURE_SUMMARY_SINCE = dt.datetime(2025, 3, 1, tzinfo=UTC)
RULES = ("first_response_72h", "full_report_14d", "updates_7d", "closure_summary")
UNKNOWN_CA = "unknown"

# Case-folded title prefix -> CA name. Extend with `aliases=` (same shape; later wins).
CA_ALIASES: dict[str, str] = {
    "comodo": "Sectigo",
    "comodo ca": "Sectigo",
    "sectigo": "Sectigo",
    "digicert": "DigiCert",
    "d-trust": "D-Trust",
    "netlock": "NETLOCK",
    "izenpe": "Izenpe",
    "microsec": "Microsec",
    "kamu sm": "Kamu SM",
    "firmaprofesional": "Firmaprofesional",
    "globalsign": "GlobalSign",
    "globalsign / alphassl": "GlobalSign",
    "quovadis": "QuoVadis",
    "startcom": "StartCom",
    "tuntrust": "TunTrust",
    "e-commerce monitoring gmbh": "e-commerce monitoring GmbH",
    "kir": "KIR",
    "kir s.a.": "KIR",
    "emudhra": "eMudhra",
    "emudhra emsign pki services": "eMudhra",
    "emsign pki services": "eMudhra",
    "t-systems": "Telekom Security",
    "telekom security": "Telekom Security",
    "asseco ds / certum": "Certum",
    "asseco ds": "Certum",
    "asseco": "Certum",
    "certum": "Certum",
    "dhimyotis / certigna": "Certigna",
    "dhimyotis": "Certigna",
    "certigna": "Certigna",
    "docusign / keynectis": "DocuSign",
    "keynectis": "DocuSign",
    "certinomis / docapost": "Certinomis",
    "staat der nederlanden / pkioverheid": "PKIoverheid",
    "staat der nederlandend / pkioverheid": "PKIoverheid",
    "logius": "PKIoverheid",
    "pkioverheid": "PKIoverheid",
    "hongkong post / certizen": "Hongkong Post",
    "hong kong post": "Hongkong Post",
    "microsoft": "Microsoft PKI Services",
    "microsoft pki services": "Microsoft PKI Services",
    "anf": "ANF AC",
    "anf ac": "ANF AC",
    "teliasonera": "Telia",
    "telia": "Telia",
    "lets encrypt": "Let's Encrypt",
    "let's encrypt": "Let's Encrypt",
    "go daddy": "GoDaddy",
    "godaddy": "GoDaddy",
    "entrust datacard": "Entrust",
    "taiwan-ca": "TWCA",
    "twca": "TWCA",
    "e-tugra": "E-Tugra",
    "harica": "HARICA",
}

# CA name -> mail domains of its staff (beyond what the name-matching heuristic finds).
CA_DOMAINS: dict[str, tuple[str, ...]] = {
    "Sectigo": ("sectigo.com", "comodo.com", "comodoca.com"),
    "QuoVadis": ("quovadisglobal.com", "digicert.com"),
    "Entrust": ("entrust.com", "entrustdatacard.com"),
    "Telia": ("teliacompany.com", "teliasonera.com"),
    "Certum": ("assecods.pl", "asseco.pl", "certum.pl"),
    "Certigna": ("dhimyotis.com", "certigna.fr", "certigna.com"),
    "PKIoverheid": ("logius.nl", "minbzk.nl"),
    "Chunghwa Telecom": ("cht.com.tw",),
    "D-Trust": ("bdr.de", "d-trust.net"),
    "Telekom Security": ("telekom.de", "t-systems.com"),
    "Actalis": ("actalis.it", "aruba.it"),
    "Microsoft PKI Services": ("microsoft.com",),
    "Google Trust Services": ("google.com", "pki.goog"),
    "Amazon Trust Services": ("amazon.com",),
    "Let's Encrypt": ("letsencrypt.org", "abetterinternet.org"),
    "GoDaddy": ("godaddy.com", "starfieldtech.com"),
    "Izenpe": ("izenpe.eus", "izenpe.com"),
    "eMudhra": ("emudhra.com", "emsign.com"),
    "SECOM": ("secom.co.jp",),
    "CFCA": ("cfca.com.cn",),
    "Microsec": ("microsec.hu", "e-szigno.hu"),
    "Hongkong Post": ("hongkongpost.gov.hk", "certizen.com"),
    "KIR": ("kir.pl",),
    "TWCA": ("twca.com.tw",),
    "e-commerce monitoring GmbH": ("globaltrust.eu",),
    "SecureTrust": ("trustwave.com",),
    "Network Solutions": ("web.com",),
    "PostSignum": ("cpost.cz",),
    "Kamu SM": ("tubitak.gov.tr",),
    "TunTrust": ("certification.tn",),
    "Lawtrust": ("altron.com",),
}

# Webmail and placeholder domains: never evidence that someone speaks for a CA.
GENERIC_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "duck.com",
        "gmx.de",
        "gmx.net",
        "mail.com",
        "qq.com",
        "163.com",
        "126.com",
        "disabled.tld",
        "mozilla.org",  # nobody@mozilla.org, the default assignee
    }
)
UNKNOWN_DOMAINS = frozenset({"", "disabled.tld"})

# Normalised tag -> canonical tag, for misspellings that normalisation alone does not fix.
TAG_ALIASES: dict[str, str] = {
    "disclosure-failures": "disclosure-failure",
    "ca-complaince": "ca-compliance",
}
EXTERNAL_TAGS = frozenset({"external", "reporter-external"})
GENERIC_TAGS = frozenset({"ca-compliance", "uncategorized", "meta"})

_GENERIC_NAME_WORDS = frozenset(
    "trust services service pki ca cas certificate certificates certification authority global "
    "security secure cloud network solutions gmbh ltd inc corp corporation company group the and of "
    "s.a. sa ag com net org".split()
)
_SLDS = frozenset({"com", "co", "net", "org", "gov", "ac", "edu", "or", "ne", "go", "mil", "www", "mail"})


# --- titles ---------------------------------------------------------------------------------


def _key(name: str) -> str:
    s = re.sub(r"\s*/\s*", " / ", name.strip())
    return re.sub(r"\s+", " ", s).casefold()


_LEADING_TAGS = re.compile(r"^\s*(?:\[[^\]]*\]\s*)+")
_SEPARATOR = re.compile(r":(?!//)|\s[-\u2013\u2014]\s")


def parse_title_ca(title: str, aliases: Mapping[str, str] | None = None) -> list[str]:
    """The CA name(s) a bug title starts with; ``[]`` when the title has no CA prefix.

    ``"Comodo: foo"`` -> ``["Sectigo"]``; ``"NETLOCK - foo"`` -> ``["NETLOCK"]``;
    ``"Amazon Trust Services / DigiCert: foo"`` -> ``["Amazon Trust Services", "DigiCert"]``.
    `aliases` (case-folded prefix -> name) extends :data:`CA_ALIASES`.
    """
    return _parse_title_ca(title, _alias_table(aliases))


def _parse_title_ca(title: str, table: Mapping[str, str]) -> list[str]:
    text = _LEADING_TAGS.sub("", title or "")
    m = _SEPARATOR.search(text)
    if not m:
        return []
    prefix = text[: m.start()].strip()
    if not prefix or len(prefix) > 80 or len(prefix.split()) > 8:
        return []
    whole = table.get(_key(prefix))
    if whole:
        return [whole]
    out: list[str] = []
    for part in prefix.split("/") if "/" in prefix else [prefix]:
        part = re.sub(r"\s+", " ", part).strip()
        if not part:
            continue
        name = table.get(_key(part), part)
        if name not in out:
            out.append(name)
    return out


def _alias_table(aliases: Mapping[str, str] | None) -> dict[str, str]:
    if not aliases:
        return CA_ALIASES
    table = dict(CA_ALIASES)
    table.update({_key(k): v for k, v in aliases.items()})
    return table


# --- dates in free text ---------------------------------------------------------------------

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for m in names
}
_MON = r"(?P<mon>[A-Za-z]{3,9})\.?"
_DATE_FORMS: list[tuple[str, re.Pattern[str]]] = [
    ("ymd", re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})\b")),
    ("y_mon_d", re.compile(rf"(?P<y>\d{{4}})[-\s]{_MON}[-\s](?P<d>\d{{1,2}})\b")),
    ("d_mon_y", re.compile(rf"(?P<d>\d{{1,2}})(?:st|nd|rd|th)?[-\s]{_MON},?[-\s](?P<y>\d{{4}})\b")),
    ("mon_d_y", re.compile(rf"{_MON}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})\b")),
    ("dmy_dots", re.compile(r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})\b")),
    ("ab_y", re.compile(r"(?P<a>\d{1,2})[-/](?P<b>\d{1,2})[-/](?P<y>\d{4})\b")),
]


def parse_loose_date(text: str) -> tuple[dt.date | None, int, str | None]:
    """A date at the start of `text` in one of the forms CAs and root programs write.

    Returns ``(date, characters consumed, problem)``: ``(None, 0, None)`` when no date starts there,
    ``(None, n, reason)`` when one does but is ambiguous (``3-1-2023``) or impossible.
    """
    s = text
    for form, rx in _DATE_FORMS:
        m = rx.match(s)
        if not m:
            continue
        g = m.groupdict()
        y = int(g["y"])
        if form == "ab_y":
            a, b = int(g["a"]), int(g["b"])
            if a > 12 >= b:
                d, mo = a, b
            elif b > 12 >= a:
                mo, d = a, b
            elif a == b:
                mo = d = a
            else:
                return None, m.end(), f"ambiguous date {m.group(0)!r} (day-month or month-day?)"
        elif "mon" in g and g["mon"] is not None:
            mo = _MONTHS.get(g["mon"].lower())
            if mo is None:
                continue
            d = int(g["d"])
        else:
            mo, d = int(g["m"]), int(g["d"])
        try:
            return dt.date(y, mo, d), m.end(), None
        except ValueError:
            return None, m.end(), f"impossible date {m.group(0)!r}"
    return None, 0, None


# --- whiteboard -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Whiteboard:
    """A whiteboard split into tags, placeholders, dates and the remaining free text."""

    tags: tuple[str, ...] = ()
    placeholders: tuple[str, ...] = ()
    next_update: dt.date | None = None
    close_on: dt.date | None = None
    text: str = ""
    problems: tuple[str, ...] = ()


_BRACKET = re.compile(r"\[([^\[\]]*)\]")
_STRAY_CLOSE = re.compile(r"(?<![\w\[])([A-Za-z][A-Za-z0-9_-]*-[A-Za-z0-9_-]+)\]")
_PLACEHOLDER = re.compile(r"_{2,}|\?{2,}|\.{3}|<[^>]*>|^[-_?x]{1,2}-|^-|^\?+$|^x+$", re.IGNORECASE)
_NEXT_UPDATE = re.compile(r"next[\s_-]*update[ds]?\s*(?:(?:on|at|by|due|:|-)\s*)*", re.IGNORECASE)
_CLOSE_ON = re.compile(r"close[\s_-]*on\s*:?\s*", re.IGNORECASE)


def normalize_tag(tag: str) -> str:
    """``"Disclosure Failure"`` -> ``"disclosure-failure"``; then :data:`TAG_ALIASES`."""
    t = re.sub(r"[\s_]+", "-", tag.strip().lower())
    t = re.sub(r"-{2,}", "-", t).strip("-")
    return TAG_ALIASES.get(t, t)


def _is_placeholder(inner: str) -> bool:
    s = inner.strip()
    return not s or bool(_PLACEHOLDER.search(s))


def normalize_whiteboard(text: str | None) -> Whiteboard:
    """Split a Bugzilla whiteboard into normalised tags, placeholders, next-update and close-on dates.

    ``"[ca compliance] [__-misissuance] Next update 31-Oct-2023"`` ->
    tags ``("ca-compliance",)``, placeholders ``("[__-misissuance]",)``,
    next_update ``2023-10-31``. Duplicated tags are kept once, in order.
    """
    s = text or ""
    tags: list[str] = []
    placeholders: list[str] = []
    problems: list[str] = []
    dates: dict[str, dt.date | None] = {"next_update": None, "close_on": None}

    def take_date(kind: str, rest: str) -> int:
        d, n, problem = parse_loose_date(rest)
        if problem:
            problems.append(f"{kind.replace('_', ' ')}: {problem}; left empty")
        elif d is None:
            problems.append(f"{kind.replace('_', ' ')}: no date in {rest.strip()[:40]!r}; left empty")
        elif dates[kind] is None or d > dates[kind]:  # type: ignore[operator]
            dates[kind] = d
        return n

    def add_tag(raw: str) -> None:
        t = normalize_tag(raw)
        if t and t not in tags:
            tags.append(t)

    def bracket(m: re.Match[str]) -> str:
        inner = m.group(1)
        for kind, rx in (("close_on", _CLOSE_ON), ("next_update", _NEXT_UPDATE)):
            mm = rx.match(inner.strip())
            if mm:
                take_date(kind, inner.strip()[mm.end() :])
                return " "
        if _is_placeholder(inner):
            placeholders.append(m.group(0))
        else:
            add_tag(inner)
        return " "

    rest = _BRACKET.sub(bracket, s)
    rest = _STRAY_CLOSE.sub(lambda m: (add_tag(m.group(1)), " ")[1], rest)
    for kind, rx in (("next_update", _NEXT_UPDATE), ("close_on", _CLOSE_ON)):
        while True:
            m = rx.search(rest)
            if not m:
                break
            n = take_date(kind, rest[m.end() :])
            rest = rest[: m.start()] + " " + rest[m.end() + n :]
    free = re.sub(r"\s+", " ", rest).strip()
    return Whiteboard(
        tags=tuple(tags),
        placeholders=tuple(placeholders),
        next_update=dates["next_update"],
        close_on=dates["close_on"],
        text=free,
        problems=tuple(problems),
    )


# --- domains --------------------------------------------------------------------------------


def _domain_of(address: object) -> str:
    if not isinstance(address, str) or "@" not in address:
        return ""
    return address.rsplit("@", 1)[1].strip().lower().rstrip(".")


def _labels(domain: str) -> list[str]:
    parts = domain.split(".")
    return [p for p in parts[:-1] if p and p not in _SLDS]


def domain_matches_ca(domain: str, ca: str) -> bool:
    """True when a mail domain plausibly belongs to the CA named `ca` (see the module docstring)."""
    domain = (domain or "").lower()
    if domain in GENERIC_DOMAINS or domain in UNKNOWN_DOMAINS or not ca or ca == UNKNOWN_CA:
        return False
    for d in CA_DOMAINS.get(ca, ()):
        if domain == d or domain.endswith("." + d):
            return True
    squashed = re.sub(r"[^a-z0-9]", "", ca.casefold())
    words = [
        w
        for w in re.split(r"[^a-z0-9]+", ca.casefold())
        if len(w) >= 3 and w not in _GENERIC_NAME_WORDS and not w.isdigit()
    ]
    for label in _labels(domain):
        flat = label.replace("-", "")
        if flat == squashed or label in words or flat in words:
            return True
        if any(part in words for part in label.split("-")):
            return True
        if any(len(w) >= 5 and flat.startswith(w) for w in words):
            return True
        if len(flat) >= 5 and flat not in _GENERIC_NAME_WORDS and squashed.startswith(flat):
            return True
    return False


def _classify_reporter(
    cas: Sequence[str], tags: Sequence[str], creator_domain: str, assignee_domain: str
) -> tuple[str | None, str]:
    if any(t in EXTERNAL_TAGS for t in tags):
        return "third_party", "tagged external"
    if any(domain_matches_ca(creator_domain, ca) for ca in cas):
        return "self", "creator domain belongs to the CA"
    if (
        creator_domain
        and assignee_domain
        and creator_domain == assignee_domain
        and assignee_domain not in GENERIC_DOMAINS
    ):
        return "self", "creator domain is the assignee's"
    if creator_domain in UNKNOWN_DOMAINS:
        return None, "creator domain unknown"
    if not cas and not assignee_domain:
        return None, "CA not known from the title and no assignee"
    return "third_party", "creator domain is not the CA's"


# --- loading --------------------------------------------------------------------------------

BUG_COLUMNS: dict[str, str] = {
    "id": "Int64",
    "summary": "object",
    "status": "object",
    "resolution": "object",
    "whiteboard": "object",
    "creation_time": TIME_DTYPE,
    "last_change_time": TIME_DTYPE,
    "resolved_at": TIME_DTYPE,
    "creator": "object",
    "creator_domain": "object",
    "assigned_to": "object",
    "cas": "object",  # list[str]; [] = unknown
    "tags": "object",  # list[str]
    "placeholders": "object",  # list[str]
    "next_update": "object",  # datetime.date or None
    "close_on": "object",  # datetime.date or None
    "whiteboard_text": "object",
    "is_open": "bool",
    "year": "Int64",
    "reporter": "object",  # "self" | "third_party" | None
    "source": "object",
}
COMMENT_COLUMNS: dict[str, str] = {
    "bug_id": "Int64",
    "comment_id": "Int64",
    "count": "Int64",
    "creator": "object",
    "creator_domain": "object",
    "creation_time": TIME_DTYPE,
    "text": "object",
    "report_kinds": "object",  # frozenset of "preliminary" / "full" / "closure"
    "source": "object",
}
HISTORY_COLUMNS: dict[str, str] = {
    "bug_id": "Int64",
    "when": TIME_DTYPE,
    "who": "object",
    "field_name": "object",
    "removed": "object",
    "added": "object",
    "source": "object",
}


def _frame(rows: list[dict], columns: Mapping[str, str]) -> pd.DataFrame:
    data = {}
    for col, dtype in columns.items():
        values = [r.get(col) for r in rows]
        if dtype == TIME_DTYPE:
            s = pd.Series(values, dtype="object")
            data[col] = (
                pd.to_datetime(s, utc=True, format="ISO8601").astype(TIME_DTYPE)
                if len(s)
                else pd.Series([], dtype=TIME_DTYPE)
            )
        elif dtype == "object":
            data[col] = pd.Series(values, dtype="object")
        else:
            data[col] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(data)


def _read_json(path: Path) -> object:
    """Read a JSON file; raise InputError (with line/column) for HTML, truncation, bad encoding,
    nesting too deep, or a path that is not a regular file (a FIFO would block the read)."""
    from .safety import check_regular

    check_regular(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), None, f"cannot read: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"byte {exc.start}", "not UTF-8 text") from exc
    head = text.lstrip()[:200].lower()
    if head.startswith("<"):
        kind = "an HTML page" if ("<html" in head or "<!doctype" in head or "<head" in head) else "markup"
        raise InputError(str(path), "line 1", f"{kind}, not JSON (an error page saved as data?)")
    if not text.strip():
        raise InputError(str(path), None, "empty file, not JSON")
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError(str(path), None, "not JSON: nested too deeply to read") from None
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(text.rstrip())
        reason = f"not JSON: {exc.msg}" + (" (truncated?)" if truncated else "")
        raise InputError(str(path), f"line {exc.lineno} column {exc.colno}", reason) from exc


def _parse_when(value: object) -> pd.Timestamp:
    """An ISO 8601 time as Bugzilla writes it ("2024-10-28T03:00:00Z"); naive = UTC. Strict."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a time: {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a time: {value!r}") from None
    ts = pd.Timestamp(parsed)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.tz_convert("UTC")


def _bug_records(data: object, path: Path) -> list:
    if isinstance(data, dict) and isinstance(data.get("bugs"), list):
        return data["bugs"]
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and "error" in data:
        raise InputError(
            str(path), None, f"Bugzilla error answer: {data.get('message') or data.get('error')}"
        )
    raise InputError(str(path), None, 'not a bug list (expected {"bugs": [...]})')


def load_bugs(
    path: str | Path,
    aliases: Mapping[str, str] | None = None,
    *,
    details: Mapping[int, dict] | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a bug list (or a corpus directory) into the bugs frame, with the skipped records.

    `path` is a REST search answer file, or a corpus directory (its ``bugs.json``, else every
    ``<id>/bug.json``). `details` (bug id -> bug record) fills fields the list lacks.
    Raises :class:`~analysis.errors.InputError` when the file as a whole is unusable.
    Columns: :data:`BUG_COLUMNS`.
    """
    p = Path(path)
    problems: list[Problem] = []
    records: list[tuple[str, str, object]] = []  # (source file, position, record)
    if p.is_dir():
        if (p / "bugs.json").is_file():
            p = p / "bugs.json"
        else:
            for f in sorted(p.glob("*/bug.json"), key=lambda q: (len(q.parent.name), q.parent.name)):
                try:
                    recs = _bug_records(_read_json(f), f)
                except InputError as exc:
                    problems.append(Problem(exc.input, exc.position, exc.reason))
                    continue
                records.extend((str(f), f"bugs[{i}]", r) for i, r in enumerate(recs))
            if not records and not problems:
                raise InputError(str(p), None, "no bugs.json and no <id>/bug.json in this directory")
    if not p.is_dir():  # a file, or a FIFO or device that _read_json refuses by name
        if not p.exists():
            raise InputError(str(p), None, "no such file")
        recs = _bug_records(_read_json(p), p)
        records.extend((str(p), f"bugs[{i}]", r) for i, r in enumerate(recs))

    table = _alias_table(aliases)
    rows: list[dict] = []
    seen: set[int] = set()
    for src, pos, rec in records:
        if not isinstance(rec, dict):
            problems.append(Problem(src, pos, f"a bug record must be an object, got {type(rec).__name__}"))
            continue
        raw_id = rec.get("id")
        try:
            if isinstance(raw_id, bool) or raw_id is None:
                raise ValueError
            bug_id = int(str(raw_id).strip())
        except ValueError:
            problems.append(Problem(src, pos, f"bug record without a usable id ({raw_id!r}); skipped"))
            continue
        where = f"{pos} (bug {bug_id})"
        if bug_id in seen:
            problems.append(Problem(src, where, "duplicate bug id; the first record is kept"))
            continue
        rec = {**(details or {}).get(bug_id, {}), **{k: v for k, v in rec.items() if v is not None}}
        missing = [k for k in ("summary", "status", "creation_time") if not isinstance(rec.get(k), str)]
        if missing:
            problems.append(Problem(src, where, f"missing field(s) {', '.join(missing)}; bug skipped"))
            continue
        try:
            created = _parse_when(rec["creation_time"])
        except ValueError:
            problems.append(
                Problem(src, where, f"creation_time {rec['creation_time']!r} does not parse; bug skipped")
            )
            continue
        seen.add(bug_id)
        optional_times: dict[str, pd.Timestamp | None] = {}
        for k in ("last_change_time", "cf_last_resolved"):
            v = rec.get(k)
            optional_times[k] = None
            if v in (None, ""):
                continue
            try:
                optional_times[k] = _parse_when(v)
            except ValueError:
                problems.append(Problem(src, f"{where} {k}", f"{v!r} does not parse; left empty"))
        wb = normalize_whiteboard(rec.get("whiteboard") if isinstance(rec.get("whiteboard"), str) else "")
        problems.extend(Problem(src, f"{where} whiteboard", reason) for reason in wb.problems)
        creator = rec.get("creator") if isinstance(rec.get("creator"), str) else None
        creator_domain = rec.get("creator_domain")
        if not isinstance(creator_domain, str) or not creator_domain:
            creator_domain = _domain_of(creator)
        creator_domain = creator_domain.strip().lower()
        assigned = rec.get("assigned_to") if isinstance(rec.get("assigned_to"), str) else None
        cas = _parse_title_ca(rec["summary"], table)
        status = rec["status"].strip().upper()
        resolved = optional_times["cf_last_resolved"] if status in CLOSED_STATUSES else None
        rows.append(
            {
                "id": bug_id,
                "summary": rec["summary"],
                "status": status,
                "resolution": (rec.get("resolution") or "").strip().upper(),
                "whiteboard": rec.get("whiteboard") or "",
                "creation_time": created,
                "last_change_time": optional_times["last_change_time"],
                "resolved_at": resolved,
                "creator": creator,
                "creator_domain": creator_domain,
                "assigned_to": assigned,
                "cas": cas,
                "tags": list(wb.tags),
                "placeholders": list(wb.placeholders),
                "next_update": wb.next_update,
                "close_on": wb.close_on,
                "whiteboard_text": wb.text,
                "is_open": status not in CLOSED_STATUSES,
                "year": created.year,
                "reporter": None,
                "source": f"{src}#{pos}",
            }
        )
    _unify_ca_spelling(rows, set(table.values()))
    for r in rows:
        r["reporter"] = _classify_reporter(
            r["cas"], r["tags"], r["creator_domain"], _assignee_domain(r["assigned_to"])
        )[0]
    return _frame(rows, BUG_COLUMNS), problems


def _assignee_domain(assigned: object) -> str:
    d = _domain_of(assigned)
    return "" if d in GENERIC_DOMAINS else d


def _unify_ca_spelling(rows: list[dict], canonical: set[str]) -> None:
    """Names not in the alias table: group case-insensitively, show the most common spelling."""
    spellings: dict[str, Counter] = {}
    for r in rows:
        for ca in r["cas"]:
            spellings.setdefault(ca.casefold(), Counter())[ca] += 1
    best = {}
    for key, counter in spellings.items():
        names = sorted(counter.items(), key=lambda kv: (kv[0] not in canonical, -kv[1], kv[0]))
        best[key] = names[0][0]
    for r in rows:
        out: list[str] = []
        for ca in r["cas"]:
            name = best[ca.casefold()]
            if name not in out:
                out.append(name)
        r["cas"] = out


def _bug_dirs(directory: Path, filename: str) -> list[tuple[int, Path]]:
    out = []
    for f in directory.glob(f"*/{filename}"):
        if f.parent.name.isdigit():
            out.append((int(f.parent.name), f))
    return sorted(out)


def _comment_list(data: object, bug_id: int, path: Path) -> list:
    if not isinstance(data, dict) or not isinstance(data.get("bugs"), dict):
        raise InputError(
            str(path), None, 'not a comment answer (expected {"bugs": {"<id>": {"comments": [...]}}})'
        )
    bugs = data["bugs"]
    entry = bugs.get(str(bug_id))
    if entry is None:
        raise InputError(str(path), None, f"no comments for bug {bug_id} (keys: {sorted(bugs)[:5]})")
    if not isinstance(entry, dict) or not isinstance(entry.get("comments"), list):
        raise InputError(str(path), f'bugs["{bug_id}"]', "no comments list")
    return entry["comments"]


_HEADING = r"^[ \t]*(?:#+[ \t]*|\*\*)?"
_REPORT_PATTERNS = {
    "closure": re.compile(
        _HEADING
        + r"(?:incident[ \t]+)?report[ \t]+closure[ \t]+summary|request(?:s|ing)?[ \t]+its[ \t]+closure",
        re.IGNORECASE | re.MULTILINE,
    ),
    "preliminary": re.compile(
        _HEADING + r"preliminary[ \t]+incident[ \t]+report\b", re.IGNORECASE | re.MULTILINE
    ),
    "full": re.compile(
        _HEADING + r"(?:full[ \t]+incident[ \t]+report\b|incident[ \t]+report[ \t]*(?:\*\*)?[ \t]*:?[ \t]*$)",
        re.IGNORECASE | re.MULTILINE,
    ),
}
_SECTION_LINE = re.compile(
    _HEADING
    + r"(?:\d+[.)][ \t]*)?(summary|impact|timeline|root[ \t]+cause(?:[ \t]+analysis)?|lessons[ \t]+learned|action[ \t]+items)"
    r"[ \t]*(?:\*\*)?[ \t]*:?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_OLD_TEMPLATE = re.compile(r"how\s+your\s+ca\s+first\s+became\s+aware", re.IGNORECASE)


def classify_report_text(text: str) -> frozenset[str]:
    """Which report kinds a comment carries: a subset of {"preliminary", "full", "closure"}.

    Heuristic, from headings (see the module docstring); an empty set for an ordinary comment.
    """
    t = text or ""
    kinds = {k for k, rx in _REPORT_PATTERNS.items() if rx.search(t)}
    if "full" not in kinds:
        sections = {re.sub(r"\s+", " ", m.group(1).lower()) for m in _SECTION_LINE.finditer(t)}
        sections = {"root cause" if s.startswith("root cause") else s for s in sections}
        if len(sections) >= 4 or (_OLD_TEMPLATE.search(t) and re.search(r"timeline", t, re.IGNORECASE)):
            kinds.add("full")
    return frozenset(kinds)


def load_comments(directory: str | Path) -> tuple[pd.DataFrame, list[Problem]]:
    """Every ``<id>/comments.json`` under `directory` -> comments frame (:data:`COMMENT_COLUMNS`).

    A file that cannot be read is reported and skipped; so is a comment without a parseable
    ``creation_time`` (the rest of that bug's comments are kept).
    """
    d = Path(directory)
    rows: list[dict] = []
    problems: list[Problem] = []
    for bug_id, f in _bug_dirs(d, "comments.json"):
        try:
            comments = _comment_list(_read_json(f), bug_id, f)
        except InputError as exc:
            problems.append(Problem(exc.input, exc.position, exc.reason + "; comments of this bug not used"))
            continue
        for i, c in enumerate(comments):
            pos = f'bugs["{bug_id}"].comments[{i}]'
            if not isinstance(c, dict):
                problems.append(Problem(str(f), pos, "a comment must be an object; skipped"))
                continue
            try:
                when = _parse_when(c.get("creation_time") or c.get("time"))
            except ValueError:
                problems.append(
                    Problem(
                        str(f),
                        pos,
                        f"creation_time {c.get('creation_time')!r} does not parse; comment skipped",
                    )
                )
                continue
            text = c.get("text") if isinstance(c.get("text"), str) else (c.get("raw_text") or "")
            creator = c.get("creator") or c.get("author")
            rows.append(
                {
                    "bug_id": bug_id,
                    "comment_id": c.get("id") if isinstance(c.get("id"), int) else None,
                    "count": c.get("count") if isinstance(c.get("count"), int) else i,
                    "creator": creator if isinstance(creator, str) else None,
                    "creator_domain": _domain_of(creator),
                    "creation_time": when,
                    "text": text,
                    "report_kinds": classify_report_text(text),
                    "source": f"{f}#{pos}",
                }
            )
    frame = _frame(rows, COMMENT_COLUMNS)
    return frame.sort_values(["bug_id", "creation_time", "count"], kind="stable").reset_index(
        drop=True
    ), problems


def load_history(directory: str | Path) -> tuple[pd.DataFrame, list[Problem]]:
    """Every ``<id>/history.json`` under `directory` -> one row per field change (:data:`HISTORY_COLUMNS`)."""
    d = Path(directory)
    rows: list[dict] = []
    problems: list[Problem] = []
    for bug_id, f in _bug_dirs(d, "history.json"):
        try:
            data = _read_json(f)
            if not isinstance(data, dict) or not isinstance(data.get("bugs"), list):
                raise InputError(
                    str(f), None, 'not a history answer (expected {"bugs": [{"history": [...]}]})'
                )
            entries = None
            for b in data["bugs"]:
                if isinstance(b, dict) and str(b.get("id")) == str(bug_id):
                    entries = b.get("history")
            if entries is None and len(data["bugs"]) == 1 and isinstance(data["bugs"][0], dict):
                entries = data["bugs"][0].get("history")
            if not isinstance(entries, list):
                raise InputError(str(f), None, f"no history list for bug {bug_id}")
        except InputError as exc:
            problems.append(Problem(exc.input, exc.position, exc.reason + "; history of this bug not used"))
            continue
        for i, h in enumerate(entries):
            pos = f"bugs[0].history[{i}]"
            if not isinstance(h, dict):
                problems.append(Problem(str(f), pos, "a history entry must be an object; skipped"))
                continue
            try:
                when = _parse_when(h.get("when"))
            except ValueError:
                problems.append(Problem(str(f), pos, f"when {h.get('when')!r} does not parse; entry skipped"))
                continue
            for ch in h.get("changes") or []:
                if not isinstance(ch, dict):
                    continue
                rows.append(
                    {
                        "bug_id": bug_id,
                        "when": when,
                        "who": h.get("who"),
                        "field_name": ch.get("field_name"),
                        "removed": "" if ch.get("removed") is None else str(ch.get("removed")),
                        "added": "" if ch.get("added") is None else str(ch.get("added")),
                        "source": f"{f}#{pos}",
                    }
                )
    frame = _frame(rows, HISTORY_COLUMNS)
    return frame.sort_values(["bug_id", "when"], kind="stable").reset_index(drop=True), problems


def _load_details(directory: Path) -> tuple[dict[int, dict], list[Problem]]:
    details: dict[int, dict] = {}
    problems: list[Problem] = []
    for bug_id, f in _bug_dirs(directory, "bug.json"):
        try:
            recs = _bug_records(_read_json(f), f)
        except InputError as exc:
            problems.append(Problem(exc.input, exc.position, exc.reason + "; bug details not used"))
            continue
        for r in recs:
            if isinstance(r, dict) and str(r.get("id")) == str(bug_id):
                details[bug_id] = r
    return details, problems


def resolution_times(bugs: pd.DataFrame, history: pd.DataFrame | None = None) -> pd.Series:
    """Resolution time per bug (index aligned with `bugs`): ``cf_last_resolved``, else the history.

    From the history: the last change of ``status`` from an open value to a closed one. Open bugs and
    bugs with neither source get NaT.
    """
    out = bugs["resolved_at"].copy()
    if history is None or history.empty:
        return out
    st = history[history["field_name"] == "status"]
    closing = st[
        st["added"].str.upper().isin(CLOSED_STATUSES) & ~st["removed"].str.upper().isin(CLOSED_STATUSES)
    ]
    last = {int(k): v for k, v in closing.groupby("bug_id")["when"].max().items()}
    if not last:
        return out
    fill = pd.Series([last.get(int(i)) for i in bugs["id"]], index=bugs.index, dtype="object")
    fill = pd.to_datetime(fill, utc=True).astype(TIME_DTYPE)
    mask = out.isna() & ~bugs["is_open"] & fill.notna()
    return out.where(~mask, fill).astype(TIME_DTYPE)


@dataclass
class Corpus:
    """Everything loaded for one analysis: frames, skipped items, and what was read."""

    bugs: pd.DataFrame
    comments: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    problems: list[Problem] = field(default_factory=list)
    inputs: list[dict] = field(default_factory=list)


def load_corpus(
    bugs_path: str | Path,
    comments_dir: str | Path | None = None,
    aliases: Mapping[str, str] | None = None,
) -> Corpus:
    """Load a bug list and, optionally, a corpus directory (comments, history, bug details).

    Resolution times from the history are filled into ``bugs["resolved_at"]``.
    """
    problems: list[Problem] = []
    details: dict[int, dict] = {}
    comments = history = None
    if comments_dir is not None:
        cdir = Path(comments_dir)
        if not cdir.is_dir():
            raise InputError(str(cdir), None, "not a directory")
        details, p = _load_details(cdir)
        problems.extend(p)
    bugs, p = load_bugs(bugs_path, aliases, details=details)
    problems[:0] = p
    inputs = [{"kind": "bugs", "path_or_url": str(bugs_path), "entries": len(bugs)}]
    if comments_dir is not None:
        comments, p = load_comments(comments_dir)
        problems.extend(p)
        history, p = load_history(comments_dir)
        problems.extend(p)
        known = set(bugs["id"].dropna().astype(int))
        for name, frame in (("comments", comments), ("history", history)):
            stray = sorted(set(frame["bug_id"].astype(int)) - known)
            for b in stray:
                problems.append(
                    Problem(
                        str(Path(comments_dir) / str(b)),
                        None,
                        f"{name} for bug {b}, which is not in the bug list; not used",
                    )
                )
            if stray:
                kept = frame[~frame["bug_id"].isin(stray)].reset_index(drop=True)
                if name == "comments":
                    comments = kept
                else:
                    history = kept
        inputs.append(
            {
                "kind": "comments",
                "path_or_url": str(comments_dir),
                "entries": int(comments["bug_id"].nunique()),
            }
        )
        inputs.append(
            {"kind": "history", "path_or_url": str(comments_dir), "entries": int(history["bug_id"].nunique())}
        )
        bugs["resolved_at"] = resolution_times(bugs, history)
    return Corpus(bugs=bugs, comments=comments, history=history, problems=problems, inputs=inputs)


# --- counts ---------------------------------------------------------------------------------


def _ca_rows(bugs: pd.DataFrame) -> pd.DataFrame:
    cas = bugs["cas"].map(lambda v: list(v) if len(v) else [UNKNOWN_CA])
    return bugs.assign(ca=cas).explode("ca")


def counts_by_year(bugs: pd.DataFrame) -> pd.DataFrame:
    """Creation year -> total, open, closed (one row per year, ascending)."""
    g = bugs.groupby("year")["is_open"]
    out = pd.DataFrame({"total": g.size(), "open": g.sum().astype("int64")})
    out["closed"] = out["total"] - out["open"]
    return out.reset_index().sort_values("year").reset_index(drop=True)


def counts_by_ca(bugs: pd.DataFrame) -> pd.DataFrame:
    """CA -> total, open, first_year, last_year; most bugs first. A multi-CA bug counts for each."""
    rows = _ca_rows(bugs)
    g = rows.groupby("ca")
    out = pd.DataFrame(
        {
            "total": g.size(),
            "open": g["is_open"].sum().astype("int64"),
            "first_year": g["year"].min(),
            "last_year": g["year"].max(),
        }
    ).reset_index()
    return out.sort_values(["total", "ca"], ascending=[False, True], key=_sort_key).reset_index(drop=True)


def _sort_key(s: pd.Series) -> pd.Series:
    return s.str.casefold() if s.dtype == object or str(s.dtype).startswith("str") else s


def counts_by_tag(bugs: pd.DataFrame) -> pd.DataFrame:
    """Normalised tag -> total, open; most bugs first. Placeholders and dates are not tags."""
    rows = bugs[["tags", "is_open"]].explode("tags").dropna(subset=["tags"])
    g = rows.groupby("tags")
    out = pd.DataFrame({"total": g.size(), "open": g["is_open"].sum().astype("int64")}).reset_index()
    out = out.rename(columns={"tags": "tag"})
    return out.sort_values(["total", "tag"], ascending=[False, True]).reset_index(drop=True)


def time_to_close(bugs: pd.DataFrame, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per closed bug with a known resolution time: id, year, resolved_at, days.

    Bugs resolved INVALID or DUPLICATE are left out (not incidents).
    """
    resolved = resolution_times(bugs, history)
    mask = ~bugs["is_open"] & resolved.notna() & ~bugs["resolution"].isin(NOT_INCIDENT_RESOLUTIONS)
    sub = bugs.loc[mask, ["id", "year", "creation_time"]].copy()
    sub["resolved_at"] = resolved[mask]
    sub["days"] = (sub["resolved_at"] - sub["creation_time"]).dt.total_seconds() / 86400.0
    return sub.drop(columns=["creation_time"]).reset_index(drop=True)


def time_to_close_by_year(ttc: pd.DataFrame) -> pd.DataFrame:
    """Creation year -> n, median, p25, p75 of days to close (linear-interpolated quantiles)."""
    g = ttc.groupby("year")["days"]
    return pd.DataFrame(
        {"n": g.size(), "median": g.median(), "p25": g.quantile(0.25), "p75": g.quantile(0.75)}
    ).reset_index()


# --- related incidents ----------------------------------------------------------------------


def related_incidents(
    bug_id: int, bugs: pd.DataFrame, *, years: int = 2, same_ca_for_tags: bool = False
) -> pd.DataFrame:
    """Bugs related to `bug_id`: the same CA's bugs created in the `years` before it, and bugs
    sharing a distinctive tag (not ``ca-compliance``/``uncategorized``/``meta``).

    Columns: id, summary, cas, creation_time, same_ca_recent (bool), shared_tags (list). Same-CA
    bugs first, then by number of shared tags, newest first. `same_ca_for_tags` restricts the
    tag matches to the same CA. Raises KeyError for an unknown bug.
    """
    this = bugs[bugs["id"] == bug_id]
    if this.empty:
        raise KeyError(f"bug {bug_id} is not in the loaded bugs")
    row = this.iloc[0]
    start = row["creation_time"] - pd.DateOffset(years=years)
    cas = {c.casefold() for c in row["cas"]}
    tags = set(row["tags"]) - GENERIC_TAGS
    others = bugs[bugs["id"] != bug_id]
    same_ca = others["cas"].map(lambda v: bool(cas & {c.casefold() for c in v}))
    recent = (others["creation_time"] >= start) & (others["creation_time"] < row["creation_time"])
    shared = others["tags"].map(lambda v: sorted(tags & set(v)))
    has_shared = shared.map(bool)
    if same_ca_for_tags:
        has_shared = has_shared & same_ca
    keep = (same_ca & recent) | has_shared
    out = others.loc[keep, ["id", "summary", "cas", "creation_time"]].copy()
    out["same_ca_recent"] = (same_ca & recent)[keep]
    out["shared_tags"] = shared[keep]
    out["_n"] = out["shared_tags"].map(len)
    out = out.sort_values(["same_ca_recent", "_n", "creation_time"], ascending=[False, False, False])
    return out.drop(columns="_n").reset_index(drop=True)


# --- deadlines ------------------------------------------------------------------------------


def _is_ca_comment(c: Mapping, bug: Mapping) -> bool:
    dom = c["creator_domain"] or ""
    if any(domain_matches_ca(dom, ca) for ca in bug["cas"]):
        return True
    assigned = bug["assigned_to"]
    if assigned and _domain_of(assigned) not in GENERIC_DOMAINS:
        if c["creator"] and c["creator"].lower() == assigned.lower():
            return True
        if dom and dom == _domain_of(assigned):
            return True
    return bool(
        bug["reporter"] == "self"
        and bug["creator"]
        and c["creator"]
        and c["creator"].lower() == bug["creator"].lower()
    )


def _next_update_timeline(
    bug: Mapping, history: pd.DataFrame | None, last_ca: pd.Timestamp | None
) -> list[tuple[pd.Timestamp, dt.date | None]]:
    """(from, next-update date) pairs in time order for one bug."""
    changes = None
    if history is not None and not history.empty:
        h = history[(history["bug_id"] == bug["id"]) & (history["field_name"] == "whiteboard")]
        if not h.empty:
            changes = h.sort_values("when")
    if changes is None:
        if history is not None and (history["bug_id"] == bug["id"]).any():
            return [(bug["creation_time"], bug["next_update"])]  # never changed: current value throughout
        return [(last_ca, bug["next_update"])] if last_ca is not None else []
    timeline = [(bug["creation_time"], normalize_whiteboard(changes.iloc[0]["removed"]).next_update)]
    for _, ch in changes.iterrows():
        timeline.append((ch["when"], normalize_whiteboard(ch["added"]).next_update))
    return timeline


def _deadline_after(
    start: pd.Timestamp, timeline: Sequence[tuple[pd.Timestamp, dt.date | None]]
) -> pd.Timestamp:
    limit = start + pd.Timedelta(days=7)
    best = limit
    for i, (since, nu) in enumerate(timeline):
        until = timeline[i + 1][0] if i + 1 < len(timeline) else None
        if nu is None or since > limit or (until is not None and until <= start):
            continue
        end_of_day = pd.Timestamp(dt.datetime(nu.year, nu.month, nu.day, tzinfo=UTC)) + pd.Timedelta(days=1)
        if end_of_day > best:
            best = end_of_day
    return best


def compute_deadlines(
    bugs: pd.DataFrame,
    comments: pd.DataFrame,
    history: pd.DataFrame | None = None,
    *,
    as_of: dt.datetime | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Judge the CCADB deadline rules for every bug with comments loaded.

    One row per (bug_id, rule) with ``outcome`` (kept / missed / pending / not_applicable / unknown)
    and ``detail``. Rules and heuristics: module docstring.
    """
    now = pd.Timestamp(as_of if as_of is not None else dt.datetime.now(UTC))
    now = now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")
    resolved_all = resolution_times(bugs, history)
    out: list[dict] = []
    by_bug = {k: g for k, g in comments.groupby("bug_id")} if not comments.empty else {}
    for idx, bug in bugs.iterrows():
        cs = by_bug.get(bug["id"])
        if cs is None:
            continue
        cs = cs.sort_values(["creation_time", "count"], kind="stable")

        def add(rule: str, outcome: str, detail: str, _bug=bug) -> None:
            out.append({"bug_id": int(_bug["id"]), "rule": rule, "outcome": outcome, "detail": detail})

        if not bug["is_open"] and bug["resolution"] in NOT_INCIDENT_RESOLUTIONS:
            for rule in RULES:
                add(rule, "not_applicable", f"resolved {bug['resolution']}: not an incident")
            continue
        if not bug["cas"] and not _assignee_domain(bug["assigned_to"]):
            for rule in RULES:
                add(
                    rule,
                    "unknown",
                    "CA not known from the title and no assignee: cannot tell the CA's comments",
                )
            continue
        t0 = bug["creation_time"]
        resolved = resolved_all.loc[idx]
        is_ca = cs.apply(lambda c, _b=bug: _is_ca_comment(c, _b), axis=1).astype(bool)
        ca = cs[is_ca]
        ca_times = list(ca["creation_time"])
        first = ca_times[0] if ca_times else None
        horizon = now if bug["is_open"] else (resolved if pd.notna(resolved) else cs["creation_time"].max())

        # first response within 72 h
        due = t0 + pd.Timedelta(hours=72)
        if first is not None and first <= due:
            add("first_response_72h", "kept", f"first CA comment {format_time(first)}")
        elif first is not None:
            add(
                "first_response_72h",
                "missed",
                f"first CA comment {format_time(first)}, due {format_time(due)}",
            )
        elif horizon > due or not bug["is_open"]:
            add("first_response_72h", "missed", "no CA comment")
        else:
            add("first_response_72h", "pending", f"due {format_time(due)}")

        # full report within 14 days
        due = t0 + pd.Timedelta(days=14)
        full = ca[ca["report_kinds"].map(lambda k: "full" in k)]
        if not full.empty:
            when = full["creation_time"].iloc[0]
            ok = when <= due
            add(
                "full_report_14d",
                "kept" if ok else "missed",
                f"full report {format_time(when)} (comment {full['count'].iloc[0]})"
                + ("" if ok else f", due {format_time(due)}"),
            )
        elif horizon > due or not bug["is_open"]:
            add("full_report_14d", "missed", "no CA comment recognised as a full report")
        else:
            add("full_report_14d", "pending", f"due {format_time(due)}")

        # updates at most 7 days apart (or by the Next-update date)
        closures = ca[ca["report_kinds"].map(lambda k: "closure" in k)]
        stop = horizon
        if not closures.empty and closures["creation_time"].iloc[0] < stop:
            stop = closures["creation_time"].iloc[0]
        if first is None:
            add("updates_7d", "unknown" if not bug["is_open"] else "pending", "no CA comment to start from")
        else:
            timeline = _next_update_timeline(bug, history, ca_times[-1])
            points = [t for t in ca_times if t <= stop]
            worst = None
            for i, s in enumerate(points):
                nxt = points[i + 1] if i + 1 < len(points) else stop
                deadline = _deadline_after(s, timeline)
                if nxt > deadline and (worst is None or (nxt - deadline) > worst[2]):
                    worst = (s, nxt, nxt - deadline)
            if worst is None:
                add("updates_7d", "kept", f"{len(points)} CA comment(s) until {format_time(stop)}")
            else:
                gap = (worst[1] - worst[0]).total_seconds() / 86400
                add(
                    "updates_7d",
                    "missed",
                    f"{gap:.1f} days without a CA update after {format_time(worst[0])}",
                )

        # closure summary before resolution
        if bug["is_open"]:
            add("closure_summary", "not_applicable", "bug open")
        elif bug["resolution"] != "FIXED":
            add("closure_summary", "not_applicable", f"resolved {bug['resolution'] or '(none)'}")
        elif pd.isna(resolved):
            add("closure_summary", "unknown", "resolution time not known")
        elif resolved < CLOSURE_SUMMARY_SINCE:
            add("closure_summary", "not_applicable", "resolved before guidelines 3.0 (2025-03-01)")
        else:
            before = closures[closures["creation_time"] <= resolved]
            if before.empty:
                add("closure_summary", "missed", f"no CA closure summary before {format_time(resolved)}")
            else:
                add(
                    "closure_summary",
                    "kept",
                    f"closure summary {format_time(before['creation_time'].iloc[0])}",
                )
    return pd.DataFrame(out, columns=["bug_id", "rule", "outcome", "detail"])


# --- summary --------------------------------------------------------------------------------


def _round(x: float | None, n: int = 2) -> float | None:
    if x is None or pd.isna(x):
        return None
    return round(float(x), n)


def compute_summary(
    corpus: Corpus | pd.DataFrame,
    comments: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
    *,
    as_of: dt.datetime | pd.Timestamp | None = None,
    problems: Iterable[Problem] = (),
    notes: Iterable[str] = (),
) -> dict:
    """The ``incidents summary`` JSON object (see the README) from a :class:`Corpus` or a bugs frame."""
    if isinstance(corpus, Corpus):
        bugs, comments, history = corpus.bugs, corpus.comments, corpus.history
        problems = [*corpus.problems, *problems]
        inputs = corpus.inputs
    else:
        bugs = corpus
        inputs = []
    problems = list(problems)
    notes_out = list(notes)
    now = pd.Timestamp(as_of if as_of is not None else dt.datetime.now(UTC))
    now = now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")

    by_year = counts_by_year(bugs)
    by_ca = counts_by_ca(bugs)
    by_tag = counts_by_tag(bugs)
    reporters = bugs["reporter"].value_counts(dropna=False)
    n_self = int(reporters.get("self", 0))
    n_third = int(reporters.get("third_party", 0))
    n_unknown = int(len(bugs) - n_self - n_third)
    self_share = _round(n_self / (n_self + n_third), 4) if (n_self + n_third) else None
    if self_share is None:
        notes_out.append(
            "self_reported is null: no bug has a creator domain or an [external] tag to judge by."
        )
    elif n_unknown:
        notes_out.append(
            f"self_reported is the share among {n_self + n_third} bugs whose reporter could be judged; "
            f"{n_unknown} could not (no creator domain, disabled account, or unknown CA)."
        )
    notes_out.append(
        "self_reported: creator's mail domain matched against the CA named in the title (or the "
        "assignee's domain); [external] means third party; webmail reporters count as third party."
    )
    if (bugs["cas"].map(len) > 1).any():
        notes_out.append("by_ca counts a bug once for each CA its title names, so it may sum past total.")

    ttc = time_to_close(bugs, history)
    closed = bugs[~bugs["is_open"] & ~bugs["resolution"].isin(NOT_INCIDENT_RESOLUTIONS)]
    if ttc.empty:
        ttc_out = None
        if closed.empty:
            notes_out.append("time_to_close_days is null: no closed bug (other than INVALID/DUPLICATE).")
        else:
            notes_out.append(
                "time_to_close_days is null: the bug list has no cf_last_resolved and no history was "
                "loaded, so resolution times are unknown (fetch with cf_last_resolved, or pass --comments "
                "with history.json files)."
            )
    else:
        tby = time_to_close_by_year(ttc)
        ttc_out = {
            "median": _round(ttc["days"].median()),
            "p25": _round(ttc["days"].quantile(0.25)),
            "p75": _round(ttc["days"].quantile(0.75)),
            "count": len(ttc),
            "by_year": {str(int(r.year)): _round(r.median) for r in tby.itertuples()},
        }
        missing = len(closed) - len(ttc)
        if missing:
            notes_out.append(
                f"time_to_close_days leaves out {missing} closed bug(s) whose resolution time is unknown."
            )
        notes_out.append(
            "time_to_close_days: creation to the last resolution, in days, over closed bugs other than "
            "INVALID/DUPLICATE; by_year is keyed by creation year; quartiles are linear-interpolated."
        )

    deadlines = deadline_counts = None
    if comments is None or comments.empty:
        notes_out.append(
            "deadlines is null: no comments were loaded (pass --comments DIR with <id>/comments.json files)."
        )
    else:
        judged = compute_deadlines(bugs, comments, history, as_of=now)
        deadlines, deadline_counts = {}, {}
        for rule in RULES:
            sub = judged[judged["rule"] == rule]["outcome"].value_counts()
            counts = {
                k: int(sub.get(k, 0)) for k in ("kept", "missed", "pending", "not_applicable", "unknown")
            }
            deadline_counts[rule] = counts
            denom = counts["kept"] + counts["missed"]
            deadlines[rule] = _round(counts["kept"] / denom, 4) if denom else None
            if not denom:
                notes_out.append(f"deadlines.{rule} is null: no bug with comments could be judged on it.")
        n_with = int(comments["bug_id"].nunique())
        notes_out.append(
            f"deadlines are judged for the {n_with} bug(s) with comments loaded, from bug creation (the CA's "
            "awareness time is not in the data); reports and the CA's comments are recognised heuristically "
            "(headings; commenter domain vs the CA or the assignee). Share = kept / (kept + missed)."
        )
        if history is None or history.empty:
            notes_out.append(
                "No history loaded: past Next-update dates are unknown; the current one applies to the last gap only."
            )
        notes_out.append(
            "Not judged: answers to questions within 7 days, updates within 3 days of an Action Item change."
        )

    n_open = int(bugs["is_open"].sum())
    return {
        "schema_version": 1,
        "as_of": format_time(now),
        "total": len(bugs),
        "open": n_open,
        "closed": len(bugs) - n_open,
        "by_year": {str(int(r.year)): int(r.total) for r in by_year.itertuples()},
        "by_ca": {r.ca: int(r.total) for r in by_ca.itertuples()},
        "by_tag": {r.tag: int(r.total) for r in by_tag.itertuples()},
        "self_reported": self_share,
        "reporters": {"self": n_self, "third_party": n_third, "unknown": n_unknown},
        "time_to_close_days": ttc_out,
        "deadlines": deadlines,
        "deadline_counts": deadline_counts,
        "whiteboard": {
            "next_update": int(bugs["next_update"].notna().sum()),
            "close_on": int(bugs["close_on"].notna().sum()),
            "placeholders": int((bugs["placeholders"].map(len) > 0).sum()),
        },
        "inputs": inputs,
        "errors": [p.to_dict() for p in problems],
        "notes": notes_out,
    }
