"""Every argument of every sub-command has a help text, and each default worth showing
is in its help (`--points ... (default: 5)`), none as "default: None"."""

from __future__ import annotations

import argparse

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
