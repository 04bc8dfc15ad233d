"""Rules of analysis.reports and analysis.drafting that the layout fixtures do not show one by one:
outcomes on hostile inputs (their speed is measured in benchmarks/report_parse_speed.py, never
asserted here), item matching, counts compared within their measure, closure sentence joins, and
lint by the guideline version in force when the report was filed. Expected values by hand."""

from __future__ import annotations

import datetime as dt

from analysis.drafting import compare_counts, draft_closure_summary, lint_report, report_era
from analysis.reports import parse_comments, parse_report


def test_fifty_kilobytes_of_separator_lines_are_no_rows():
    text = "## Action Items\n| Action Item | Kind | Due Date | Status |\n" + "|---|---|---|---|\n" * 3000
    got = parse_report(text)
    assert got["action_items"] == [] and got["timeline"] == []


def test_long_runs_of_spaces_and_pipes_in_a_timeline_are_not_rows():
    text = "## Timeline\nAll times are UTC.\n" + " " * 20000 + "x\n" + "2024-01-01" + " |" * 20000 + " y\n"
    rows = parse_report(text)["timeline"]
    # the second line is a dated row whose text is the pipes' content: it keeps its date, in UTC
    assert [(r["when"], r["when_utc"]) for r in rows] == [("2024-01-01", "2024-01-01T00:00:00+00:00")]


def test_twenty_thousand_flattened_rows_are_all_read():
    text = "Action Items\nAction Item Kind Due Date\n" + "".join(
        f"Item {i} of the plan. Done 2024-11-01\n" for i in range(20000)
    )
    items = parse_report(text)["action_items"]
    assert len(items) == 20000
    assert items[-1]["item"] == "Item 19999 of the plan." and items[-1]["status"] == "Complete"


def test_update_matched_by_similarity_shows_the_match():
    comments = [
        {
            "count": 0,
            "creation_time": "2024-04-10T09:00:00Z",
            "text": "### Action Items\n\n| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n"
            "| Add an EKU check to the pre-issuance linter | Prevent | 2024-05-01 | Ongoing |\n",
        },
        {
            "count": 4,
            "creation_time": "2024-05-02T09:00:00Z",
            "text": "UPDATED action items:\n\n| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n"
            "| Add an EKU check to the pre-issuance linters | Prevent | 2024-05-01 | Complete |\n",
        },
    ]
    [item] = parse_comments(comments)["action_items"]
    assert item["status"] == "Complete" and item["updated"] is True
    first, second = item["history"]
    assert (first["status"], first["comment"], first["date"], first["matched"]) == (
        "Ongoing",
        0,
        "2024-04-10",
        None,
    )
    assert (second["status"], second["comment"], second["date"]) == ("Complete", 4, "2024-05-02")
    # one added letter: the prefix rule scores it 0.95, and the earlier item's words are shown
    assert second["matched"] == {
        "by": "text",
        "score": 0.95,
        "item": "Add an EKU check to the pre-issuance linter",
    }


def test_different_items_are_not_merged():
    text = (
        "### Action Items\n\n| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n"
        "| Rotate the HSM keys | Prevent | 2024-05-01 | Ongoing |\n\n"
        "### Action Items (UPDATED)\n\n| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n"
        "| Retrain the validation staff | Detect | 2024-06-01 | Complete |\n"
    )
    items = parse_report(text)["action_items"]
    assert [(i["item"], i["status"], i["updated"]) for i in items] == [
        ("Rotate the HSM keys", "Ongoing", False),
        ("Retrain the validation staff", "Complete", False),
    ]


def test_counts_are_compared_within_their_own_measure():
    counts = [
        {"measure": "certificates", "value": 8, "field": None},
        {"measure": "keys", "value": 8, "field": None},
        {"measure": "roots", "value": 2, "field": None},
    ]
    data = {"compromised_keys": 8, "issuances_with_compromised_keys": 41, "remaining_valid": 3}
    got = [(c["count"]["measure"], c["figure"], c["agrees"]) for c in compare_counts(counts, data)]
    # "Eight certificates" is not set against the 8 compromised keys
    assert got == [("certificates", None, None), ("keys", "compromised_keys", True), ("roots", None, None)]


