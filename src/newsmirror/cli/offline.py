"""The bundle command: offline copies of the mirror."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newsmirror.cli.app import ConfigOption, app, console, fail, finish, load, log, open_store, say
from newsmirror.config import DEFAULT_CONFIG
from newsmirror.words import counted


@app.command("bundle")
def bundle_command(
    out: Annotated[Path, typer.Option("--out", help="The folder the bundles are written to.")],
    config: ConfigOption = Path(DEFAULT_CONFIG),
    since: Annotated[
        str | None, typer.Option(help="Only articles fetched in this span before now: 12h, 1d, 2w (default: all kept).")
    ] = None,
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", help="zim, epub or html; repeat for several (default: all three)."),
    ] = None,
) -> None:
    """Write offline copies of the mirror: a ZIM file for Kiwix, an EPUB per channel, an HTML file per article.
    With mirror.variants, the copy in the other script goes in its folder of OUT (e.g. OUT/zh-hant/)."""
    from newsmirror.bundle import FORMATS, BundleResult, offline_mirror, write_bundles
    from newsmirror.config import parse_duration
    from newsmirror.models import utcnow
    from newsmirror.progress import StageDisplay
    from newsmirror.render.variants import variants

    cfg = load(config)
    chosen = formats or list(FORMATS)
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        fail(f"--format {unknown[0]!r}: choose zim, epub or html")
    try:
        cutoff = utcnow() - parse_duration(since) if since else None
    except ValueError as exc:
        fail(f"--since: {exc}")
    with open_store(cfg) as store:
        copy = offline_mirror(cfg, store, cutoff)
        for error in copy.errors:
            say("error", error, "bundle")
        if not copy.views:
            fail(f"no article {'fetched in the last ' + since if since else 'in the store'}; nothing to bundle", 1)
        result = BundleResult()
        for variant in [None, *variants(cfg)]:
            folder = out / variant.folder if variant else out
            try:
                with StageDisplay(log) as display:
                    made = write_bundles(offline_mirror(cfg, store, cutoff, variant), folder, chosen, display)
            except OSError as exc:
                fail(f"cannot write the bundles in {folder}: {exc}")
            result.written += made.written
            result.unchanged += made.unchanged
    for path in [*result.written, *result.unchanged]:
        if path.parent.name != "html":
            console.print(f"{path}: {path.stat().st_size / 1024:.0f} KB", markup=False)
    console.print(f"bundles of {counted(copy.article_count, 'article')} in {out}: {result.summary()}", markup=False)
    finish(not copy.errors)
