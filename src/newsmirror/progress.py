"""How commands report what they do: a Rich progress display on a terminal, log
lines otherwise (timers, CI, pipes) — plain text by default, or with
``--log-format json`` one JSON object per line for journald and log collectors:
``{"time", "level", "event", "message"}`` and, where the line is about one,
``"feed"``, ``"article"``, ``"image"`` or ``"remote"``."""

from __future__ import annotations

import json
import re
import warnings
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

if TYPE_CHECKING:  # the CLI imports Log for every command: not the whole sync machinery
    from newsmirror.sync import ArticleOutcome, FeedOutcome


LogFormat = Literal["plain", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("plain", "json")
# "stale": a monitoring check's finding, an error to collectors; "info" lines have no prefix.
Level = Literal["info", "warning", "error", "stale"]
# What a line is about, as its messages name it: "feed kzg/p9: …", "article kzg/p9/1029400 (…): …".
_SUBJECT = re.compile(r"^(feed|article|image|remote) ([^\s:()]+)")
_STYLE = {"info": "", "warning": "yellow", "error": "red", "stale": "red"}


class Log:
    """Where every line for the operator goes (stderr): plain text, or JSON lines."""

    def __init__(self, console: Console, fmt: LogFormat = "plain") -> None:
        self.console = console
        self.format: LogFormat = fmt

    def __call__(self, level: Level, event: str, message: str, **fields: Any) -> None:
        """One line. Plain: ``error: message`` (``warning:``; nothing for info). JSON: an object
        with the time, level, event, the message and what it is about (from ``fields``, or the
        message's own ``feed …``/``article …``/``remote …`` opening)."""
        if self.format == "json":
            subject = _SUBJECT.match(message)
            record: dict[str, Any] = {
                "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "level": "error" if level == "stale" else level,
                "event": event,
            }
            if subject and not any(k in fields for k in ("feed", "article", "image", "remote")):
                record[subject.group(1)] = subject.group(2)
            record.update(fields)
            record["message"] = message
            self.console.file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.console.file.flush()
            return
        if level == "info":
            self.console.print(message, markup=False, highlight=False, soft_wrap=True)
        else:
            self.console.print(Text.assemble((f"{level}:", _STYLE[level]), " ", message), soft_wrap=True)

    def info(self, event: str, message: str, **fields: Any) -> None:
        self("info", event, message, **fields)

    def take_python_warnings(self) -> None:
        """Route Python's warnings (a library's DeprecationWarning, DependencyWarning…) through this
        log, so that with ``--log-format json`` every line on stderr is still one JSON object."""

        def show(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: TextIO | None = None,
            line: str | None = None,
        ) -> None:
            self.warning("python", f"{category.__name__}: {message} ({filename}:{lineno})")

        warnings.showwarning = show

    def warning(self, event: str, message: str, **fields: Any) -> None:
        self("warning", event, message, **fields)

    def error(self, event: str, message: str, **fields: Any) -> None:
        self("error", event, message, **fields)


class _Display:
    """A set of Rich progress bars, shown only on a terminal with plain logs."""

    def __init__(self, log: Log) -> None:
        self.log = log
        console = log.console
        self.live = console.is_terminal and log.format == "plain"
        self._progress = Progress(
            TextColumn("{task.description:<9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not self.live,
        )

    def __enter__(self) -> Self:
        self._progress.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.__exit__(exc_type, exc, tb)


class SyncDisplay(_Display):
    """Implements ``sync.SyncProgress`` for the terminal or a log."""

    def __init__(self, log: Log, total_feeds: int) -> None:
        super().__init__(log)
        self._feeds = self._progress.add_task("feeds", total=total_feeds)
        self._articles = self._progress.add_task("articles", total=0)

    def feed(self, label: str, outcome: FeedOutcome, detail: str = "") -> None:
        self._progress.advance(self._feeds)
        if outcome == "failed":
            self.log.error("feed", detail, feed=label, outcome=outcome)
        elif not self.live:
            text = "not modified" if outcome == "unchanged" else detail
            self.log.info("feed", f"feed {label}: {text}", feed=label, outcome=outcome)

    def found(self, count: int) -> None:
        task = self._progress.tasks[self._articles]
        self._progress.update(self._articles, total=(task.total or 0) + count)

    def article(self, label: str, outcome: ArticleOutcome, detail: str = "") -> None:
        self._progress.advance(self._articles)
        if outcome == "failed":
            self.log.error("article", detail, article=label, outcome=outcome)
        elif not self.live:
            self.log.info("article", f"article {label}: {outcome}", article=label, outcome=outcome)

    def warning(self, message: str) -> None:
        self.log.warning("warning", message)

    def polling(self, feeds: int) -> None:
        self._progress.update(self._feeds, total=feeds)


class StageDisplay(_Display):
    """Progress bars for a build: one per stage, updated as ``(stage, done, total)``."""

    def __init__(self, log: Log) -> None:
        super().__init__(log)
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(stage, total=total)
        self._progress.update(self._tasks[stage], completed=done, total=total)