def test_closure_draft_joins_items_mid_sentence_in_lower_case():
    text = (
        "### Action Items\n\n| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n"
        "| Block the keys | Mitigate | 2024-10-28 | Complete |\n"
        "| The revocation of the remaining certificates | Mitigate | 2024-10-31 | Complete |\n"
        "| OCSP monitoring for the CA | Prevent | 2024-11-30 | Complete |\n"
    )
    draft = draft_closure_summary(parse_report(text))
    assert draft["remediation"] == (
        "Completed: Block the keys; the revocation of the remaining certificates; and OCSP monitoring for the CA."
    )
    assert "; and The" not in draft["remediation"]


def test_completed_revocation_contradicted_by_data_is_an_error_and_no_attestation():
    text = (
        "### Action Items\n\n| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n"
        "| Revoke the remaining certificates | Mitigate | 2024-10-31 | Complete |\n"
    )
    report = parse_report(text)
    data = {"remaining_valid": 2, "issuances_with_compromised_keys": 5, "compromised_keys": 1}
    findings = lint_report(report, data)
    assert [(f["code"], f["severity"], f["line"]) for f in findings] == [
        ("action_item.contradicted_by_data", "error", 5)
    ]
    assert draft_closure_summary(report, data)["attestation"] is False
    assert draft_closure_summary(report, {**data, "remaining_valid": 0})["attestation"] is True


def test_data_older_than_the_revocation_neither_confirms_nor_contradicts_it():
    # Due 2024-10-31 and Complete; 2 certificates still valid in the data.
    text = (
        "### Action Items\n\n| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n"
        "| Revoke the remaining certificates | Mitigate | 2024-10-31 | Complete |\n"
    )
    report = parse_report(text)
    data = {"remaining_valid": 2, "issuances_with_compromised_keys": 5, "compromised_keys": 1}
    # Data as of 2024-11-01, after the due date: the revocation should show, so it contradicts.
    after = lint_report(report, data, data_as_of="2024-11-01T00:00:00Z")
    assert [(f["code"], f["severity"]) for f in after] == [("action_item.contradicted_by_data", "error")]
    assert draft_closure_summary(report, data, data_as_of="2024-11-01T00:00:00Z")["attestation"] is False
    # Data as of 2024-10-30, the day before: it cannot show a revocation done later.
    before = lint_report(report, data, data_as_of=dt.datetime(2024, 10, 30, tzinfo=dt.UTC))
    assert [(f["code"], f["severity"], f["line"]) for f in before] == [
        ("action_item.unconfirmed_by_data", "warning", 5)
    ]
    assert "2024-10-30" in before[0]["message"] and "2024-10-31" in before[0]["message"]
    draft = draft_closure_summary(report, data, data_as_of="2024-10-30T12:00:00Z")
    assert draft["attestation"] is True
    assert draft["data_predates"] == [
        {"item": "Revoke the remaining certificates", "completed": "2024-10-31"}
    ]
    assert "as of 2024-10-30, was gathered before the revocations" in draft["remediation"]
    # Same day counts as "not after": the data is as recent as the revocation.
    same = lint_report(report, data, data_as_of="2024-10-31T23:00:00Z")
    assert [f["code"] for f in same] == ["action_item.contradicted_by_data"]


