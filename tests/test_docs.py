"""The README and `--help` agree (the datasette / sqlite-utils way of testing docs).

Every command and subcommand has a help line and a description; every option has help text;
every synopsis in the README (code blocks starting `ca-incidents <command>`) names only options
the command has, with the same choices, marks repeatable options with `...`, and lists every
option of the command except the shared source options (documented once, in their table).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pytest

from analysis.cli import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
# Options documented once in the README's "Shared options" table rather than in each synopsis.
SHARED = {
    "--crtsh-url",
    "--bugzilla-url",
    "--pwnedkeys-url",
    "--crtsh-db",
    "--cache-dir",
    "--deadline",
    "--offline",
    "--refresh",
    "--allow-private-hosts",
}
KEYREUSE_INPUTS = "[keyreuse inputs]"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _commands(parser=None, path=()) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every command path (('keyreuse',), ('report', 'parse'), ...) -> its parser, groups included."""
    parser = parser or build_parser()
    out = {}
    for name, sub in _subparsers(parser).items():
        out[(*path, name)] = sub
        out.update(_commands(sub, (*path, name)))
    return out


COMMANDS = _commands()
LEAVES = {path: p for path, p in COMMANDS.items() if not _subparsers(p)}


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {s: a for a in parser._actions for s in a.option_strings if s.startswith("--") and s != "--help"}


def _keyreuse_inputs() -> set[str]:
    """The options of keyreuse's "key-reuse inputs" group (the README's `[keyreuse inputs]`)."""
    groups = LEAVES[("keyreuse",)]._action_groups
    group = next(g for g in groups if g.title == "key-reuse inputs")
    return {s for a in group._group_actions for s in a.option_strings}


