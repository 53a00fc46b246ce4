"""Working timer files for running newsmirror unattended: `newsmirror init --timer KIND`.

Three kinds, each a set of files written into a folder of the operator's (never
into a system folder) and the steps to install them:

* ``systemd``: ``newsmirror.service`` + ``newsmirror.timer`` calling ``run`` every
  15 minutes (the run lock makes an overlapping start exit 3, which the unit
  counts as success), a ``Restart=always`` service for each long-running command
  the install has and the config uses (the view counter, the worker), and the
  sandboxing systemd offers (``ProtectSystem=strict``, ``NoNewPrivileges``…)
  with only the store's and the output's folders writable;
* ``cron``: crontab lines;
* ``github-actions``: a workflow that runs newsmirror inside GitHub on a schedule
  and pushes to the configured mirrors, keeping the store and the output's git
  history between runs in the Actions cache (see ``_workflow`` for why a cache and
  not a branch).
"""

from __future__ import annotations

import getpass
import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from newsmirror.config import Config

TimerKind = Literal["systemd", "cron", "github-actions"]
KINDS: tuple[TimerKind, ...] = ("systemd", "cron", "github-actions")
EVERY_MINUTES = 15


@dataclass(frozen=True, slots=True)
class _Daemon:
    what: str
    used: Callable[[Config], bool]
    extra: list[str]
    # A template unit (name@.service): one instance per process, as many as the machine should run.
    template: bool = False
    stop: str = ""  # systemd lines for how it stops


# Long-running commands that get a service of their own when this install has them and the config uses them.
_DAEMONS = {
    "counter": _Daemon("the view counter", lambda cfg: cfg.mirror.counter_url is not None, ["--trust-proxy"]),
    # On SQLite the timer's `run` polls the feeds that are due; workers are for a PostgreSQL store.
    "worker": _Daemon(
        "feed worker %i",
        lambda cfg: cfg.store_url is not None,
        [],
        template=True,
        # SIGTERM: it stops claiming and finishes the articles in hand (one fetch each, within the
        # HTTP timeouts), then exits 0. A lost database connection ends it too: systemd restarts it.
        stop="KillSignal=SIGTERM\nTimeoutStopSec=2min\n",
    ),
}


@dataclass(frozen=True, slots=True)
class TimerFile:
    path: str  # relative to the folder they are written to
    text: str


@dataclass(frozen=True, slots=True)
class TimerPlan:
    files: list[TimerFile]
    install: list[str]  # what to do next, one step a line


class TimerError(Exception):
    """The files cannot be made or written; one line for the user."""


def plan(
    kind: TimerKind, config: Config, config_path: Path, executable: Path, commands: set[str], out: Path
) -> TimerPlan:
    """The files of ``kind`` for ``config`` (at ``config_path``), run with ``executable``."""
    config_path = config_path.resolve()
    if kind == "systemd":
        return _systemd(config, config_path, executable, commands, out)
    if kind == "cron":
        return _cron(config, config_path, executable, out)
    return _workflow(config, config_path, out)


# Where units and crontabs are installed: the files are written elsewhere and installed by the operator.
_SYSTEM_FOLDERS = ("/etc", "/lib/systemd", "/usr", "/var/spool/cron", "/run/systemd")


def write(plan: TimerPlan, out: Path, *, force: bool = False) -> list[Path]:
    """Write the files under ``out``; an existing one is kept unless ``force``."""
    resolved = out.resolve()
    if any(resolved == Path(f) or Path(f) in resolved.parents for f in _SYSTEM_FOLDERS):
        raise TimerError(
            f"{out}: newsmirror does not write into system folders; write the files here "
            "(or to --out DIR) and install them with the steps it prints"
        )
    targets = [out / f.path for f in plan.files]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise TimerError(f"{existing[0]} already exists; pass --force to overwrite it")
    for file, target in zip(plan.files, targets, strict=True):
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
            temp.write_text(file.text, "utf-8")
            os.replace(temp, target)
        except OSError as exc:
            raise TimerError(f"{target}: cannot write it: {exc.strerror or exc}") from None
    return targets


def _q(path: Path | str) -> str:
    """A path as systemd reads it in ExecStart= and friends (spaces quoted)."""
    text = str(path)
    return f'"{text}"' if any(c.isspace() for c in text) else text


_HARDENING = """\
# Sandboxing: the whole file system read-only but the folders named below, no new
# privileges, no devices, no kernel tunables, a private /tmp; only IP and local sockets.
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths={writable}
{private_tmp}PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
CapabilityBoundingSet=
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
SystemCallArchitectures=native
UMask=0027
"""