def test_the_update_that_completed_the_item_dates_it_before_the_due_date_does():
    comments = [
        {
            "count": 0,
            "creation_time": "2024-10-20T09:00:00Z",
            "text": "### Action Items\n\n| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n"
            "| Revoke the remaining certificates | Mitigate | 2024-10-25 | Ongoing |\n"
            "| Block the keys | Prevent | 2024-10-22 | Complete |\n",
        },
        {
            "count": 3,
            "creation_time": "2024-11-05T09:00:00Z",
            "text": "### Action Items (UPDATED)\n\n| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n"
            "| Revoke the remaining certificates | Mitigate | 2024-10-25 | Complete |\n"
            "| Block the keys | Prevent | 2024-10-22 | Complete |\n",
        },
    ]
    report = parse_comments(comments)
    data = {"remaining_valid": 1, "issuances_with_compromised_keys": 3, "compromised_keys": 1}
    # Due 2024-10-25, but the comment that marked it Complete is from 2024-11-05: data from
    # 2024-11-01 predates it. "Block the keys" is no revocation and is never judged by the data.
    found = lint_report(report, data, data_as_of="2024-11-01")
    assert [(f["code"], f["comment"]) for f in found] == [("action_item.unconfirmed_by_data", 3)]
    draft = draft_closure_summary(report, data, data_as_of="2024-11-01")
    assert draft["data_predates"] == [
        {"item": "Revoke the remaining certificates", "completed": "2024-11-05"}
    ]
    assert draft["attestation"] is True
    # Without the data's date nothing can be said about timing: the old rule holds.
    assert [f["code"] for f in lint_report(report, data)] == ["action_item.contradicted_by_data"]


def test_lint_names_the_guideline_in_force_on_the_filing_date():
    text = (
        "## Incident Report\n\n### Summary\n\nSomething happened.\n\n### Timeline\n\n2024-11-01 10:00 UTC x\n"
    )
    report = parse_report(text)
    era, why = report_era(report)
    assert era.ERA == "v1-v2" and why == "CCADB Incident Reporting Guidelines 1.0/2.0, in force on 2024-11-01"
    assert report_era(report, dt.date(2025, 3, 1))[0].ERA == "v3"
    assert report_era(report, dt.date(2019, 5, 1))[0].ERA == "7-question"
    msgs = [f["message"] for f in lint_report(report) if f["code"] == "section.missing"]
    assert (
        "Section 'Impact' is missing (CCADB Incident Reporting Guidelines 1.0/2.0, in force on 2024-11-01)"
        in msgs
    )
    # 2.0 had no Related Incidents section: not asked for
    assert not [m for m in msgs if "Related Incidents" in m] and len(msgs) == 5
    assert not [f for f in lint_report(report) if f["code"] == "field.missing"]


def test_a_later_comment_updates_an_item_in_prose_by_its_position():
    comments = [
        {
            "count": 0,
            "creation_time": "2025-05-03T09:00:00Z",
            "text": "### Action Items\n\n| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n"
            "| Add a second responder site | Prevent | 2025-06-30 | Ongoing |\n"
            "| Alert on responder latency | Detect | 2025-05-30 | Ongoing |\n",
        },
        {"count": 1, "creation_time": "2025-05-31T09:00:00Z", "text": "Action Item 2 has been completed."},
        {
            "count": 2,
            "creation_time": "2025-06-01T09:00:00Z",
            "text": "Action item 9 is done.",
        },  # no such item
    ]
    items = parse_comments(comments)["action_items"]
    assert [(i["item"], i["status"]) for i in items] == [
        ("Add a second responder site", "Ongoing"),
        ("Alert on responder latency", "Complete"),
    ]
    last = items[1]["history"][-1]
    assert (last["comment"], last["date"], last["matched"]["by"]) == (1, "2025-05-31", "number")


def test_a_column_header_names_the_timeline_zone():
    text = "## Timeline\n\nDate Time (UTC+8) Event\n2024-06-03 09:00 Job fails.\n"
    [row] = parse_report(text)["timeline"]
    assert (row["when"], row["when_utc"]) == ("2024-06-03T09:00:00+08:00", "2024-06-03T01:00:00+00:00")


def test_question_n_dash_opens_a_seven_question_answer():
    text = (
        "Question 1 - How your CA first became aware of the problem\nA mail.\n\n"
        "Question 2 - Timeline of the actions your CA took\n2019/05/14 13:20 (UTC) Report received.\n\n"
        "Question 7 - List of steps your CA is taking\n- Remove legacy profiles.\n"
    )
    got = parse_report(text)
    assert (got["era"], got["kind"]) == ("7-question", "full")
    assert [r["when_utc"] for r in got["timeline"]] == ["2019-05-14T13:20:00+00:00"]
