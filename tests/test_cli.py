"""The command line as a whole: help everywhere, config errors as one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from newsmirror.cli import app

COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def test_every_command_is_there() -> None:
    assert set(COMMANDS) >= {"init", "check", "sync", "build", "publish", "run", "extract", "counter", "demo", "serve"}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output.splitlines()) > 5


@pytest.mark.parametrize("command", ["check", "sync", "build", "publish", "run"])
def test_missing_config_is_one_line_saying_what_to_do(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = CliRunner().invoke(app, [command, "--config", str(missing)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "newsmirror init" in lines[0], result.output


def test_init_then_check(tmp_path: Path) -> None:
    config = tmp_path / "newsmirror.toml"
    assert CliRunner().invoke(app, ["init", "--config", str(config)]).exit_code == 0
    assert CliRunner().invoke(app, ["init", "--config", str(config)]).exit_code == 2  # no silent overwrite
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 0 and "ok" in result.output
