"""The README documents every command, subcommand and keyreuse option (datasette-style docs test)."""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.cli import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_readme_starts_with_the_two_commands():
    head = README[: README.index("## ")]
    assert "make run" in head and "make test" in head


def test_every_command_is_documented():
    missing = []
    for name, sub in _subparsers(build_parser()).items():
        children = _subparsers(sub)
        if not children:
            if f"ca-incidents {name}" not in README:
                missing.append(name)
        for child in children:
            if f"ca-incidents {name} {child}" not in README:
                missing.append(f"{name} {child}")
    assert missing == []


def test_every_keyreuse_option_is_documented():
    keyreuse = _subparsers(build_parser())["keyreuse"]
    options = [s for a in keyreuse._actions for s in a.option_strings if s.startswith("--") and s != "--help"]
    missing = [o for o in options if o not in README]
    assert missing == []


def test_exit_statuses_are_documented():
    for status in ("| 0 |", "| 1 |", "| 2 |", "| 3 |"):
        assert status in README
