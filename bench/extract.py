"""Extraction benchmark: newsmirror vs plain trafilatura on the shared article set.

Reads ../shared/bench/extraction (from the repo root; --data to point elsewhere):
html/<key>.html.gz pages and ground-truth.json. Runs newsmirror's generic
extraction (bytes → decoded text → article → Markdown and text) and, in the same
run, ``trafilatura.extract`` on the same bytes; scores both with the set's own
score.py. The two alternate page by page and each one's time is its best of
--rounds passes, so the machine's load hits both alike. Also times site-rules
extraction on the sample sites' pages. Ends with the headline lines f1,
pages_per_s, trafilatura_f1, trafilatura_pages_per_s.
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

import trafilatura

from newsmirror.charset import decode
from newsmirror.extract import ExtractionError, extract_article

Extractor = Callable[[bytes, str], str]
REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "bench" / "extraction"


def load_scorer(data: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("extraction_score", data / "score.py")
    if spec is None or spec.loader is None:
        sys.exit(f"{data / 'score.py'}: cannot load the scorer")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def newsmirror_text(data: bytes, url: str) -> str:
    try:
        return extract_article(decode(data), url).text
    except ExtractionError:
        return ""


def trafilatura_text(data: bytes, url: str) -> str:
    return trafilatura.extract(data, url=url) or ""


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
            extract_article(decode(data, content_type), url, SiteRules.from_site(site))
        best = min(best, time.perf_counter() - start)
    return len(pages), best / len(pages) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the benchmark folder (default: %(default)s)")
    parser.add_argument("--save", type=Path, help="write newsmirror's predictions (JSON) here")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds; the best one counts (default 3)")
    parser.add_argument("--worst", type=int, default=8, help="list this many worst pages for newsmirror")
    args = parser.parse_args()
    truth_path = args.data / "ground-truth.json"
    if not truth_path.exists():
        sys.exit(f"{truth_path}: not found; pass --data PATH to the extraction benchmark folder")
    truth = json.loads(truth_path.read_text("utf-8"))
    scorer = load_scorer(args.data)
    pages = {
        key: (gzip.decompress((args.data / "html" / f"{key}.html.gz").read_bytes()), entry.get("url", ""))
        for key, entry in sorted(truth.items())
    }
    # Warm both up (imports, caches) so neither pays start-up costs in its timing.
    first = next(iter(pages.values()))
    newsmirror_text(*first)
    trafilatura_text(*first)

    results = run(pages, {"newsmirror": newsmirror_text, "trafilatura": trafilatura_text}, args.rounds)
    (ours, ours_s), (theirs, theirs_s) = results["newsmirror"], results["trafilatura"]
    ours_score, theirs_score = scorer.score(truth, ours), scorer.score(truth, theirs)
    if args.save:
        args.save.write_text(json.dumps(ours, ensure_ascii=False, indent=1), "utf-8")

    per_page = []
    for key in sorted(truth):
        tp, fp, fn = scorer.page_counts(truth[key]["articleBody"], ours[key]["articleBody"])
        tp2, _fp2, _fn2 = scorer.page_counts(truth[key]["articleBody"], theirs[key]["articleBody"])
        per_page.append((tp - tp2, tp, fp, fn, key))
    print(f"pages: {len(pages)}")
    print(f"{'':14}{'precision':>10}{'recall':>8}{'f1':>8}{'pages/s':>9}")
    for name, score, seconds in (("newsmirror", ours_score, ours_s), ("trafilatura", theirs_score, theirs_s)):
        rate = len(pages) / seconds
        print(f"{name:14}{score['precision']:>10.4f}{score['recall']:>8.4f}{score['f1']:>8.4f}{rate:>9.1f}")
    print(f"f1 ratio: {ours_score['f1'] / theirs_score['f1']:.4f}   speed ratio: {theirs_s / ours_s:.2f}x")
    print("worst pages for newsmirror (tp fp fn, and tp gain over trafilatura):")
    for gain, tp, fp, fn, key in sorted(per_page, key=lambda row: row[1])[: args.worst]:
        print(f"  {key[:16]}  tp {tp:.2f} fp {fp:.2f} fn {fn:.2f}  gain {gain:+.2f}")
    count, rules_ms = rules_ms_per_page(args.rounds)
    print(f"with site rules (sample sites' {count} pages): {rules_ms:.2f} ms/page")
    print(f"f1: {ours_score['f1']:.4f}")
    print(f"pages_per_s: {len(pages) / ours_s:.1f}")
    print(f"trafilatura_f1: {theirs_score['f1']:.4f}")
    print(f"trafilatura_pages_per_s: {len(pages) / theirs_s:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
