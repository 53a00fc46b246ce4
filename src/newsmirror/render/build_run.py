"""One build's state and bookkeeping: what it wants in the tree, what it wrote, its manifest, SHA256SUMS."""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass

from newsmirror import layout
from newsmirror.config import Config
from newsmirror.layout import (
    FEED,
    HOME,
    HOT,
    in_tree,
    link,
)
from newsmirror.models import ArticleKey, sha1_hex
from newsmirror.render.channels import ChannelView
from newsmirror.render.files import OutputTree, UnsafePathError
from newsmirror.render.manifest import TreeHashes, manifest_text, tree_state
from newsmirror.render.result import BuildResult, Progress
from newsmirror.render.templating import code_fingerprint
from newsmirror.render.variants import Variant, variants
from newsmirror.signing import SigningKey
from newsmirror.store import BuiltFile, Store, StoreError

# An article page to render: its channel, its key, the file, and the copy it belongs to (None: the mirror).
PageJob = tuple["ChannelView", ArticleKey, "Job", "Variant | None"]


@dataclass(slots=True)
class Job:
    """One managed file the build decided it must produce (and may find already current)."""

    path: str
    inputs: str


class BuildRun:
    """One build: what it wants in the tree, what it wrote, and its manifest."""

    def __init__(
        self, config: Config, store: Store, tree: OutputTree, progress: Progress | None, signer: SigningKey | None
    ) -> None:
        self.config = config
        self.signer = signer
        # Every page shows the key's short fingerprint, so readers can compare it across mirrors.
        self.fingerprint = signer.public.short_fingerprint if signer else ""
        # history pages to write, the copies' in the other script too
        self.histories: list[PageJob] = []
        self.store = store
        self.tree = tree
        self.report = progress or (lambda stage, done, total: None)
        self.result = BuildResult()
        self.manifest = store.build_manifest(str(tree.root))
        # The tree as this build found it, walked once; kept up to date with every write and removal,
        # so deciding what is current, weighing pages and SHA256SUMS need no walk of their own.
        self.scan = tree.scan()
        self.files = self.scan.files
        self.recorded: dict[str, BuiltFile] = {}  # manifest entries to save
        # path → (size, mtime, SHA-256) of files as this build wrote them, so SHA256SUMS need not read them again
        self.hashed: dict[str, tuple[int, int, str]] = {}
        # every file the tree should hold
        # (SHA256SUMS.sig and .pub too when nothing signs: a build without a key leaves them alone)
        self.wanted: set[str] = {HOME, HOT, FEED, layout.DELETED, layout.SUMS}
        if signer:  # without a key, an earlier build's signature and key go (remove_unwanted)
            self.wanted.update((layout.SUMS_SIG, layout.SUMS_PUB))
        self.stamps: dict[str, str] = {}  # page → cache-busting stamp, for the home page's links
        self.sources: dict[str, str] = {}  # Markdown file → fingerprint of what it is made from
        self.languages: dict[str, str] = {}  # a site's Markdown files → its language (others: the mirror's)
        self.variants = variants(config)  # the copies in the other script
        self.offline: list[tuple[str, int]] = []  # offline/ bundles and their sizes, for the home page

    def twins(self, path: str, variant: Variant | None = None) -> list[tuple[str, str]]:
        """Links from ``path`` (of the mirror, or of ``variant``'s copy) to the same page in the other scripts."""
        if variant is None:
            return [(v.label, link(path, in_tree(v.folder, path))) for v in self.variants]
        return [(variant.back_label, link(in_tree(variant.folder, path), path))]

    def current(self, job: Job, stat: os.stat_result | None = None) -> bool:
        """Is the file there, made from these inputs, and untouched since? ``stat``: of a file
        the tree's scan leaves out (SHA256SUMS and its signature)."""
        entry, stat = self.manifest.get(job.path), stat or self.files.get(job.path)
        if not (entry and stat and entry.inputs == job.inputs and entry.size == stat.st_size):
            return False
        if entry.mtime_ns == stat.st_mtime_ns:
            return True
        # A fresh checkout gives every file a new mtime: its bytes tell whether it is still ours.
        if sha1_of(self.tree.read(job.path) or b"") != entry.digest:
            return False
        self.recorded[job.path] = BuiltFile(job.inputs, stat.st_size, stat.st_mtime_ns, entry.digest)
        return True

    def stale(self, job: Job) -> bool:
        """Must the file be made? One that is current counts as unchanged."""
        if self.current(job):
            self.result.unchanged += 1
            return False
        return True

    def put(self, job: Job, data: bytes, what: str = "") -> None:
        """Write a file if its bytes changed; a failure is one error line naming ``what`` it is of."""
        try:
            written = self.tree.write(job.path, data)
        except OSError as exc:
            self.result.errors.append(f"{what + ': ' if what else ''}cannot write {job.path}: {exc}")
            return
        self.count(job, written, self.tree.stat(job.path), sha1_of(data), hashlib.sha256(data).hexdigest())

    def count(self, job: Job, written: bool, stat: os.stat_result | None, digest: str, sha256: str) -> None:
        """Count a file just written (or found holding its bytes already) and remember it by its stat and
        the SHA-1 of its bytes; its SHA-256 serves SHA256SUMS."""
        if written:
            self.result.written.append(job.path)
        else:
            self.result.unchanged += 1
        self.remember(job, stat, digest)
        if stat:
            self.hashed[job.path] = (stat.st_size, stat.st_mtime_ns, sha256)

    def record(self, job: Job, data: bytes) -> None:
        """Remember the file just written (or found holding ``data``) in the tree's state and the manifest."""
        self.remember(job, self.tree.stat(job.path), sha1_of(data))

    def remember(self, job: Job, stat: os.stat_result | None, digest: str) -> None:
        if stat:
            if job.path not in layout.NOT_IN_SUMS:
                self.files[job.path] = stat
            self.recorded[job.path] = BuiltFile(job.inputs, stat.st_size, stat.st_mtime_ns, digest)

    def variant_of(self, path: str) -> Variant | None:
        return next((v for v in self.variants if path.startswith(f"{v.folder}/")), None)

    def write_sums(self) -> None:
        """SHA256SUMS of every file of the tree, its signature and the key that makes it, last of all.

        Made again only when the tree's state changed since the last one: a file the build wrote
        or removed, or one changed behind its back (every file's size and mtime, as scanned, and
        the key). The same state gives the same hashes, so the same SHA256SUMS and signature.
        """
        try:
            if self.signer:
                self.write_root(layout.SUMS_PUB, self.signer.public.openssh().encode())
            started = time.perf_counter()
            key = self.signer.public.fingerprint if self.signer else ""
            state = sha1_hex(code_fingerprint() + key + tree_state(self.files))
            jobs = [Job(layout.SUMS, state), *([Job(layout.SUMS_SIG, state)] if self.signer else [])]
            if all(self.current(job, self.tree.stat(job.path)) for job in jobs):
                self.result.unchanged += len(jobs)
            else:
                text = manifest_text(TreeHashes(self.store, self.tree.root).compute(self.files, self.hashed))
                self.write_root(layout.SUMS, text.encode(), jobs[0])
                if self.signer:
                    self.write_root(layout.SUMS_SIG, self.signer.sign(text.encode()).encode(), jobs[1])
            self.result.manifest_seconds = time.perf_counter() - started
        except OSError as exc:
            self.result.errors.append(f"cannot write {layout.SUMS}: {exc}")

    def write_root(self, path: str, data: bytes, job: Job | None = None) -> None:
        """Write a file at the top of the tree; ``job``: remember it in the manifest."""
        if self.tree.write(path, data):
            self.result.written.append(path)
        else:
            self.result.unchanged += 1
        self.record(job or Job(path, ""), data)
        if job is None:
            self.recorded.pop(path, None)

    def remove_unwanted(self) -> None:
        """Retention and removed channels: what the build once made and no longer wants goes."""
        made_here = {path for path in self.manifest if "/" not in path}  # index.html: only if the build made it
        # A signed build's signature and key: a build without a key must not leave them beside its new SHA256SUMS.
        made_here.update(path for path in (layout.SUMS_SIG, layout.SUMS_PUB) if self.tree.stat(path))
        for path in sorted((self.tree.existing(self.scan) | made_here) - self.wanted):
            try:
                self.tree.remove(path)
                self.result.removed.append(path)
                self.files.pop(path, None)
            except (OSError, UnsafePathError) as exc:
                self.result.errors.append(f"cannot remove {path}: {exc}")

    def save_manifest(self) -> None:
        forgotten = [path for path in self.manifest if path not in self.wanted]
        try:
            self.store.update_build_manifest(str(self.tree.root), self.recorded, forgotten)
        except StoreError as exc:  # e.g. a read-only store file: the next build compares bytes instead
            self.result.errors.append(f"{exc} (the build manifest was not recorded)")


def sha1_of(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()
