"""Every argument of every sub-command has a help text, and each default worth showing
is in its help (`--points ... (default: 5)`), once, none as "default: None"; every
sub-command has a description in its own --help and a line in `microgrid --help`."""

from __future__ import annotations

import argparse
import re

import pytest

from microgrid.cli import build_parser, help_with_default

COMMANDS = ("run", "validate", "pareto", "export", "sweep", "sweep-report", "report")


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _arguments(command: argparse.ArgumentParser) -> list[argparse.Action]:
    """The arguments a user sees (not -h, not the hidden test hooks)."""
    return [
        a
        for a in command._actions
        if not isinstance(a, argparse._HelpAction) and a.help is not argparse.SUPPRESS
    ]


def _flat(text: str) -> str:
    """Without white space: argparse wraps lines at spaces and after hyphens."""
    return "".join(text.split())


def test_every_command_is_walked():
    assert set(COMMANDS) <= set(_commands())


@pytest.mark.parametrize("name", COMMANDS)
def test_every_argument_has_help_and_shows_its_default(name):
    command = _commands()[name]
    shown = _flat(command.format_help())
    assert "default:None" not in shown and "default:False" not in shown
    for action in _arguments(command):
        label = action.option_strings or [action.dest]
        assert action.help and action.help.strip(), (name, label)
        default = action.default
        if default is None or default is False:
            continue
        text = help_with_default(action) % {"default": default}
        assert str(default) in text, (name, label, text)
        assert _flat(text) in shown, (name, label)


def test_defaults_shown_by_value():
    commands = _commands()
    assert "(default:5)" in _flat(commands["pareto"].format_help())
    assert "(default:plan)" in _flat(commands["run"].format_help())
    assert "(default:1)" in _flat(commands["sweep"].format_help())


# what states a default in a help line: "(default: 5)", "none (default)", "by default"
DEFAULT_STATED = re.compile(r"\(default\b|\bdefault:|\bby default\b", re.IGNORECASE)
ALL_COMMANDS = sorted(_commands())


@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_every_command_has_a_description_and_a_line_in_the_main_help(name):
    command = _commands()[name]
    assert command.description and command.description.strip().endswith("."), name
    assert _flat(command.description) in _flat(command.format_help()), name
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    (line,) = [a for a in sub._choices_actions if a.dest == name]
    shown = parser._get_formatter()._expand_help(line)
    assert line.help and _flat(shown) in _flat(parser.format_help()), name


@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_no_help_line_states_its_default_twice(name):
    command = _commands()[name]
    formatter = command._get_formatter()
    for action in _arguments(command):
        shown = formatter._expand_help(action)  # the text --help prints for it
        assert len(DEFAULT_STATED.findall(shown)) <= 1, (name, action.option_strings, shown)
    assert not re.search(
        r"\(default: ([^)]*)\) \(default: \1\)", " ".join(command.format_help().split())
    ), name


def test_a_help_that_states_its_default_gets_no_second_one():
    parser = argparse.ArgumentParser()
    stated = parser.add_argument("--backup", default="none", help="none (default), always")
    plain = parser.add_argument("--points", default=5, help="points on the front")
    assert help_with_default(stated) == "none (default), always"
    assert help_with_default(plain) == "points on the front (default: %(default)s)"