def _systemd(config: Config, config_path: Path, executable: Path, commands: set[str], out: Path) -> TimerPlan:
    user = getpass.getuser()
    # "-": a folder that does not exist yet (the output before the first build) is no error.
    folders = sorted({str(config.store_path.parent), str(config.output_dir)})
    writable = " ".join(_q(f"-{f}") for f in folders)
    # A private /tmp would hide a store or output kept under /tmp itself.
    in_tmp = any(f == "/tmp" or f.startswith(("/tmp/", "/var/tmp/")) for f in folders)
    hardening = _HARDENING.format(writable=writable, private_tmp="" if in_tmp else "PrivateTmp=yes\n")
    common = f"User={user}\nWorkingDirectory={_q(config.root)}\nEnvironment=NEWSMIRROR_CONFIG={_q(config_path)}\n"
    run = f"{_q(executable)} run --config {_q(config_path)}"
    files = [
        TimerFile(
            "newsmirror.service",
            "[Unit]\n"
            "Description=newsmirror: sync, build and publish the mirror\n"
            "Documentation=https://github.com/newsmirror/newsmirror#running-it-on-a-server\n"
            "Wants=network-online.target\nAfter=network-online.target\n\n"
            "[Service]\nType=oneshot\n"
            f"{common}ExecStart={run}\n"
            "# 3: another run still holds the lock (<store>.lock); this start had nothing to do.\n"
            "SuccessExitStatus=3\n"
            "# A run that takes longer than this is stuck; the next timer tick starts afresh.\n"
            "TimeoutStartSec=2h\n"
            "Nice=5\nIOSchedulingClass=idle\n"
            f"{hardening}",
        ),
        TimerFile(
            "newsmirror.timer",
            "[Unit]\nDescription=Run newsmirror every 15 minutes\n\n"
            "[Timer]\nOnBootSec=2min\n"
            f"OnUnitActiveSec={EVERY_MINUTES}min\n"
            "# Spread the load a little: many mirrors start on the quarter hour.\n"
            "RandomizedDelaySec=60\nAccuracySec=30s\n\n"
            "[Install]\nWantedBy=timers.target\n",
        ),
    ]
    daemons = []
    more = []
    for command, daemon in _DAEMONS.items():
        if command not in commands or not daemon.used(config):
            continue
        unit = f"newsmirror-{command}{'@' if daemon.template else ''}.service"
        daemons.append(unit.replace("@", "@1") if daemon.template else unit)
        if daemon.template:
            more.append(f"sudo systemctl enable --now newsmirror-{command}@2.service   # a second {command}, and so on")
        args = " ".join([command, "--config", _q(config_path), *daemon.extra])
        files.append(
            TimerFile(
                unit,
                f"[Unit]\nDescription=newsmirror: {daemon.what}\n"
                "Wants=network-online.target\nAfter=network-online.target\n\n"
                "[Service]\nType=simple\n"
                f"{common}ExecStart={_q(executable)} {args}\n"
                "# It must always be up: restarted whenever it stops, after a short pause.\n"
                f"Restart=always\nRestartSec=5s\n{daemon.stop}"
                f"{hardening}\n"
                "[Install]\nWantedBy=multi-user.target\n",
            )
        )
    names = " ".join(f.path for f in files)
    install = [
        f"sudo cp {names} /etc/systemd/system/",
        "sudo systemctl daemon-reload",
        "sudo systemctl enable --now newsmirror.timer" + "".join(f" {d}" for d in daemons),
        *more,
        "systemctl list-timers newsmirror.timer; journalctl -u newsmirror.service -f   # to watch it",
        f"(check them first: systemd-analyze verify {' '.join(str(out / f.path) for f in files)})",
    ]
    return TimerPlan(files, install)


def _cron(config: Config, config_path: Path, executable: Path, out: Path) -> TimerPlan:
    log = config.root / "newsmirror.log"
    # cron takes % for a newline: a path holding one is escaped.
    paths = (config.root, executable, config_path, log)
    workdir, exe, cfg, log_file = (shlex.quote(str(p)).replace("%", "\\%") for p in paths)
    lines = [
        "# newsmirror: sync, build and publish every 15 minutes. A start while a run still holds",
        "# the lock (<store>.lock) exits at once with status 3, so runs never overlap.",
        f"*/{EVERY_MINUTES} * * * * cd {workdir} && {exe} run --config {cfg} >> {log_file} 2>&1",
    ]
    if config.mirror.counter_url is not None:
        lines += [
            "# The view counter, started at boot (cron does not restart it: prefer systemd for it).",
            f"@reboot cd {workdir} && {exe} counter --config {cfg} --trust-proxy >> {log_file} 2>&1",
        ]
    text = "\n".join(lines) + "\n"
    return TimerPlan(
        [TimerFile("newsmirror.cron", text)],
        [
            f"(crontab -l 2>/dev/null; cat {out / 'newsmirror.cron'}) | crontab -",
            "crontab -l   # to check; the output goes to " + str(log),
        ],
    )


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise TimerError(
            f"{path} is outside {root}: in GitHub Actions every file must be inside the repository; "
            "run 'init --timer github-actions' from the repository's top folder (or pass --out)"
        ) from None


def _ssh_host(url: str) -> str | None:
    """The host of an SSH remote (git@host:owner/repo.git, ssh://git@host/…), for its host key."""
    if url.startswith("ssh://"):
        return urlsplit(url).hostname
    match = re.match(r"^[\w.-]+@([\w.-]+):", url)
    return match.group(1) if match else None


