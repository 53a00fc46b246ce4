"""What a build reports: files written, removed and unchanged, its errors, and the weight of its pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# progress(stage, done, total): stage is "images", "pages", "qr codes", "indexes" or "html".
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class PageWeight:
    """What a reader downloads for one article page: its Markdown or its HTML, with its images and QR code."""

    path: str
    markdown: int
    html: int
    images: int

    @property
    def total(self) -> int:
        return self.weigh(self.markdown, self.html, self.images)

    @staticmethod
    def weigh(markdown: int, html: int, images: int) -> int:
        """What a reader downloads: the page in one of its forms, whichever is larger, and its images."""
        return max(markdown, html) + images


@dataclass(slots=True)
class BuildResult:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    largest: PageWeight | None = None  # the heaviest article page of the tree
    over_budget: int = 0  # article pages heavier than mirror.page_budget
    manifest_seconds: float = 0.0  # the time SHA256SUMS took (bench/build.py reports it)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return f"{len(self.written)} written, {len(self.removed)} removed, {self.unchanged} unchanged"

    def weight(self, budget: int) -> str:
        """The page-weight line ``newsmirror build`` ends with."""
        if self.largest is None:
            return "no article pages"
        page = self.largest
        html = f", HTML {page.html:,}" if page.html else ""
        return (
            f"largest article page: {page.path}, {page.total:,} bytes with its images "
            f"(Markdown {page.markdown:,}{html}, images {page.images:,}); "
            f"{self.over_budget:,} over the {budget // 1024:,} KB page budget (mirror.page_budget)"
        )
