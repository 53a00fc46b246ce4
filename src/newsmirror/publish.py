"""Commit the output tree and push it to every configured git remote.

The only module that runs git (the real binary, through ``subprocess``).
Every push is independent: a remote that refuses or cannot be reached is
reported by name and the others still get the commit. Nothing is queued: each
publish pushes the branch to every remote, which is cheap when a remote is up
to date and brings a remote that missed a publish up to date.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from newsmirror.config import Config, RemoteConfig
from newsmirror.errors import PublishError, unexpected
from newsmirror.layout import TEMP_PATTERN, is_article_page
from newsmirror.private import PRIVATE_NAMES, check_layout, is_private_name, private_files
from newsmirror.words import counted

log = logging.getLogger(__name__)

# A first push of a large mirror over a slow link takes minutes.
PUSH_TIMEOUT = 600.0
# Local git commands; only a hung file system gets near this.
GIT_TIMEOUT = 600.0
FALLBACK_NAME = "newsmirror"
FALLBACK_EMAIL = "newsmirror@localhost"
# Without /proc we cannot see whether a git process is running in the tree;
# then only a lock file this old is taken for a leftover of a killed git.
STALE_LOCK_AGE = 3600.0

# git's own upkeep after a commit (gc --auto, maintenance) runs in the foreground: detached, it
# outlives publish, holds the tree's locks, and the next timer run would refuse to publish.
_FOREGROUND_UPKEEP = ("-c", "gc.autoDetach=false", "-c", "maintenance.autoDetach=false")

# Variables that would point git at another repository than the output tree.
_REPO_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)
_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


@dataclass(slots=True)
class RemoteResult:
    name: str
    url: str  # redacted: never holds a password
    ok: bool
    # True when the push changed the remote (new commits or a new branch).
    changed: bool = False
    error: str = ""

    def describe(self) -> str:
        if not self.ok:
            return f"remote {self.name} ({self.url}): push failed: {self.error}"
        return f"remote {self.name}: {'pushed' if self.changed else 'up to date'}"


@dataclass(slots=True)
class PublishResult:
    committed: bool
    sha: str  # the branch's commit after this publish
    added: int = 0
    updated: int = 0
    removed: int = 0
    other_files: int = 0  # changed files that are not article pages
    message: str = ""  # the commit message's first line, when committed
    remotes: list[RemoteResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(remote.ok for remote in self.remotes)

    @property
    def failed(self) -> list[RemoteResult]:
        return [remote for remote in self.remotes if not remote.ok]

    def describe(self) -> str:
        if self.committed:
            return f"committed {self.sha[:10]}: {self.message}"
        return f"no change in the output tree, no commit (branch at {self.sha[:10]})"


def redact(text: str) -> str:
    """Hide ``user:password@`` in every URL of ``text``."""
    return _CREDENTIALS.sub("***@", text)


def publish(config: Config, *, push_timeout: float = PUSH_TIMEOUT) -> PublishResult:
    """Commit the output tree if it changed, then push its branch to every remote."""
    started = time.time()
    tree = config.output_dir
    if shutil.which("git") is None:
        raise PublishError("git is not installed; install it (e.g. 'apt install git') and publish again")
    if not tree.is_dir():
        raise PublishError(f"{tree} does not exist; run 'newsmirror build' first")
    check_layout(config)
    git = _Git(tree)
    branch = config.mirror.branch
    warnings: list[str] = []

    if (tree / ".git").exists():
        warnings += _clear_stale_locks(tree, started)
    # Also on an existing repository: re-running init is harmless and repairs
    # one whose first init was killed halfway.
    git.run("init", "--quiet", f"--initial-branch={branch}")
    _exclude_build_leftovers(tree)
    _use_branch(git, branch)
    _ensure_identity(git)
    _sync_remotes(git, config.remotes)

    git.run("add", "--all")
    warnings += _unstage_private_files(git)
    counts = _count_changes(git)
    head = git.head()
    result = PublishResult(committed=False, sha=head or "", warnings=warnings)
    if head is None and not any(counts.values()):
        raise PublishError(f"{tree} is empty: nothing to publish; run 'newsmirror build' first")
    if any(counts.values()):
        result.added, result.updated, result.removed = counts["added"], counts["updated"], counts["removed"]
        result.other_files = counts["other"]
        message = _commit_message(result, config.mirror.squash_history)
        result.message = message.partition("\n")[0]
        result.sha = _commit(git, branch, head, message, squash=config.mirror.squash_history)
        result.committed = True

    if config.remotes:
        with ThreadPoolExecutor(max_workers=len(config.remotes)) as pool:
            pushes = [
                pool.submit(_push, git, remote, branch, config.mirror.squash_history, push_timeout)
                for remote in config.remotes
            ]
            result.remotes = [push.result() for push in pushes]
    return result


def init_bare(path: Path, branch: str) -> bool:
    """Create a bare repository to push to (the demo's stand-in for GitHub); False if it exists."""
    if (path / "HEAD").exists():
        return False
    path.mkdir(parents=True, exist_ok=True)
    _Git(path).run("init", "--quiet", "--bare", f"--initial-branch={branch}")
    return True


class _Git:
    """Runs git in the output tree, and only there."""

    def __init__(self, tree: Path) -> None:
        self.tree = tree
        self.env = {key: value for key, value in os.environ.items() if key not in _REPO_VARIABLES}
        # Never wait for a password nobody will type: fail and say so.
        self.env["GIT_TERMINAL_PROMPT"] = "0"

    def call(self, *args: str, timeout: float = GIT_TIMEOUT) -> subprocess.CompletedProcess[str]:
        """Run ``git args`` and return what happened, whatever the exit status.

        git runs in its own session, so a timeout kills the whole group (ssh,
        remote helpers, local hooks), and ssh has no terminal to prompt on.
        """
        command = ["git", "-C", str(self.tree), *_FOREGROUND_UPKEEP, *args]
        with subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        ) as process:
            try:
                stdout, stderr = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                raise
        return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)

    def run(self, *args: str) -> str:
        """Run a git command that must succeed; return its standard output."""
        try:
            done = self.call(*args)
        except subprocess.TimeoutExpired:
            raise PublishError(
                f"git {args[0]} in {self.tree} did not finish within {GIT_TIMEOUT:g} s; is its disk hung or full?"
            ) from None
        if done.returncode != 0:
            reason = _first_line(done.stderr) or f"exit status {done.returncode}"
            hint = ""
            if ".lock" in done.stderr and "exists" in done.stderr:
                hint = (
                    "; another git is working in the tree, or one was killed — "
                    "if no git runs there, delete that .lock file and publish again"
                )
            raise PublishError(f"git {args[0]} failed in {self.tree}: {redact(reason)}{hint}")
        return done.stdout

    def head(self) -> str | None:
        done = self.call("rev-parse", "--verify", "--quiet", "HEAD^{commit}")
        return done.stdout.strip() if done.returncode == 0 else None


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _use_branch(git: _Git, branch: str) -> None:
    """Make HEAD the mirror branch, keeping the work tree as it is."""
    current = git.call("symbolic-ref", "--quiet", "--short", "HEAD").stdout.strip()
    if current == branch:
        return
    # The work tree is what gets committed, whatever the index held, so only
    # HEAD moves. A branch new to the config continues from where HEAD is.
    exists = git.call("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}").returncode == 0
    if not exists and git.head() is not None:
        git.run("branch", branch, "HEAD")
    git.run("symbolic-ref", "HEAD", f"refs/heads/{branch}")