def _workflow(config: Config, config_path: Path, out: Path) -> TimerPlan:
    """A GitHub Actions workflow.

    The store and the output folder (with its .git) are kept between runs in the
    **Actions cache**, not in a branch: the store must never be published (a branch
    of a public repository is public), and committing a SQLite file every run would
    add its whole size to the repository's history each time. A cache entry unused
    for 7 days is evicted, which a schedule every 15 minutes never lets happen; each
    run saves a new entry (keys must be unique) and restores the newest. If the
    cache is ever lost while the mirror already exists, the workflow stops before
    publishing rather than publish a mirror rebuilt from an empty store.
    """
    cfg = _relative(config_path, out)
    store = _relative(config.store_path, out)
    output = _relative(config.output_dir, out)
    remote = config.remotes[0] if config.remotes else None
    hosts = " ".join(dict.fromkeys(h for h in (_ssh_host(r.url) for r in config.remotes) if h)) or "github.com"
    branch = (remote.branch if remote else None) or config.mirror.branch
    lost_check = (
        f'if git ls-remote --exit-code --heads "{remote.url}" "{branch}" > /dev/null 2>&1; then\n'
        f'            echo "::error::the cached store is gone but {remote.name} already holds the mirror: '
        "restore the store (a backup of it as newsmirror.db), or the first build would drop the older "
        'pages"\n'
        "            exit 1\n"
        "          fi"
        if remote
        else 'echo "no [[remote]] in the config: the mirror is kept in the cache only"'
    )
    text = f"""# newsmirror on GitHub Actions: sync, build and publish on a schedule, inside GitHub.
# Written by 'newsmirror init --timer github-actions'. Commit it as .github/workflows/newsmirror.yml
# in a PRIVATE repository holding {cfg} (the config is private: it names your remotes).
#
# The store ({store}) and the output folder ({output}, with its git history) are kept between
# runs in the Actions cache, not in a branch: the store must never be published, and a SQLite
# file committed every run would add its whole size to the history each time.
name: newsmirror

on:
  schedule:
    - cron: "*/{EVERY_MINUTES} * * * *"   # GitHub may start scheduled runs late under load
  workflow_dispatch: {{}}

# One run at a time: a run still going makes the next one wait, never overlap.
concurrency:
  group: newsmirror
  cancel-in-progress: false

permissions:
  contents: read

env:
  NEWSMIRROR_CONFIG: {cfg}
  # What pip installs: a release, or e.g. git+https://github.com/OWNER/newsmirror@TAG
  NEWSMIRROR_PACKAGE: ${{{{ vars.NEWSMIRROR_PACKAGE || 'newsmirror' }}}}

jobs:
  mirror:
    runs-on: ubuntu-latest
    timeout-minutes: 60
    steps:
      - name: Check out the config
        uses: actions/checkout@v4
        with:
          persist-credentials: false

      - name: Set up Python
        uses: actions/setup-python@v5
        with:
          python-version: "3.12"
          cache: pip

      - name: Install newsmirror
        run: python -m pip install "$NEWSMIRROR_PACKAGE"

      - name: Restore the store and the mirror
        id: store
        uses: actions/cache/restore@v4
        with:
          path: |
            {store}
            {output}
          key: newsmirror-store-${{{{ github.run_id }}}}
          restore-keys: newsmirror-store-

      - name: SSH key for the mirrors
        env:
          # A deploy key with write access to every [[remote]] (Settings → Secrets → Actions).
          MIRROR_SSH_KEY: ${{{{ secrets.MIRROR_SSH_KEY }}}}
        run: |
          mkdir -p ~/.ssh && chmod 700 ~/.ssh
          printf '%s\\n' "$MIRROR_SSH_KEY" > ~/.ssh/id_ed25519 && chmod 600 ~/.ssh/id_ed25519
          ssh-keyscan -t ed25519 {hosts} >> ~/.ssh/known_hosts 2>/dev/null

      - name: Stop if the store was lost
        if: steps.store.outputs.cache-matched-key == ''
        run: |
          {lost_check}

      - name: Check the config
        run: newsmirror check

      - name: Sync, build and publish to every mirror
        run: newsmirror run

      - name: Save the store and the mirror
        if: always() && steps.store.outcome == 'success'
        uses: actions/cache/save@v4
        with:
          path: |
            {store}
            {output}
          key: newsmirror-store-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}

      - name: Feed health
        if: always()
        run: newsmirror status --fail-on-stale 48
"""
    return TimerPlan(
        [TimerFile(".github/workflows/newsmirror.yml", text)],
        [
            f"commit {out / '.github/workflows/newsmirror.yml'} and {cfg} to a private repository on GitHub",
            "add a deploy key with write access to every [[remote]], and its private half as the "
            "repository secret MIRROR_SSH_KEY (Settings → Secrets and variables → Actions)",
            "start it once by hand: Actions → newsmirror → Run workflow; then it runs every 15 minutes",
        ],
    )
