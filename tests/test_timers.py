"""`newsmirror init --timer`: systemd units that systemd accepts, a crontab line, a GitHub Actions workflow."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from newsmirror.cli import app

CONFIG = """
[mirror]
base_url = "https://github.com/someone/mirror/blob/main"
store = "data/newsmirror.db"
output = "mirror"
{extra}

[[site]]
id = "kzg"
name = "看中国"
  [[site.channel]]
  id = "p9"
  name = "看世界"
  feed = "https://www.kzg.io/p9.xml"

[[remote]]
name = "github"
url = "git@github.com:someone/mirror.git"

[[remote]]
name = "codeberg"
url = "git@codeberg.org:someone/mirror.git"
"""


def make_config(folder: Path, extra: str = 'counter_url = "https://counter.kzg.io"') -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "newsmirror.toml"
    config.write_text(CONFIG.format(extra=extra), "utf-8")
    return config


def init_timer(config: Path, kind: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["init", "--config", str(config), "--timer", kind, *args])


def systemd_complaints(*units: Path) -> list[str]:
    """What ``systemd-analyze verify`` says of our units (skips the test where it is not installed). It
    exits 0 on directives it ignores, but prints them: any line about our units is a defect."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    check = subprocess.run(["systemd-analyze", "verify", *map(str, units)], capture_output=True, text=True, timeout=60)
    return [line for line in (check.stdout + check.stderr).splitlines() if "newsmirror" in line] + (
        [f"exit {check.returncode}"] if check.returncode else []
    )


def init_systemd(config: Path, out: Path) -> tuple[Result, list[str]]:
    """``init --timer systemd --out out``, checked to succeed; its result and the files it wrote."""
    result = init_timer(config, "systemd", "--out", str(out))
    assert result.exit_code == 0, result.output
    return result, sorted(p.name for p in out.iterdir())


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    config = make_config(tmp_path / "srv")
    out = tmp_path / "units"
    result, names = init_systemd(config, out)
    assert names == ["newsmirror-counter.service", "newsmirror.service", "newsmirror.timer"]
    assert "sudo systemctl enable --now newsmirror.timer newsmirror-counter.service" in result.output

    service = (out / "newsmirror.service").read_text()
    assert f"run --config {config}" in service and "SuccessExitStatus=3" in service  # the lock's "busy"
    for hardening in ("NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=\n"):
        assert hardening in service
    assert f"ReadWritePaths=-{tmp_path / 'srv/data'} -{tmp_path / 'srv/mirror'}" in service
    assert "PrivateTmp" not in service  # the store is under /tmp here: a private /tmp would hide it
    counter = (out / "newsmirror-counter.service").read_text()
    assert "Restart=always" in counter and "counter --config" in counter and "--trust-proxy" in counter
    assert "OnUnitActiveSec=15min" in (out / "newsmirror.timer").read_text()
    assert systemd_complaints(*(out / name for name in names)) == []


def test_workers_on_postgresql_get_a_template_unit_one_instance_a_process(tmp_path: Path) -> None:
    config = make_config(tmp_path / "srv", extra="")
    text = config.read_text().replace('store = "data/newsmirror.db"', 'store = "postgresql://mirror@db.internal/news"')
    config.write_text(text, "utf-8")
    out = tmp_path / "units"
    result, names = init_systemd(config, out)
    assert names == ["newsmirror-worker@.service", "newsmirror.service", "newsmirror.timer"]
    assert "sudo systemctl enable --now newsmirror.timer newsmirror-worker@1.service" in result.output
    assert "sudo systemctl enable --now newsmirror-worker@2.service" in result.output
    worker = (out / "newsmirror-worker@.service").read_text()
    assert "Description=newsmirror: feed worker %i" in worker
    assert f"worker --config {config}" in worker and "Restart=always" in worker
    assert "KillSignal=SIGTERM" in worker and "TimeoutStopSec=2min" in worker
    # verify takes instances, not templates: the first one, as the printed step enables it.
    instance = out / "newsmirror-worker@1.service"
    instance.write_text(worker, "utf-8")
    assert systemd_complaints(instance, out / "newsmirror.service", out / "newsmirror.timer") == []


