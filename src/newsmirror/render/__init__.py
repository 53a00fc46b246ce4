"""render: the store into the output tree — pages, QR codes, channel indexes, most read, home.

    from newsmirror.render import build
    result = build(config, store)

The build is deterministic (same store and config → same bytes) and
incremental: a manifest in the store records, for each page and QR code, the
fingerprint of its inputs and the size, mtime and SHA-1 of the file written. An
unchanged article is skipped without reading or rendering it; a file deleted or
edited by hand is noticed and written again; a fresh checkout (new mtimes, same
bytes) costs a hash of each file, not a re-render. A channel's index is rendered
again when what it lists changed; most read, home and the feed are rendered every
time and compared with the file on disk. A file is only written when its bytes
change, atomically. On a build of many, article pages and QR codes are made in
worker processes (``article_work``).
"""

from __future__ import annotations

from datetime import datetime

from newsmirror.config import Config
from newsmirror.errors import BuildError
from newsmirror.private import check_layout
from newsmirror.render.article_steps import plan_articles, weigh_pages, write_articles, write_histories, write_images
from newsmirror.render.article_work import get_ready
from newsmirror.render.build_run import BuildRun
from newsmirror.render.channels import kept_channels
from newsmirror.render.files import OutputTree, UnsafePathError
from newsmirror.render.image_copies import stored_image_files
from newsmirror.render.list_steps import write_bundles, write_lists
from newsmirror.render.result import BuildResult, Progress
from newsmirror.render.site_steps import write_html, write_search
from newsmirror.signing import SigningError, SigningKey, load_key
from newsmirror.store import Store

__all__ = ["BuildError", "BuildResult", "Progress", "build"]


def build(
    config: Config, store: Store, *, now: datetime | None = None, progress: Progress | None = None
) -> BuildResult:
    """Bring the output tree in line with the store and config.

    ``now`` sets the end of the most-read window; without it the window ends on
    the day the newest kept article was fetched, so the same store always
    builds the same bytes.
    """
    check_layout(config)  # never write the mirror where its private files are
    try:
        tree = OutputTree(config.output_dir)
    except UnsafePathError as exc:
        raise BuildError(str(exc)) from None
    signer = _signing_key(config)
    run = BuildRun(config, store, tree, progress, signer)
    if signer is None:
        run.result.warnings.append(
            f"{config.signing_key_path}: no signing key, so SHA256SUMS is not signed; "
            "run 'newsmirror keygen' to make one"
        )
    views = kept_channels(config, store, run.result.errors)
    # A page and a QR code per kept article (and per copy in the other script): many more than the
    # manifest holds, and the processes that make them can start while the build decides which.
    get_ready(2 * (1 + len(run.variants)) * sum(len(view.heads) for view in views) - len(run.manifest))
    images = stored_image_files(store, run.result.errors) if config.mirror.images == "copy" else {}
    pages, codes = plan_articles(run, views, images)
    write_images(run, views, images)
    write_articles(run, pages, codes, images)
    write_histories(run)
    if config.mirror.bundles:
        write_bundles(run, views)
    lists = write_lists(run, views, now)
    if config.mirror.html:
        write_html(run, lists)
        if config.mirror.search:
            write_search(run, views)
    run.remove_unwanted()
    run.write_sums()
    run.save_manifest()
    weigh_pages(run, views, images)
    return run.result


def _signing_key(config: Config) -> SigningKey | None:
    """The key that signs SHA256SUMS, or None when there is none yet. One inside the output
    folder is refused: it would be published."""
    path = config.signing_key_path
    if path.is_relative_to(config.output_dir):
        raise BuildError(
            f"mirror.signing_key {path} is inside the output folder {config.output_dir}, so it would be published; "
            "move it outside (e.g. beside the config) and set mirror.signing_key to it"
        )
    if not path.exists():
        return None
    try:
        return load_key(path)
    except SigningError as exc:
        raise BuildError(str(exc)) from None
