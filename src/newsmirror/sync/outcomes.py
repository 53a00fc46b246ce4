"""What a sync reports as it goes (the progress protocol and outcomes), and how it runs things together."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from typing import Any, Literal, Protocol, TypeVar

T = TypeVar("T")

FeedOutcome = Literal["ok", "unchanged", "failed"]
ArticleOutcome = Literal["new", "updated", "unchanged", "failed"]


class SyncProgress(Protocol):
    """What a sync reports as it goes; the CLI shows it."""

    def feed(self, label: str, outcome: FeedOutcome, detail: str = "") -> None: ...
    def found(self, count: int) -> None: ...
    def article(self, label: str, outcome: ArticleOutcome, detail: str = "") -> None: ...
    def warning(self, message: str) -> None: ...


class Silent:
    def feed(self, label: str, outcome: FeedOutcome, detail: str = "") -> None: ...
    def found(self, count: int) -> None: ...
    def article(self, label: str, outcome: ArticleOutcome, detail: str = "") -> None: ...
    def warning(self, message: str) -> None: ...
    def polling(self, feeds: int) -> None: ...


async def together(coroutines: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Run concurrently and return the results in order. Each feed, article and
    image catches its own failures; what escapes (the store failing: a full disk)
    cancels the others and is raised as itself, so the run stops cleanly."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(coroutine) for coroutine in coroutines]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]
