"""Counting words for messages: "1 site", "2 sites", "no remotes"."""

from __future__ import annotations


def counted(number: int, noun: str, plural: str | None = None, *, zero: str | None = None) -> str:
    """``counted(1, "site")`` → "1 site"; ``counted(2, "site")`` → "2 sites";
    ``counted(0, "remote", zero="no")`` → "no remotes"."""
    word = noun if number == 1 else (plural or noun + "s")
    return f"{zero if number == 0 and zero else f'{number:,}'} {word}"
