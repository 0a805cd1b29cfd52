"""Running the real CLI in-process for the bad-input tests."""

from __future__ import annotations

from microgrid.cli import main


def one_error_line(capsys, argv: list[str]) -> str:
    """Run `microgrid ARGV`; assert exit code 2 and exactly one stderr line, no traceback;
    return that line."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]
