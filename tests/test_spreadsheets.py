"""Incident spreadsheets (analysis/sources/spreadsheets/).

Every fixture is built here, in tmp_path, with openpyxl or plain text; every expected value below was
worked out by hand from the fixture (times converted from the stated zone to UTC by hand).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from analysis.errors import Problem, UsageError
from analysis.schema import CERTIFICATE_COLUMNS, REVOCATION_COLUMNS
from analysis.sources.spreadsheets import load_spreadsheet, match_header, parse_reason

CCADB_HEADER = [
    "Precertificate SHA-256 hash",
    "Certificate SHA-256 hash",
    "Subject",
    "Issuer",
    "Not before",
    "Not after",
    "Serial # (hex)",
    "dNSNames",
    "Is revoked?",
    "Revocation date",
    "Revocation reason",
]
RSA_CA = "CN=Example Trust RSA CA 2018, O=Example Trust, C=US"
RSA_CA_4514 = "CN=Example Trust RSA CA 2018,O=Example Trust,C=US"
H1, H2, H3 = "1" * 64, "2" * 64, "3" * 64


def utc(*args: int) -> pd.Timestamp:
    return pd.Timestamp(dt.datetime(*args, tzinfo=dt.UTC))


def save(wb: openpyxl.Workbook, path) -> str:
    wb.save(path)
    return str(path)


def rows_by_serial(df: pd.DataFrame) -> dict[str, dict]:
    return {r["serial"]: r for r in df.to_dict("records")}


# --- CCADB appendix layout ------------------------------------------------------------------


def build_ccadb(path) -> str:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Appendix"
    ws.append(["Example Trust - certificates affected by the incident"])  # row 1
    ws.merge_cells("A1:K1")
    ws.append(["All times are UTC+8"])  # row 2
    ws.append(CCADB_HEADER + ["Comment"])  # row 3
    ws.append(  # row 4: revoked keyCompromise; an Excel datetime and a text time
        [
            H1,
            H2,
            "CN=www.example.com",
            RSA_CA,
            dt.datetime(2024, 1, 2, 8, 0, 0),
            "2025-01-02 07:59:59",
            "00:AB:CD:01",
            "www.example.com, example.com",
            "Yes",
            "2024-10-29 15:30:00",
            "keyCompromise",
            "first",
        ]
    )
    ws.append(  # row 5: revocation planned -> not a revocation, certificate only
        [
            None,
            H3,
            "CN=shop.example.com",
            RSA_CA,
            "2024-03-01 08:00",
            "2025-03-01 08:00",
            "1F 2E 3D",
            "shop.example.com",
            "Planned",
            "2024-11-05 00:00",
            None,
            None,
        ]
    )
    ws.append(  # row 6: upper-case serial, superseded, Excel datetime revocation
        [
            None,
            None,
            "CN=mail.example.com",
            RSA_CA,
            "2023-06-01",
            "2024-06-01",
            "ABCDEF",
            "mail.example.com",
            "Yes",
            dt.datetime(2024, 5, 28, 9, 0),
            "Superseded",
            None,
        ]
    )
    ws.append(  # row 7: a serial that is not hex
        [
            None,
            None,
            "CN=bad.example.com",
            RSA_CA,
            "2024-01-01",
            "2025-01-01",
            "not-a-serial",
            "",
            "No",
            None,
            None,
            None,
        ]
    )
    ws.append(  # row 8: N/A, not revoked
        [
            None,
            None,
            "CN=api.example.com",
            RSA_CA,
            "2024-02-01 08:00",
            "2025-02-01 08:00",
            "0a",
            "api.example.com",
            "N/A",
            None,
            None,
            None,
        ]
    )
    ws.append(  # row 9: an unknown reason -> the revocation is a problem, the certificate is kept
        [
            None,
            None,
            "CN=old.example.com",
            RSA_CA,
            "2024-04-01 08:00",
            "2025-04-01 08:00",
            "0b",
            "old.example.com",
            "Yes",
            "2024-10-30 10:00",
            "customer asked",
            None,
        ]
    )
    return save(wb, path)


def test_ccadb_appendix_layout(tmp_path):
    r = load_spreadsheet(build_ccadb(tmp_path / "appendix.xlsx"))
    src = str(tmp_path / "appendix.xlsx")
    assert r.layout == "ccadb-appendix"
    assert r.header_row == 3
    assert r.sheet == "Appendix"
    assert r.zone == dt.timezone(dt.timedelta(hours=8))
    assert r.zone_source == "note 'All times are UTC+8'"
    assert r.mapped == {
        "Precertificate SHA-256 hash": "precert_sha256",
        "Certificate SHA-256 hash": "cert_sha256",
        "Subject": "subject_dn",
        "Issuer": "issuer_dn",
        "Not before": "not_before",
        "Not after": "not_after",
        "Serial # (hex)": "serial",
        "dNSNames": "san_dns",
        "Is revoked?": "is_revoked",
        "Revocation date": "revoked_at",
        "Revocation reason": "reason",
    }
    assert r.unmapped == ["Comment"]
    assert r.problems == [
        Problem(src, "sheet Appendix row 7", "not a hexadecimal serial number: 'not-a-serial'; row skipped"),
        Problem(
            src,
            "sheet Appendix row 9",
            "serial b: unknown revocation reason 'customer asked'; revocation skipped",
        ),
    ]
    assert r.warnings == []

    certs = rows_by_serial(r.certificates)
    assert list(certs) == ["abcd01", "1f2e3d", "abcdef", "a", "b"]
    c = certs["abcd01"]
    assert c["issuer_dn"] == RSA_CA_4514
    assert c["cert_sha256"] == H2 and c["precert_sha256"] == H1 and c["is_precert"] is False
    assert pd.isna(c["spki_sha256"])
    assert c["subject_dn"] == "CN=www.example.com" and c["subject_cn"] == "www.example.com"
    assert c["san_dns"] == ["www.example.com", "example.com"]
    assert c["not_before"] == utc(2024, 1, 2, 0, 0, 0)  # 08:00 UTC+8
    assert c["not_after"] == utc(2025, 1, 1, 23, 59, 59)  # 07:59:59 UTC+8
    assert c["source"] == f"{src} sheet Appendix row 4"
    assert certs["abcdef"]["not_before"] == utc(2023, 5, 31, 16, 0, 0)  # a date is 00:00 in its zone
    assert pd.isna(certs["abcdef"]["cert_sha256"])
    assert certs["b"]["not_before"] == utc(2024, 4, 1, 0, 0, 0)

    revs = r.revocations
    assert list(revs.columns) == list(REVOCATION_COLUMNS)
    assert revs.to_dict("records") == [
        {
            "issuer_dn": RSA_CA_4514,
            "serial": "abcd01",
            "revoked_at": utc(2024, 10, 29, 7, 30, 0),
            "reason": "keyCompromise",
            "reason_code": 1,
            "source": f"{src} sheet Appendix row 4",
        },
        {
            "issuer_dn": RSA_CA_4514,
            "serial": "abcdef",
            "revoked_at": utc(2024, 5, 28, 1, 0, 0),
            "reason": "superseded",
            "reason_code": 4,
            "source": f"{src} sheet Appendix row 6",
        },
    ]
    for col, dtype in REVOCATION_COLUMNS.items():
        assert str(revs[col].dtype) == dtype
    for col, dtype in CERTIFICATE_COLUMNS.items():
        if dtype != "object":
            assert str(r.certificates[col].dtype) == dtype, col


def test_kind_certificates_and_revocations(tmp_path):
    path = build_ccadb(tmp_path / "a.xlsx")
    only_certs = load_spreadsheet(path, kind="certificates", source="a.xlsx")
    assert len(only_certs.certificates) == 5 and only_certs.revocations.empty
    # the unknown reason is not read when only certificates are asked for
    assert [p.position for p in only_certs.problems] == ["sheet Appendix row 7"]
    only_revs = load_spreadsheet(path, kind="revocations", source="a.xlsx")
    assert only_revs.certificates.empty
    assert list(only_revs.revocations["serial"]) == ["abcd01", "abcdef"]
    assert [p.position for p in only_revs.problems] == ["sheet Appendix row 7", "sheet Appendix row 9"]
    assert only_revs.revocations["source"].iloc[0] == "a.xlsx sheet Appendix row 4"
    with pytest.raises(UsageError):
        load_spreadsheet(path, kind="both")


# --- bilingual, two title rows, merged cells, UTC+8 in the headers ---------------------------


def build_bilingual(path) -> str:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "吊销清单"
    ws["A1"] = "示例信任 证书吊销清单"
    ws.merge_cells("A1:H1")
    ws["A2"] = "Example Trust revoked certificates"
    ws.merge_cells("A2:H2")
    header = [
        "序号\nNo.",
        "证书序列号\nSerial Number",
        "颁发者 Issuer",
        "通用名 Common Name",
        "生效时间（UTC+8）Not before (UTC+8)",
        "失效时间（UTC+8）Not after (UTC+8)",
        "吊销时间（UTC+8）Revocation Time (UTC+8)",
        "吊销原因 Revocation reason",
        "crt.sh",
    ]
    for col, text in enumerate(header, start=1):
        ws.cell(3, col, text)
    data = [
        # row 4: colons, leading 00, upper case; name with translation; Chinese date
        [
            1,
            "00:F1:E2:D3",
            RSA_CA,
            "a.example.cn",
            "2024-01-01 08:00:00",
            "2025-01-01 08:00:00",
            "2024年10月29日 15:30",
            "keyCompromise 密钥泄露",
            111,
        ],
        # row 5: translation first; slashes; a HYPERLINK formula
        [
            2,
            "0A 0B 0C",
            None,
            "b.example.cn",
            "2024-02-01 08:00:00",
            "2025-02-01 08:00:00",
            "2024/10/29 15:30",
            "密钥泄露(keyCompromise)",
            '=HYPERLINK("https://crt.sh/?id=222","查看")',
        ],
        # row 6: a code; Excel datetimes; a crt.sh URL written as text
        [
            3,
            "abc",
            None,
            "c.example.cn",
            dt.datetime(2024, 3, 1, 8, 0),
            dt.datetime(2025, 3, 1, 8, 0),
            dt.datetime(2024, 10, 31, 0, 0),
            "1",
            "https://crt.sh/?id=333",
        ],
        # row 7: Chinese reason only
        [
            4,
            "DEF0",
            None,
            "d.example.cn",
            "2024-04-01 08:00:00",
            "2025-04-01 08:00:00",
            "2024-11-01 08:00:00",
            "被取代",
            None,
        ],
    ]
    for r, row in enumerate(data, start=4):
        for col, v in enumerate(row, start=1):
            ws.cell(r, col, v)
    ws["I4"].hyperlink = "https://crt.sh/?id=111"
    ws.merge_cells("C4:C7")  # one issuer for every row, as one merged cell
    return save(wb, path)


def test_bilingual_title_rows_merged_cells_utc8(tmp_path):
    r = load_spreadsheet(build_bilingual(tmp_path / "bi.xlsx"), source="bi.xlsx")
    assert r.header_row == 3
    assert r.layout == "generic"
    assert r.mapped == {
        "证书序列号\nSerial Number": "serial",
        "颁发者 Issuer": "issuer_dn",
        "通用名 Common Name": "subject_cn",
        "生效时间（UTC+8）Not before (UTC+8)": "not_before",
        "失效时间（UTC+8）Not after (UTC+8)": "not_after",
        "吊销时间（UTC+8）Revocation Time (UTC+8)": "revoked_at",
        "吊销原因 Revocation reason": "reason",
        "crt.sh": "crtsh_id",
    }
    assert r.unmapped == ["序号\nNo."]
    assert r.zone == dt.timezone(dt.timedelta(hours=8))
    assert r.problems == []
    assert r.warnings == []
    revs = r.revocations
    assert list(revs["serial"]) == ["f1e2d3", "a0b0c", "abc", "def0"]
    assert set(revs["issuer_dn"]) == {RSA_CA_4514}
    assert list(revs["revoked_at"]) == [
        utc(2024, 10, 29, 7, 30),
        utc(2024, 10, 29, 7, 30),
        utc(2024, 10, 30, 16, 0),
        utc(2024, 11, 1, 0, 0),
    ]
    assert list(revs["reason"]) == ["keyCompromise", "keyCompromise", "keyCompromise", "superseded"]
    assert list(revs["reason_code"]) == [1, 1, 1, 4]
    certs = r.certificates
    assert list(certs["crtsh_id"]) == [111, 222, 333, pd.NA]
    assert list(certs["subject_cn"]) == ["a.example.cn", "b.example.cn", "c.example.cn", "d.example.cn"]
    assert certs["subject_dn"].isna().all()
    assert list(certs["not_before"]) == [utc(2024, 1, 1), utc(2024, 2, 1), utc(2024, 3, 1), utc(2024, 4, 1)]
    assert certs["cert_sha256"].isna().all()


def test_two_header_rows_chinese_then_english(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["证书吊销情况说明"])
    ws.merge_cells("A1:E1")
    ws.append(["序列号", "签发者", "撤销时间", "撤销原因", "备注"])  # row 2
    ws.append(["Serial #", "Issuer", "Revocation Time", "Revocation reason", "Remark"])  # row 3
    ws.append(["01", "Example Trust ECC CA 2019", "2024-10-29 15:30", "cessationOfOperation 停止运营", "x"])
    ws.append(["02", "Example Trust ECC CA 2019", "2024-10-29 15:31", "CA泄露", ""])
    ws.append(["说明：所有时间均为北京时间"])  # a note below the data
    r = load_spreadsheet(save(wb, tmp_path / "two.xlsx"), source="two.xlsx")
    assert r.header_row == 2
    assert r.mapped == {
        "序列号 / Serial #": "serial",
        "签发者 / Issuer": "issuer_dn",
        "撤销时间 / Revocation Time": "revoked_at",
        "撤销原因 / Revocation reason": "reason",
    }
    assert r.unmapped == ["备注 / Remark"]
    assert r.problems == []
    assert r.zone == dt.timezone(dt.timedelta(hours=8))
    # a bare-CN issuer is kept as written (keyreuse resolves it against the loaded issuers)
    assert list(r.revocations["issuer_dn"]) == ["Example Trust ECC CA 2019"] * 2
    assert list(r.revocations["serial"]) == ["1", "2"]
    assert list(r.revocations["revoked_at"]) == [utc(2024, 10, 29, 7, 30), utc(2024, 10, 29, 7, 31)]
    assert list(r.revocations["reason"]) == ["cessationOfOperation", "cACompromise"]
    assert list(r.revocations["reason_code"]) == [5, 2]
    assert r.certificates.empty


def test_merged_group_header_over_sub_headers(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Serial Number", "Issuer", "Revocation", None])
    ws.append([None, None, "Date", "Reason"])
    ws.append(["0c", RSA_CA, "2024-10-29T07:30:00Z", "Key Compromise"])
    ws.merge_cells("C1:D1")
    ws.merge_cells("A1:A2")
    ws.merge_cells("B1:B2")
    r = load_spreadsheet(save(wb, tmp_path / "g.xlsx"), source="g.xlsx")
    assert r.header_row == 1
    assert r.mapped == {
        "Serial Number": "serial",
        "Issuer": "issuer_dn",
        "Revocation / Date": "revoked_at",
        "Revocation / Reason": "reason",
    }
    assert r.revocations[["serial", "revoked_at", "reason", "reason_code"]].to_dict("records") == [
        {"serial": "c", "revoked_at": utc(2024, 10, 29, 7, 30), "reason": "keyCompromise", "reason_code": 1}
    ]
    assert r.warnings == []  # the Z in the cell is the zone
    assert r.problems == []


# --- zones ----------------------------------------------------------------------------------


def test_note_below_data_ist_and_total_line(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Revoked"
    ws.append(["Serial Number", "Issuer", "Revocation date", "Revocation reason"])
    ws.append(["10", RSA_CA, "2024-10-29 13:00", "keyCompromise"])
    ws.append(["11", RSA_CA, "2024-10-29 13:00 UTC", "keyCompromise"])  # the cell's zone wins
    ws.append([])
    ws.append(["Total: 2 certificates"])
    ws.append(["Times are in IST"])
    r = load_spreadsheet(save(wb, tmp_path / "ist.xlsx"), source="ist.xlsx")
    assert r.problems == []
    assert r.zone == dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert r.zone_source == "note 'Times are in IST'"
    assert list(r.revocations["revoked_at"]) == [utc(2024, 10, 29, 7, 30), utc(2024, 10, 29, 13, 0)]


def test_no_zone_anywhere_is_read_as_utc_and_said(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws.append(["Serial Number", "Issuer", "Revocation date", "Revocation reason"])
    ws.append(["10", RSA_CA, "2024-10-29 13:00", "keyCompromise"])
    r = load_spreadsheet(save(wb, tmp_path / "nz.xlsx"), source="nz.xlsx")
    assert r.zone is None
    assert r.revocations["revoked_at"].tolist() == [utc(2024, 10, 29, 13, 0)]
    assert r.warnings == ["nz.xlsx sheet S column 'Revocation date': no time zone stated; times read as UTC"]


def test_ambiguous_cst_note_is_a_warning(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws.append(["All times are CST"])
    ws.append(["Serial Number", "Issuer", "Revocation date", "Revocation reason"])
    ws.append(["10", RSA_CA, "2024-10-29 13:00", "1"])
    r = load_spreadsheet(save(wb, tmp_path / "cst.xlsx"), source="cst.xlsx")
    assert r.zone is None
    assert any("ambiguous time zone 'CST'" in w for w in r.warnings)
    assert r.revocations["revoked_at"].tolist() == [utc(2024, 10, 29, 13, 0)]


def test_zone_column_per_row(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Serial", "Issuer", "Revoked at", "Reason", "Time zone"])
    ws.append(["1", RSA_CA, "2024-10-29 09:00", "keyCompromise", "JST"])
    ws.append(["2", RSA_CA, "2024-10-29 09:00", "keyCompromise", "GMT+08:00"])
    r = load_spreadsheet(save(wb, tmp_path / "z.xlsx"))
    assert r.revocations["revoked_at"].tolist() == [utc(2024, 10, 29, 0, 0), utc(2024, 10, 29, 1, 0)]
    assert r.problems == []


# --- serials --------------------------------------------------------------------------------


def test_serial_forms_and_number_cells(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws.append(["Serial Number", "Issuer", "Not before", "Not after"])
    ws.append(["00:0A:FF", RSA_CA, "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"])  # row 2
    ws.append(["0x1B 2C", RSA_CA, "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"])  # row 3
    ws.append(
        [1234, RSA_CA, "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"]
    )  # row 4: Excel made hex digits a number
    ws.append([1.5e20, RSA_CA, "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"])  # row 5: precision lost
    ws.append(["", RSA_CA, "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"])  # row 6
    r = load_spreadsheet(save(wb, tmp_path / "s.xlsx"), source="s.xlsx")
    assert list(r.certificates["serial"]) == ["aff", "1b2c", "1234"]
    assert [(p.position, p.reason.split(";")[0]) for p in r.problems] == [
        ("sheet S row 5", "serial number stored as a number (1.5e+20)"),
        ("sheet S row 6", "no serial number"),
    ]
    assert list(r.certificates["not_after"]) == [utc(2025, 1, 1)] * 3


def test_decimal_serial_column(tmp_path):
    p = tmp_path / "dec.csv"
    p.write_text(
        "Serial Number (decimal),Issuer,Revocation date\n4660,CN=X,2024-10-29 07:30 UTC\n", encoding="utf-8"
    )
    r = load_spreadsheet(p, source="dec.csv")
    assert list(r.revocations["serial"]) == ["1234"]  # 4660 = 0x1234
    assert list(r.revocations["reason"]) == ["unspecified"]
    assert list(r.revocations["reason_code"]) == [0]
    assert list(r.revocations["issuer_dn"]) == ["CN=X"]


# --- csv ------------------------------------------------------------------------------------


def test_csv_odd_headers_gb18030_semicolons(tmp_path):
    text = (
        "Example Trust;;;;\n"
        "  SERIAL-NUMBER ;Issuer_DN;Revoked At (IST);REASON CODE;颁发者备注\n"
        "0A:0B;C=US, O=Example Trust, CN=Example Trust RSA CA 2018;2024-10-29 13:00;1;甲\n"
        "0c;C=US, O=Example Trust, CN=Example Trust RSA CA 2018;29/10/2024 13:00;4;乙\n"
        "0d;C=US, O=Example Trust, CN=Example Trust RSA CA 2018;03/04/2024 13:00;4;丙\n"
    )
    p = tmp_path / "odd.csv"
    p.write_bytes(text.encode("gb18030"))
    r = load_spreadsheet(p, source="odd.csv")
    assert r.header_row == 2
    assert r.mapped == {
        "SERIAL-NUMBER": "serial",
        "Issuer_DN": "issuer_dn",
        "Revoked At (IST)": "revoked_at",
        "REASON CODE": "reason",
    }
    # "issuer remark" names the issuer too, but the issuer column is already taken
    assert r.unmapped == ["颁发者备注"]
    assert r.zone == dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert r.sheet is None
    # crt.sh's most-significant-first order becomes RFC 4514
    assert list(r.revocations["issuer_dn"]) == [RSA_CA_4514, RSA_CA_4514]
    assert list(r.revocations["serial"]) == ["a0b", "c"]
    assert list(r.revocations["revoked_at"]) == [utc(2024, 10, 29, 7, 30), utc(2024, 10, 29, 7, 30)]
    assert list(r.revocations["reason"]) == ["keyCompromise", "superseded"]
    assert r.problems == [
        Problem(
            "odd.csv",
            "row 5",
            "serial d: revocation date: ambiguous date '03/04/2024 13:00' (day/month or month/day?); "
            "revocation skipped",
        )
    ]


def test_csv_utf8_bom(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(
        "\ufeffSerial Number,Issuer,Revocation date,Revocation reason,crt.sh Link\n"
        '00ff,"CN=Example Trust RSA CA 2018,O=Example Trust,C=US",2024-10-29T07:30:00Z,key_compromise,https://crt.sh/?id=42\n'.encode()
    )
    r = load_spreadsheet(p)
    assert list(r.mapped) == [
        "Serial Number",
        "Issuer",
        "Revocation date",
        "Revocation reason",
        "crt.sh Link",
    ]
    assert r.revocations.to_dict("records") == [
        {
            "issuer_dn": RSA_CA_4514,
            "serial": "ff",
            "revoked_at": utc(2024, 10, 29, 7, 30),
            "reason": "keyCompromise",
            "reason_code": 1,
            "source": f"{p} row 2",
        }
    ]
    assert r.certificates.empty  # nothing certificate-like besides the crt.sh link


def test_tab_separated_utf16_with_zone_in_cells(tmp_path):
    p = tmp_path / "unicode.txt"  # Excel's "Unicode Text" export
    p.write_bytes(
        "序列号\t颁发者\t吊销时间\t吊销原因\n0A\tCN=X\t2024-10-29 15:30 UTC+8\t密钥泄露\n".encode("utf-16")
    )
    r = load_spreadsheet(p, source="unicode.txt")
    assert r.mapped == {
        "序列号": "serial",
        "颁发者": "issuer_dn",
        "吊销时间": "revoked_at",
        "吊销原因": "reason",
    }
    assert r.revocations[["serial", "revoked_at", "reason"]].to_dict("records") == [
        {"serial": "a", "revoked_at": utc(2024, 10, 29, 7, 30), "reason": "keyCompromise"}
    ]
    assert r.problems == [] and r.warnings == []


def test_csv_from_bytes_and_hyperlink_formula(tmp_path):
    data = (
        "Serial #,Issuer,Not before,Not after,crt.sh ID,SPKI SHA-256,Certificate SHA-256 hash\n"
        '5,CN=X,2024-01-01,2025-01-01,"=HYPERLINK(""https://crt.sh/?id=77"",""77"")",'
        + "AB" * 32
        + ","
        + "cd:" * 31
        + "cd\n"
    ).encode("utf-8")
    r = load_spreadsheet(data, source="attachment 3")
    c = r.certificates.to_dict("records")[0]
    assert c["crtsh_id"] == 77
    assert c["spki_sha256"] == "ab" * 32
    assert c["cert_sha256"] == "cd" * 32
    assert c["source"] == "attachment 3 row 2"
    assert c["not_before"] == utc(2024, 1, 1)
    assert r.revocations.empty


# --- kinds, empties, errors -----------------------------------------------------------------


def test_revocations_kind_row_without_date(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "Serial,Issuer,Revocation date,Reason\n01,CN=X,2024-10-29 07:30 UTC,1\n02,CN=X,,1\n", encoding="utf-8"
    )
    r = load_spreadsheet(p, kind="revocations", source="r.csv")
    assert list(r.revocations["serial"]) == ["1"]
    assert r.problems == [
        Problem("r.csv", "row 3", "serial 2: revoked but no revocation date; revocation skipped")
    ]


def test_no_issuer_column(tmp_path):
    p = tmp_path / "ni.csv"
    p.write_text("Serial,Revocation date,Reason\n01,2024-10-29 07:30 UTC,1\n", encoding="utf-8")
    r = load_spreadsheet(p, source="ni.csv")
    assert r.revocations.empty
    assert len(r.problems) == 1 and r.problems[0].position == "row 1"
    assert "no issuer column" in r.problems[0].reason
    r2 = load_spreadsheet(p, source="ni.csv", issuer="C=US, O=Example Trust, CN=Example Trust RSA CA 2018")
    assert list(r2.revocations["issuer_dn"]) == [RSA_CA_4514]
    assert r2.problems == []


def test_exact_header_beats_a_contained_synonym(tmp_path):
    p = tmp_path / "dv.csv"
    p.write_text(
        "Domain validation method,Serial,Issuer,dNSNames,Not after\n"
        "dns-01,0f,CN=X,a.example,2025-01-01T00:00:00Z\n",
        encoding="utf-8",
    )
    r = load_spreadsheet(p)
    assert r.mapped == {
        "Serial": "serial",
        "Issuer": "issuer_dn",
        "dNSNames": "san_dns",
        "Not after": "not_after",
    }
    assert r.unmapped == ["Domain validation method"]
    assert r.certificates["san_dns"].tolist() == [["a.example"]]


def test_row_with_nothing_usable(tmp_path):
    p = tmp_path / "n.csv"
    p.write_text("Serial,Issuer,Subject\n01,CN=X,CN=a.example\n", encoding="utf-8")
    r = load_spreadsheet(p, source="n.csv")
    assert r.certificates.empty and r.revocations.empty
    assert [p.position for p in r.problems] == ["row 2"]
    assert "nothing usable" in r.problems[0].reason


def test_empty_sheet(tmp_path):
    wb = openpyxl.Workbook()
    r = load_spreadsheet(save(wb, tmp_path / "empty.xlsx"), source="empty.xlsx")
    assert r.problems == [Problem("empty.xlsx", None, "the spreadsheet is empty")]
    assert r.certificates.empty and r.revocations.empty
    assert list(r.revocations.columns) == list(REVOCATION_COLUMNS)
    assert set(CERTIFICATE_COLUMNS) <= set(r.certificates.columns)
    assert r.header_row is None and r.mapped == {} and r.unmapped == []


def test_sheet_without_header(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["hello", "world"])
    r = load_spreadsheet(save(wb, tmp_path / "nh.xlsx"), source="nh.xlsx")
    assert len(r.problems) == 1 and r.problems[0].reason.startswith("no header row found")


def test_first_sheet_without_header_second_with(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Summary"
    wb.active.append(["This workbook lists the affected certificates."])
    ws = wb.create_sheet("List")
    ws.append(["Serial", "Issuer", "Revocation date"])
    ws.append(["7", "CN=X", "2024-10-29 07:30 UTC"])
    r = load_spreadsheet(save(wb, tmp_path / "two.xlsx"))
    assert r.sheet == "List" and [s.name for s in r.sheets] == ["List"]
    assert list(r.revocations["serial"]) == ["7"]


def test_unreadable_inputs_are_one_problem_each(tmp_path):
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"this is not a zip")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\0" * 50)
    other_zip = tmp_path / "other.xlsx"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    expected = {
        xls: "Excel 97-2003 (.xls) workbooks are not read; save it as .xlsx or .csv",
        bad: "not a readable xlsx workbook (not a zip file)",
        broken: "not a readable xlsx workbook",
        other_zip: "not a readable xlsx workbook",
        binary: "not a spreadsheet",
        tmp_path / "missing.csv": "cannot read: No such file or directory",
    }
    for path, reason in expected.items():
        r = load_spreadsheet(path)
        assert len(r.problems) == 1, path
        assert r.problems[0].input == str(path) and r.problems[0].position is None
        assert r.problems[0].reason.startswith(reason), (path, r.problems[0].reason)
        assert r.certificates.empty and r.revocations.empty
        assert list(r.revocations.columns) == list(REVOCATION_COLUMNS)


# --- the value parsers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "header,field",
    [
        ("Serial Number", "serial"),
        ("serial #", "serial"),
        ("序列号", "serial"),
        ("证书序列号", "serial"),
        ("Certificate SHA-256 hash", "cert_sha256"),
        ("证书指纹", "cert_sha256"),
        ("Precertificate SHA-256 hash", "precert_sha256"),
        ("crt.sh", "crtsh_id"),
        ("crt.sh ID", "crtsh_id"),
        ("CRT.SH LINK", "crtsh_id"),
        ("Subject", "subject_dn"),
        ("主题", "subject_dn"),
        ("Common Name", "subject_cn"),
        ("通用名", "subject_cn"),
        ("dNSNames", "san_dns"),
        ("SAN", "san_dns"),
        ("域名", "san_dns"),
        ("Issuer", "issuer_dn"),
        ("颁发者", "issuer_dn"),
        ("签发者", "issuer_dn"),
        ("Not before", "not_before"),
        ("生效时间", "not_before"),
        ("Not after", "not_after"),
        ("失效时间", "not_after"),
        ("过期时间", "not_after"),
        ("Is revoked?", "is_revoked"),
        ("Revocation date", "revoked_at"),
        ("Revocation Time (UTC+8)", "revoked_at"),
        ("吊销时间", "revoked_at"),
        ("撤销时间", "revoked_at"),
        ("Revocation reason", "reason"),
        ("吊销原因", "reason"),
        ("撤销原因", "reason"),
        ("SPKI SHA-256", "spki_sha256"),
        ("Issuer Common Name", "issuer_dn"),
        ("Certificate Serial Number (hex)", "serial"),
        ("Issued by", "issuer_dn"),
        ("Issued to", "subject_cn"),
        ("颁发给", "subject_cn"),
        ("SHA1 Fingerprint", None),
        ("Remark", None),
        ("", None),
    ],
)
def test_match_header(header, field):
    assert match_header(header) == field


@pytest.mark.parametrize(
    "text,expected",
    [
        ("keyCompromise", ("keyCompromise", 1)),
        ("Key Compromise", ("keyCompromise", 1)),
        ("key_compromise", ("keyCompromise", 1)),
        ("1", ("keyCompromise", 1)),
        (1, ("keyCompromise", 1)),
        (1.0, ("keyCompromise", 1)),
        ("keyCompromise 密钥泄露", ("keyCompromise", 1)),
        ("密钥泄露(keyCompromise)", ("keyCompromise", 1)),
        ("密钥泄露", ("keyCompromise", 1)),
        ("(4) Superseded", ("superseded", 4)),
        ("cessation of operation", ("cessationOfOperation", 5)),
        ("affiliationChanged", ("affiliationChanged", 3)),
        ("privilegeWithdrawn", ("privilegeWithdrawn", 9)),
        ("AA Compromise", ("aACompromise", 10)),
        ("CA Compromise", ("cACompromise", 2)),
        ("certificateHold", ("certificateHold", 6)),
        ("", ("unspecified", 0)),
        ("N/A", ("unspecified", 0)),
        (None, ("unspecified", 0)),
    ],
)
def test_parse_reason(text, expected):
    assert parse_reason(text) == expected


@pytest.mark.parametrize("text", ["7", 12, "customer request", "keyCompromise (4)", True])
def test_parse_reason_rejects(text):
    with pytest.raises(ValueError):
        parse_reason(text)


# --- the demo incident's spreadsheet (data/demo/appendix.xlsx) --------------------------------

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
RSA_2018 = "CN=Example Trust RSA CA 2018,O=Example Trust,C=US"
ECC_2020 = "CN=Example Trust ECC CA 2020,O=Example Trust,C=US"


def test_demo_spreadsheet_rebuilds_byte_identically(tmp_path):
    subprocess.run(
        [sys.executable, str(DEMO / "build_spreadsheet.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    assert (tmp_path / "appendix.xlsx").read_bytes() == (DEMO / "appendix.xlsx").read_bytes()


def test_demo_spreadsheet_layout_as_written():
    wb = openpyxl.load_workbook(DEMO / "appendix.xlsx")
    ws = wb["Appendix"]
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:L1"]
    assert ws["A2"].value == "All times are UTC+8"
    assert [c.value for c in ws[3]] == CCADB_HEADER + ["SPKI SHA-256"]
    assert ws.max_row == 3 + 41
    # K1-0, the first faulty keyCompromise: serial with its DER 00, times in UTC+8
    assert ws["G4"].value == "00F9E576AD1055C4943117BA1E0D22B6CA"
    assert ws["D4"].value == "C=US, O=Example Trust, CN=Example Trust RSA CA 2018"
    assert ws["E4"].value == dt.datetime(2018, 10, 2, 18, 0)  # 10:00 UTC
    assert ws["J4"].value == dt.datetime(2018, 12, 25, 0, 0)  # 2018-12-24 16:00 UTC
    statuses = [ws.cell(r, 9).value for r in range(4, 45)]
    assert statuses.count("Yes") == 15
    assert statuses.count("Delayed") == 3  # K5-r4, K6-r4, K8-r3: valid and unrevoked on 2024-11-01
    assert statuses.count("N/A") == 23
    precert_rows = [r for r in range(4, 45) if ws.cell(r, 1).value]
    assert len(precert_rows) == 9  # K1-r2, K1-r4, K2-r4, K3-r2, K4-r4, K5-r3, K6-r3, K7-r3, K8-0


def test_demo_spreadsheet_loads():
    r = load_spreadsheet(DEMO / "appendix.xlsx", source="appendix.xlsx")
    assert r.layout == "ccadb-appendix"
    assert r.header_row == 3
    assert r.zone == dt.timezone(dt.timedelta(hours=8))
    assert r.unmapped == [] and r.mapped["SPKI SHA-256"] == "spki_sha256"
    assert r.problems == [] and r.warnings == []

    certs = r.certificates
    assert len(certs) == 41
    assert certs["spki_sha256"].nunique() == 8
    assert certs["cert_sha256"].notna().all() and not certs["is_precert"].any()
    assert certs["precert_sha256"].notna().sum() == 9
    assert set(certs["issuer_dn"]) == {RSA_2018, ECC_2020}
    k4_0 = certs[certs["serial"] == "802ea83f4b7ca9ed817f2a397d8bf77"].iloc[0]  # 31 hex digits
    assert k4_0["not_before"] == utc(2020, 2, 3, 0, 0)
    assert k4_0["not_after"] == utc(2021, 2, 1, 23, 59, 59)
    assert k4_0["subject_cn"] == "api.example-bank.test"

    revs = r.revocations
    assert len(revs) == 15
    assert (revs["reason"] == "keyCompromise").sum() == 12
    first = revs[revs["serial"] == "f9e576ad1055c4943117ba1e0d22b6ca"].iloc[0]
    assert first["issuer_dn"] == RSA_2018
    assert first["revoked_at"] == utc(2018, 12, 24, 16, 0)
    assert first["reason_code"] == 1
    superseded = revs[revs["reason"] == "superseded"].set_index("serial")["revoked_at"].to_dict()
    assert superseded == {
        "9eaa09627dcef3e375af38eeddc04e69": utc(2020, 5, 25, 18, 0),  # K2-r2
        "26083a5e2d3fa832f8d1b0caa500f0c4": utc(2024, 10, 30, 9, 0),  # K3-r4
        "b6921945f578d2b90012a661a7a7ddee": utc(2024, 10, 30, 9, 30),  # K4-r3
    }
    remaining = {
        "1e7921fab54bc496181c7871ef5820a",
        "9ba91d80c751406e3d7a0d5a133fe36e",
        "bb57b6622a7c49c50b584fa0d245b9d9",
    }
    assert remaining <= set(certs["serial"]) and not remaining & set(revs["serial"])