def _exclude_build_leftovers(tree: Path) -> None:
    """Never commit the temporary files a killed build leaves behind, nor private files."""
    exclude = tree / ".git" / "info" / "exclude"
    lines = exclude.read_text(encoding="utf-8").splitlines() if exclude.exists() else []
    missing = [pattern for pattern in (TEMP_PATTERN, *PRIVATE_NAMES) if pattern not in lines]
    if missing:
        exclude.parent.mkdir(parents=True, exist_ok=True)
        temp = exclude.with_name("exclude.newsmirror-tmp")
        temp.write_text("\n".join([*lines, *missing, ""]), encoding="utf-8")
        os.replace(temp, exclude)


def _unstage_private_files(git: _Git) -> list[str]:
    """The check before each commit: no private file (private.PRIVATE_NAMES, or an SQLite
    database by its first bytes) is committed, whatever a .gitignore in the tree says;
    one committed by an older release leaves the branch with this commit."""
    staged = git.run("diff", "--cached", "--name-only", "--no-renames", "--diff-filter=AM", "-z").split("\0")
    tracked = git.run("ls-files", "-z").split("\0")
    named = [path for path in tracked if path and is_private_name(path.rsplit("/", 1)[-1])]
    found = sorted(set(named) | set(private_files(git.tree, [path for path in staged if path])))
    if not found:
        return []
    git.run("rm", "--cached", "--quiet", "--ignore-unmatch", "--", *found)
    return [
        f"not published: {git.tree / path} (a private file: store, lock, config, key or .env); "
        "move it out of the output folder"
        for path in found
    ]


def _ensure_identity(git: _Git) -> None:
    """A fresh server has no git identity; commits then need a local one."""
    for key, value in (("user.name", FALLBACK_NAME), ("user.email", FALLBACK_EMAIL)):
        if git.call("config", key).returncode != 0:
            git.run("config", "--local", key, value)


def _sync_remotes(git: _Git, remotes: list[RemoteConfig]) -> None:
    """Add each configured remote, or update its URL; others are left alone."""
    existing = set(git.run("remote").split())
    for remote in remotes:
        if remote.name not in existing:
            git.run("remote", "add", remote.name, remote.url)
        elif git.run("remote", "get-url", remote.name).strip() != remote.url:
            git.run("remote", "set-url", remote.name, remote.url)


def _count_changes(git: _Git) -> dict[str, int]:
    """Count staged changes: article pages added, updated, removed; other files."""
    counts = {"added": 0, "updated": 0, "removed": 0, "other": 0}
    fields = git.run("diff", "--cached", "--name-status", "--no-renames", "-z").split("\0")
    for status, path in zip(fields[0::2], fields[1::2], strict=False):
        if not is_article_page(path):
            counts["other"] += 1
        elif status == "A":
            counts["added"] += 1
        elif status == "D":
            counts["removed"] += 1
        else:
            counts["updated"] += 1
    return counts


