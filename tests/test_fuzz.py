"""Fuzzing extraction and feed parsing with random Unicode, control characters and broken
markup, for a few seconds (bench/fuzz.py runs the same for longer)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from fuzzing import TARGETS


@pytest.mark.parametrize("target", TARGETS)
def test_no_input_crashes_extraction_or_feed_parsing(target: str) -> None:
    strategy, check = TARGETS[target]

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(strategy)
    def run(value: object) -> None:
        check(value)

    run()
