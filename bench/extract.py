"""Extraction benchmark: newsmirror vs plain trafilatura on the shared English and Chinese article sets.

Reads ../shared/bench/extraction and ../shared/bench/extraction-zh (from the
repo root; --data/--data-zh to point elsewhere): html/<key>.html.gz pages and
ground-truth.json. Runs newsmirror's generic extraction (bytes → decoded
text → article → Markdown and text, the Markdown asked for as sync does) and,
in the same run, ``trafilatura.extract`` on the same bytes (decoded the same way); scores both with
the English set's score.py. The two alternate page by page and each one's time
is its best of --rounds passes, so the machine's load hits both alike. Also
times site-rules extraction on the sample sites' pages. Ends with the headline
lines f1, pages_per_s, trafilatura_f1, trafilatura_pages_per_s and the same
four with a zh_ prefix for the Chinese set.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import trafilatura

from newsmirror.charset import decode
from newsmirror.extract import ExtractionError, extract_article

Extractor = Callable[[bytes, str], str]
REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "bench" / "extraction"
DEFAULT_DATA_ZH = REPO.parent / "shared" / "bench" / "extraction-zh"


def load_scorer(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("extraction_score", path)
    if spec is None or spec.loader is None:
        sys.exit(f"{path}: cannot load the scorer")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def newsmirror_text(data: bytes, url: str) -> str:
    try:
        article = extract_article(decode(data), url)
    except ExtractionError:
        return ""
    if not article.markdown and article.text:  # the Markdown is made (and timed), as sync stores it
        raise AssertionError("text without Markdown")
    return article.text


def trafilatura_text(data: bytes, url: str) -> str:
    # The same decoded text newsmirror gets: trafilatura's own guess reads
    # several Chinese pages as another code page, and the extractors are compared.
    return trafilatura.extract(decode(data), url=url) or ""


def load_pages(folder: Path) -> tuple[dict, dict[str, tuple[bytes, str]]]:
    truth_path = folder / "ground-truth.json"
    if not truth_path.exists():
        sys.exit(f"{truth_path}: not found; pass --data/--data-zh PATH to the extraction benchmark folders")
    truth = json.loads(truth_path.read_text("utf-8"))
    pages = {
        key: (gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes()), entry.get("url", ""))
        for key, entry in sorted(truth.items())
    }
    return truth, pages


def run(
    pages: dict[str, tuple[bytes, str]], extractors: dict[str, Extractor], rounds: int
) -> dict[str, tuple[dict, float]]:
    """Run every extractor on every page, alternating page by page so that a
    change in the machine's load hits all of them alike; each one's time is
    its best round."""
    predictions: dict[str, dict] = {name: {} for name in extractors}
    best = dict.fromkeys(extractors, float("inf"))
    for _ in range(rounds):
        seconds = dict.fromkeys(extractors, 0.0)
        for key, (data, url) in pages.items():
            for name, extractor in extractors.items():
                start = time.perf_counter()
                predictions[name][key] = {"articleBody": extractor(data, url)}
                seconds[name] += time.perf_counter() - start
        best = {name: min(best[name], seconds[name]) for name in extractors}
    return {name: (predictions[name], best[name]) for name in extractors}


def bench_set(label: str, folder: Path, scorer: ModuleType, args: argparse.Namespace) -> dict[str, float]:
    """Score and time both extractors on one set; print its table; return the headline figures."""
    truth, pages = load_pages(folder)
    results = run(pages, {"newsmirror": newsmirror_text, "trafilatura": trafilatura_text}, args.rounds)
    (ours, ours_s), (theirs, theirs_s) = results["newsmirror"], results["trafilatura"]
    ours_score, theirs_score = scorer.score(truth, ours), scorer.score(truth, theirs)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        (args.save / f"{folder.name}.json").write_text(json.dumps(ours, ensure_ascii=False, indent=1), "utf-8")
    per_page = []
    for key in sorted(truth):
        tp, fp, fn = scorer.page_counts(truth[key]["articleBody"], ours[key]["articleBody"])
        tp2, _fp2, _fn2 = scorer.page_counts(truth[key]["articleBody"], theirs[key]["articleBody"])
        per_page.append((tp - tp2, tp, fp, fn, key))
    print(f"{label} ({folder}): {len(pages)} pages")
    print(f"{'':14}{'precision':>10}{'recall':>8}{'f1':>8}{'pages/s':>9}")
    for name, score, seconds in (("newsmirror", ours_score, ours_s), ("trafilatura", theirs_score, theirs_s)):
        rate = len(pages) / seconds
        print(f"{name:14}{score['precision']:>10.4f}{score['recall']:>8.4f}{score['f1']:>8.4f}{rate:>9.1f}")
    print(f"f1 ratio: {ours_score['f1'] / theirs_score['f1']:.4f}   speed ratio: {theirs_s / ours_s:.2f}x")
    print("worst pages for newsmirror (tp fp fn, and tp gain over trafilatura):")
    for gain, tp, fp, fn, key in sorted(per_page, key=lambda row: row[1])[: args.worst]:
        print(f"  {key[:16]}  tp {tp:.2f} fp {fp:.2f} fn {fn:.2f}  gain {gain:+.2f}")
    return {
        "f1": ours_score["f1"],
        "pages_per_s": len(pages) / ours_s,
        "trafilatura_f1": theirs_score["f1"],
        "trafilatura_pages_per_s": len(pages) / theirs_s,
    }


def rules_ms_per_page(rounds: int) -> tuple[int, float]:
    """Site-rules extraction (what sync does for sites with rules) on the sample sites' pages."""
    import httpx

    from newsmirror.config import parse_config
    from newsmirror.demosite import DemoSite
    from newsmirror.extract import SiteRules

    with DemoSite(slow_delay=0) as demo, httpx.Client() as client:
        config = parse_config(demo.config_toml())
        pages = []
        for article in demo.expected.all_articles():
            site = config.site(article.site)
            if site.content:
                response = client.get(article.url)
                pages.append((response.content, response.headers.get("content-type"), article.url, site))
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for data, content_type, url, site in pages:
            _ = extract_article(decode(data, content_type), url, SiteRules.from_site(site)).markdown
        best = min(best, time.perf_counter() - start)
    return len(pages), best / len(pages) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the English set (default: %(default)s)")
    parser.add_argument("--data-zh", type=Path, default=DEFAULT_DATA_ZH, help="the Chinese set (default: %(default)s)")
    parser.add_argument("--save", type=Path, help="write newsmirror's predictions (JSON, one file per set) here")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds; the best one counts (default 3)")
    parser.add_argument("--worst", type=int, default=8, help="list this many worst pages for newsmirror")
    args = parser.parse_args()
    scorer = load_scorer(args.data / "score.py")
    # Warm both up (imports, caches) so neither pays start-up costs in its timing.
    _truth, pages = load_pages(args.data)
    first = next(iter(pages.values()))
    newsmirror_text(*first)
    trafilatura_text(*first)

    english = bench_set("English", args.data, scorer, args)
    chinese = bench_set("Chinese", args.data_zh, scorer, args)
    count, rules_ms = rules_ms_per_page(args.rounds)
    print(f"with site rules (sample sites' {count} pages): {rules_ms:.2f} ms/page")
    for prefix, figures in (("", english), ("zh_", chinese)):
        print(f"{prefix}f1: {figures['f1']:.4f}")
        print(f"{prefix}pages_per_s: {figures['pages_per_s']:.1f}")
        print(f"{prefix}trafilatura_f1: {figures['trafilatura_f1']:.4f}")
        print(f"{prefix}trafilatura_pages_per_s: {figures['trafilatura_pages_per_s']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
