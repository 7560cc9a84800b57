from __future__ import annotations

import random

import pytest

from pesabox.callbacks.backoff import backoff_ceiling_s, next_attempt_delay_s


@pytest.mark.parametrize(
    ("attempt", "ceiling_s"),
    [(0, 1.0), (1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (9, 256.0), (10, 300.0), (500, 300.0)],
)
def test_backoff_ceiling_doubles_up_to_cap(attempt: int, ceiling_s: float) -> None:
    assert backoff_ceiling_s(attempt, base_s=1.0, cap_s=300.0) == ceiling_s


def test_backoff_delay_stays_within_equal_jitter_band() -> None:
    rng = random.Random(7)
    for attempt in range(1, 20):
        ceiling_s = backoff_ceiling_s(attempt, base_s=0.5, cap_s=60.0)
        for _ in range(50):
            delay_s = next_attempt_delay_s(attempt, base_s=0.5, cap_s=60.0, rng=rng)
            assert ceiling_s / 2 <= delay_s <= ceiling_s


def test_backoff_delay_is_repeatable_with_seeded_rng() -> None:
    first = [next_attempt_delay_s(n, base_s=1, cap_s=300, rng=random.Random(3)) for n in range(8)]
    again = [next_attempt_delay_s(n, base_s=1, cap_s=300, rng=random.Random(3)) for n in range(8)]
    assert first == again


def test_backoff_delay_is_jittered() -> None:
    rng = random.Random(11)
    delays = {next_attempt_delay_s(4, base_s=1.0, cap_s=300.0, rng=rng) for _ in range(20)}
    assert len(delays) > 1


def test_backoff_delay_without_rng_uses_shared_generator() -> None:
    delay_s = next_attempt_delay_s(2, base_s=1.0, cap_s=300.0)
    assert 1.0 <= delay_s <= 2.0


def test_backoff_delay_huge_attempt_is_capped_not_overflowing() -> None:
    assert next_attempt_delay_s(10_000, base_s=1.0, cap_s=5.0, rng=random.Random(1)) <= 5.0


def test_backoff_delay_zero_base_is_zero() -> None:
    assert next_attempt_delay_s(3, base_s=0.0, cap_s=5.0, rng=random.Random(1)) == 0.0
