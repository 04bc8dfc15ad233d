"""One sheet's grid -> certificate and revocation records, with a Problem for each row skipped."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ...errors import Problem
from ...formats import UTC, format_serial, parse_serial, parse_zone
from ...revocations import EMPTY_REASON_MARKS
from ...revocations import parse_reason_name as parse_reason
from .cells import (
    _Cell,
    _crtsh_id,
    _find_zone,
    _normalise_issuer,
    _parse_date_text,
    _parse_hash,
    _parse_yes_no,
    _split_names,
    _subject,
)
from .header import _find_header, _is_ccadb, _map_columns


@dataclass
class SheetInfo:
    """What was read from one sheet (a csv file is one sheet named None)."""

    name: str | None
    header_row: int | None
    mapped: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    zone: dt.tzinfo | None = None
    zone_source: str | None = None
    layout: str = "generic"
    rows: int = 0


def _read_sheet(
    grid: list[list[_Cell]],
    *,
    sheet: str | None,
    source: str,
    kind: str,
    default_issuer: str | None,
    problems: list[Problem],
    warn: list[str],
) -> tuple[SheetInfo, list[dict], list[dict]] | None:
    where = f"sheet {sheet} " if sheet is not None else ""
    h = _find_header(grid)
    if h is None:
        return None
    cols = _map_columns(grid, h)
    layout = "ccadb-appendix" if _is_ccadb(cols) else "generic"
    info = SheetInfo(sheet, h + 1, cols.mapped, cols.unmapped, layout=layout)

    # a sheet-wide zone note above the header ("All times are UTC+8")
    note_zone: tuple[dt.tzinfo | None, str, str | None] | None = None

    def scan_note(row: list[_Cell]) -> None:
        nonlocal note_zone
        if note_zone is not None:
            return
        for c in row:
            if isinstance(c.value, str) and c.value.strip():
                zone, token, err = _find_zone(c.value)
                if token and re.search(r"time|zone|时间|时区|時間|utc|gmt", c.value, re.IGNORECASE):
                    note_zone = (zone, c.value.strip(), err)
                    return

    for row in grid[:h]:
        scan_note(row)
    mapped_cols = set(cols.by_field.values())
    scan_note([c for i, c in enumerate(grid[h]) if i not in mapped_cols])

    if "serial" not in cols.by_field:
        problems.append(
            Problem(source, f"{where}row {h + 1}".strip(), "no serial number column; sheet skipped")
        )
        return info, [], []
    if "issuer_dn" not in cols.by_field and default_issuer is None:
        problems.append(
            Problem(
                source,
                f"{where}row {h + 1}".strip(),
                "no issuer column and no issuer given; revocations and certificates attach by "
                "(issuer, serial) only, so the sheet was skipped",
            )
        )
        return info, [], []

    start = h + cols.header_rows
    rows: list[tuple[int, list[_Cell]]] = []
    for r in range(start, len(grid)):
        row = grid[r]
        nonempty = [c for c in row if not c.empty()]
        if not nonempty:
            continue
        serial_cell = row[cols.by_field["serial"]] if cols.by_field["serial"] < len(row) else _Cell()
        if len(nonempty) == 1 and isinstance(nonempty[0].value, str):
            try:
                parse_serial(nonempty[0].text(), decimal=cols.decimal_serial)
            except ValueError:
                scan_note(row)  # a note or a total line, not a certificate
                continue
        if serial_cell.empty() and len(nonempty) == 1:
            scan_note(row)
            continue
        rows.append((r, row))

    if note_zone is not None:
        info.zone, info.zone_source = note_zone[0], f"note {note_zone[1]!r}"
        if note_zone[2]:
            warn.append(
                f"{source} {where}note {note_zone[1]!r}: {note_zone[2]}; times without a zone read as UTC"
            )
    else:
        zones = {str(z[0]) for z in cols.header_zones.values() if z[0] is not None}
        if len(zones) == 1:
            first = next(z for z in cols.header_zones.values() if z[0] is not None)
            info.zone, info.zone_source = first[0], f"header {first[1]!r}"
    for _zone, header, err in cols.header_zones.values():
        if err:
            warn.append(
                f"{source} {where}header {header!r}: {err}; its times read in the sheet's zone or UTC"
            )

    assumed_utc: set[str] = set()
    certs: list[dict] = []
    revs: list[dict] = []

    def get(row: list[_Cell], f: str) -> _Cell:
        c = cols.by_field.get(f)
        return row[c] if c is not None and c < len(row) else _Cell()

    for r, row in rows:
        pos = f"{where}row {r + 1}"
        src = f"{source} {pos}"
        row_problem = []

        # zone for this row: its own zone column, else header, else note, else UTC
        row_zone: dt.tzinfo | None = None
        zc = get(row, "zone")
        if not zc.empty():
            try:
                row_zone = parse_zone(zc.text())
            except ValueError as exc:
                row_problem.append(f"time zone {zc.text()!r}: {exc}")

        def read_time(f: str, _row=row, _pos=pos, _row_zone=row_zone) -> pd.Timestamp | None:
            c = get(_row, f)
            if c.empty():
                return None
            v = c.value
            cell_zone = None
            if isinstance(v, dt.datetime):
                value = v
            elif isinstance(v, dt.date):
                value = dt.datetime(v.year, v.month, v.day)
            elif isinstance(v, (int, float)) and not isinstance(v, bool) and 20000 < v < 100000:
                from openpyxl.utils.datetime import from_excel

                value = from_excel(v)
            else:
                value, cell_zone = _parse_date_text(c.text())
            if value.tzinfo is None:
                zone = cell_zone or _row_zone
                if zone is None and f in cols.header_zones and cols.header_zones[f][0] is not None:
                    zone = cols.header_zones[f][0]
                if zone is None and note_zone is not None and note_zone[0] is not None:
                    zone = note_zone[0]
                if zone is None:
                    assumed_utc.add(f)
                    zone = UTC
                value = value.replace(tzinfo=zone)
            return pd.Timestamp(value.astimezone(UTC))

        # serial
        sc = get(row, "serial")
        if sc.empty():
            problems.append(Problem(source, pos, "no serial number; row skipped"))
            continue
        sv = sc.value
        try:
            if isinstance(sv, bool):
                raise ValueError(f"not a serial number: {sv!r}")
            if isinstance(sv, float):
                if not sv.is_integer() or abs(sv) >= 2**53:
                    raise ValueError(f"serial number stored as a number ({sv!r}); precision lost")
                sv = int(sv)
            if isinstance(sv, int) and not cols.decimal_serial:
                sv = str(sv)  # digits typed into a hex column and turned into a number by Excel
            serial_int = parse_serial(sv if isinstance(sv, int) else sc.text(), decimal=cols.decimal_serial)
        except ValueError as exc:
            problems.append(Problem(source, pos, f"{exc}; row skipped"))
            continue
        serial = format_serial(serial_int)

        ic = get(row, "issuer_dn")
        issuer = _normalise_issuer(ic.text()) if not ic.empty() else default_issuer
        if issuer is None:
            problems.append(Problem(source, pos, f"serial {serial}: no issuer; row skipped"))
            continue

        rec: dict[str, Any] = {"issuer_dn": issuer, "serial": serial, "source": src}

        for f in ("not_before", "not_after"):
            try:
                rec[f] = read_time(f)
            except ValueError as exc:
                rec[f] = None
                row_problem.append(f"{f}: {exc}")
        for f in ("cert_sha256", "precert_sha256", "spki_sha256"):
            c = get(row, f)
            rec[f] = None
            if not c.empty():
                try:
                    rec[f] = _parse_hash(c.text())
                except ValueError as exc:
                    row_problem.append(f"{f}: {exc}; left empty")
        crtsh = None
        cc = get(row, "crtsh_id")
        if not cc.empty() or cc.link:
            crtsh = _crtsh_id(cc)
            if crtsh is None and re.fullmatch(r"\d+", cc.text()):
                crtsh = int(cc.text())
            if crtsh is None and rec["cert_sha256"] is None:
                try:
                    rec["cert_sha256"] = _parse_hash(cc.link or cc.text())
                except ValueError:
                    pass
        if crtsh is None:
            for c in row:
                if c.link:
                    crtsh = _crtsh_id(_Cell(None, c.link))
                    if crtsh is not None:
                        break
        rec["crtsh_id"] = crtsh
        subj = get(row, "subject_dn")
        dn, cn = _subject(subj.text()) if not subj.empty() else (None, None)
        cnc = get(row, "subject_cn")
        if not cnc.empty():
            cn = cnc.text()
        rec["subject_dn"], rec["subject_cn"] = dn, cn
        sans = get(row, "san_dns")
        rec["san_dns"] = _split_names(sans.text()) if not sans.empty() else []

        # revocation (not read at all for kind="certificates")
        emitted_rev = False
        revoked = False
        if kind != "certificates":
            revoked_flag = _parse_yes_no(get(row, "is_revoked"))
            revoked_at = None
            rev_error = None
            try:
                revoked_at = read_time("revoked_at")
            except ValueError as exc:
                rev_error = f"revocation date: {exc}"
            reason_cell = get(row, "reason")
            has_reason = not reason_cell.empty() and reason_cell.text().casefold() not in EMPTY_REASON_MARKS
            if revoked_flag is not None:
                revoked = revoked_flag  # "Planned" / "Delayed" / "N/A" beside a date is not a revocation
            else:
                revoked = (
                    revoked_at is not None or rev_error is not None or has_reason or kind == "revocations"
                )
            if revoked:
                try:
                    name, code = parse_reason(reason_cell.value if has_reason else None)
                except ValueError as exc:
                    row_problem.append(f"serial {serial}: {exc}; revocation skipped")
                else:
                    if rev_error:
                        row_problem.append(f"serial {serial}: {rev_error}; revocation skipped")
                    elif revoked_at is None:
                        row_problem.append(
                            f"serial {serial}: revoked but no revocation date; revocation skipped"
                        )
                    else:
                        emitted_rev = True
                        revs.append(
                            {
                                "issuer_dn": issuer,
                                "serial": serial,
                                "revoked_at": revoked_at,
                                "reason": name,
                                "reason_code": code,
                                "source": src,
                            }
                        )
        emitted_cert = False
        if kind != "revocations" and any(
            rec[f] is not None
            for f in ("not_before", "not_after", "cert_sha256", "precert_sha256", "spki_sha256")
        ):
            emitted_cert = True
            precert_only = rec["cert_sha256"] is None and rec["precert_sha256"] is not None
            certs.append(
                {
                    "cert_sha256": rec["precert_sha256"] if precert_only else rec["cert_sha256"],
                    "spki_sha256": rec["spki_sha256"],
                    "issuer_dn": issuer,
                    "serial": serial,
                    "subject_dn": rec["subject_dn"],
                    "subject_cn": rec["subject_cn"],
                    "san_dns": rec["san_dns"],
                    "not_before": rec["not_before"],
                    "not_after": rec["not_after"],
                    "is_precert": precert_only,
                    "is_ca": False,
                    "key_type": None,
                    "crtsh_id": rec["crtsh_id"],
                    "first_seen": None,
                    "source": src,
                    "precert_sha256": rec["precert_sha256"],
                }
            )
        for reason in row_problem:
            problems.append(Problem(source, pos, reason))
        if not row_problem and not emitted_cert and not emitted_rev and not (kind == "revocations"):
            # kind="revocations": a row marked not revoked is simply not a revocation
            problems.append(
                Problem(
                    source,
                    pos,
                    f"serial {serial}: nothing usable besides issuer and serial "
                    "(no validity dates, hashes or revocation); row skipped",
                )
            )
        info.rows += 1

    for f in sorted(assumed_utc):
        header = next((k for k, v in cols.mapped.items() if v == f), f)
        warn.append(
            f"{source} {where}column {header!r}: no time zone stated; times read as UTC".replace("  ", " ")
        )
    return info, certs, revs