def _commit_message(result: PublishResult, squash: bool) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    message = (
        f"Mirror update {stamp}: {result.added} added, {result.updated} updated, {result.removed} removed\n\n"
        f"Article pages added, updated and removed; {counted(result.other_files, 'other file')} changed "
        "(indexes, home page, QR codes, images).\n"
    )
    if squash:
        message += (
            "\nHistory is squashed (mirror.squash_history = true): this branch holds only this one commit, "
            "the current state of the mirror; earlier versions are not kept.\n"
        )
    return message


def _commit(git: _Git, branch: str, head: str | None, message: str, *, squash: bool) -> str:
    """Commit the staged tree; return the new commit's sha."""
    if not squash:
        git.run("commit", "--quiet", "--no-verify", "-m", message)
        return git.run("rev-parse", "HEAD").strip()
    # One parentless commit of the whole tree replaces the branch.
    tree = git.run("write-tree").strip()
    sha = git.run("commit-tree", tree, "-m", message).strip()
    git.run("update-ref", "-m", "newsmirror: squashed publish", f"refs/heads/{branch}", sha, head or "")
    return sha


def _push(git: _Git, remote: RemoteConfig, branch: str, force: bool, timeout: float) -> RemoteResult:
    """Push to one remote; whatever goes wrong is that remote's one-line error, never the others'."""
    try:
        return _push_once(git, remote, branch, force, timeout)
    except Exception as exc:
        log.debug("remote %s", remote.name, exc_info=exc)
        return RemoteResult(remote.name, redact(remote.url), ok=False, error=redact(unexpected(exc)))


def _push_once(git: _Git, remote: RemoteConfig, branch: str, force: bool, timeout: float) -> RemoteResult:
    url = redact(remote.url)
    target = remote.branch or branch
    args = [
        "push",
        "--porcelain",
        *(["--force"] if force else []),
        remote.name,
        f"refs/heads/{branch}:refs/heads/{target}",
    ]
    try:
        done = git.call(*args, timeout=timeout)
    except subprocess.TimeoutExpired:
        error = f"no answer within {timeout:g} s (host down or network blocked?); the next publish tries again"
        return RemoteResult(remote.name, url, ok=False, error=error)
    flags = [line[0] for line in done.stdout.splitlines() if line[:1] in ("=", " ", "+", "*", "-", "!")]
    if done.returncode == 0 and "!" not in flags:
        return RemoteResult(remote.name, url, ok=True, changed=any(flag != "=" for flag in flags))
    return RemoteResult(remote.name, url, ok=False, error=redact(_push_reason(done.stdout, done.stderr)))


def _push_reason(stdout: str, stderr: str) -> str:
    """git's reason for a failed push, in one line."""
    said = next((line.strip() for line in stderr.splitlines() if line.startswith("remote:") and line[7:].strip()), "")
    rejected = next((line.split("\t")[-1] for line in stdout.splitlines() if line.startswith("!")), "")
    if "fetch first" in rejected or "non-fast-forward" in rejected:
        return (
            f"{rejected}: the remote branch has commits the mirror does not have — if the mirror is its only "
            "writer, force-push once by hand ('git push --force' in the output tree)"
        )
    if rejected and said:
        return f"{rejected}: {said}"
    plain = [line for line in stderr.splitlines() if line.strip() and not line.startswith(("hint:", "To "))]
    return rejected or said or (plain[0].strip() if plain else "git push failed")


def _clear_stale_locks(tree: Path, started: float) -> list[str]:
    """Remove lock files a killed git left behind; return a warning for each."""
    git_dir = tree / ".git"
    if not git_dir.is_dir():
        return []
    locks = [*git_dir.glob("*.lock"), *(git_dir / "refs").rglob("*.lock")]
    if not locks:
        return []
    running = _git_running_in(tree)
    if running:
        raise PublishError(
            f"a git process (pid {running}) is working in {tree}; wait for it to finish, then publish again"
        )
    warnings = []
    for lock in locks:
        try:
            age = started - lock.stat().st_mtime
        except FileNotFoundError:
            continue
        if age > 0 and (running == 0 or age > STALE_LOCK_AGE):
            lock.unlink(missing_ok=True)
            warnings.append(f"removed {lock}, left by a git that was killed ({age:.0f} s old, no git running)")
    return warnings


def _git_running_in(tree: Path) -> int | None:
    """The pid of a git process working in ``tree``; 0 if none; None if we cannot tell."""
    proc = Path("/proc")
    if not (proc / "self" / "cwd").exists():
        return None
    inside = (str(tree), str(tree / ".git"))
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if not (entry / "comm").read_text().startswith("git"):
                continue
            cwd = os.readlink(entry / "cwd")
        except OSError:  # gone, or another user's
            continue
        if cwd in inside or cwd.startswith(inside[1] + os.sep):
            return int(entry.name)
    return 0
