"""publish: real git, local bare repositories as remotes; run_lock: a real second process."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsmirror.config import Config, MirrorConfig, RemoteConfig
from newsmirror.lock import LockBusy, run_lock
from newsmirror.publish import PublishError, publish

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def fresh_server_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No global or system git config, as on a fresh server: no identity either."""
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout.strip()


def bare(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True)
    return path


def refuse_pushes(repo: Path, script: str = 'echo "refusing: mirror frozen for maintenance" >&2; exit 1') -> Path:
    hook = repo / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\n{script}\n")
    hook.chmod(0o755)
    return hook


def remote_sha(repo: Path, branch: str = "main") -> str | None:
    done = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", branch], capture_output=True, text=True
    )
    return done.stdout.strip() or None


def write(tree: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def make_config(tmp_path: Path, remotes: dict[str, Path | str], *, squash: bool = False) -> Config:
    return Config(
        mirror=MirrorConfig(output=Path("mirror"), store=Path("store.db"), squash_history=squash),
        remotes=[RemoteConfig(name=name, url=str(url)) for name, url in remotes.items()],
        root=tmp_path,
    )


FIRST = {
    "README.md": "# 新闻镜像\n",
    "indexes/kzg-p9.md": "- one\n- two\n- three\n",
    "pages/kzg/p9/a1.md": "# 一\n",
    "pages/kzg/p9/a1.png": "png",
    "pages/kzg/p9/a2.md": "# 二\n",
    "pages/kzg/p9/a3.md": "# 三\n",
}


def test_first_publish_commits_on_a_fresh_server_and_pushes_to_every_remote(tmp_path: Path) -> None:
    a, b = bare(tmp_path, "a"), bare(tmp_path, "b")
    config = make_config(tmp_path, {"a": a, "b": b})
    write(config.output_dir, FIRST)

    result = publish(config)

    assert result.committed and result.ok
    assert (result.added, result.updated, result.removed, result.other_files) == (3, 0, 0, 3)
    tree = config.output_dir
    assert git(tree, "symbolic-ref", "--short", "HEAD") == "main"
    assert git(tree, "rev-parse", "HEAD") == result.sha
    assert remote_sha(a) == result.sha and remote_sha(b) == result.sha
    assert all(remote.changed for remote in result.remotes)
    subject = git(tree, "log", "-1", "--format=%s")
    assert re.fullmatch(r"Mirror update \d{4}-\d\d-\d\d \d\d:\d\d UTC: 3 added, 0 updated, 0 removed", subject)
    assert result.message == subject
    assert git(tree, "log", "-1", "--format=%an <%ae>") == "newsmirror <newsmirror@localhost>"
    assert sorted(git(a, "ls-tree", "-r", "--name-only", "main").splitlines()) == sorted(FIRST)


def test_counts_no_change_and_remote_url_changes(tmp_path: Path) -> None:
    a, b = bare(tmp_path, "a"), bare(tmp_path, "b")
    config = make_config(tmp_path, {"a": a})
    tree = config.output_dir
    write(tree, FIRST)
    first = publish(config)

    write(tree, {"pages/kzg/p9/a1.md": "# 一（更新）\n", "pages/kzg/p9/a4.md": "# 四\n", "pages/kzg/p10/b1.md": "x"})
    (tree / "pages/kzg/p9/a2.md").unlink()
    (tree / "pages/kzg/p9/a1.png").write_text("new png")
    second = publish(config)
    assert second.committed and second.sha != first.sha
    assert (second.added, second.updated, second.removed, second.other_files) == (2, 1, 1, 1)
    assert git(tree, "log", "-1", "--format=%s").endswith(": 2 added, 1 updated, 1 removed")
    assert remote_sha(a) == second.sha

    # Nothing changed: no commit, and the remote is reported up to date.
    third = publish(config)
    assert not third.committed and third.sha == second.sha and third.ok
    assert not third.remotes[0].changed
    assert git(tree, "rev-list", "--count", "HEAD") == "2"
    assert "no change" in third.describe()

    # The remote moved: its URL is updated and the new place gets the branch.
    moved = make_config(tmp_path, {"a": b})
    fourth = publish(moved)
    assert not fourth.committed and fourth.ok and fourth.remotes[0].changed
    assert git(tree, "remote", "get-url", "a") == str(b)
    assert remote_sha(b) == second.sha


def test_refusing_remote_is_named_others_still_get_it_and_it_catches_up(tmp_path: Path) -> None:
    a, b = bare(tmp_path, "a"), bare(tmp_path, "b")
    hook = refuse_pushes(b)
    config = make_config(tmp_path, {"a": a, "b": b})
    write(config.output_dir, FIRST)

    result = publish(config)

    assert result.committed and not result.ok
    assert [remote.name for remote in result.failed] == ["b"]
    line = result.failed[0].describe()
    assert "remote b" in line and "refusing: mirror frozen for maintenance" in line and "\n" not in line
    assert remote_sha(a) == result.sha
    assert remote_sha(b) is None

    # b accepts again: the next publish has nothing to commit but pushes what b missed.
    hook.unlink()
    again = publish(config)
    assert not again.committed and again.ok
    assert {remote.name: remote.changed for remote in again.remotes} == {"a": False, "b": True}
    assert remote_sha(b) == result.sha


def test_unreachable_remotes_are_clear_errors_without_credentials(tmp_path: Path) -> None:
    a = bare(tmp_path, "a")
    missing = tmp_path / "no-such-repo.git"
    config = make_config(tmp_path, {"gone": missing, "a": a, "web": "https://mirror:s3cret@127.0.0.1:9/mirror.git"})
    write(config.output_dir, FIRST)

    result = publish(config)

    assert remote_sha(a) == result.sha
    errors = {remote.name: remote.describe() for remote in result.failed}
    assert set(errors) == {"gone", "web"}
    assert "does not appear to be a git repository" in errors["gone"]
    assert "remote web (https://***@127.0.0.1:9/mirror.git)" in errors["web"]
    assert "127.0.0.1" in errors["web"].split("push failed:")[1]  # git's reason names the host
    assert all("s3cret" not in line and "\n" not in line for line in errors.values())


def test_a_hanging_remote_times_out_and_the_others_still_get_the_push(tmp_path: Path) -> None:
    a, slow = bare(tmp_path, "a"), bare(tmp_path, "slow")
    refuse_pushes(slow, "sleep 120")
    config = make_config(tmp_path, {"slow": slow, "a": a})
    write(config.output_dir, FIRST)

    start = time.monotonic()
    # 10 s: long enough for a push to a local bare repository on a loaded machine (5 s was not, once).
    result = publish(config, push_timeout=10)

    assert time.monotonic() - start < 60
    assert [remote.name for remote in result.failed] == ["slow"]
    assert "no answer within 10 s" in result.failed[0].error
    assert remote_sha(a) == result.sha


def test_squash_history_keeps_one_commit_and_force_pushes(tmp_path: Path) -> None:
    a = bare(tmp_path, "a")
    config = make_config(tmp_path, {"a": a}, squash=True)
    tree = config.output_dir
    write(tree, FIRST)
    publish(config)
    write(tree, {"pages/kzg/p9/a4.md": "# 四\n"})
    second = publish(config)
    write(tree, {"pages/kzg/p9/a5.md": "# 五\n"})
    third = publish(config)

    assert second.committed and third.committed and third.ok and third.remotes[0].changed
    assert (third.added, third.updated, third.removed) == (1, 0, 0)
    assert git(a, "rev-list", "--count", "main") == "1"
    assert git(tree, "rev-list", "--count", "main") == "1"
    assert remote_sha(a) == third.sha
    files = git(a, "ls-tree", "-r", "--name-only", "main").splitlines()
    assert "pages/kzg/p9/a4.md" in files and "pages/kzg/p9/a5.md" in files
    assert "History is squashed" in git(a, "log", "-1", "--format=%b", "main")
    assert not publish(config).committed


def test_a_lock_left_by_a_killed_git_is_removed_with_a_warning(tmp_path: Path) -> None:
    config = make_config(tmp_path, {})
    tree = config.output_dir
    write(tree, FIRST)
    publish(config)
    stale = tree / ".git" / "index.lock"
    stale.write_text("")
    os.utime(stale, (time.time() - 120, time.time() - 120))
    write(tree, {"pages/kzg/p9/a4.md": "# 四\n"})

    result = publish(config)

    assert result.committed and result.added == 1
    assert not stale.exists()
    assert len(result.warnings) == 1 and "index.lock" in result.warnings[0]


def test_a_lock_held_by_a_running_git_is_left_alone(tmp_path: Path) -> None:
    config = make_config(tmp_path, {})
    tree = config.output_dir
    write(tree, FIRST)
    publish(config)
    lock = tree / ".git" / "index.lock"
    lock.write_text("")
    os.utime(lock, (time.time() - 120, time.time() - 120))
    # A git that works in the tree (it waits for its standard input).
    running = subprocess.Popen(["git", "-C", str(tree), "hash-object", "--stdin"], stdin=subprocess.PIPE)
    deadline = time.monotonic() + 5
    while os.readlink(f"/proc/{running.pid}/cwd") != str(tree) and time.monotonic() < deadline:
        time.sleep(0.01)  # until it has started and entered the tree
    try:
        with pytest.raises(PublishError, match=rf"a git process \(pid {running.pid}\) is working in {tree}"):
            publish(config)
        assert lock.exists()
    finally:
        running.kill()
        running.wait()


def test_build_temp_files_and_branch_changes(tmp_path: Path) -> None:
    a = bare(tmp_path, "a")
    config = make_config(tmp_path, {"a": a})
    tree = config.output_dir
    write(tree, {**FIRST, "pages/kzg/p9/.tmp-newsmirror-123-a9.md": "half written"})
    first = publish(config)
    assert ".tmp-newsmirror-123-a9.md" not in git(tree, "ls-files")
    assert first.added == 3

    # A new branch name in the config continues the history from where it was.
    config.mirror.branch = "mirror"
    write(tree, {"pages/kzg/p9/a4.md": "# 四\n"})
    second = publish(config)
    assert git(tree, "symbolic-ref", "--short", "HEAD") == "mirror"
    assert git(tree, "rev-parse", "mirror~1") == first.sha
    assert (second.added, second.other_files) == (1, 0)
    assert remote_sha(a, "mirror") == second.sha


def test_nothing_to_publish_is_a_clear_error(tmp_path: Path) -> None:
    config = make_config(tmp_path, {})
    with pytest.raises(PublishError, match="does not exist; run 'newsmirror build' first"):
        publish(config)
    config.output_dir.mkdir()
    with pytest.raises(PublishError, match="is empty: nothing to publish"):
        publish(config)


def test_remote_branch_can_differ_from_the_mirror_branch(tmp_path: Path) -> None:
    a = bare(tmp_path, "a")
    config = make_config(tmp_path, {})
    config.remotes = [RemoteConfig(name="pages", url=str(a), branch="gh-pages")]
    write(config.output_dir, FIRST)
    result = publish(config)
    assert result.ok and remote_sha(a, "gh-pages") == result.sha and remote_sha(a) is None


HOLD_LOCK = """
import sys
from pathlib import Path
from newsmirror.lock import run_lock
with run_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def lock_holder(tmp_path: Path):
    store = tmp_path / "store.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(store)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    yield store, holder
    holder.kill()
    holder.wait()


def test_run_lock_second_holder_gets_lock_busy_until_the_first_is_killed(lock_holder) -> None:
    store, holder = lock_holder
    busy = rf"another newsmirror run is still going \(pid {holder.pid}, started "
    with pytest.raises(LockBusy, match=busy), run_lock(store):
        pass
    # SIGKILL gives the holder no chance to clean up: the kernel releases the lock.
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with run_lock(store) as path:
        assert path == store.with_name("store.db.lock")
    with run_lock(store):  # released on leaving the block
        pass


def write_toml(tmp_path: Path, remotes: dict[str, Path]) -> Path:
    lines = ['[mirror]\noutput = "mirror"\nstore = "store.db"\n']
    lines += [f'[[remote]]\nname = "{name}"\nurl = "{url}"\n' for name, url in remotes.items()]
    path = tmp_path / "newsmirror.toml"
    path.write_text("\n".join(lines))
    return path


def newsmirror(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "newsmirror"), *args], capture_output=True, text=True, timeout=60)


def test_cli_publish_reports_each_remote_and_exits_1_when_one_failed(tmp_path: Path) -> None:
    a, b = bare(tmp_path, "a"), bare(tmp_path, "b")
    refuse_pushes(b)
    config = write_toml(tmp_path, {"a": a, "b": b})
    write(tmp_path / "mirror", FIRST)

    done = newsmirror("publish", "--config", str(config))

    assert done.returncode == 1, done.stderr
    assert re.search(r"committed [0-9a-f]{10}: Mirror update .*: 3 added, 0 updated, 0 removed", done.stderr)
    assert "remote a: pushed" in done.stderr
    assert re.search(r"error: remote b \(.*b\.git\): push failed: .*refusing: mirror frozen", done.stderr)

    (b / "hooks" / "pre-receive").unlink()
    done = newsmirror("publish", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "no change in the output tree, no commit" in done.stderr
    assert "remote a: up to date" in done.stderr and "remote b: pushed" in done.stderr


def test_cli_publish_exits_3_while_a_run_holds_the_lock(tmp_path: Path, lock_holder) -> None:
    config = write_toml(tmp_path, {})
    write(tmp_path / "mirror", FIRST)
    done = newsmirror("publish", "--config", str(config))
    assert done.returncode == 3
    assert "another newsmirror run is still going" in done.stderr
    assert not (tmp_path / "mirror" / ".git").exists()


def test_gits_own_upkeep_after_a_commit_is_done_when_publish_returns(tmp_path: Path) -> None:
    config = make_config(tmp_path, {})
    tree = config.output_dir
    write(tree, FIRST)
    publish(config)
    # Make the next commit's `git gc --auto` certain to run: gc.auto = 1 asks for a pack once
    # objects/17/ holds two loose objects (git samples that one folder), so write three.
    git(tree, "config", "gc.auto", "1")
    contents = (f"upkeep {n}\n".encode() for n in range(100_000))
    in_17 = [c for c in contents if hashlib.sha1(b"blob %d\0" % len(c) + c).hexdigest().startswith("17")][:3]
    for number, content in enumerate(in_17):
        (tmp_path / f"loose{number}").write_bytes(content)
        git(tree, "hash-object", "-w", str(tmp_path / f"loose{number}"))
    write(tree, {"pages/kzg/p9/a4.md": "# 四\n"})

    result = publish(config)

    assert result.committed
    # The gc ran inside publish, not detached after it: nothing is left working in the tree,
    # and the commits' objects are packed, so the next publish does not meet a running git.
    assert not (tree / ".git" / "gc.pid").exists()
    assert list((tree / ".git" / "objects" / "pack").glob("*.pack"))
    write(tree, {"pages/kzg/p9/a5.md": "# 五\n"})
    assert publish(config).committed