def _code_lines(text: str) -> list[str]:
    """Lines inside fenced (```) or indented (4 spaces) code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            lines.append(line)
        elif line.startswith("    ") and line.strip():
            lines.append(line[4:])
        else:
            lines.append("")
    return lines


def synopses(text: str = README) -> list[tuple[tuple[str, ...], str]]:
    """(command path, synopsis text) for every `ca-incidents ...` synopsis in a code block."""
    out: list[tuple[tuple[str, ...], str]] = []
    current: list[str] | None = None
    for line in [*_code_lines(text), ""]:
        body = line.split("  #", 1)[0].rstrip()
        if body.startswith("ca-incidents "):
            if current:
                out.append(_path_of(" ".join(current)))
            current = [body]
        elif current is not None and body.startswith(" ") and body.strip():
            current.append(body.strip())
        else:
            if current:
                out.append(_path_of(" ".join(current)))
            current = None
    return out


def _path_of(text: str) -> tuple[tuple[str, ...], str]:
    words = text.split()[1:]
    path: tuple[str, ...] = ()
    for w in words:
        if (*path, w) in COMMANDS:
            path = (*path, w)
        else:
            break
    return path, text


SYNOPSES = synopses()


def _enclosing_close(text: str, start: int) -> int | None:
    """Index of the bracket closing the group that contains text[start] (None at top level)."""
    depth = 0
    for i in range(start, len(text)):
        c = text[i]
        if c in "[(":
            depth += 1
        elif c in "])":
            if depth == 0:
                return i
            depth -= 1
    return None


def test_readme_starts_with_the_two_commands():
    head = README[: README.index("## ")]
    assert "make run" in head and "make test" in head


def test_every_command_has_help_and_a_description():
    missing = []
    parser = build_parser()

    def walk(p, path=()):
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help for a in action._choices_actions}
                for name, sub in action.choices.items():
                    if not helps.get(name):
                        missing.append(f"{' '.join((*path, name))}: no help line")
                    if not sub.description:
                        missing.append(f"{' '.join((*path, name))}: no description")
                    walk(sub, (*path, name))

    walk(parser)
    assert missing == []


def test_every_option_has_help():
    missing = [
        f"{' '.join(path)} {a.option_strings[0] if a.option_strings else a.dest}"
        for path, p in LEAVES.items()
        for a in p._actions
        if a.help in (None, "", argparse.SUPPRESS) and not isinstance(a, argparse._HelpAction)
    ]
    assert missing == []


def test_top_level_options_have_help_and_are_documented():
    top = _options(build_parser())
    assert {o for o, a in top.items() if not a.help} == set()
    assert sorted(o for o in top if not re.search(re.escape(o) + r"(?![\w-])", README)) == []


def test_every_command_has_a_readme_synopsis():
    documented = {path for path, _ in SYNOPSES}
    assert sorted(set(LEAVES) - documented) == []


def test_synopses_name_only_real_options_with_their_choices():
    wrong = []
    for path, text in SYNOPSES:
        assert path in LEAVES, f"synopsis of an unknown command: {text}"
        opts = _options(LEAVES[path])
        if KEYREUSE_INPUTS in text:
            keyreuse = _options(LEAVES[("keyreuse",)])
            opts = {**{k: keyreuse[k] for k in _keyreuse_inputs()}, **opts}
        for m in re.finditer(r"(--[a-z][a-z0-9-]*)(?: ([^\s\]\)]+))?", text):
            name, value = m.group(1), m.group(2)
            if name not in opts:
                wrong.append(f"{' '.join(path)}: {name} is not an option")
                continue
            choices = opts[name].choices
            if choices and value:
                if set(value.split("|")) != set(choices):
                    wrong.append(f"{' '.join(path)}: {name} {value} but --help says {'|'.join(choices)}")
    assert wrong == []


def test_synopses_list_every_option_and_mark_repeatable_ones():
    wrong = []
    for path, text in SYNOPSES:
        parser = LEAVES[path]
        inputs = _keyreuse_inputs() if KEYREUSE_INPUTS in text else set()
        for name, action in _options(parser).items():
            if name in SHARED or (name in inputs and path != ("keyreuse",)):
                continue
            at = re.search(re.escape(name) + r"(?![a-z-])", text)
            if at is None:
                wrong.append(f"{' '.join(path)}: {name} missing from `{text}`")
                continue
            if isinstance(action, argparse._AppendAction):
                close = _enclosing_close(text, at.end())
                if close is None or not text.startswith("...", close + 1):
                    wrong.append(f"{' '.join(path)}: {name} is repeatable but not marked `...`")
        for action in parser._actions:
            if action.option_strings or isinstance(action, argparse._SubParsersAction):
                continue
            metavar = action.metavar or action.dest.upper()
            want = metavar + ("..." if action.nargs in ("+", "*") else "")
            if not re.search(re.escape(want) + r"(?![\w.])", text):
                wrong.append(f"{' '.join(path)}: positional {want} missing from `{text}`")
    assert wrong == []


def test_shared_options_are_in_the_table_and_only_where_used():
    for opt in SHARED:
        assert f"`{opt}" in README, f"{opt} is not in the README's shared options table"
    sources = {"--crtsh-url", "--bugzilla-url"}
    used = {
        ("keyreuse",): {"--crtsh-url"},
        ("fetch", "crtsh"): {"--crtsh-url"},
        ("fetch", "bug"): {"--bugzilla-url"},
        ("fetch", "bugs"): {"--bugzilla-url"},
        ("report", "parse"): {"--bugzilla-url"},
        ("report", "lint"): {"--crtsh-url", "--bugzilla-url"},
        ("report", "closure-summary"): {"--crtsh-url", "--bugzilla-url"},
        ("report", "draft"): {"--crtsh-url"},
        ("report", "appendix"): {"--crtsh-url"},
        ("incidents", "summary"): set(),
        ("dashboard",): set(),
    }
    for path, want in used.items():
        assert set(_options(LEAVES[path])) & sources == want, path
    # Commands that read only local files offer no cache options either.
    for path in (("incidents", "summary"), ("dashboard",)):
        assert not {"--cache-dir", "--offline", "--refresh"} & set(_options(LEAVES[path])), path


def test_format_is_described():
    for path, parser in LEAVES.items():
        fmt = _options(parser).get("--format")
        if fmt is not None:
            assert all(c in fmt.help for c in fmt.choices), path
            assert f"default: {fmt.default}" in fmt.help, path


def test_exit_statuses_are_documented():
    for status in ("| 0 |", "| 1 |", "| 2 |", "| 3 |"):
        assert status in README


# --- the checks themselves catch what they are meant to -----------------------------------------


@pytest.mark.parametrize(
    "readme, problem",
    [
        ("```\nca-incidents keyreuse [--certs PATH] [--frmat json]\n```\n", "not an option"),
        ("```\nca-incidents keyreuse [--format table|xml]\n```\n", "--help says"),
        ("```\nca-incidents keyreuse [--certs PATH]\n```\n", "not marked"),
        ("```\nca-incidents fetch bug ID [--out DIR]\n```\n", "ID..."),
    ],
)
def test_the_checks_fail_on_a_wrong_synopsis(monkeypatch, readme, problem):
    monkeypatch.setattr(sys.modules[__name__], "SYNOPSES", synopses(readme))
    failures = []
    for check in (
        test_synopses_name_only_real_options_with_their_choices,
        test_synopses_list_every_option_and_mark_repeatable_ones,
    ):
        try:
            check()
        except AssertionError as exc:
            failures.append(str(exc))
    assert any(problem in f for f in failures)