def test_systemd_analyze_verify_would_catch_a_bad_unit(tmp_path: Path) -> None:
    bad = tmp_path / "newsmirror-bad.service"
    bad.write_text("[Service]\nType=oneshat\nExecStart=/bin/true\nProtectSystem=bogus\n")
    assert len([line for line in systemd_complaints(bad) if "newsmirror-bad" in line]) == 2


def test_no_counter_service_without_counter_url_and_no_overwrite(tmp_path: Path) -> None:
    config = make_config(tmp_path, extra="")
    out = tmp_path / "units"
    assert init_timer(config, "systemd", "--out", str(out)).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["newsmirror.service", "newsmirror.timer"]
    again = init_timer(config, "systemd", "--out", str(out))
    assert again.exit_code == 2 and "already exists; pass --force" in again.output
    assert init_timer(config, "systemd", "--out", str(out), "--force").exit_code == 0


def test_never_into_system_folders(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    result = init_timer(config, "systemd", "--out", "/etc/systemd/system")
    assert result.exit_code == 2 and "does not write into system folders" in result.output
    assert not Path("/etc/systemd/system/newsmirror.timer").exists()
    assert init_timer(config, "launchd").exit_code == 2


def test_cron_line(tmp_path: Path) -> None:
    config = make_config(tmp_path / "srv")
    result = init_timer(config, "cron", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    lines = [line for line in (tmp_path / "newsmirror.cron").read_text().splitlines() if not line.startswith("#")]
    assert lines[0].startswith(f"*/15 * * * * cd {tmp_path / 'srv'} && ")
    assert f"run --config {config} >> " in lines[0]
    assert lines[1].startswith("@reboot ") and " counter --config " in lines[1]
    assert "| crontab -" in result.output


def test_github_actions_workflow_is_valid_yaml_with_the_expected_steps(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    result = init_timer(config, "github-actions", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    workflow = yaml.safe_load((tmp_path / ".github/workflows/newsmirror.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"] == [{"cron": "*/15 * * * *"}] and "workflow_dispatch" in triggers
    assert workflow["concurrency"]["cancel-in-progress"] is False
    steps = workflow["jobs"]["mirror"]["steps"]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    runs = " ".join(s.get("run", "") for s in steps)
    assert uses.index("actions/checkout") < uses.index("actions/setup-python") < uses.index("actions/cache/restore")
    assert uses.index("actions/cache/restore") < uses.index("actions/cache/save")
    restore, save = (steps[uses.index(u)] for u in ("actions/cache/restore", "actions/cache/save"))
    assert restore["with"]["path"].split() == save["with"]["path"].split() == ["data/newsmirror.db", "mirror"]
    assert save["if"].startswith("always()")  # a run with failed feeds still keeps what it stored
    run_step = next(s for s in steps if s.get("run", "").startswith("newsmirror run"))
    assert steps.index(run_step) < steps.index(save)
    assert workflow["env"]["NEWSMIRROR_CONFIG"] == "newsmirror.toml"
    assert "pip install" in runs and "secrets.MIRROR_SSH_KEY" in str(workflow)
    assert "ssh-keyscan -t ed25519 github.com codeberg.org" in runs
    assert 'git ls-remote --exit-code --heads "git@github.com:someone/mirror.git" "main"' in runs
    assert "newsmirror status --fail-on-stale" in runs


def test_github_actions_needs_the_files_inside_the_repository(tmp_path: Path) -> None:
    config = make_config(tmp_path / "elsewhere")
    result = init_timer(config, "github-actions", "--out", str(tmp_path / "repo"))
    assert result.exit_code == 2 and "outside" in result.output
