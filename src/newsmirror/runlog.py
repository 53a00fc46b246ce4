"""The run log, read back: what `newsmirror log` prints of each sync the store recorded."""

from __future__ import annotations

from newsmirror.models import RunRecord


def describe_run(run: RunRecord) -> list[str]:
    """A run's line, then one indented line per error it met."""
    started = f"{run.started:%Y-%m-%d %H:%M:%S} UTC"
    if run.finished is None:
        return [f"{started}  {run.command}: did not finish (still going, or stopped before its end)"]
    seconds = int((run.finished - run.started).total_seconds())
    took = f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"
    s = run.summary
    if s is None:
        return [f"{started}  {run.command} ({took}): its summary cannot be read"]
    line = (
        f"{started}  {run.command} ({took}): feeds {s.feeds_ok} ok, {s.feeds_unchanged} not modified, "
        f"{s.feeds_failed} failed; articles {s.new} new, {s.updated} updated, {s.skipped} skipped, {s.failed} failed"
    )
    return [line, *(f"    {error}" for error in s.errors)]
