"""How long-running commands report progress: a Rich display on a terminal,
plain log lines otherwise (timers, CI, pipes)."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from newsmirror.sync import ArticleOutcome, FeedOutcome


class _Display:
    """A set of Rich progress bars, shown only on a terminal."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
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

    def __init__(self, console: Console, total_feeds: int) -> None:
        super().__init__(console)
        self._feeds = self._progress.add_task("feeds", total=total_feeds)
        self._articles = self._progress.add_task("articles", total=0)

    def _line(self, text: str, style: str = "") -> None:
        self.console.print(text, style=style, markup=False)

    def feed(self, label: str, outcome: FeedOutcome, detail: str = "") -> None:
        self._progress.advance(self._feeds)
        if outcome == "failed":
            self._line(f"error: {detail}", "red")
        elif not self.live:
            self._line(f"feed {label}: {'not modified' if outcome == 'unchanged' else detail}")

    def found(self, count: int) -> None:
        task = self._progress.tasks[self._articles]
        self._progress.update(self._articles, total=(task.total or 0) + count)

    def article(self, label: str, outcome: ArticleOutcome, detail: str = "") -> None:
        self._progress.advance(self._articles)
        if outcome == "failed":
            self._line(f"error: {detail}", "red")
        elif not self.live:
            self._line(f"article {label}: {outcome}")

    def warning(self, message: str) -> None:
        self._line(f"warning: {message}", "yellow")


class StageDisplay(_Display):
    """Progress bars for a build: one per stage, updated as ``(stage, done, total)``."""

    def __init__(self, console: Console) -> None:
        super().__init__(console)
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(stage, total=total)
        self._progress.update(self._tasks[stage], completed=done, total=total)
