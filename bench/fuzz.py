"""Fuzz extraction and feed parsing for longer than the test suite does.

Runs tests/fuzzing.py's hostile inputs (random Unicode with surrogates and control
characters, broken markup, character references to what is not text, script in every
form, feeds in several encodings) through extract_article (generic and with site
rules), extract_fragment and parse_feed, round after round, for --seconds. A crash is
any exception other than the function's own one-line error, or output holding a
character lxml refuses or live script. Ends with the headline figures:

    inputs: N
    crashes: 0
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hypothesis import HealthCheck, given, settings

from fuzzing import TARGETS


def fuzz_round(name: str, inputs: dict[str, int], crashes: list[tuple[str, str]]) -> None:
    strategy, check = TARGETS[name]

    @settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(value: object) -> None:
        inputs[name] += 1
        try:
            check(value)
        except Exception:  # counted, not raised: hypothesis would stop at the first
            crashes.append((name, traceback.format_exc(limit=-3)))

    run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to fuzz (default 60)")
    args = parser.parse_args()
    deadline = time.monotonic() + args.seconds
    inputs = {name: 0 for name in TARGETS}
    crashes: list[tuple[str, str]] = []
    round_number = 0
    while time.monotonic() < deadline:
        round_number += 1
        for name in TARGETS:
            if time.monotonic() >= deadline:
                break
            fuzz_round(name, inputs, crashes)
    for name, count in inputs.items():
        print(f"{name}: {count} inputs")
    for name, trace in crashes[:5]:
        print(f"--- crash in {name}:\n{trace}")
    print(f"rounds: {round_number}")
    print(f"inputs: {sum(inputs.values())}")
    print(f"crashes: {len(crashes)}")


if __name__ == "__main__":
    main()
