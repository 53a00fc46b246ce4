"""`--log-format json`: one JSON object per line, for journald and log collectors; plain stays the default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from newsmirror.demosite import DemoSite


def run(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsmirror.cli", *args, "run", "--all", "--config", str(config)],
        capture_output=True, text=True, timeout=180, env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_json_log_lines_parse_and_name_what_they_are_about(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(remote)], check=True)
    with DemoSite(slow_delay=0.2) as demo:
        config = tmp_path / "newsmirror.toml"
        text = demo.config_toml(output=str(tmp_path / "mirror"), store=str(tmp_path / "store.db"))
        config.write_text(text + f'\n[[remote]]\nname = "local"\nurl = "{remote.as_posix()}"\n', "utf-8")
        result = run(config, "--log-format", "json")
        again = run(config, env={"NEWSMIRROR_LOG_FORMAT": "json"})
        plain = run(config)
    assert result.returncode == 1  # the sample sites' deliberate faults
    records = [json.loads(line) for line in result.stderr.splitlines()]  # every line is one JSON object
    assert records and all({"time", "level", "event", "message"} <= set(r) for r in records)
    assert all(r["time"].endswith("Z") and r["level"] in ("info", "warning", "error") for r in records)
    events = {r["event"] for r in records}
    assert {"feed", "article", "sync", "build", "publish", "remote"} <= events
    feeds = [r for r in records if r["event"] == "feed"]
    assert all("/" in r["feed"] for r in feeds)
    failed = [r for r in feeds if r["level"] == "error"]
    assert failed and all(r["message"].startswith(f"feed {r['feed']}") for r in failed)
    articles = [r for r in records if r["event"] == "article"]
    assert articles and all(r["article"].count("/") == 2 for r in articles)
    assert any(r["level"] == "error" and "404" in r["message"] for r in articles)
    (pushed,) = [r for r in records if r["event"] == "remote"]
    assert pushed["remote"] == "local" and pushed["level"] == "info"

    assert all(json.loads(line)["level"] for line in again.stderr.splitlines())  # the variable works too
    # Plain stays the default: lines for people, none of them JSON.
    assert plain.stderr.splitlines() and not any(line.startswith("{") for line in plain.stderr.splitlines())
    assert any(line.startswith("error: feed ") for line in plain.stderr.splitlines())


def test_a_library_warning_is_a_json_line_too() -> None:
    # A library's warning (e.g. urllib3's DependencyWarning on import) must not break the JSON lines.
    code = (
        "import warnings, sys\n"
        "from newsmirror.progress import Log\n"
        "from rich.console import Console\n"
        "log = Log(Console(file=sys.stderr), 'json')\n"
        "log.take_python_warnings()\n"
        "warnings.warn('PySocks is missing', DeprecationWarning, stacklevel=1)\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    (record,) = [json.loads(line) for line in result.stderr.splitlines()]
    assert record["level"] == "warning" and record["event"] == "python"
    assert record["message"].startswith("DeprecationWarning: PySocks is missing")
